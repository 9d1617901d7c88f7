from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

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
