from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner, Result

from eldercare.cli import app

runner = CliRunner()


def test_devices_commands_have_help() -> None:
    for args in (["devices"], ["devices", "mosquitto-config"]):
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output


def test_mosquitto_config_needs_the_platform_account_and_a_manifest(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["devices", "mosquitto-config", "--out", str(tmp_path)], env={"ELDERCARE_MQTT_URL": "mqtt://h:1"}
    )
    assert result.exit_code == 2 and "--platform-user" in result.output
    result = runner.invoke(
        app,
        ["devices", "mosquitto-config", "--manifest", str(tmp_path / "none.json"), "--out", str(tmp_path)],
        env={"ELDERCARE_MQTT_URL": "mqtt://platform:pw@h:1"},
    )
    assert result.exit_code == 1 and "eldercare seed --manifest" in result.output
    result = runner.invoke(
        app,
        [
            "devices",
            "mosquitto-config",
            "--platform-user",
            "gw",
            "--platform-password-stdin",
            "--manifest",
            str(tmp_path / "m.json"),
        ],
        input="pw\n",
    )
    assert result.exit_code == 1  # the password came from stdin; only the manifest is missing


def test_the_register_commands_enrol_bind_unbind_rotate_revoke_and_sync(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ELDERCARE_DATABASE_URL", database_url)
    monkeypatch.delenv("ELDERCARE_MOSQUITTO_PASSWD", raising=False)
    with psycopg.connect(database_url) as conn:
        conn.execute(
            """
            INSERT INTO township (code, name, lat, lon) VALUES ('T1', '蒲圻街道', 29.7, 113.9);
            INSERT INTO community (township_id, code, name, lat, lon) VALUES (1, 'C1', '金鸡山社区', 29.7, 113.9);
            INSERT INTO elder (code, name, gender, birth_date, community_id, address, lat, lon)
                VALUES ('E1', '王秀英', 'F', '1940-05-01', 1, '金鸡路1号', 29.71, 113.89);
            """
        )
    enrolled = runner.invoke(app, ["devices", "enrol", "watch", "--serial", "860000000000001", "--json"])
    assert enrolled.exit_code == 0, enrolled.output
    credential = json.loads(enrolled.output.strip().splitlines()[-1])
    assert credential["device_id"] == "860000000000001" and len(credential["secret"]) >= 24

    def run(*args: str) -> Result:
        return runner.invoke(app, ["devices", *args])

    assert run("bind", "860000000000001", "1").exit_code == 0
    passwd = tmp_path / "passwd"
    synced = run("sync-broker", "--passwd", str(passwd), "--reload-command", "true")
    assert synced.exit_code == 0 and "(1 devices)" in synced.output, synced.output
    assert passwd.read_text().startswith("860000000000001:$7$")
    assert credential["secret"] not in passwd.read_text()

    again = run("bind", "860000000000001", "1")
    assert again.exit_code == 1 and "bound to this elder already" in again.output
    unknown = run("enrol", "toaster")
    assert unknown.exit_code == 1 and "expected one of button" in unknown.output
    rotated = run("rotate", "860000000000001")
    assert rotated.exit_code == 0 and credential["secret"] not in rotated.output
    assert run("revoke", "860000000000001").exit_code == 0
    assert run("unbind", "860000000000001").exit_code == 0
    shown = run("history", "860000000000001")
    assert shown.exit_code == 0 and "elder 1" in shown.output and "unbound" in shown.output
    no_pid = run("sync-broker", "--passwd", str(passwd))
    assert no_pid.exit_code == 1 and "ELDERCARE_MOSQUITTO_PID_FILE" in no_pid.output
    assert passwd.read_text() == "\n"  # written before the reload was found impossible: no device may connect
    # pids that are no Mosquitto's: -1 and 0 would signal every process or the group; refused before any signal
    for pid in ("-1", "0", "1", "99999999999"):
        refused = run("sync-broker", "--passwd", str(passwd), "--pid", pid)
        assert refused.exit_code == 2 and "--pid" in refused.output, (pid, refused.output)
    pid_file = tmp_path / "mosquitto.pid"
    pid_file.write_text("-1\n")
    monkeypatch.setenv("ELDERCARE_MOSQUITTO_PID_FILE", str(pid_file))
    said = run("sync-broker", "--passwd", str(passwd))
    assert said.exit_code == 1 and "says pid -1, which is no process's" in said.output
    monkeypatch.delenv("ELDERCARE_MOSQUITTO_PID_FILE")
    monkeypatch.setenv("ELDERCARE_MOSQUITTO_PID", "-1")
    assert run("sync-broker", "--passwd", str(passwd)).exit_code == 2  # the setting's bounds, named
    monkeypatch.delenv("ELDERCARE_MOSQUITTO_PID")
    for command in ("/no/such/reload", "echo 'open", str(pid_file)):  # missing, a quote left open, not executable
        failed = run("sync-broker", "--passwd", str(passwd), "--reload-command", command)
        assert failed.exit_code == 1 and "could not run" in failed.output, (command, failed.output)
    # a change to the register stands, and its secret is shown, when the broker cannot be brought in step
    monkeypatch.setenv("ELDERCARE_MOSQUITTO_PASSWD", str(passwd))
    monkeypatch.setenv("ELDERCARE_MOSQUITTO_RELOAD_COMMAND", "/no/such/reload")
    kept = runner.invoke(app, ["devices", "enrol", "watch", "--serial", "860000000000002", "--json"])
    assert kept.exit_code == 0 and len(json.loads(kept.output.strip().splitlines()[-1])["secret"]) >= 24
    monkeypatch.setenv("ELDERCARE_MOSQUITTO_PID", "abc")
    kept = runner.invoke(app, ["devices", "enrol", "watch", "--serial", "860000000000003", "--json"])
    assert kept.exit_code == 0 and len(json.loads(kept.output.strip().splitlines()[-1])["secret"]) >= 24


def test_the_register_commands_have_help() -> None:
    for command in ("enrol", "bind", "unbind", "replace", "rotate", "revoke", "history", "sync-broker"):
        result = runner.invoke(app, ["devices", command, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output, command


def test_mosquitto_config_refuses_a_manifest_device_with_an_empty_secret_or_listed_twice(tmp_path: Path) -> None:
    """An empty secret was written to `passwd` as an account like any other (before, exit 0); a device listed twice
    got two accounts, the second silently the one in force."""
    good = {"id": "W-1", "type": "watch", "elder_id": 1, "secret": "s3cret-enough-for-a-test"}
    for devices, said in (
        ([good, {**good, "id": "W-2", "secret": "  "}], "device #1 (W-2) has an empty secret"),
        ([good, good], "device #1 (W-1) is listed twice"),
    ):
        manifest = tmp_path / "manifest.json"
        manifest.write_text(json.dumps({"devices": devices}), encoding="utf-8")
        out = tmp_path / "broker"
        result = runner.invoke(
            app,
            ["devices", "mosquitto-config", "--manifest", str(manifest), "--out", str(out)],
            env={"ELDERCARE_MQTT_URL": "mqtt://platform:pw@h:1"},
        )
        assert result.exit_code == 1 and said in result.output, result.output
        assert not (out / "passwd").exists()
