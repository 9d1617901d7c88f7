"""Complaints from elders and their families, by SMS keyword or entered by an operator, tracked to closure."""

from __future__ import annotations

import re
from datetime import datetime

import psycopg
from pydantic import BaseModel, Field

from eldercare import audit
from eldercare.db import ID_MAX, INT_MAX
from eldercare.i18n import N_
from eldercare.labels import Message

# 投诉 / COMPLAINT at the start of an SMS, then the complaint itself
KEYWORD = re.compile(r"^\s*(投诉|complaint)\s*[:：,，]?\s*(?P<text>.*)$", re.IGNORECASE | re.DOTALL)


class ComplaintRefused(ValueError):
    """A complaint that cannot be taken or changed as asked; the message says why."""


class NoSuchComplaint(LookupError):
    """The complaint named does not exist."""


class ComplaintInput(BaseModel):
    elder_id: int = Field(ge=1, le=ID_MAX)
    provider_id: int | None = Field(None, ge=1, le=INT_MAX)
    order_id: int | None = Field(None, ge=1, le=ID_MAX)
    body: str = Field(min_length=1, max_length=2000)


def complaint_text(sms_body: str) -> str | None:
    """The complaint in an SMS that starts with the keyword, else None."""
    match = KEYWORD.match(sms_body)
    return (match.group("text").strip() or "-") if match else None


def _provider_of(conn: psycopg.Connection, elder_id: int, order_id: int | None) -> tuple[int | None, int | None]:
    """The provider complained about: the order's, else the provider of the elder's latest served order."""
    row = conn.execute(
        "SELECT provider_id, id FROM service_order WHERE elder_id = %s AND provider_id IS NOT NULL "
        "AND (%s::bigint IS NULL OR id = %s) ORDER BY (id = %s) DESC, coalesce(completed_at, created_at) DESC LIMIT 1",
        (elder_id, order_id, order_id, order_id),
    ).fetchone()
    return (int(row[0]), int(row[1])) if row else (None, order_id)


def from_sms(conn: psycopg.Connection, from_phone: str, text: str, now: datetime) -> int | None:
    """A complaint texted by an elder or a family contact (their phone on the register); its id, or None when the
    number belongs to no elder."""
    row = conn.execute(
        "SELECT id FROM elder WHERE phone = %s AND active "
        "UNION ALL SELECT ec.elder_id FROM emergency_contact ec JOIN elder e ON e.id = ec.elder_id "
        "WHERE ec.phone = %s AND e.active LIMIT 1",
        (from_phone, from_phone),
    ).fetchone()
    if row is None:
        return None
    elder_id = int(row[0])
    provider_id, order_id = _provider_of(conn, elder_id, None)
    found = conn.execute(
        "INSERT INTO complaint (elder_id, provider_id, order_id, source, from_phone, body, received_at) "
        "VALUES (%s, %s, %s, 'sms', %s, %s, %s) RETURNING id",
        (elder_id, provider_id, order_id, from_phone, text[:2000], now),
    ).fetchone()
    assert found is not None
    audit.record(conn, "sms", "complaint.receive", "complaint", found[0], {"elder_id": elder_id})
    return int(found[0])


def enter(conn: psycopg.Connection, data: ComplaintInput, actor: str, now: datetime) -> int:
    """A complaint taken by an operator (on the phone, at the desk); an order it names is one of the elder's."""
    provider_id, order_id = data.provider_id, data.order_id
    if order_id is not None:
        owner = conn.execute("SELECT elder_id FROM service_order WHERE id = %s", (order_id,)).fetchone()
        if owner is None or owner[0] != data.elder_id:
            raise ComplaintRefused(
                Message.of(
                    N_("order %(order)s is not one of elder %(elder)s's orders; name one of theirs, or none"),
                    order=order_id,
                    elder=data.elder_id,
                )
            )
    if provider_id is None:
        provider_id, order_id = _provider_of(conn, data.elder_id, order_id)
    row = conn.execute(
        "INSERT INTO complaint (elder_id, provider_id, order_id, source, body, received_at, entered_by) "
        "SELECT e.id, %s, %s, 'operator', %s, %s, %s FROM elder e WHERE e.id = %s RETURNING id",
        (provider_id, order_id, data.body, now, actor, data.elder_id),
    ).fetchone()
    if row is None:
        raise ComplaintRefused(Message.of(N_("no elder with id %(id)s"), id=data.elder_id))
    audit.record(conn, actor, "complaint.enter", "complaint", row[0], {"elder_id": data.elder_id})
    return int(row[0])


def close(conn: psycopg.Connection, complaint_id: int, answer: str, actor: str, now: datetime) -> None:
    """Close a complaint with the provider's answer."""
    if not answer.strip():
        raise ComplaintRefused(Message.of(N_("a complaint is closed with the provider's answer; it cannot be empty")))
    row = conn.execute(
        "UPDATE complaint SET answer = %s, answered_at = %s, closed_at = %s, closed_by = %s "
        "WHERE id = %s AND closed_at IS NULL RETURNING id",
        (answer.strip()[:2000], now, now, actor, complaint_id),
    ).fetchone()
    if row is None:
        if conn.execute("SELECT 1 FROM complaint WHERE id = %s", (complaint_id,)).fetchone() is None:
            raise NoSuchComplaint(Message.of(N_("no complaint with id %(id)s"), id=complaint_id))
        raise ComplaintRefused(Message.of(N_("complaint %(id)s is closed already"), id=complaint_id))
    audit.record(conn, actor, "complaint.close", "complaint", complaint_id, {})
