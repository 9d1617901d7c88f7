"""The simulated device fleet: N devices from the seed manifest, each with its own broker login and Last Will.

``Fleet`` is the API that tests, benchmarks and scenario players drive: ``send_event(device_id, "sos")``,
``send_telemetry(device_id, hr=150)``, ``stream(rate=...)``, ``drop(device_id)``, ``commands(device_id)``.

As a device's firmware does, a simulated device repeats an SOS or a fall (the same message: seq and ts unchanged)
every ``repeat_seconds`` until the platform's ``alarm_received`` naming its seq comes back on its cmd topic, and gives
up after ``REPEAT_FOR``: the broker's PUBACK says only that the broker has it, not that anyone subscribed did.
"""

from __future__ import annotations

import functools
import json
import logging
import random
import socket
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import paho.mqtt.client as mqtt

from devices import (
    ANSWERED,
    Command,
    CommandType,
    Presence,
    ProvisionedDevice,
    command_decoder,
    encode,
    epoch_ms,
    topic,
)
from eldercare.clock import SYSTEM_CLOCK, Clock
from eldercare.mqtt import BrokerAddress
from simulators.device import Home, SimulatedDevice
from simulators.mqtt_loop import ClientLoop

log = logging.getLogger(__name__)

REPEAT_SECONDS = 20.0  # how often a device repeats an event the platform answers (devices.ANSWERED) until it does
REPEAT_FOR = 600.0  # and for how long, in seconds (a real device would then call the family)
CONNECTS_PER_TICK = 200  # connections opened per 50 ms, so the broker's accept queue keeps up
TICK = 0.01


@dataclass(frozen=True, slots=True)
class Sent:
    """A message the broker acknowledged (PUBACK): it owes it to the subscribers."""

    device_id: str
    channel: str
    seq: int
    readings: int


@dataclass(slots=True)
class _Member:
    sim: SimulatedDevice
    client: mqtt.Client
    connected: bool = False
    stay_offline: bool = False
    backoff: float = 1.0
    pending: dict[int, Sent] = field(default_factory=dict)
    commands: list[Command] = field(default_factory=list)
    unanswered: dict[int, bytes] = field(default_factory=dict)  # seq -> the event repeated until answered


@dataclass(frozen=True, slots=True)
class FleetStats:
    devices: int
    connected: int
    published: int
    acknowledged: int
    commands: int
    repeated: int  # events sent again because no answer had come


class Fleet:
    """Simulated devices on one loop thread; every public method may be called from any thread."""

    def __init__(
        self,
        devices: Sequence[ProvisionedDevice],
        broker: BrokerAddress,
        *,
        homes: Mapping[int, Home] | None = None,
        seed: int = 1,
        clock: Clock = SYSTEM_CLOCK,
        keepalive: int = 60,
        telemetry_qos: int = 1,
        repeat_seconds: float = REPEAT_SECONDS,
    ) -> None:
        self.broker = broker
        self.clock = clock
        self.keepalive = keepalive
        self.telemetry_qos = telemetry_qos
        self.repeat_seconds = repeat_seconds
        self.loop = ClientLoop("fleet")
        self._lock = threading.Condition()
        self._acknowledged: list[Sent] = []
        self._published = 0
        self._commands = 0
        self._repeated = 0
        self._stopping = False
        self._stream_done = threading.Event()
        self._stream_done.set()
        rng = random.Random(seed)
        # seq keeps increasing across runs of the simulator: 1000 per millisecond of wall time
        seq_base = epoch_ms(clock.now()) * 1000
        self._members: dict[str, _Member] = {}
        for device in devices:
            sim = SimulatedDevice(device, random.Random(rng.random()), (homes or {}).get(device.elder_id), seq_base)
            client = broker.with_credentials(device.id, device.secret).client(device.id, clean_session=True)
            member = _Member(sim, client)
            client.user_data_set(member)
            client.on_connect = self._on_connect
            client.on_disconnect = self._on_disconnect
            client.on_publish = self._on_publish
            client.on_message = self._on_message
            self.loop.attach(client)
            self._members[device.id] = member

    @property
    def device_ids(self) -> list[str]:
        return list(self._members)

    # -- lifecycle

    def start(self, timeout: float = 60.0) -> int:
        """Connect every device (a few hundred at a time); returns how many connected within ``timeout``."""
        self.loop.start()
        ids = list(self._members)

        def schedule() -> None:
            now = time.monotonic()
            for i, n in enumerate(range(0, len(ids), CONNECTS_PER_TICK)):
                self.loop.at(now + 0.05 * i, functools.partial(self._connect_all, ids[n : n + CONNECTS_PER_TICK]))

        self.loop.call(schedule)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.stats().connected < len(ids):
            time.sleep(0.05)
        return self.stats().connected

    def stop(self, *, announce: bool = True) -> None:
        """Disconnect cleanly, so no Last Will fires, and end the loop. ``announce``: say offline (retained)
        first, as a device switched off does; a simulation that merely ends should not."""
        self._stream_done.set()

        def disconnect_all() -> None:
            self._stopping = True
            now = self.clock.now()
            for member in self._members.values():
                if member.connected and announce:
                    status = member.sim.status(now, Presence.OFFLINE)
                    member.client.publish(topic(member.sim.id, "status"), encode(status), qos=1, retain=True)
                member.client.disconnect()

        self.loop.submit(disconnect_all)
        time.sleep(0.2)  # let the loop write the last packets
        self.loop.stop()

    # -- what a scenario does

    def send_telemetry(self, device_id: str, *, samples: int = 1, **values: Any) -> int:
        """Publish one telemetry message (``values`` override the simulated ones); returns its seq."""
        return self.loop.submit(lambda: self._telemetry(self._members[device_id], samples, values))

    def send_event(self, device_id: str, kind: str, *, lat: float | None = None, lon: float | None = None) -> int:
        """Publish an event (sos, fall, smoke, ...) at QoS 1; returns its seq. An SOS or a fall is repeated until
        the platform answers it."""

        def send() -> int:
            member = self._members[device_id]
            event = member.sim.event(self.clock.now(), kind, lat=lat, lon=lon)
            payload = encode(event)
            self._publish(member, "event", event.seq, payload, qos=1, readings=0)
            if kind in ANSWERED:
                member.unanswered[event.seq] = payload
                until = time.monotonic() + REPEAT_FOR
                self.loop.at(time.monotonic() + self.repeat_seconds, lambda: self._repeat(member, event.seq, until))
            return event.seq

        return self.loop.submit(send)

    def send_status(self, device_id: str, state: Presence | str) -> int:
        def send() -> int:
            member = self._members[device_id]
            status = member.sim.status(self.clock.now(), Presence(state))
            self._publish(member, "status", status.seq, encode(status), qos=1, readings=0, retain=True)
            return status.seq

        return self.loop.submit(send)

    def publish_raw(self, device_id: str, where: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        """Publish any bytes on any topic with this device's login (for bad-input and ACL tests)."""
        self.loop.submit(lambda: self._members[device_id].client.publish(where, payload, qos=qos, retain=retain))

    def next_seq(self, device_id: str) -> int:
        """Take the device's next seq, e.g. to build a message by hand."""
        return self.loop.submit(self._members[device_id].sim.next_seq)

    def drop(self, device_id: str) -> None:
        """Lose the connection without a goodbye, so the broker publishes the Last Will (offline)."""

        def cut() -> None:
            member = self._members[device_id]
            member.stay_offline = True
            sock = member.client.socket()
            if isinstance(sock, socket.socket):
                sock.shutdown(socket.SHUT_RDWR)  # paho then sees the connection end, without a DISCONNECT

        self.loop.submit(cut)

    def unanswered(self, device_id: str) -> list[int]:
        """The seqs of the events the device still repeats, the platform not having answered them."""
        return self.loop.submit(lambda: sorted(self._members[device_id].unanswered))

    def commands(self, device_id: str) -> list[Command]:
        with self._lock:
            return list(self._members[device_id].commands)

    def wait_for_command(self, device_id: str, kind: str, timeout: float = 10.0) -> Command | None:
        """The first command of type ``kind`` the device received, waiting up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for command in self._members[device_id].commands:
                    if command.type == kind:
                        return command
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._lock.wait(remaining)

    # -- streaming telemetry

    def stream(
        self,
        rate: float,
        *,
        duration: float | None = None,
        messages: int | None = None,
        samples: int = 1,
        max_outstanding: int = 5000,
    ) -> None:
        """Publish telemetry round-robin over the connected devices, ``rate`` messages a second in all
        (0: as fast as the broker acknowledges, with at most ``max_outstanding`` unacknowledged)."""
        self._stream_done.clear()
        started = time.monotonic()
        state = {"sent": 0, "next": 0}
        members = list(self._members.values())

        def tick() -> None:
            if self._stream_done.is_set():
                return
            now = time.monotonic()
            elapsed = now - started
            if (duration is not None and elapsed >= duration) or (messages is not None and state["sent"] >= messages):
                self._stream_done.set()
                return
            if rate > 0:
                due = int(rate * elapsed) - state["sent"]
            else:
                with self._lock:
                    outstanding = self._published - len(self._acknowledged)
                due = max(0, max_outstanding - outstanding)
            if messages is not None:
                due = min(due, messages - state["sent"])
            wall = self.clock.now()
            tries = 0
            while due > 0 and tries < len(members):
                member = members[state["next"] % len(members)]
                state["next"] += 1
                if not member.connected:
                    tries += 1
                    continue
                tries = 0
                self._telemetry(member, samples, {}, wall)
                state["sent"] += 1
                due -= 1
            self.loop.at(now + TICK, tick)

        self.loop.call(tick)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the stream has sent what it was asked to; False on timeout."""
        return self._stream_done.wait(timeout)

    def wait_acknowledged(self, timeout: float = 30.0) -> bool:
        """Wait until the broker has acknowledged everything published at QoS 1."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.loop.submit(lambda: all(not m.pending for m in self._members.values())):
                return True
            time.sleep(0.05)
        return False

    def acknowledged(self) -> list[Sent]:
        """Every message the broker acknowledged so far."""
        with self._lock:
            return list(self._acknowledged)

    def stats(self) -> FleetStats:
        with self._lock:
            return FleetStats(
                len(self._members),
                sum(m.connected for m in self._members.values()),
                self._published,
                len(self._acknowledged),
                self._commands,
                self._repeated,
            )

    # -- on the loop thread

    def _connect_all(self, ids: Iterable[str]) -> None:
        for device_id in ids:
            self._connect(self._members[device_id], first=True)

    def _connect(self, member: _Member, *, first: bool = False) -> None:
        if self._stopping or member.stay_offline:
            return
        will = member.sim.status(self.clock.now(), Presence.OFFLINE)
        member.client.will_set(topic(member.sim.id, "status"), encode(will), qos=1, retain=True)
        try:
            if first:
                member.client.connect(self.broker.host, self.broker.port, self.keepalive)
            else:
                member.client.reconnect()
        except OSError as err:
            log.debug("device %s cannot connect: %s", member.sim.id, err)
            self.loop.at(time.monotonic() + member.backoff, lambda: self._connect(member, first=first))
            member.backoff = min(member.backoff * 2, 30.0)

    def _on_connect(self, client: mqtt.Client, member: _Member, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            log.warning("the broker refused device %s: %s", member.sim.id, reason)
            member.stay_offline = True  # wrong credentials do not get better by retrying
            return
        member.connected, member.backoff = True, 1.0
        client.subscribe(topic(member.sim.id, "cmd"), qos=1)
        status = member.sim.status(self.clock.now(), Presence.ONLINE)
        self._publish(member, "status", status.seq, encode(status), qos=1, readings=0, retain=True)

    def _on_disconnect(self, client: mqtt.Client, member: _Member, flags: Any, reason: Any, properties: Any) -> None:
        member.connected = False
        if not self._stopping and not member.stay_offline:
            self.loop.at(time.monotonic() + member.backoff, lambda: self._connect(member))
            member.backoff = min(member.backoff * 2, 30.0)

    def _on_publish(self, client: mqtt.Client, member: _Member, mid: int, reason: Any, properties: Any) -> None:
        sent = member.pending.pop(mid, None)
        if sent is not None:
            with self._lock:
                self._acknowledged.append(sent)

    def _on_message(self, client: mqtt.Client, member: _Member, message: mqtt.MQTTMessage) -> None:
        try:
            command = command_decoder.decode(message.payload)
        except msgspec.MsgspecError as err:
            log.warning("device %s got a command outside the contract: %s", member.sim.id, err)
            return
        if command.type == CommandType.ALARM_RECEIVED and command.seq is not None:
            member.unanswered.pop(command.seq, None)
        with self._lock:
            member.commands.append(command)
            self._commands += 1
            self._lock.notify_all()

    def _repeat(self, member: _Member, seq: int, until: float) -> None:
        """Send the event again, unless it was answered; while the device is offline, wait for the next turn."""
        payload = member.unanswered.get(seq)
        if payload is None or self._stopping:
            return
        if time.monotonic() >= until:
            del member.unanswered[seq]
            log.warning("device %s gave up repeating event %d: the platform never answered it", member.sim.id, seq)
            return
        if member.connected:
            self._publish(member, "event", seq, payload, qos=1, readings=0)
            with self._lock:
                self._repeated += 1
        self.loop.at(time.monotonic() + self.repeat_seconds, lambda: self._repeat(member, seq, until))

    def _telemetry(self, member: _Member, samples: int, values: Mapping[str, Any], wall: Any = None) -> int:
        message = member.sim.telemetry(wall or self.clock.now(), samples, **values)
        count = len(message.samples) if message.samples else 1
        self._publish(member, "telemetry", message.seq, encode(message), qos=self.telemetry_qos, readings=count)
        return message.seq

    def _publish(
        self, member: _Member, channel: str, seq: int, payload: bytes, *, qos: int, readings: int, retain: bool = False
    ) -> None:
        info = member.client.publish(topic(member.sim.id, channel), payload, qos=qos, retain=retain)
        with self._lock:
            self._published += 1
        if qos:
            member.pending[info.mid] = Sent(member.sim.id, channel, seq, readings)


def homes_from_manifest(path: Path) -> dict[int, Home]:
    """Each elder's home position, from the manifest's ``elders`` list (when it has one)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {int(e["id"]): Home(float(e["lat"]), float(e["lon"])) for e in data.get("elders", []) if "lat" in e}
