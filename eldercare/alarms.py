"""Raising alarms, for every component that raises one: one live alarm per elder and type (and per order, for an
alarm about an order), repeats update it.

The ``alarm`` table's trigger (migration 0005) sends the NOTIFY; the severity comes from ``alarm_type``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from eldercare.vocabulary import LIVE_SQL, AlarmType

# The alarms on the operators' live board: every one not yet resolved, acknowledged or not, and a resolved one
# while its order is still under way. The board, the demo's console and every other count of "open alarms" use
# this one condition (on ``alarm a``). Each of its three arms is found by an index (the alarms not resolved, by
# the partial indexes on them; the orders under way, by the order status index, computed once), so that the board
# reads what is live, not every alarm ever raised: a correlated EXISTS per alarm read a year's 36,000 alarms on
# every refresh (52 ms, and compiled for another 900 where the server has JIT; ``benchmarks/bench_jit.py``).
ON_BOARD = f"""(a.status <> 'resolved'
    OR a.id = ANY(ARRAY(SELECT live.alarm_id FROM service_order live
                        WHERE live.status IN {LIVE_SQL} AND live.alarm_id IS NOT NULL))
    OR a.order_id = ANY(ARRAY(SELECT live.id FROM service_order live WHERE live.status IN {LIVE_SQL})))"""  # noqa: S608


def count_on_board(conn: psycopg.Connection) -> tuple[int, int]:
    """How many alarms the live board shows, and how many of them nobody has acknowledged yet."""
    row = conn.execute(
        f"SELECT count(*), count(*) FILTER (WHERE a.status = 'open') FROM alarm a WHERE {ON_BOARD}"  # noqa: S608 - constant
    ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


@dataclass(frozen=True, slots=True)
class AlarmRaise:
    """An occurrence of an alarm condition at ``at`` (device time when a device saw it)."""

    elder_id: int
    device_id: str | None
    type: AlarmType
    at: datetime
    received_at: datetime
    lat: float | None = None
    lon: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    order_id: int | None = None  # the order the alarm is about (an escalated order)


@dataclass(frozen=True, slots=True)
class RaisedAlarm:
    id: int
    created: bool  # False: a repeat counted on the live alarm


_UPSERT = """
    INSERT INTO alarm (elder_id, device_id, type, severity, raised_at, received_at, last_raised_at, lat, lon, details,
                       order_id)
    SELECT %(elder_id)s, %(device_id)s, t.code, t.severity, %(at)s, %(received_at)s, %(at)s, %(lat)s, %(lon)s,
           %(details)s, %(order_id)s
    FROM alarm_type t WHERE t.code = %(type)s
    ON CONFLICT (elder_id, type, (coalesce(order_id, 0))) WHERE status <> 'resolved' DO UPDATE SET
        last_raised_at = greatest(alarm.last_raised_at, EXCLUDED.last_raised_at),
        repeat_count = alarm.repeat_count + 1,
        device_id = coalesce(EXCLUDED.device_id, alarm.device_id),
        lat = coalesce(EXCLUDED.lat, alarm.lat),
        lon = coalesce(EXCLUDED.lon, alarm.lon),
        details = alarm.details || EXCLUDED.details
    WHERE NOT %(only_if_newer)s OR alarm.last_raised_at < EXCLUDED.last_raised_at
    RETURNING id, xmax = 0
"""


def raise_alarm(conn: psycopg.Connection, alarm: AlarmRaise, *, only_if_newer: bool = False) -> RaisedAlarm | None:
    """Open the elder's alarm of this type, or count a repeat on the live one, in the caller's transaction.

    ``only_if_newer`` makes a condition derived from stored readings idempotent: evaluating the same
    readings again (a redelivered batch, another gateway) changes nothing. Returns None when nothing changed.
    """
    row = conn.execute(
        _UPSERT,
        {
            "elder_id": alarm.elder_id,
            "device_id": alarm.device_id,
            "type": alarm.type.value,
            "at": alarm.at,
            "received_at": alarm.received_at,
            "lat": alarm.lat,
            "lon": alarm.lon,
            "details": Jsonb(alarm.details),
            "order_id": alarm.order_id,
            "only_if_newer": only_if_newer,
        },
    ).fetchone()
    if row is None:
        return None
    return RaisedAlarm(int(row[0]), bool(row[1]))
