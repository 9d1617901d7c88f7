"""Emergency orders for critical alarms: an SOS, a fall, smoke or gas gets an order, an offer, and the family
is told, at once when the alarm's NOTIFY arrives and by the sweep for anything raised while we were down."""

from __future__ import annotations

import logging

import psycopg

from dispatcher import notices
from dispatcher.lifecycle import OrderRow, load_order
from dispatcher.offers import offer_next
from dispatcher.orders import insert_order
from dispatcher.settings import Config
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
            notes=f"{kind} alarm {alarm_id}",
            alarm_id=alarm_id,
        )
        if ref is None:
            continue
        order = load_order(conn, ref.id, lock=True)
        notices.family_alarm(conn, clock, config, order)
        made.append(offer_next(conn, clock, config, order))
        log.info("alarm %d (%s): emergency order %s", alarm_id, kind, ref.code)
    return made
