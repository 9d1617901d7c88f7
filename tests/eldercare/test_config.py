from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from eldercare.config import Mode, Settings, SettingsError, load_settings, redact_url
from eldercare.logs import RedactCredentials


def test_development_defaults_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ELDERCARE_MODE", raising=False)
    assert load_settings().mode is Mode.DEVELOPMENT


def test_production_refuses_development_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELDERCARE_MODE", "production")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert "ELDERCARE_SECRET_KEY" in message and "ELDERCARE_DATABASE_URL" in message


STRONG = {
    "ELDERCARE_SECRET_KEY": secrets.token_urlsafe(48),
    "ELDERCARE_TWILIO_AUTH_TOKEN": secrets.token_hex(16),
    "ELDERCARE_TWILIO_ACCOUNT_SID": "AC" + secrets.token_hex(16),
    "ELDERCARE_DATABASE_URL": f"postgresql://app:{secrets.token_urlsafe(18)}@db/eldercare",
    "ELDERCARE_MQTT_URL": f"mqtt://platform:{secrets.token_urlsafe(18)}@broker:1883",
}


def test_production_with_real_settings_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELDERCARE_MODE", "production")
    for name, value in STRONG.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.database_url is not None
    assert STRONG["ELDERCARE_DATABASE_URL"] not in repr(settings.database_url)


def test_production_refuses_the_placeholders_of_env_example(monkeypatch: pytest.MonkeyPatch) -> None:
    example = Path(__file__).parents[2] / "deploy" / "env.example"
    for line in example.read_text().splitlines():
        if line.startswith("ELDERCARE_"):
            name, _, value = line.partition("=")
            monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    for name in (
        "ELDERCARE_SECRET_KEY",
        "ELDERCARE_TWILIO_AUTH_TOKEN",
        "ELDERCARE_TWILIO_ACCOUNT_SID",
        "the password in ELDERCARE_DATABASE_URL",
        "the password in ELDERCARE_MQTT_URL",
    ):
        assert name in message
    assert "change-me" in message and "placeholder" in message


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("ELDERCARE_SECRET_KEY", "dev-only-secret-key-change-me", "development default"),
        ("ELDERCARE_SECRET_KEY", "Zq8!x2", "too short"),
        ("ELDERCARE_SECRET_KEY", "a" * 64, "too predictable"),
        ("ELDERCARE_SECRET_KEY", "ab" * 32, "too predictable"),
        ("ELDERCARE_TWILIO_AUTH_TOKEN", "your-auth-token", "placeholder"),
        ("ELDERCARE_TWILIO_AUTH_TOKEN", "9f86d081884c7d65", "too short"),
        ("ELDERCARE_DATABASE_URL", "postgresql://app:change-me@db/eldercare", "placeholder"),
        ("ELDERCARE_DATABASE_URL", "host=db dbname=eldercare user=app password=hunter2", "too short"),
        ("ELDERCARE_MQTT_URL", "mqtt://platform:Password12345678@broker:1883", "placeholder"),
        ("ELDERCARE_MQTT_URL", "mqtt://platform:1111111111111111111@broker:1883", "too predictable"),
    ],
)
def test_production_refuses_weak_secrets_and_names_them(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, why: str
) -> None:
    monkeypatch.setenv("ELDERCARE_MODE", "production")
    for strong_name, strong in STRONG.items():
        monkeypatch.setenv(strong_name, strong)
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert name in message and why in message
    problems = message.split("refuses: ", 1)[1].split(". Set them", 1)[0].split("; ")
    assert len(problems) == 1, "only the weak one is named"
    if why != "placeholder":
        assert value.rsplit(":", 1)[-1] not in message, "the secret itself is not repeated"


def test_bad_values_give_an_actionable_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELDERCARE_MQTT_URL", "http://user:secret@broker")
    monkeypatch.setenv("ELDERCARE_DB_POOL_MAX", "many")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert "ELDERCARE_DB_POOL_MAX" in message
    assert "secret" not in message


def test_redact_url() -> None:
    assert redact_url("mqtt://dev:s3cret@host:1883") == "mqtt://dev:***@host:1883"
    assert redact_url("mqtt://host:1883") == "mqtt://host:1883"


def test_log_filter_masks_passwords_in_urls() -> None:
    import logging

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "connecting to %s", ("postgresql://u:pw@h/db",), None)
    RedactCredentials().filter(record)
    assert record.getMessage() == "connecting to postgresql://u:***@h/db"


def test_log_lines_go_to_stderr_as_it_is_when_they_are_logged(monkeypatch: pytest.MonkeyPatch) -> None:
    """A command run in a test's runner sets logging up while ``sys.stderr`` is the runner's stream, closed after:
    lines logged later by threads that outlive it go to the stderr of the moment, not to the closed stream."""
    import io
    import logging

    from eldercare import logs

    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    first = io.StringIO()
    monkeypatch.setattr("sys.stderr", first)
    logs.setup("INFO")
    logging.getLogger("eldercare.test").info("while the command runs")
    first.close()
    later = io.StringIO()
    monkeypatch.setattr("sys.stderr", later)
    logging.getLogger("eldercare.test").info("after it ended")
    assert later.getvalue().endswith("eldercare.test: after it ended\n")  # not "--- Logging error ---" and its trace


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("ELDERCARE_TIMEZONE", "Mars/Base", "Asia/Shanghai"),
        ("ELDERCARE_TIMEZONE", "", "Asia/Shanghai"),
        ("ELDERCARE_TIMEZONE", "utc", "Asia/Shanghai"),
        ("ELDERCARE_TIMEZONE", "Asia", "Asia/Shanghai"),
        ("ELDERCARE_CITY_BOUNDS", "garbage", "JSON"),
        ("ELDERCARE_LOG_LEVEL", "NOPE", "WARNING"),
        ("ELDERCARE_DATABASE_URL", "garbage", "postgresql://user:password@host:5432/dbname"),
        ("ELDERCARE_MQTT_URL", "mqtt://u:p@h:99999", "1 to 65535"),
        ("ELDERCARE_MQTT_URL", "mqtt://u:p@h:0", "between 1 and 65535"),
        ("ELDERCARE_MQTT_URL", "mqtt://u:p@:1883", "names no host"),
        ("ELDERCARE_MQTT_URL", "mqtt://u:p@h:1883?protocol=7", "protocol=7 in the MQTT URL: use 3.1.1 or 5"),
        ("ELDERCARE_DATABASE_URL", "postgresql://u:p@h:xx/db", "port 'xx' is not a number from 1 to 65535"),
        ("ELDERCARE_DATABASE_URL", "host=h port=70000 dbname=db", "port '70000' is not a number"),
        ("ELDERCARE_DATABASE_URL", "postgresql://u:p@a:5432,b:0/db", "port '0' is not"),
    ],
)
def test_values_commands_would_trip_on_later_are_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert name in str(caught.value) and expected in str(caught.value)


def test_log_level_is_any_name_logging_takes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELDERCARE_LOG_LEVEL", "warning")
    assert load_settings().log_level == "WARNING"


@pytest.mark.parametrize(
    "url",
    ["postgresql://app:sec ret@db/eldercare", "postgres://app:secret@[::1/eldercare", "mqtt://u:secret@[::1:1883"],
)
def test_an_unreadable_url_is_refused_without_its_password(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    name = "ELDERCARE_MQTT_URL" if url.startswith("mqtt") else "ELDERCARE_DATABASE_URL"
    monkeypatch.setenv(name, url)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert name in message
    assert "sec ret" not in message and "secret" not in message


def test_a_data_dir_that_is_a_file_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    afile = tmp_path / "data"
    afile.write_text("")
    monkeypatch.setenv("ELDERCARE_DATA_DIR", str(afile))
    with pytest.raises(SettingsError, match=r"ELDERCARE_DATA_DIR: .*not a directory"):
        load_settings()
    monkeypatch.setenv("ELDERCARE_DATA_DIR", str(tmp_path / "not-yet"))
    assert load_settings().data_dir == tmp_path / "not-yet"


def test_a_complex_value_that_is_not_json_is_refused_by_name(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("ELDERCARE_CITY_BOUNDS=garbage\n")
    with pytest.raises(SettingsError, match=r"ELDERCARE_CITY_BOUNDS \(in \.env\): cannot be read"):
        load_settings(Settings, _env_file=env_file)


def test_an_env_file_not_in_utf8_is_refused(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_bytes("ELDERCARE_TWILIO_FROM=赤壁\n".encode("gbk"))
    with pytest.raises(SettingsError, match=r"\.env: not UTF-8 text"):
        load_settings(Settings, _env_file=env_file)
