from __future__ import annotations

import pytest

from eldercare.config import Mode, SettingsError, load_settings, redact_url
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


def test_production_with_real_settings_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELDERCARE_MODE", "production")
    monkeypatch.setenv("ELDERCARE_SECRET_KEY", "a" * 40)
    monkeypatch.setenv("ELDERCARE_TWILIO_AUTH_TOKEN", "b" * 32)
    monkeypatch.setenv("ELDERCARE_DATABASE_URL", "postgresql://app:pw@db/eldercare")
    monkeypatch.setenv("ELDERCARE_MQTT_URL", "mqtt://gateway:pw@broker:1883")
    settings = load_settings()
    assert settings.database_url is not None
    assert "pw" not in repr(settings.database_url)


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
