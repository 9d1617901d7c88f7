"""The deadline sweep: each step finds what is due by the clock, claims it with SKIP LOCKED, and acts.

Every step is a plain function of (connection, clock, config) working in the caller's transaction, so the
dispatcher's loop, a test or a simulated day can run them one by one in any rhythm they like.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sized
from dataclasses import dataclass

import psycopg

from dispatcher import escalation
from dispatcher.alarms import elder_cancels, raise_emergency_orders
from dispatcher.lifecycle import Actor, load_order
from dispatcher.offers import close_offer, live_offers, offer_next
from dispatcher.settings import Config
from eldercare.clock import Clock
from eldercare.supervision.checks import raise_overdue
from eldercare.vocabulary import LIVE_OFFER_SQL, OrderStatus

log = logging.getLogger(__name__)


_EXPIRED = f"""
    SELECT so.id FROM service_order so
    WHERE so.id IN (SELECT o.order_id FROM offer o WHERE o.status IN {LIVE_OFFER_SQL} AND o.expires_at <= %(now)s)
    ORDER BY so.priority,
        (SELECT min(o.expires_at) FROM offer o WHERE o.order_id = so.id AND o.status IN {LIVE_OFFER_SQL}), so.id
    LIMIT %(limit)s FOR UPDATE SKIP LOCKED
"""  # noqa: S608 (a constant)
# An order ``so`` is offered again at its ``next_offer_at`` when none of its offers is live, or, an emergency,
# also while some are: its race was kept short by the margin and widens then.
OFFERED_AT_NEXT = f"""so.status IN ('created', 'offered', 'escalated')
      AND (so.service_type = 'emergency'
           OR NOT EXISTS (SELECT 1 FROM offer o WHERE o.order_id = so.id AND o.status IN {LIVE_OFFER_SQL}))"""  # noqa: S608
_DUE = f"""
    SELECT so.id FROM service_order so WHERE so.next_offer_at <= %s AND {OFFERED_AT_NEXT}
    ORDER BY so.priority, so.next_offer_at, so.id LIMIT %s FOR UPDATE OF so SKIP LOCKED
"""  # noqa: S608 (a constant)


def expire_offers(conn: psycopg.Connection, clock: Clock, config: Config, limit: int = 20) -> int:
    """End live offers past ``expires_at`` and offer their orders to the next caregiver (or, once every offer
    of an emergency's race has ended, to the next few)."""
    now = clock.now()
    due = conn.execute(_EXPIRED, {"now": now, "limit": limit}).fetchall()
    for (order_id,) in due:
        order = load_order(conn, order_id)
        for offer in live_offers(conn, order_id):
            if offer.expires_at > now:
                continue
            order = close_offer(
                conn,
                clock,
                config,
                order,
                offer,
                "expired",
                actor_kind=Actor.SYSTEM,
                actor="dispatcher",
                why=f"offer {offer.id} expired unanswered",
            )
    return len(due)


def escalate_overdue(conn: psycopg.Connection, clock: Clock, config: Config, limit: int = 20) -> int:
    """Escalate orders not accepted by ``accept_due_at`` and accepted orders with no arrival by
    ``arrival_due_at``."""
    now = clock.now()
    due = conn.execute(
        "SELECT id, status FROM service_order WHERE "
        "(status IN ('created', 'offered') AND accept_due_at <= %(now)s) "
        "OR (status IN ('accepted', 'en_route') AND arrival_due_at <= %(now)s) "
        "ORDER BY priority, id LIMIT %(limit)s FOR UPDATE SKIP LOCKED",
        {"now": now, "limit": limit},
    ).fetchall()
    for order_id, status in due:
        order = load_order(conn, order_id)
        why = (
            escalation.NO_ARRIVAL
            if status in (OrderStatus.ACCEPTED, OrderStatus.EN_ROUTE)
            else escalation.NO_ACCEPTANCE
        )
        escalation.escalate(conn, clock, config, order, why)
    return len(due)


# A visit ``so`` arrived at and not chased yet for want of a report that it is done; chased at ``UNFINISHED_AT``,
# ``unfinished_minutes`` (``%(grace)s``) after its booked duration.
UNFINISHED = """so.status = 'arrived'
      AND NOT EXISTS (SELECT 1 FROM alarm a WHERE a.order_id = so.id AND a.type = 'visit_unfinished')"""
UNFINISHED_AT = "so.arrived_at + make_interval(mins => so.duration_min + %(grace)s)"
_UNFINISHED = f"""
    SELECT so.id FROM service_order so WHERE {UNFINISHED} AND {UNFINISHED_AT} <= %(now)s
    ORDER BY so.priority, so.arrived_at, so.id LIMIT %(limit)s FOR UPDATE SKIP LOCKED
"""  # noqa: S608 (constants)


def chase_unfinished(conn: psycopg.Connection, clock: Clock, config: Config, limit: int = 20) -> int:
    """Remind the caregivers of visits arrived at and long not reported done, and alert the operators, once per
    visit (``escalation.unfinished``)."""
    grace = config.dispatch.unfinished_minutes
    due = conn.execute(_UNFINISHED, {"grace": grace, "now": clock.now(), "limit": limit}).fetchall()
    for (order_id,) in due:
        escalation.unfinished(conn, clock, config, load_order(conn, order_id))
    return len(due)


def offer_due(conn: psycopg.Connection, clock: Clock, config: Config, limit: int = 20) -> int:
    """Offer orders whose ``next_offer_at`` has come: new ones, those waiting for a caregiver to free up, and
    emergencies whose race widens."""
    due = conn.execute(_DUE, (clock.now(), limit)).fetchall()
    for (order_id,) in due:
        why = "no caregiver raced so far has said yes: the race widens" if live_offers(conn, order_id) else ""
        offer_next(conn, clock, config, load_order(conn, order_id), why=why)
    return len(due)


def overdue_rectifications(conn: psycopg.Connection, clock: Clock, config: Config, limit: int = 20) -> int:
    """Raise an alarm for each rectification open past its deadline (``supervision.checks.raise_overdue``)."""
    return raise_overdue(conn, clock.now(), limit)


@dataclass(frozen=True, slots=True)
class Step:
    """One step of the sweep: finds up to ``limit`` things due and acts on them; returns them or their count."""

    name: str  # its count in ``SweepReport``
    run: Callable[[psycopg.Connection, Clock, Config, int], int | Sized]
    alone: bool = False  # the running component commits each one on its own (an emergency waits for no batch)


# Every step, in order: emergencies first, after those the elder called off (a second SOS press heard before a
# first press gets its order). ``sweep`` runs them once each; the running component (``component``) the same list.
STEPS = (
    Step("cancelled", elder_cancels, alone=True),
    Step("emergencies", raise_emergency_orders, alone=True),
    Step("expired", expire_offers),
    Step("escalated", escalate_overdue),
    Step("offered", offer_due),
    Step("rectifications", overdue_rectifications),
    Step("unfinished", chase_unfinished),
)


def count(done: int | Sized) -> int:
    """How many things a step did, whether it returned them or their count."""
    return done if isinstance(done, int) else len(done)


@dataclass(frozen=True, slots=True)
class SweepReport:
    cancelled: int
    emergencies: int
    expired: int
    escalated: int
    offered: int
    rectifications: int  # overdue ones turned into alarms
    unfinished: int  # visits long not reported done: their caregivers reminded, the operators alerted

    @property
    def total(self) -> int:
        return sum(getattr(self, step.name) for step in STEPS)


def sweep(conn: psycopg.Connection, clock: Clock, config: Config, limit: int = 20) -> SweepReport:
    """One pass of every step (``STEPS``), in the caller's transaction."""
    return SweepReport(**{step.name: count(step.run(conn, clock, config, limit)) for step in STEPS})
