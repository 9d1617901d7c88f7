"""The visit card kept at an elder's home: a six-digit code a caregiver without a smartphone texts with ARRIVED and
DONE to show they were there. Rotated whenever it may have leaked (a new card is printed; the old code stops
counting)."""

from __future__ import annotations

import secrets
from datetime import datetime

import psycopg

from eldercare import audit
from eldercare.clock import Clock
from eldercare.i18n import N_
from eldercare.labels import Message
from eldercare.register.record import NoSuchElder


def current(conn: psycopg.Connection, elder_id: int) -> tuple[str, datetime] | None:
    """The elder's card code in use and when it was issued, or None when no card was issued yet."""
    row = conn.execute(
        "SELECT code, issued_at FROM elder_card_code WHERE elder_id = %s AND retired_at IS NULL", (elder_id,)
    ).fetchone()
    return (str(row[0]), row[1]) if row else None


def issue(conn: psycopg.Connection, clock: Clock, elder_id: int, actor: str) -> str:
    """Issue a new card code for the elder, retiring the one in use; returns the code to print. Audited."""
    if conn.execute("SELECT 1 FROM elder WHERE id = %s FOR UPDATE", (elder_id,)).fetchone() is None:
        raise NoSuchElder(Message.of(N_("there is no elder with id %(id)s; check the elder's id"), id=elder_id))
    now = clock.now()
    used = {code for (code,) in conn.execute("SELECT code FROM elder_card_code WHERE elder_id = %s", (elder_id,))}
    code = f"{secrets.randbelow(1_000_000):06d}"
    while code in used:  # a replaced code must stay recognisable as replaced
        code = f"{secrets.randbelow(1_000_000):06d}"
    conn.execute(
        "UPDATE elder_card_code SET retired_at = %s WHERE elder_id = %s AND retired_at IS NULL", (now, elder_id)
    )
    conn.execute(
        "INSERT INTO elder_card_code (elder_id, code, issued_at, issued_by) VALUES (%s, %s, %s, %s)",
        (elder_id, code, now, actor),
    )
    audit.record(conn, actor, "elder.card_code.issue", "elder", elder_id, {"replaced": bool(used)})
    return code
