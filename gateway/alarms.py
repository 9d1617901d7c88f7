"""The gateway's alarms: raised through the shared upsert (``eldercare.alarms``) and counted; device_offline
alarms closed once an elder's devices are all back."""

from __future__ import annotations

from datetime import datetime

import psycopg

from eldercare import alarms
from eldercare.alarms import AlarmRaise, RaisedAlarm
from gateway import metrics

__all__ = ["AlarmRaise", "RaisedAlarm", "raise_alarm", "resolve_device_offline"]


def raise_alarm(conn: psycopg.Connection, alarm: AlarmRaise, *, only_if_newer: bool = False) -> RaisedAlarm | None:
    """``eldercare.alarms.raise_alarm``, counted in the gateway's metrics when it changed something."""
    raised = alarms.raise_alarm(conn, alarm, only_if_newer=only_if_newer)
    if raised is not None:
        metrics.ALARMS.labels(alarm.type.value).inc()
    return raised


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
