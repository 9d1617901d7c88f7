"""Emergency orders for critical alarms: an SOS, a fall, smoke or gas gets an order, an offer, and the family
is told, at once when the alarm's NOTIFY arrives and by the sweep for anything raised while we were down."""

from __future__ import annotations

import logging

import psycopg

from dispatcher import notices
from dispatcher.lifecycle import Actor, OrderRow, load_order
from dispatcher.offers import offer_next
from dispatcher.orders import insert_order, stand_down
from dispatcher.settings import Config
from eldercare import audit
from eldercare.clock import Clock
from eldercare.vocabulary import EMERGENCY_ALARMS

log = logging.getLogger(__name__)


def raise_emergency_orders(conn: psycopg.Connection, clock: Clock, config: Config, limit: int = 5) -> list[OrderRow]:
    """Orders for up to ``limit`` unresolved critical alarms that have none; the caller commits.

    Alarms another dispatcher is working on are skipped (SKIP LOCKED); ``service_order_alarm_uq`` makes a
    second order for one alarm impossible whatever happens.
    """
    alarms = conn.execute(
        """
        SELECT a.id, a.elder_id, a.type FROM alarm a
        WHERE a.status <> 'resolved' AND a.severity = 'critical' AND a.type = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM service_order so WHERE so.alarm_id = a.id)
        ORDER BY a.raised_at, a.id
        LIMIT %s
        FOR UPDATE OF a SKIP LOCKED
        """,
        (list(EMERGENCY_ALARMS), limit),
    ).fetchall()
    made = []
    for alarm_id, elder_id, kind in alarms:
        ref = insert_order(
            conn,
            clock,
            config,
            elder_id=elder_id,
            service_type="emergency",
            source="alarm",
            actor="dispatcher",
            notes="",  # the order links its alarm; what raised it is shown from there
            alarm_id=alarm_id,
        )
        if ref is None:
            continue
        order = load_order(conn, ref.id, lock=True)
        notices.family_alarm(conn, clock, config, order)
        made.append(offer_next(conn, clock, config, order))
        log.info("alarm %d (%s): emergency order %s", alarm_id, kind, ref.code)
    return made


def elder_cancels(conn: psycopg.Connection, clock: Clock, config: Config, limit: int = 5) -> int:
    """SOS alarms the elder called off with a second press within ``sos_cancel_seconds`` of the first: resolved
    as false alarms by the elder, their emergency orders stood down (caregiver and family told). A redelivered
    press (same device time) is not a second press."""
    window = config.dispatch.sos_cancel_seconds
    if window <= 0:
        return 0
    rows = conn.execute(
        """
        SELECT id, device_id FROM alarm
        WHERE type = 'sos' AND status <> 'resolved' AND repeat_count >= 1
          AND last_raised_at > raised_at AND last_raised_at <= raised_at + %s * interval '1 second'
        ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED
        """,
        (window, limit),
    ).fetchall()
    now = clock.now()
    for alarm_id, device_id in rows:
        conn.execute(
            """
            UPDATE alarm SET status = 'resolved', outcome = 'false_alarm', resolved_at = greatest(%s, received_at),
                   resolved_by = 'elder', acknowledged_at = coalesce(acknowledged_at, greatest(%s, received_at)),
                   acknowledged_by = coalesce(acknowledged_by, 'elder'),
                   note = CASE WHEN note = '' THEN 'cancelled by a second press' ELSE note END
            WHERE id = %s
            """,
            (now, now, alarm_id),
        )
        audit.record(conn, "elder", "alarm.cancel", "alarm", alarm_id, {"device": device_id, "window_s": window})
        stand_down(conn, clock, alarm_id, actor=f"device:{device_id}", config=config, actor_kind=Actor.SYSTEM)
        log.info("alarm %d: the elder called it off (second press on %s)", alarm_id, device_id)
    return len(rows)
