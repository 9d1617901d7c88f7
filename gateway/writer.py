"""Writing one checked batch: events and their alarms first, then readings and presence, then rules.

Each step is its own transaction, and each is idempotent, so a batch that fails half-way is simply
written again (by this gateway or, after a redelivery, by another):
1. dead letters and device events; an event's alarm, its NOTIFY and the elder's cmd reply commit
   together here, ahead of the bulk readings;
2. readings (COPY, duplicates dropped) and device presence; devices this batch took offline get
   their alarm in the same transaction;
3. rules over the stored readings, after they commit (see gateway/rules.py for why).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import psycopg

from devices import METRICS, Channel, DeviceStatus, Event, Message, Presence, Reason
from eldercare import dead_letters
from eldercare.clock import Clock
from eldercare.dead_letters import DeadLetter
from eldercare.vocabulary import AlarmType, InputSource
from gateway import metrics, presence, readings
from gateway.alarms import AlarmRaise, raise_alarm, resolve_device_offline
from gateway.events import EventContext, Night, Stored, store_event
from gateway.intake import Delivery
from gateway.registry import DeviceInfo
from gateway.rules import BatteryReport, Rules


@dataclass(frozen=True, slots=True)
class Accepted:
    """A message that passed the contract and the registry."""

    delivery: Delivery
    message: Message
    device: DeviceInfo


@dataclass(slots=True)
class BatchOutcome:
    """What writing a batch stored, of what it offered."""

    readings: int = 0
    readings_offered: int = 0
    events: int = 0
    events_offered: int = 0
    rejected: int = 0

    def add(self, other: BatchOutcome) -> None:
        self.readings += other.readings
        self.readings_offered += other.readings_offered
        self.events += other.events
        self.events_offered += other.events_offered
        self.rejected += other.rejected


class BatchWriter:
    def __init__(self, rules: Rules, night: Night, clock: Clock, presence_refresh: timedelta) -> None:
        self.rules = rules
        self.night = night
        self.clock = clock
        self.presence_refresh = presence_refresh

    def write(self, conn: psycopg.Connection, accepted: list[Accepted], dead: list[DeadLetter]) -> BatchOutcome:
        outcome = BatchOutcome(rejected=len(dead))
        events = [a for a in accepted if a.message.channel is Channel.EVENT]
        if events or dead:
            with conn.transaction():
                dead_letters.insert(conn, dead)
                conflicts = []
                for a in events:
                    assert isinstance(a.message.body, Event)
                    context = EventContext(
                        a.device.id, a.device.elder_id, a.device.language, a.message.ts, a.delivery.received_at,
                        a.message.body,
                    )  # fmt: skip
                    stored = store_event(conn, context, self.night)
                    outcome.events += stored is Stored.NEW
                    if stored is Stored.CONFLICTING:
                        conflicts.append(_conflict(a))
                dead_letters.insert(conn, conflicts)
            outcome.events_offered = len(events) - len(conflicts)
            outcome.rejected += len(conflicts)

        rows: list[readings.Row] = []
        seen: dict[str, presence.Seen] = {}
        batteries: list[BatteryReport] = []
        for a in accepted:
            self._gather(a, rows, seen, batteries)
        now = self.clock.now()
        with conn.transaction():
            written = readings.insert(conn, rows)
            outcome.readings, outcome.readings_offered = written.new, len(rows) - len(written.conflicts)
            if written.conflicts:
                conflicting = _conflicting_readings(accepted, written.conflicts)
                dead_letters.insert(conn, conflicting)
                outcome.rejected += len(conflicting)
            changes = presence.update(conn, seen, self.presence_refresh)
            for gone in changes.went_offline:
                metrics.DEVICES_OFFLINE.labels("status").inc()
                raise_alarm(
                    conn,
                    AlarmRaise(
                        gone.elder_id, gone.device_id, AlarmType.DEVICE_OFFLINE, now, now, details={"cause": "status"}
                    ),
                )
            resolve_device_offline(conn, changes.came_online, now)
        thresholds = {a.device.id: a.device.thresholds for a in accepted}
        found = self.rules.candidates(rows, batteries, thresholds)
        if found:
            with conn.transaction():
                for occurrence in self.rules.evaluate(conn, found, thresholds, now):
                    raise_alarm(conn, occurrence, only_if_newer=True)
        return outcome

    @staticmethod
    def _gather(
        a: Accepted, rows: list[readings.Row], seen: dict[str, presence.Seen], batteries: list[BatteryReport]
    ) -> None:
        message, device, delivery = a.message, a.device, a.delivery
        received_at = delivery.received_at
        state = seen.get(device.id)
        if state is None:
            state = seen[device.id] = presence.Seen()
        live = not delivery.retain
        if message.channel is Channel.TELEMETRY:
            state.message(received_at, message.seq, live=live)
            device_id, elder_id, seq = device.id, device.elder_id, message.seq
            for ts, s in message.readings:
                rows.append(
                    (device_id, elder_id, ts, received_at, seq,
                     s.hr, s.spo2, s.sbp, s.dbp, s.temp, s.steps, s.lat, s.lon, s.battery)
                )  # fmt: skip
                if s.battery is not None:
                    state.battery_at(ts, seq, s.battery)
                if s.lat is not None:
                    state.position_at(ts, seq, s.lat, s.lon)
        elif message.channel is Channel.EVENT:
            assert isinstance(message.body, Event)
            state.message(received_at, message.seq, live=live)
            state.position_at(message.ts, message.seq, message.body.lat, message.body.lon)
        else:
            status = message.body
            assert isinstance(status, DeviceStatus)
            state.message(received_at, message.seq, live=live, online=status.state is Presence.ONLINE)
            state.battery_at(message.ts, message.seq, status.battery)
            if status.firmware is not None:
                state.firmware = status.firmware
            if status.battery is not None:
                batteries.append((device.id, device.elder_id, message.ts, message.seq, status.battery))


def _conflicting_readings(accepted: list[Accepted], conflicts: set[tuple[object, ...]]) -> list[DeadLetter]:
    """A dead letter for each telemetry message with a reading among ``conflicts``."""
    letters = []
    for a in accepted:
        m = a.message
        if m.channel is Channel.TELEMETRY and any(
            readings.as_stored(a.device.id, ts, m.seq, [getattr(s, name) for name in METRICS]) in conflicts
            for ts, s in m.readings
        ):
            letters.append(_conflict(a, "a reading"))
    return letters


def _conflict(a: Accepted, what: str = "an event") -> DeadLetter:
    metrics.REJECTED.labels(Reason.CONFLICTING_DUPLICATE.value).inc()
    detail = (
        f"{what} with seq {a.message.seq} and ts {a.message.ts.isoformat()} is stored already with other content; "
        "a device that starts its seq again must send its current time"
    )
    d = a.delivery
    return DeadLetter(
        d.received_at, InputSource.MQTT, Reason.CONFLICTING_DUPLICATE, detail, d.payload, d.topic, a.device.id
    )
