"""What the fate of an SMS means for orders: a sent offer starts its clock, an undeliverable one moves on,
and a number that opted out is marked so that nobody offers to it again."""

from __future__ import annotations

import logging

import psycopg

from dispatcher.lifecycle import Actor, load_order
from dispatcher.offers import close_offer, live_offer, offers_to
from dispatcher.outbox import OutboundSms
from dispatcher.settings import Config
from eldercare import audit
from eldercare.clock import Clock
from eldercare.vocabulary import LIVE_OFFER_SQL

log = logging.getLogger(__name__)

# How far along a message is; a late or repeated status callback never moves it back.
PROGRESS = {
    "pending": 0,
    "sending": 1,
    "queued": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "opted_out": 4,
    "received": 4,
}
UNDELIVERABLE = frozenset({"failed", "undelivered", "opted_out"})


def after_send(conn: psycopg.Connection, clock: Clock, config: Config, sms: OutboundSms, status: str) -> None:
    """React to the result of handing ``sms`` to the provider, recorded with status ``status``."""
    if status == "opted_out" and sms.caregiver_id is not None:
        mark_opted_out(conn, clock, config, sms.caregiver_id, via="Twilio error 21610")
    if sms.purpose != "offer":
        return
    if status in UNDELIVERABLE:
        offer_undeliverable(conn, clock, config, sms.id, f"offer SMS {status}")
    elif status != "pending":
        offer_sent(conn, clock, config, sms.id)


def offer_sent(conn: psycopg.Connection, clock: Clock, config: Config, sms_id: int) -> None:
    """The offer's SMS left: its time to answer counts from now."""
    now = clock.now()
    row = conn.execute(
        "UPDATE offer o SET status = 'sent', sent_at = %s, "
        "expires_at = %s + CASE WHEN so.service_type = 'emergency' THEN %s ELSE %s END "
        "FROM service_order so WHERE so.id = o.order_id AND o.sms_id = %s AND o.status = 'pending' RETURNING o.id",
        (now, now, config.dispatch.offer_ttl(True), config.dispatch.offer_ttl(False), sms_id),
    ).fetchone()
    if row is None:
        log.debug("SMS %d: no pending offer to start", sms_id)


def offer_undeliverable(conn: psycopg.Connection, clock: Clock, config: Config, sms_id: int, why: str) -> None:
    """The offer cannot reach the caregiver: end it and offer the order to the next one."""
    found = conn.execute(
        f"SELECT order_id, caregiver_id FROM offer WHERE sms_id = %s AND status IN {LIVE_OFFER_SQL}",  # noqa: S608
        (sms_id,),
    ).fetchone()
    if found is None:
        return
    order = load_order(conn, found[0], lock=True)
    offer = live_offer(conn, order.id, found[1])
    if offer is None or offer.sms_id != sms_id:
        return  # someone else closed it while we waited for the lock
    close_offer(conn, clock, config, order, offer, "failed", actor_kind=Actor.SYSTEM, actor="dispatcher", why=why)


def status_callback(
    conn: psycopg.Connection,
    clock: Clock,
    config: Config,
    *,
    sms_id: int | None,
    sid: str,
    status: str,
    error_code: int | None,
) -> bool:
    """Apply one Twilio status callback; False when no message of ours matches it."""
    row = conn.execute(
        "SELECT id, status, purpose, twilio_sid FROM sms_message WHERE direction = 'outbound' AND "
        "(twilio_sid = %s OR (id = %s AND (twilio_sid IS NULL OR twilio_sid = %s))) ORDER BY id LIMIT 1 FOR UPDATE",
        (sid, sms_id, sid),
    ).fetchone()
    if row is None:
        return False
    message_id, current, purpose, known_sid = row
    if status not in PROGRESS:
        log.info("SMS %d: ignoring unknown status %r", message_id, status[:20])
        return True
    if PROGRESS[status] <= PROGRESS.get(current, 0) and known_sid is not None:
        return True  # old news, or a duplicate callback
    conn.execute(
        "UPDATE sms_message SET status = %s, twilio_sid = coalesce(twilio_sid, %s), error_code = coalesce(%s, "
        "error_code), updated_at = %s, next_attempt_at = NULL WHERE id = %s",
        (status, sid, error_code, clock.now(), message_id),
    )
    if purpose == "offer":
        if status in UNDELIVERABLE:
            offer_undeliverable(conn, clock, config, message_id, f"offer SMS {status} (error {error_code})")
        else:
            offer_sent(conn, clock, config, message_id)
    return True


def mark_opted_out(conn: psycopg.Connection, clock: Clock, config: Config, caregiver_id: int, *, via: str) -> int:
    """Stop offering to a caregiver who opted out; their live offers go to the next caregiver."""
    now = clock.now()
    row = conn.execute(
        "UPDATE caregiver SET sms_opt_out = true, opted_out_at = %s WHERE id = %s AND NOT sms_opt_out RETURNING code",
        (now, caregiver_id),
    ).fetchone()
    if row is not None:
        audit.record(conn, row[0], "caregiver.sms_opt_out", "caregiver", caregiver_id, {"via": via})
        log.info("caregiver %s opted out of SMS (%s)", row[0], via)
    moved = 0
    for offer, _code in offers_to(conn, caregiver_id):
        order = load_order(conn, offer.order_id, lock=True)
        live = live_offer(conn, order.id, caregiver_id)
        if live is not None and live.id == offer.id:
            close_offer(
                conn,
                clock,
                config,
                order,
                live,
                "failed",
                actor_kind=Actor.SYSTEM,
                actor="dispatcher",
                why=f"caregiver opted out of SMS ({via})",
            )
            moved += 1
    return moved


def mark_opted_in(conn: psycopg.Connection, caregiver_id: int, *, via: str) -> None:
    row = conn.execute(
        "UPDATE caregiver SET sms_opt_out = false, opted_out_at = NULL WHERE id = %s AND sms_opt_out RETURNING code",
        (caregiver_id,),
    ).fetchone()
    if row is not None:
        audit.record(conn, row[0], "caregiver.sms_opt_in", "caregiver", caregiver_id, {"via": via})
