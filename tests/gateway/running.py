"""Running the gateway and a simulated fleet against real services, for the gateway's and simulators' tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from devices import ProvisionedDevice, load_devices
from eldercare import seed as seeding
from eldercare.component import Context
from eldercare.config import Settings
from eldercare.mqtt import BrokerAddress
from gateway import Gateway, GatewaySettings, create
from simulators.fleet import Fleet
from tests.waiting import eventually, patience

# Quick to notice, quick to flush: the tests wait on the gateway, not the other way round.
FAST: dict[str, Any] = {
    "batch_wait": 0.05,
    "sweep_interval": 0.5,
    "registry_refresh": 1.0,
    "retry_max_delay": 1.0,
    "presence_refresh": 0.0,
}


@dataclass(frozen=True, slots=True)
class City:
    database_url: str
    manifest: Path
    devices: list[ProvisionedDevice]

    def device(self, type_code: str, n: int = 0) -> ProvisionedDevice:
        return [d for d in self.devices if d.type == type_code][n]


def seed_city(database_url: str, folder: Path, elders: int = 12, seed: int = 3) -> City:
    city = seeding.generate(seeding.SeedPlan(elders=elders, seed=seed, providers=2, caregivers=4))
    with psycopg.connect(database_url) as conn:
        seeding.write(conn, city)
    manifest = folder / "manifest.json"
    seeding.write_manifest(manifest, city)
    return City(database_url, manifest, load_devices(manifest))


def start_gateway(database_url: str, mqtt_url: str, *, embedded: bool = False, **options: Any) -> Gateway:
    settings = GatewaySettings(**{"client_id": f"gw.test-{uuid.uuid4().hex[:8]}", **FAST, **options})
    context = Context(Settings(), database_url, mqtt_url, embedded_broker=embedded)
    gateway = create(context, settings=settings)
    gateway.start()
    # subscribed, not only connected: a device's message published before the broker's SUBACK reaches nobody
    if not gateway.intake.subscribed.wait(patience(10)):
        gateway.stop()
        raise TimeoutError(f"the gateway did not subscribe at the broker within {patience(10):.0f} s")
    return gateway


def start_fleet(city: City, mqtt_url: str, devices: list[ProvisionedDevice] | None = None, **options: Any) -> Fleet:
    chosen = devices if devices is not None else city.devices
    fleet = Fleet(chosen, BrokerAddress.parse(mqtt_url), **options)
    connected = fleet.start(timeout=20)
    assert connected == len(chosen), f"only {connected} of {len(chosen)} simulated devices connected"
    return fleet


def later_message_stored(city: City, fleet: Fleet, device: ProvisionedDevice) -> None:
    """Send one more message from ``device`` and wait until it is stored: the positive marker of a check that
    something did not happen. A gateway's one writer takes batches in turn, so everything it received before
    this message's batch has then been handled (send it after the awaited batch was seen in the database)."""
    seq = fleet.send_telemetry(device.id, battery=88)
    query = "SELECT count(*) FROM reading WHERE device_id = %s AND seq = %s"
    eventually(lambda: scalar(city.database_url, query, device.id, seq), f"the marker message {device.id}/{seq}")


def scalar(database_url: str, query: str, *params: Any) -> Any:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(query.encode(), params).fetchone()
        return row[0] if row else None


def rows(database_url: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(query.encode(), params).fetchall()


class GatewayProcess:
    """`python -m eldercare gateway` (or ``command``) as its own process, which the test may SIGKILL; ``env`` adds
    variables."""

    def __init__(
        self, database_url: str, mqtt_url: str, folder: Path, command: tuple[str, ...] = ("gateway",), **env: str
    ) -> None:
        self.command = command
        self.env = {
            **os.environ,
            "ELDERCARE_DATABASE_URL": database_url,
            "ELDERCARE_MQTT_URL": mqtt_url,
            "ELDERCARE_DATA_DIR": str(folder),
            "ELDERCARE_GATEWAY_BATCH_WAIT": "0.05",
            **env,
        }
        self.log = folder / f"gateway-{uuid.uuid4().hex[:6]}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "eldercare", *self.command], env=self.env, stdout=out, stderr=subprocess.STDOUT
            )

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(20)

    def logged(self, text: str, times: int = 1) -> bool:
        return self.log.read_text(encoding="utf-8", errors="replace").count(text) >= times
