"""A Mosquitto configured like production: deploy/mosquitto/mosquitto.conf with a generated password file and ACL."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from eldercare.cli import app
from eldercare.embedded import free_port
from tests.gateway.running import City, seed_city
from tests.services import Mosquitto, mosquitto_binary, need

DEPLOY_CONF = Path(__file__).parents[2] / "deploy" / "mosquitto" / "mosquitto.conf"
PLATFORM_USER, PLATFORM_PASSWORD = "platform", "platform-secret-for-tests"


class ConfiguredMosquitto(Mosquitto):
    """A Mosquitto that runs a given configuration text (its listeners and folders moved into ``workdir``).

    ``port`` is the devices' listener (1883 in the text), ``platform_port`` the platform's (1884).
    """

    def __init__(self, workdir: Path, config: str) -> None:
        binary = mosquitto_binary()
        assert binary is not None
        self.binary, self.workdir, self.port, self.platform_port = binary, workdir, free_port(), free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        config = re.sub(r"(?m)^listener 1883$", f"listener {self.port} 127.0.0.1", config)
        config = re.sub(r"(?m)^listener 1884$", f"listener {self.platform_port} 127.0.0.1", config)
        config = config.replace("/mosquitto/config/", f"{workdir}/").replace("/mosquitto/data/", f"{workdir}/")
        config += "\nuser root\n" if os.geteuid() == 0 else ""  # see tests/services.py
        self.config = workdir / "mosquitto.conf"
        self.config.write_text(config, encoding="utf-8")
        self.process = None
        self.start()


@dataclass(frozen=True, slots=True)
class SecuredBroker:
    broker: ConfiguredMosquitto
    city: City

    @property
    def platform_url(self) -> str:
        return f"mqtt://{PLATFORM_USER}:{PLATFORM_PASSWORD}@127.0.0.1:{self.broker.platform_port}"

    @property
    def url(self) -> str:
        return self.broker.url


@pytest.fixture
def secured_broker(database_url: str, tmp_path: Path) -> Iterator[SecuredBroker]:
    """deploy/mosquitto/mosquitto.conf with passwd and acl from `eldercare devices mosquitto-config`."""
    need(mosquitto_binary(), "mosquitto is not installed (apt-get install mosquitto)")
    city = seed_city(database_url, tmp_path)
    folder = tmp_path / "mosquitto"
    result = CliRunner().invoke(
        app,
        ["devices", "mosquitto-config", "--manifest", str(city.manifest), "--out", str(folder)],
        env={"ELDERCARE_MQTT_URL": f"mqtt://{PLATFORM_USER}:{PLATFORM_PASSWORD}@mosquitto:1883"},
    )
    assert result.exit_code == 0, result.output
    for name in ("passwd", "platform-passwd", "acl"):  # run as root, mosquitto reads them as its own user
        (folder / name).chmod(0o644)
    broker = ConfiguredMosquitto(folder, DEPLOY_CONF.read_text(encoding="utf-8"))
    try:
        yield SecuredBroker(broker, city)
    finally:
        broker.stop()


@pytest.fixture
def stopper() -> Iterator[Any]:
    """``stopper(thing)`` returns ``thing`` and calls its ``stop()`` at the end of the test."""
    things: list[Any] = []

    def keep(thing: Any) -> Any:
        things.append(thing)
        return thing

    yield keep
    for thing in reversed(things):
        thing.stop()
