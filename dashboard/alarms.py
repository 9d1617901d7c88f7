"""Alarms as operators see them: the live board, history and filters, acknowledge and resolve."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row
from pydantic import BaseModel, Field

from dashboard.errors import Conflict, Invalid, NotFound
from dashboard.paging import count_capped
from dashboard.scope import Area
from eldercare import audit
from eldercare.alarms import ON_BOARD
from eldercare.i18n import N_
from eldercare.labels import Coded, Message
from eldercare.vocabulary import AlarmOutcome, AlarmStatus, Severity


class Contact(BaseModel):
    name: str
    relation: str
    phone: str
    priority: int


class AlarmNote(BaseModel):
    at: datetime
    author: str
    text: str


class Alarm(BaseModel):
    """An alarm with the elder's key facts, as the board shows it."""

    id: int
    elder_id: int
    elder_code: str
    elder_name: str
    elder_age: int
    ability_level: int = Field(description="0 intact .. 4 total loss of ability")
    lives_alone: bool
    left_behind: bool
    elder_phone: str | None
    elder_address: str
    township: str
    community: str
    contacts: list[Contact]
    device_id: str | None
    type: str
    type_name_zh: str
    type_name_en: str
    severity: Severity
    status: AlarmStatus
    raised_at: datetime
    received_at: datetime
    last_raised_at: datetime
    repeat_count: int
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    outcome: AlarmOutcome | None
    note: str
    lat: float | None
    lon: float | None
    order_id: int | None = Field(description="the order the alarm is about, or the emergency order it raised")
    details: dict[str, Any] = Field(
        default_factory=dict, description="what raised it: the reading (metric, value, threshold) or the event"
    )
    medical_notes: str = ""
    home_access_notes: str = ""
    order_code: str | None = Field(None, description="that order's code")
    order_status: str | None = None
    caregiver_name: str | None = None
    caregiver_phone: str | None = None
    expected_arrival: datetime | None = Field(None, description="when the caregiver who took the order should arrive")
    owner: str | None = Field(None, description="the operator who took ownership of the alarm")
    owned_at: datetime | None = None
    notes: list[AlarmNote] = Field(default_factory=list, description="operators' notes, oldest first")


class AlarmFilter(BaseModel):
    status: list[AlarmStatus] | None = None
    severity: Severity | None = None
    type: str | None = None
    elder_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    area: Area | None = None  # an account's area: only its elders' alarms


SELECT = """
SELECT a.id, a.elder_id, e.code AS elder_code, e.name AS elder_name,
       extract(year FROM age(a.received_at, e.birth_date))::int AS elder_age,
       e.ability_level, e.lives_alone, e.left_behind, e.phone AS elder_phone, e.address AS elder_address,
       t.name AS township, c.name AS community,
       coalesce((SELECT json_agg(json_build_object('name', ec.name, 'relation', ec.relation, 'phone', ec.phone,
                                                   'priority', ec.priority) ORDER BY ec.priority, ec.id)
                 FROM emergency_contact ec WHERE ec.elder_id = a.elder_id), '[]') AS contacts,
       a.device_id, a.type, at.name_zh AS type_name_zh, at.name_en AS type_name_en, a.severity, a.status,
       a.raised_at, a.received_at, a.last_raised_at, a.repeat_count, a.acknowledged_at, a.acknowledged_by,
       a.resolved_at, a.resolved_by, a.outcome, a.note, a.lat, a.lon, a.details,
       e.medical_notes, e.home_access_notes,
       o.id AS order_id, o.code AS order_code, o.status AS order_status,
       cg.name AS caregiver_name, cg.phone AS caregiver_phone,
       CASE WHEN o.status IN ('accepted', 'en_route') THEN o.accepted_at + interval '1 minute' * (
           SELECT f.eta_min FROM offer f WHERE f.order_id = o.id AND f.caregiver_id = o.caregiver_id
           ORDER BY f.id DESC LIMIT 1) END AS expected_arrival,
       a.owner, a.owned_at,
       coalesce((SELECT json_agg(json_build_object('at', n.at, 'author', n.author, 'text', n.text) ORDER BY n.at, n.id)
                 FROM alarm_note n WHERE n.alarm_id = a.id), '[]') AS notes
FROM alarm a
LEFT JOIN LATERAL (
    SELECT o.* FROM service_order o WHERE o.id = a.order_id OR o.alarm_id = a.id ORDER BY o.id LIMIT 1
) o ON true
LEFT JOIN caregiver cg ON cg.id = o.caregiver_id
JOIN elder e ON e.id = a.elder_id
JOIN community c ON c.id = e.community_id
JOIN township t ON t.id = c.township_id
JOIN alarm_type at ON at.code = a.type
"""


def _where(flt: AlarmFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if flt.status:
        clauses.append("a.status = ANY(%s)")
        params.append([s.value for s in flt.status])
    if flt.severity:
        clauses.append("a.severity = %s")
        params.append(flt.severity.value)
    if flt.type:
        clauses.append("a.type = %s")
        params.append(flt.type)
    if flt.elder_id is not None:
        clauses.append("a.elder_id = %s")
        params.append(flt.elder_id)
    if flt.since:
        clauses.append("a.raised_at >= %s")
        params.append(flt.since)
    if flt.until:
        clauses.append("a.raised_at < %s")
        params.append(flt.until)
    if flt.area:
        clause, values = flt.area.over_elders("a.elder_id")
        clauses.append(clause)
        params += values
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def list_alarms(conn: psycopg.Connection, flt: AlarmFilter, limit: int, offset: int) -> tuple[list[Alarm], int]:
    """One page of alarms, newest first, and how many match in all."""
    where, params = _where(flt)
    total = count_capped(conn, f"FROM alarm a{where}", params)
    with conn.cursor(row_factory=class_row(Alarm)) as cur:
        rows = cur.execute(
            f"{SELECT}{where} ORDER BY a.raised_at DESC, a.id DESC LIMIT %s OFFSET %s",
            [*params, limit, offset],
        ).fetchall()
    return rows, total


def live_board(conn: psycopg.Connection, area: Area | None = None) -> list[Alarm]:
    """Every alarm not yet resolved, and resolved ones whose order is still under way (help is on its way: the
    desk keeps watching until it is done), of the elders in ``area``: critical first, open first, then the longest
    waiting."""
    clause, params = area.over_elders("a.elder_id") if area else ("true", [])
    with conn.cursor(row_factory=class_row(Alarm)) as cur:
        return cur.execute(
            f"""{SELECT} WHERE {ON_BOARD} AND {clause}
            ORDER BY (a.status = 'resolved'), (a.severity = 'critical') DESC, (a.status = 'open') DESC,
                     a.received_at, a.id LIMIT 500""",
            params,
        ).fetchall()


def get_alarm(conn: psycopg.Connection, alarm_id: int) -> Alarm:
    with conn.cursor(row_factory=class_row(Alarm)) as cur:
        row = cur.execute(f"{SELECT} WHERE a.id = %s", (alarm_id,)).fetchone()
    if row is None:
        raise NotFound(Message.of(N_("no alarm with id %(id)s"), id=alarm_id))
    return row


def acknowledge(conn: psycopg.Connection, alarm_id: int, actor: str, now: datetime, note: str = "") -> Alarm:
    """Mark an open alarm as seen by ``actor``; acknowledging twice is a conflict, not a silent success."""
    row = conn.execute(
        """
        UPDATE alarm SET status = 'acknowledged', acknowledged_at = greatest(%s, received_at), acknowledged_by = %s,
               note = CASE WHEN %s = '' THEN note ELSE %s END
        WHERE id = %s AND status = 'open' RETURNING id
        """,
        (now, actor, note, note, alarm_id),
    ).fetchone()
    if row is None:
        current = get_alarm(conn, alarm_id)  # raises NotFound
        raise Conflict(
            Message.of(
                N_("alarm %(id)s is %(status)s already (by %(by)s)"),
                id=alarm_id,
                status=Coded("alarm_state", current.status),
                by=current.acknowledged_by,
            )
        )
    audit.record(conn, actor, "alarm.acknowledge", "alarm", alarm_id, {"note": note} if note else {})
    return get_alarm(conn, alarm_id)


def take(conn: psycopg.Connection, alarm_id: int, actor: str, now: datetime) -> Alarm:
    """``actor`` takes ownership of a live alarm (from whoever held it: the desk hands alarms over at shift change);
    an open alarm is acknowledged in the same step."""
    row = conn.execute(
        """
        UPDATE alarm SET owner = %s, owned_at = greatest(%s, received_at), status = 'acknowledged',
               acknowledged_at = coalesce(acknowledged_at, greatest(%s, received_at)),
               acknowledged_by = coalesce(acknowledged_by, %s)
        WHERE id = %s AND status <> 'resolved' RETURNING (SELECT owner FROM alarm WHERE id = %s)
        """,
        (actor, now, now, actor, alarm_id, alarm_id),
    ).fetchone()
    if row is None:
        current = get_alarm(conn, alarm_id)  # raises NotFound
        raise Conflict(
            Message.of(
                N_("alarm %(id)s is %(status)s already: only a live alarm can be taken"),
                id=alarm_id,
                status=Coded("alarm_state", current.status),
            )
        )
    audit.record(conn, actor, "alarm.take", "alarm", alarm_id, {"from": row[0]} if row[0] else {})
    return get_alarm(conn, alarm_id)


def add_note(conn: psycopg.Connection, alarm_id: int, actor: str, now: datetime, text: str) -> Alarm:
    """An operator's note on the alarm (a call made, who answered); kept after the alarm is resolved."""
    if not text.strip():
        raise Invalid(Message.of(N_("the note is empty: write what was done or learnt")))
    get_alarm(conn, alarm_id)  # raises NotFound
    conn.execute(
        "INSERT INTO alarm_note (alarm_id, at, author, text) VALUES (%s, %s, %s, %s)",
        (alarm_id, now, actor, text.strip()),
    )
    # the desks watching the board hear of it as of any change to the alarm (migration 0005's contract)
    conn.execute(
        "SELECT pg_notify('eldercare_alarm', json_build_object('id', id, 'elder_id', elder_id, 'type', type, "
        "'severity', severity, 'status', status, 'op', 'update')::text) FROM alarm WHERE id = %s",
        (alarm_id,),
    )
    audit.record(conn, actor, "alarm.note", "alarm", alarm_id, {"text": text.strip()})
    return get_alarm(conn, alarm_id)


def resolve(
    conn: psycopg.Connection,
    alarm_id: int,
    actor: str,
    now: datetime,
    outcome: AlarmOutcome,
    note: str,
    stop_order: bool = False,
) -> Alarm:
    """Close an alarm with its outcome; an open one is acknowledged in the same step. ``stop_order``: the
    operator's decision to stand its emergency order down, kept in the audit trail."""
    row = conn.execute(
        """
        UPDATE alarm SET status = 'resolved', outcome = %s, note = %s, resolved_at = greatest(%s, received_at),
               resolved_by = %s,
               acknowledged_at = coalesce(acknowledged_at, greatest(%s, received_at)),
               acknowledged_by = coalesce(acknowledged_by, %s)
        WHERE id = %s AND status <> 'resolved' RETURNING id
        """,
        (outcome.value, note, now, actor, now, actor, alarm_id),
    ).fetchone()
    if row is None:
        current = get_alarm(conn, alarm_id)
        raise Conflict(
            Message.of(
                N_("alarm %(id)s is resolved already (%(outcome)s, by %(by)s)"),
                id=alarm_id,
                outcome=Coded("outcome", current.outcome),
                by=current.resolved_by,
            )
        )
    details: dict[str, Any] = {"outcome": outcome.value, "note": note}
    if outcome is AlarmOutcome.FALSE_ALARM:
        details["stop_order"] = stop_order
    audit.record(conn, actor, "alarm.resolve", "alarm", alarm_id, details)
    return get_alarm(conn, alarm_id)
