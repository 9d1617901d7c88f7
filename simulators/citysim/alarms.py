"""Alarms as the simulation raises and handles them: raised as the gateway would, answered and resolved as
operators would (the gateway and the dashboard are not needed to run a simulated day)."""

from __future__ import annotations

from datetime import datetime

import psycopg

# One live alarm per elder and type: a repeat while the first is unresolved updates it (as the gateway does).
_RAISE = """
INSERT INTO alarm (elder_id, device_id, type, severity, status, raised_at, received_at, last_raised_at)
VALUES (%(elder)s, %(device)s, %(type)s, 'critical', 'open', %(now)s, %(now)s, %(now)s)
ON CONFLICT (elder_id, type) WHERE status <> 'resolved'
DO UPDATE SET last_raised_at = EXCLUDED.last_raised_at, repeat_count = alarm.repeat_count + 1
RETURNING id, repeat_count = 0
"""


def raise_alarm(conn: psycopg.Connection, now: datetime, elder_id: int, kind: str, device_id: str) -> tuple[int, bool]:
    """The alarm's id, and whether it is new (False: a repeat of one still live)."""
    row = conn.execute(_RAISE, {"elder": elder_id, "device": device_id, "type": kind, "now": now}).fetchone()
    assert row is not None
    return int(row[0]), bool(row[1])


def acknowledge(conn: psycopg.Connection, now: datetime, alarm_id: int, operator: str) -> None:
    conn.execute(
        "UPDATE alarm SET status = 'acknowledged', acknowledged_at = %s, acknowledged_by = %s "
        "WHERE id = %s AND status = 'open'",
        (now, operator, alarm_id),
    )


def resolve(conn: psycopg.Connection, now: datetime, alarm_id: int, operator: str) -> None:
    """Close an elder's alarm once help has been and gone, so that a later alarm is a new one."""
    conn.execute(
        "UPDATE alarm SET status = 'resolved', resolved_at = %(now)s, resolved_by = %(who)s, "
        "outcome = 'real_emergency', acknowledged_at = coalesce(acknowledged_at, %(now)s), "
        "acknowledged_by = coalesce(acknowledged_by, %(who)s) WHERE id = %(id)s AND status <> 'resolved'",
        {"now": now, "who": operator, "id": alarm_id},
    )


def escalations_since(conn: psycopg.Connection, since: datetime) -> list[tuple[int, int, int]]:
    """``order_escalated`` alarms raised or repeated at or after ``since``: (id, repeat count, order id)."""
    rows = conn.execute(
        "SELECT id, repeat_count, (details->>'order_id')::bigint FROM alarm "
        "WHERE type = 'order_escalated' AND last_raised_at >= %s ORDER BY id",
        (since,),
    ).fetchall()
    return [(int(a), int(r), int(o)) for a, r, o in rows]
