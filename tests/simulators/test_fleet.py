"""The simulated fleet: its own login and Last Will per device, and every message it sends fits the contract."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from typer.testing import CliRunner

from devices import DEVICE_TYPES, Channel, DeviceStatus, Presence, decode, parse
from eldercare.cli import app
from eldercare.clock import SYSTEM_CLOCK
from eldercare.embedded import free_port
from eldercare.mqtt import BrokerAddress
from simulators import fleet as fleet_command
from tests.gateway.running import City, seed_city, start_fleet
from tests.services import Mosquitto
from tests.waiting import patience, wait_until


class Listener:
    """A plain subscriber to every device topic, keeping (topic, payload, retained) of what it gets."""

    def __init__(self, url: str) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Lock()
        address = BrokerAddress.parse(url)
        self.client = address.client("listener")
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *args: subscribed.set()
        self.client.connect(address.host, address.port)
        self.client.subscribe("eldercare/v1/devices/#", qos=1)
        self.client.loop_start()
        assert subscribed.wait(patience(5))

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((message.topic, bytes(message.payload), bool(message.retain)))

    def got(self) -> list[tuple[str, bytes, bool]]:
        with self._lock:
            return list(self.messages)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def city(database_url: str, tmp_path: Path) -> City:
    return seed_city(database_url, tmp_path, elders=20)


@pytest.fixture
def listener(mosquitto: Mosquitto) -> Iterator[Listener]:
    listening = Listener(mosquitto.url)
    yield listening
    listening.stop()


def test_every_message_the_fleet_sends_fits_the_contract(city: City, mosquitto: Mosquitto, listener: Listener) -> None:
    chosen = [next(d for d in city.devices if d.type == t) for t in sorted({d.type for d in city.devices})]
    fleet = start_fleet(city, mosquitto.url, chosen)
    try:
        fleet.stream(200, messages=60)
        assert fleet.wait(patience(10))
        fleet.stream(200, messages=len(chosen), samples=5)
        assert fleet.wait(patience(10))
        for device in chosen:
            for kind in DEVICE_TYPES[device.type].events:
                fleet.send_event(device.id, kind)
        dropped = chosen[0].id
        fleet.drop(dropped)
        assert fleet.wait_acknowledged(patience(10))
    finally:
        fleet.stop()
    now = SYSTEM_CLOCK.now()
    wanted = 60 + len(chosen) + sum(len(DEVICE_TYPES[d.type].events) for d in chosen) + 2 * len(chosen)
    assert wait_until(lambda: len(listener.got()) >= wanted, timeout=10), len(listener.got())

    statuses: dict[str, list[Presence]] = {d.id: [] for d in chosen}
    for where, payload, _ in listener.got():
        message = decode(where, payload, now)  # raises on anything outside the contract
        if message.channel is Channel.STATUS:
            assert isinstance(message.body, DeviceStatus)
            statuses[message.device_id].append(message.body.state)
    # each says online when it connects; the dropped one's Last Will says offline, the others say it on leaving
    assert all(states[0] is Presence.ONLINE and states[-1] is Presence.OFFLINE for states in statuses.values())
    assert parse(listener.got()[0][0]).device_id in statuses


def test_each_device_logs_in_as_itself_and_its_last_will_is_retained(
    city: City, mosquitto: Mosquitto, listener: Listener
) -> None:
    device = city.device("watch")
    fleet = start_fleet(city, mosquitto.url, [device])

    def offline_published() -> bool:
        now = SYSTEM_CLOCK.now()
        bodies = [decode(where, payload, now).body for where, payload, _ in listener.got()]
        return any(isinstance(body, DeviceStatus) and body.state is Presence.OFFLINE for body in bodies)

    try:
        fleet.drop(device.id)
        assert wait_until(offline_published, timeout=5), "the broker did not publish the Last Will"
    finally:
        fleet.stop()
    late = Listener(mosquitto.url)  # subscribes after the fact: gets the retained status
    try:
        assert wait_until(lambda: late.got(), timeout=5)
        where, payload, retained = late.got()[0]
        assert retained and decode(where, payload, SYSTEM_CLOCK.now()).body.state is Presence.OFFLINE  # type: ignore[union-attr]
    finally:
        late.stop()


def test_simulate_fleet_command_streams_from_the_manifest(city: City, mosquitto: Mosquitto, listener: Listener) -> None:
    first = city.devices[0]
    kind = sorted(DEVICE_TYPES[first.type].events)[0].value
    handlers = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
    try:
        result = CliRunner().invoke(
            app,
            [
                "simulate", "fleet", "--manifest", str(city.manifest), "--devices", "8", "--rate", "100",
                "--messages", "40", "--samples", "3", "--mqtt-url", mosquitto.url, "--progress", "0.5",
                "--event", f"{first.id}:{kind}",
            ],
        )  # fmt: skip
    finally:
        signal.signal(signal.SIGINT, handlers[0])
        signal.signal(signal.SIGTERM, handlers[1])
    assert result.exit_code == 0, result.output
    assert "8/8 devices connected" in result.output
    assert f"sent {kind} from {first.id}" in result.output
    assert "done: published" in result.output
    telemetry = [t for t, _, _ in listener.got() if t.endswith("/telemetry")]
    assert wait_until(lambda: len([t for t, _, _ in listener.got() if t.endswith("/telemetry")]) == 40), telemetry


def test_simulate_fleet_says_what_is_missing(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["simulate", "fleet", "--manifest", str(tmp_path / "none.json"), "--mqtt-url", "mqtt://127.0.0.1:1"]
    )
    assert result.exit_code == 2 and "eldercare seed --manifest" in result.output
    assert CliRunner().invoke(app, ["simulate", "fleet", "--help"]).exit_code == 0


def _one_button(tmp_path: Path) -> Path:
    manifest = tmp_path / "manifest.json"
    device = {"id": "btn000001", "type": "button", "elder_id": 1, "secret": "s"}
    manifest.write_text(json.dumps({"devices": [device], "elders": []}), encoding="utf-8")
    return manifest


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("garbage", "expected DEVICE:TYPE with TYPE one of sos, fall"),
        ("btn000001:garbage", "expected DEVICE:TYPE with TYPE one of sos, fall"),
        ("btn000002:sos", "'btn000002' is not among the fleet's 1 devices"),
        ("btn000001:smoke", "a button device cannot report smoke; its type reports sos, visit"),
    ],
)
def test_simulate_fleet_refuses_an_event_the_fleet_cannot_send(tmp_path: Path, spec: str, says: str) -> None:
    url = f"mqtt://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(
        app, ["simulate", "fleet", "--manifest", str(_one_button(tmp_path)), "--mqtt-url", url, "--event", spec]
    )
    assert result.exit_code == 2 and "Invalid value for '--event'" in result.output, result.output
    assert says in result.output and "connecting" not in result.output


def test_simulate_fleet_fails_when_no_device_connects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fleet_command, "CONNECT_SECONDS", 0.5)
    port = free_port()  # nothing listens there
    handlers = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
    try:
        result = CliRunner().invoke(
            app,
            ["simulate", "fleet", "--manifest", str(_one_button(tmp_path)), "--mqtt-url", f"mqtt://127.0.0.1:{port}",
             "--messages", "1", "--event", "btn000001:sos"],
        )  # fmt: skip
    finally:
        signal.signal(signal.SIGINT, handlers[0])
        signal.signal(signal.SIGTERM, handlers[1])
    assert result.exit_code == 1, result.output
    assert f"no device connected to 127.0.0.1:{port}" in result.output and "sent sos" not in result.output
