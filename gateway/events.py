"""Device events: stored once per (device, seq); sos, fall, smoke, gas, ... become alarms, and an elder who
pressed for help is told on the device that the call was received."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

import psycopg

from devices import Command, CommandType, Event, EventType, epoch_ms
from gateway.alarms import AlarmRaise, raise_alarm
from gateway.outbox import queue_command

log = logging.getLogger(__name__)

# The alarm an event raises; a door opening raises one only at night.
EVENT_ALARMS: dict[EventType, str] = {
    EventType.SOS: "sos",
    EventType.FALL: "fall",
    EventType.SMOKE: "smoke",
    EventType.GAS: "gas",
    EventType.GEOFENCE_EXIT: "geofence_exit",
    EventType.NO_MOTION: "no_motion",
    EventType.DOOR: "door_night",
}
# Events after which the device is told that the platform has the alarm.
ACKNOWLEDGED = frozenset({EventType.SOS, EventType.FALL})
RECEIVED_TEXT = {
    ("zh", EventType.SOS): "已收到您的呼叫，正在为您安排救助。",
    ("en", EventType.SOS): "Your call was received. Help is being arranged.",
    ("zh", EventType.FALL): "检测到跌倒，已通知救助人员。",
    ("en", EventType.FALL): "A fall was detected. Help is being arranged.",
}


@dataclass(frozen=True, slots=True)
class EventContext:
    device_id: str
    elder_id: int
    language: str
    ts: datetime
    received_at: datetime
    event: Event


@dataclass(frozen=True, slots=True)
class Night:
    """Local hours from ``start`` to ``end`` (across midnight when start > end) in ``zone``."""

    start: int
    end: int
    zone: ZoneInfo

    def __contains__(self, when: datetime) -> bool:
        local = when.astimezone(self.zone).time()
        start, end = time(self.start), time(self.end)
        return (start <= local or local < end) if self.start > self.end else (start <= local < end)


_INSERT = """
    INSERT INTO device_event (device_id, elder_id, seq, type, ts, received_at, lat, lon)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
    ON CONFLICT (device_id, seq) DO NOTHING
    RETURNING id
"""


def store_event(conn: psycopg.Connection, ctx: EventContext, night: Night) -> bool:
    """Store the event and raise its alarm; False when it was stored before (a redelivery: nothing is raised)."""
    event = ctx.event
    values = (ctx.device_id, ctx.elder_id, event.seq, event.type.value, ctx.ts, ctx.received_at, event.lat, event.lon)
    row = conn.execute(_INSERT, values).fetchone()
    if row is None:
        return False
    alarm_type = EVENT_ALARMS.get(event.type)
    if alarm_type is None or (event.type is EventType.DOOR and ctx.ts not in night):
        return True
    raised = raise_alarm(
        conn,
        AlarmRaise(
            ctx.elder_id,
            ctx.device_id,
            alarm_type,
            ctx.ts,
            ctx.received_at,
            event.lat,
            event.lon,
            {"event_seq": event.seq, "event": event.type.value},
        ),
    )
    if raised is None:
        return True
    conn.execute("UPDATE device_event SET alarm_id = %s WHERE id = %s", (raised.id, row[0]))
    if event.type in ACKNOWLEDGED:
        language = ctx.language if ctx.language in ("zh", "en") else "zh"
        command = Command(
            ts=epoch_ms(ctx.received_at),
            type=CommandType.ALARM_RECEIVED.value,
            alarm_id=raised.id,
            text=RECEIVED_TEXT[(language, event.type)],
        )
        queue_command(conn, ctx.device_id, command, ctx.received_at)
    log.info(
        "%s alarm %d %s for elder %d from %s",
        alarm_type,
        raised.id,
        "opened" if raised.created else "repeated",
        ctx.elder_id,
        ctx.device_id,
    )
    return True
