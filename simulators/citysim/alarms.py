"""Alarms as the simulation raises and handles them: raised as the gateway would, answered and resolved as
operators would (the gateway and the dashboard are not needed to run a simulated day)."""

from __future__ import annotations

from datetime import datetime

import psycopg

from eldercare import alarms
from eldercare.alarms import AlarmRaise
from eldercare.vocabulary import AlarmType


def raise_alarm(
    conn: psycopg.Connection, now: datetime, elder_id: int, kind: AlarmType, device_id: str
) -> tuple[int, bool]:
    """The alarm's id, and whether it is new (False: a repeat of one still live), raised as the gateway does."""
    raised = alarms.raise_alarm(conn, AlarmRaise(elder_id, device_id, kind, now, now))
    assert raised is not None  # without only_if_newer, a raise always inserts or repeats
    return raised.id, raised.created


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
