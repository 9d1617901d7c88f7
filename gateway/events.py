"""Device events: stored once per delivery (device, seq, ts); sos, fall, smoke, gas, ... become alarms, and an
elder who pressed for help is told on the device that the call was received.

A delivery is identified by device, seq and ts together, as a reading is: a broker's redelivery repeats all
three and is stored once (``eldercare_gateway_duplicates_total`` counts it; the first copy's row is its record), while
a device that starts its seq again after a reset sends new times, so its events are new events. A copy that
repeats seq and ts with other content is no redelivery: it becomes a dead letter (``conflicting_duplicate``),
as a reading's does (gateway/readings.py).

The answer on the device's cmd topic (``alarm_received``) names the event's seq. A device repeats an SOS or a fall,
seq and ts unchanged, until it hears that answer: MQTT keeps nothing for a subscription not yet made (the first
gateway of a deployment, between its CONNACK and its SUBACK) nor for a device that was offline when the answer
went out. So a repeat of an event stored before is answered again (at most once in ``ANSWER_AGAIN_AFTER``), and
stored and raised only once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import psycopg

from devices import ANSWERED, Command, CommandType, Event, EventType, epoch_ms
from eldercare.device_commands import queue_command
from eldercare.vocabulary import AlarmType
from gateway.alarms import AlarmRaise, raise_alarm

log = logging.getLogger(__name__)

# The alarm an event raises; a door opening raises one only at night.
EVENT_ALARMS: dict[EventType, AlarmType] = {
    EventType.SOS: AlarmType.SOS,
    EventType.FALL: AlarmType.FALL,
    EventType.SMOKE: AlarmType.SMOKE,
    EventType.GAS: AlarmType.GAS,
    EventType.GEOFENCE_EXIT: AlarmType.GEOFENCE_EXIT,
    EventType.NO_MOTION: AlarmType.NO_MOTION,
    EventType.DOOR: AlarmType.DOOR_NIGHT,
}
# A repeat of an answered event is answered again only this long after the last answer: a device repeats every
# 20 s or so (simulators/device_fleet.py, ``REPEAT_SECONDS``); a burst of copies gets one answer.
ANSWER_AGAIN_AFTER = timedelta(seconds=5)
# What the device says or shows then; and after a press of the visit button.
RECEIVED_TEXT = {
    ("zh", EventType.SOS): "已收到您的呼叫，正在为您安排救助。",
    ("en", EventType.SOS): "Your call was received. Help is being arranged.",
    ("zh", EventType.FALL): "检测到跌倒，已通知救助人员。",
    ("en", EventType.FALL): "A fall was detected. Help is being arranged.",
    ("zh", EventType.VISIT): "已记录本次上门服务。",
    ("en", EventType.VISIT): "The visit was recorded.",
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


class Stored(StrEnum):
    """What became of an event message."""

    NEW = "new"
    REDELIVERED = "redelivered"  # the same message again: stored once already
    CONFLICTING = "conflicting"  # the seq and ts of a stored event with other content


_INSERT = """
    INSERT INTO device_event (device_id, elder_id, seq, type, ts, received_at, lat, lon)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
    ON CONFLICT (device_id, seq, ts) DO NOTHING
    RETURNING id
"""
_STORED = "SELECT type, lat, lon FROM device_event WHERE device_id = %s AND seq = %s AND ts = %s"
# the alarm of a stored event whose answer is due again (the same device, seq and ts)
_ANSWER_AGAIN = """
    UPDATE device_event SET answered_at = %(now)s
    WHERE device_id = %(device)s AND seq = %(seq)s AND ts = %(ts)s AND alarm_id IS NOT NULL
      AND (answered_at IS NULL OR answered_at <= %(now)s - %(after)s)
    RETURNING alarm_id
"""


def _language(ctx: EventContext) -> str:
    """The elder's language, where the device has words for it (Chinese otherwise)."""
    return ctx.language if ctx.language in ("zh", "en") else "zh"


def _answer(conn: psycopg.Connection, ctx: EventContext, kind: CommandType, alarm_id: int | None = None) -> None:
    """Tell the device, in the elder's language, that its event (named by seq) was received."""
    text = RECEIVED_TEXT[(_language(ctx), ctx.event.type)]
    command = Command(ts=epoch_ms(ctx.received_at), type=kind.value, text=text, alarm_id=alarm_id, seq=ctx.event.seq)
    queue_command(conn, ctx.device_id, command, ctx.received_at)


def store_event(conn: psycopg.Connection, ctx: EventContext, night: Night) -> Stored:
    """Store the event and raise its alarm; nothing is raised for a message that was stored before."""
    event = ctx.event
    values = (ctx.device_id, ctx.elder_id, event.seq, event.type.value, ctx.ts, ctx.received_at, event.lat, event.lon)
    row = conn.execute(_INSERT, values).fetchone()
    if row is None:
        before = conn.execute(_STORED, (ctx.device_id, event.seq, ctx.ts)).fetchone()
        same = before is not None and tuple(before) == (event.type.value, event.lat, event.lon)
        if not same:
            return Stored.CONFLICTING
        if event.type in ANSWERED:
            again = conn.execute(
                _ANSWER_AGAIN,
                {"now": ctx.received_at, "device": ctx.device_id, "seq": event.seq, "ts": ctx.ts,
                 "after": ANSWER_AGAIN_AFTER},
            ).fetchone()  # fmt: skip
            if again is not None:
                _answer(conn, ctx, CommandType.ALARM_RECEIVED, again[0])
        return Stored.REDELIVERED
    if event.type is EventType.VISIT:
        # the elder (or the caregiver beside them) pressed for a visit: the device confirms it was taken
        _answer(conn, ctx, CommandType.VISIT_RECORDED)
    alarm_type = EVENT_ALARMS.get(event.type)
    if alarm_type is None or (event.type is EventType.DOOR and ctx.ts not in night):
        return Stored.NEW
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
        return Stored.NEW
    answered = ctx.received_at if event.type in ANSWERED else None
    conn.execute("UPDATE device_event SET alarm_id = %s, answered_at = %s WHERE id = %s", (raised.id, answered, row[0]))
    if answered is not None:
        _answer(conn, ctx, CommandType.ALARM_RECEIVED, raised.id)
    log.info(
        "%s alarm %d %s for elder %d from %s",
        alarm_type,
        raised.id,
        "opened" if raised.created else "repeated",
        ctx.elder_id,
        ctx.device_id,
    )
    return Stored.NEW
