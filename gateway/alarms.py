"""Raising alarms: one live alarm per elder and type, repeats update it; the trigger of 0005 sends the NOTIFY."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from gateway import metrics


@dataclass(frozen=True, slots=True)
class AlarmRaise:
    """An occurrence of an alarm condition at device time ``at``."""

    elder_id: int
    device_id: str | None
    type: str
    at: datetime
    received_at: datetime
    lat: float | None = None
    lon: float | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RaisedAlarm:
    id: int
    created: bool


_UPSERT = """
    INSERT INTO alarm (elder_id, device_id, type, severity, raised_at, received_at, last_raised_at, lat, lon, details)
    SELECT %(elder_id)s, %(device_id)s, t.code, t.severity, %(at)s, %(received_at)s, %(at)s, %(lat)s, %(lon)s,
           %(details)s
    FROM alarm_type t WHERE t.code = %(type)s
    ON CONFLICT (elder_id, type) WHERE status <> 'resolved' DO UPDATE SET
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
    """Open the elder's alarm of this type, or count a repeat on the live one.

    ``only_if_newer`` makes a condition derived from stored readings idempotent: evaluating the same
    readings again (a redelivered batch, another gateway) changes nothing. Returns None when nothing changed.
    """
    row = conn.execute(
        _UPSERT,
        {
            "elder_id": alarm.elder_id,
            "device_id": alarm.device_id,
            "type": alarm.type,
            "at": alarm.at,
            "received_at": alarm.received_at,
            "lat": alarm.lat,
            "lon": alarm.lon,
            "details": Jsonb(alarm.details),
            "only_if_newer": only_if_newer,
        },
    ).fetchone()
    if row is None:
        return None
    metrics.ALARMS.labels(alarm.type).inc()
    return RaisedAlarm(int(row[0]), bool(row[1]))


_RESOLVE_OFFLINE = """
    UPDATE alarm a SET status = 'resolved', acknowledged_at = coalesce(a.acknowledged_at, %(now)s),
        resolved_at = %(now)s, resolved_by = 'system', outcome = 'device_fault', note = 'devices back online'
    WHERE a.type = 'device_offline' AND a.status <> 'resolved'
      AND a.elder_id IN (SELECT elder_id FROM device WHERE id = ANY(%(devices)s))
      AND NOT EXISTS (
          SELECT 1 FROM device d
          WHERE d.elder_id = a.elder_id AND d.active AND NOT d.online AND d.last_seen_at IS NOT NULL
      )
"""


_LOCK_OFFLINE = """
    SELECT a.id FROM alarm a
    WHERE a.type = 'device_offline' AND a.status <> 'resolved'
      AND a.elder_id IN (SELECT elder_id FROM device WHERE id = ANY(%(devices)s))
    ORDER BY a.id
    FOR NO KEY UPDATE
"""


def resolve_device_offline(conn: psycopg.Connection, device_ids: list[str], now: datetime) -> int:
    """Close the device_offline alarm of each elder whose devices are all back online; returns how many."""
    if not device_ids:
        return 0
    # Two gateways may each bring back one of an elder's devices at once: each would see the other's device
    # still offline and leave the alarm open for good. Locking the alarm first makes the second wait for
    # the first to commit; its check below is a new statement, so it sees the first's device online.
    conn.execute(_LOCK_OFFLINE, {"devices": device_ids})
    return conn.execute(_RESOLVE_OFFLINE, {"now": now, "devices": device_ids}).rowcount
