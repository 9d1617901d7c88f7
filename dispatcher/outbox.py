"""Outbound SMS as an outbox: queued in the deciding transaction, claimed, sent after commit, then recorded.

No transaction stays open across an HTTP call: ``claim`` marks rows 'sending' and the caller commits;
the caller sends; ``record`` writes the result in a new transaction. A retryable failure puts the row back
to 'pending' with a later ``next_attempt_at``; a row left 'sending' by a process that died is picked up
again after ``STALE_SENDING``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import psycopg
from psycopg.rows import class_row

from eldercare.clock import Clock

log = logging.getLogger(__name__)

STALE_SENDING = timedelta(minutes=2)


class Purpose(StrEnum):
    OFFER = "offer"
    OFFER_REPLY = "offer_reply"
    OFFER_TAKEN = "offer_taken"
    FAMILY = "family"
    MANAGER = "manager"
    OPERATOR = "operator"
    HELP = "help"
    REPLY = "reply"
    PLAN = "plan"


@dataclass(frozen=True, slots=True)
class OutboundSms:
    id: int
    to_phone: str
    from_phone: str
    body: str
    purpose: str
    attempts: int
    order_id: int | None
    caregiver_id: int | None


class SendOutcome(StrEnum):
    ACCEPTED = "accepted"  # Twilio took it (status queued, or what it said)
    RETRY = "retry"  # 429, 5xx, network: try again later
    OPTED_OUT = "opted_out"  # 21610: the number sent STOP
    FAILED = "failed"  # anything else: do not try again


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: SendOutcome
    sid: str | None = None
    status: str | None = None
    error_code: int | None = None
    error_message: str | None = None


def enqueue(
    conn: psycopg.Connection,
    clock: Clock,
    *,
    to_phone: str,
    from_phone: str,
    body: str,
    purpose: Purpose,
    order_id: int | None = None,
    caregiver_id: int | None = None,
    contact_id: int | None = None,
    not_before: datetime | None = None,
) -> int:
    """Queue one SMS; it is sent once the caller's transaction commits (NOTIFY eldercare_sms), or at
    ``not_before`` (a routine message held through quiet hours)."""
    now = clock.now()
    due = max(now, not_before) if not_before is not None else now
    row = conn.execute(
        "INSERT INTO sms_message (direction, to_phone, from_phone, body, purpose, status, order_id, caregiver_id, "
        "contact_id, created_at, updated_at, next_attempt_at) "
        "VALUES ('outbound', %s, %s, %s, %s, 'pending', %s, %s, %s, %s, %s, %s) RETURNING id",
        (to_phone, from_phone, body, purpose.value, order_id, caregiver_id, contact_id, now, now, due),
    ).fetchone()
    assert row is not None
    return int(row[0])


def claim(conn: psycopg.Connection, clock: Clock, limit: int = 20) -> list[OutboundSms]:
    """Take up to ``limit`` due messages (offers first) for sending; the caller commits, then sends."""
    now = clock.now()
    with conn.cursor(row_factory=class_row(OutboundSms)) as cur:
        return cur.execute(
            """
            UPDATE sms_message m SET status = 'sending', attempts = m.attempts + 1, updated_at = %(now)s,
                                     next_attempt_at = %(stale)s
            FROM (
                SELECT id FROM sms_message
                WHERE direction = 'outbound' AND next_attempt_at <= %(now)s
                  AND (status = 'pending' OR (status = 'sending' AND twilio_sid IS NULL))
                ORDER BY purpose <> 'offer', next_attempt_at, id
                LIMIT %(limit)s
                FOR UPDATE SKIP LOCKED
            ) due
            WHERE m.id = due.id
            RETURNING m.id, m.to_phone, m.from_phone, m.body, m.purpose, m.attempts, m.order_id, m.caregiver_id
            """,
            {"now": now, "stale": now + STALE_SENDING, "limit": limit},
        ).fetchall()


def backoff(attempts: int, first: float, longest: float) -> timedelta:
    """Delay before the next attempt: ``first`` doubling per attempt made, at most ``longest`` seconds."""
    return timedelta(seconds=min(longest, first * 2 ** max(0, attempts - 1)))


def record(
    conn: psycopg.Connection,
    clock: Clock,
    sms: OutboundSms,
    result: SendResult,
    *,
    max_attempts: int,
    first_backoff: float,
    longest_backoff: float,
) -> str:
    """Write the outcome of one send; returns the message's new status."""
    now = clock.now()
    if result.outcome is SendOutcome.ACCEPTED:
        status = result.status or "queued"
        # a status callback may already have moved the message on; never go back
        conn.execute(
            "UPDATE sms_message SET status = CASE WHEN status = 'sending' THEN %s ELSE status END, "
            "twilio_sid = coalesce(twilio_sid, %s), error_code = NULL, error_message = NULL, updated_at = %s, "
            "next_attempt_at = NULL WHERE id = %s",
            (status, result.sid, now, sms.id),
        )
        return status
    if result.outcome is SendOutcome.RETRY and sms.attempts < max_attempts:
        due = now + backoff(sms.attempts, first_backoff, longest_backoff)
        status = "pending"
        log.info("SMS %d: attempt %d failed (%s), retrying at %s", sms.id, sms.attempts, result.error_code, due)
    else:
        status = "opted_out" if result.outcome is SendOutcome.OPTED_OUT else "failed"
        due = None
        log.warning("SMS %d to %s: %s (%s %s)", sms.id, sms.purpose, status, result.error_code, result.error_message)
    conn.execute(
        "UPDATE sms_message SET status = %s, error_code = %s, error_message = %s, updated_at = %s, "
        "next_attempt_at = %s WHERE id = %s",
        (status, result.error_code, (result.error_message or "")[:500], now, due, sms.id),
    )
    return status
