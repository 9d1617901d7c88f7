"""An SMS from a caregiver: recorded once per MessageSid, understood, acted on, and answered."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

from dispatcher import caregiver_actions as actions
from dispatcher import delivery, texts
from dispatcher.caregiver_actions import Answer, Caregiver
from dispatcher.lifecycle import load_order_by_code
from dispatcher.offers import offers_to
from dispatcher.planning.confirm import confirm_day
from dispatcher.replies import Intent, Reply, parse
from dispatcher.settings import Config
from dispatcher.visits import NO_PROOF, Proof
from eldercare.clock import Clock
from eldercare.supervision import complaints

log = logging.getLogger(__name__)

Action = Callable[[psycopg.Connection, Clock, Config, Caregiver, int, str], Answer]
_ACTIONS: dict[Intent, Action] = {Intent.ACCEPT: actions.accept, Intent.DECLINE: actions.decline}
Step = Callable[[psycopg.Connection, Clock, Config, Caregiver, int, str, Proof], Answer]
_STEPS: dict[Intent, Step] = {Intent.ARRIVED: actions.arrive, Intent.DONE: actions.finish}
# which of a caregiver's held orders a reply without a code can mean
_HELD_FOR = {
    Intent.ARRIVED: ("accepted", "en_route", "escalated"),
    Intent.DONE: ("arrived",),
}
_HELD_ORDERS = """
SELECT id, code FROM service_order
WHERE caregiver_id = %s AND status = ANY(%s) AND (status = 'arrived' OR arrived_at IS NULL)
ORDER BY accepted_at, id
"""


@dataclass(frozen=True, slots=True)
class InboundResult:
    """What became of one inbound SMS: a reply to send back (None for a duplicate) and whether it changed
    anything."""

    reply: str | None
    duplicate: bool = False
    changed: bool = False


def handle(
    conn: psycopg.Connection, clock: Clock, config: Config, *, sid: str, from_phone: str, to_phone: str, body: str
) -> InboundResult:
    """Record the message (a repeated MessageSid stops here) and act on it, in the caller's transaction."""
    now = clock.now()
    row = conn.execute(
        "INSERT INTO sms_message (direction, twilio_sid, to_phone, from_phone, body, purpose, status, created_at, "
        "updated_at) VALUES ('inbound', %s, %s, %s, %s, 'offer_reply', 'received', %s, %s) "
        "ON CONFLICT (twilio_sid) DO NOTHING RETURNING id",
        (sid, to_phone, from_phone, body[:1600], now, now),
    ).fetchone()
    if row is None:
        log.info("inbound SMS %s is a duplicate delivery; handled before", sid)
        return InboundResult(None, duplicate=True)
    inbound_id = int(row[0])
    caregiver = actions.caregiver_by_phone(conn, from_phone)
    complaint = complaints.complaint_text(body) if caregiver is None else None
    if complaint is not None and complaints.from_sms(conn, from_phone, complaint, now) is not None:
        text = texts.text("complaint_received", "zh") + " / " + texts.text("complaint_received", "en")
        _record_reply(conn, clock, config, from_phone, text, None, None)
        return InboundResult(text, changed=True)
    if caregiver is None:
        log.info("SMS from an unknown number %s…", from_phone[:6])
        text = texts.text("unknown_number", "zh") + " / " + texts.text("unknown_number", "en")
        _record_reply(conn, clock, config, from_phone, text, None, None)
        return InboundResult(text)
    reply = parse(body)
    answer, order_id = _act(conn, clock, config, caregiver, reply)
    conn.execute(
        "UPDATE sms_message SET caregiver_id = %s, order_id = %s WHERE id = %s", (caregiver.id, order_id, inbound_id)
    )
    text = answer.text(caregiver.language)
    _record_reply(conn, clock, config, from_phone, text, caregiver.id, order_id)
    return InboundResult(text, changed=answer.changed)


def _act(
    conn: psycopg.Connection, clock: Clock, config: Config, caregiver: Caregiver, reply: Reply | None
) -> tuple[Answer, int | None]:
    if reply is None or reply.intent is Intent.HELP:
        return Answer("help"), None
    if reply.intent is Intent.STOP:
        delivery.mark_opted_out(conn, clock, config, caregiver.id, via="SMS STOP")
        return Answer("stopped", changed=True), None
    if reply.intent is Intent.START:
        delivery.mark_opted_in(conn, caregiver.id, via="SMS START")
        return Answer("started", changed=True), None
    if reply.intent is Intent.CONFIRM or (
        reply.intent is Intent.ACCEPT and reply.code is None and not offers_to(conn, caregiver.id)
    ):
        # Y with no offer waiting, or 确认: the caregiver confirms the day they were told of
        day = confirm_day(conn, clock, config, caregiver.id)
        if day is not None:
            return Answer("day_confirmed", {"day": day.isoformat()}, changed=True), None
        if reply.intent is Intent.CONFIRM:
            return Answer("nothing_to_confirm"), None
    code, card = reply.code, reply.card
    # six digits after ARRIVED or DONE: an order code if there is such an order, else the card's code
    if code and card is None and code.isdigit() and reply.intent in _HELD_FOR and not load_order_by_code(conn, code):
        code, card = None, code
    if code is not None:
        order = load_order_by_code(conn, code)
        if order is None:
            return Answer("no_such_order", {"code": code}), None
        order_id = order.id
    else:
        found = _their_order(conn, caregiver, reply.intent)
        if isinstance(found, Answer):
            return found, None
        order_id = found
    if reply.intent in _STEPS:
        proof = NO_PROOF if card is None else Proof(card_code=card)
        return _STEPS[reply.intent](conn, clock, config, caregiver, order_id, "sms", proof), order_id
    return _ACTIONS[reply.intent](conn, clock, config, caregiver, order_id, "sms"), order_id


def _their_order(conn: psycopg.Connection, caregiver: Caregiver, intent: Intent) -> int | Answer:
    """The one order a reply without a code must mean, or the answer that asks for the code."""
    if intent in (Intent.ACCEPT, Intent.DECLINE):
        offers = offers_to(conn, caregiver.id)
        if not offers:
            return Answer("nothing_open")
        if len(offers) > 1:
            codes = [code for _, code in offers]
            return _several(codes, "Y")
        return offers[0][0].order_id
    rows = conn.execute(_HELD_ORDERS, (caregiver.id, list(_HELD_FOR[intent]))).fetchall()
    if not rows:
        return Answer("nothing_held")
    if len(rows) > 1:
        return _several([code for _, code in rows], "ARRIVED" if intent is Intent.ARRIVED else "DONE")
    return int(rows[0][0])


def _several(codes: list[str], word: str) -> Answer:
    return Answer("several", {"codes": ", ".join(codes), "example": f"{word} {codes[0]}"})


def _record_reply(
    conn: psycopg.Connection,
    clock: Clock,
    config: Config,
    to_phone: str,
    text: str,
    caregiver_id: int | None,
    order_id: int | None,
) -> None:
    """The answer goes back in the webhook's TwiML response; keep a copy with the conversation."""
    now = clock.now()
    conn.execute(
        "INSERT INTO sms_message (direction, to_phone, from_phone, body, purpose, status, caregiver_id, order_id, "
        "created_at, updated_at) VALUES ('outbound', %s, %s, %s, 'reply', 'sent', %s, %s, %s, %s)",
        (to_phone, config.platform.twilio_from, text, caregiver_id, order_id, now, now),
    )
