"""The order service functions operators call (through the dashboard): create, cancel, reassign, review.

Each takes the caller's connection and transaction and an injected clock; each refuses what the lifecycle
does not allow with an ``OrderError`` an operator can read, and leaves an audit row and a timeline row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from dispatcher import metrics, notices, texts
from dispatcher.candidates import need_of
from dispatcher.codes import order_code
from dispatcher.eligibility import diagnose
from dispatcher.lifecycle import (
    TRANSITIONS,
    Actor,
    OrderError,
    OrderNotFound,
    OrderRow,
    check,
    load_order,
    record_event,
    transition,
)
from dispatcher.offers import cancel_live_offers, find_candidate, make_offer, ranking_now
from dispatcher.quiet import booked_offer_at
from dispatcher.settings import Config
from eldercare import audit
from eldercare.clock import Clock
from eldercare.i18n import N_
from eldercare.labels import Listed, Message
from eldercare.priority import EMERGENCY, priorities
from eldercare.vocabulary import OrderStatus

log = logging.getLogger(__name__)

FALSE_ALARM = "false_alarm"  # the reason (texts.REASONS) an alarm's order is stood down
# what the caregiver an operator took an order from is told (in their language)
REASSIGNED = N_("reassigned by the operator")

SOURCES = ("alarm", "operator", "recurring", "api", "simulation")
# what the timeline says of how an order came to be, one sentence per source (shown in the reader's language)
_CREATED = {
    "alarm": N_("created from an alarm"),
    "operator": N_("created by an operator"),
    "api": N_("created through the API"),
    "recurring": N_("created from a recurring service"),
    "simulation": N_("created by the simulation"),
}
_ACTOR_KIND = {
    "alarm": Actor.SYSTEM,
    "operator": Actor.OPERATOR,
    "api": Actor.OPERATOR,
    "recurring": Actor.SCHEDULER,
    "simulation": Actor.SYSTEM,
}
EMERGENCY_WINDOW = timedelta(minutes=30)
ROUTINE_WINDOW = timedelta(hours=2)
# What a person may order (``BY_PEOPLE``): a window at most a week long, starting within a year, not over yet.
LONGEST_WINDOW = timedelta(days=7)
FURTHEST_AHEAD = timedelta(days=366)
BY_PEOPLE = ("operator", "api")


@dataclass(frozen=True, slots=True)
class OrderRef:
    """Which order was made: its id, the code caregivers type, and its status."""

    id: int
    code: str
    status: str


def _after_replanning(conn: psycopg.Connection, config: Config, now: datetime, start: datetime) -> datetime:
    """A booked order for a day with a plan in force is the planner's first: the elected scheduler's next look
    for same-day changes (``plan_check_minutes``) fits it into a route, and it is offered by SMS only if the plan
    finds it no room (then it is still unheld when this moment comes). An order wanted sooner than that look,
    or for a day without a plan, is offered at once."""
    look = timedelta(minutes=config.dispatch.plan_check_minutes) + timedelta(seconds=30)
    if start - now < 2 * look:
        return now
    planned = conn.execute(
        "SELECT 1 FROM plan WHERE day = %s AND superseded_at IS NULL", (start.astimezone(config.timezone).date(),)
    ).fetchone()
    return now + look if planned else now


def _check_window(start: datetime, end: datetime, now: datetime) -> None:
    """Refuse a window a person could not mean: over already, or longer than a week (one starting more than a year
    ahead is refused before its end is reckoned)."""
    if end < now:
        raise OrderError(
            Message.of(N_("the window ended already (%(end)s); give one still to come"), end=end.isoformat())
        )
    if end - start > LONGEST_WINDOW:  # the start was checked before the end was reckoned from it
        raise OrderError(
            Message.of(
                N_("the window is longer than %(days)s days; give a narrower one, or a recurring service"),
                days=LONGEST_WINDOW.days,
            )
        )


def insert_order(
    conn: psycopg.Connection,
    clock: Clock,
    config: Config,
    *,
    elder_id: int,
    service_type: str,
    source: str,
    actor: str,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    duration_min: int | None = None,
    notes: str = "",
    alarm_id: int | None = None,
    recurring_service_id: int | None = None,
    occurrence_at: datetime | None = None,
) -> OrderRef | None:
    """Insert a new order and its first timeline row; None when the alarm or occurrence already has one."""
    if source not in SOURCES:
        raise OrderError(
            Message.of(N_("order source %(source)r is not one of %(known)s"), source=source, known=Listed(SOURCES))
        )
    now = clock.now()
    for name, value in (("window_start", window_start), ("window_end", window_end)):
        if value is not None and value.tzinfo is None:
            raise OrderError(
                Message.of(N_("%(name)s must carry a time zone (got %(value)s)"), name=name, value=value.isoformat())
            )
    facts = conn.execute(
        "SELECT e.active, st.is_emergency, st.default_minutes "
        "FROM elder e, service_type st WHERE e.id = %s AND st.code = %s",
        (elder_id, service_type),
    ).fetchone()
    if facts is None:
        _explain_missing(conn, elder_id, service_type)
    active, emergency, default_minutes = facts  # type: ignore[misc]
    if not active:
        raise OrderError(
            Message.of(N_("elder %(id)s is inactive; reactivate the elder before ordering services"), id=elder_id)
        )
    start = window_start or now
    if source in BY_PEOPLE and start > now + FURTHEST_AHEAD:
        raise OrderError(
            Message.of(
                N_("the window starts more than %(days)s days ahead (%(start)s); order it nearer the time"),
                days=FURTHEST_AHEAD.days,
                start=start.isoformat(),
            )
        )
    end = window_end or start + (EMERGENCY_WINDOW if emergency else ROUTINE_WINDOW)
    if end < start:
        raise OrderError(
            Message.of(
                N_("the window ends (%(end)s) before it starts (%(start)s)"),
                end=end.isoformat(),
                start=start.isoformat(),
            )
        )
    if source in BY_PEOPLE:
        _check_window(start, end, now)
    today = now.astimezone(config.timezone).date()
    priority = EMERGENCY if emergency else priorities(conn, [elder_id], today)[elder_id]
    offer_at = now if emergency else booked_offer_at(config, now, start)
    if not emergency and recurring_service_id is None:
        offer_at = max(offer_at, _after_replanning(conn, config, now, start))
    row = conn.execute("SELECT nextval(pg_get_serial_sequence('service_order', 'id'))").fetchone()
    assert row is not None
    order_id = int(row[0])
    code = order_code(order_id)
    inserted = conn.execute(
        """
        INSERT INTO service_order (id, code, elder_id, service_type, status, priority, source, alarm_id,
            recurring_service_id, occurrence_at, window_start, window_end, duration_min, notes, created_at,
            created_by, accept_due_at, next_offer_at, updated_at)
        OVERRIDING SYSTEM VALUE
        VALUES (%s, %s, %s, %s, 'created', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT DO NOTHING
        RETURNING id
        """,
        (
            order_id,
            code,
            elder_id,
            service_type,
            priority,
            source,
            alarm_id,
            recurring_service_id,
            occurrence_at,
            start,
            end,
            duration_min or default_minutes,
            notes,
            now,
            actor,
            offer_at + config.dispatch.accept_window(emergency),
            offer_at,
            now,
        ),
    ).fetchone()
    if inserted is None:
        return None
    record_event(
        conn,
        now,
        order_id,
        None,
        OrderStatus.CREATED,
        _ACTOR_KIND[source],
        actor,
        _CREATED[source],
        {"alarm_id": alarm_id, "recurring_service_id": recurring_service_id},
    )
    metrics.ORDERS.labels(source, service_type).inc()
    log.info("order %s created: %s for elder %d (%s)", code, service_type, elder_id, source)
    return OrderRef(order_id, code, OrderStatus.CREATED.value)


def _explain_missing(conn: psycopg.Connection, elder_id: int, service_type: str) -> None:
    if conn.execute("SELECT 1 FROM elder WHERE id = %s", (elder_id,)).fetchone() is None:
        raise OrderError(Message.of(N_("there is no elder with id %(id)s; check the elder's id"), id=elder_id))
    known = [r[0] for r in conn.execute("SELECT code FROM service_type ORDER BY sort_order").fetchall()]
    raise OrderError(
        Message.of(
            N_("service type %(service)r is unknown; use one of: %(known)s"),
            service=service_type,
            known=Listed(tuple(known)),
        )
    )


def create_order(
    conn: psycopg.Connection,
    clock: Clock,
    *,
    elder_id: int,
    service_type: str,
    actor: str,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    notes: str = "",
    source: str = "operator",
    alarm_id: int | None = None,
    config: Config,
) -> OrderRef:
    """Create an order; the dispatcher offers it to a caregiver as soon as the transaction commits."""
    if alarm_id is not None:
        taken = conn.execute("SELECT code FROM service_order WHERE alarm_id = %s", (alarm_id,)).fetchone()
        if taken:
            raise OrderError(
                Message.of(
                    N_("alarm %(alarm)s already has order %(code)s; open that order instead"),
                    alarm=alarm_id,
                    code=taken[0],
                )
            )
    ref = insert_order(
        conn,
        clock,
        config,
        elder_id=elder_id,
        service_type=service_type,
        source=source,
        actor=actor,
        window_start=window_start,
        window_end=window_end,
        notes=notes,
        alarm_id=alarm_id,
    )
    if ref is None:
        raise OrderError(
            Message.of(
                N_("alarm %(alarm)s got an order from someone else just now; open that order instead"), alarm=alarm_id
            )
        )
    audit.record(
        conn,
        actor,
        "order.create",
        "service_order",
        ref.id,
        {"code": ref.code, "service_type": service_type, "elder_id": elder_id, "source": source},
    )
    return ref


def cancel_order(
    conn: psycopg.Connection,
    clock: Clock,
    order_id: int,
    *,
    reason: str,
    actor: str,
    config: Config,
    actor_kind: Actor = Actor.OPERATOR,
) -> None:
    """Cancel an order that is not yet under way at the elder's door; whoever holds or was offered it is told
    ``reason`` in their language (``texts.said``: a sentence of the catalogue translated, a person's words as
    written)."""
    if not reason.strip():
        raise OrderError(Message.of(N_("say why the order is cancelled (reason is empty)")))
    order = load_order(conn, order_id, lock=True)
    check(order, OrderStatus.CANCELLED, "cancelled")
    offers = cancel_live_offers(conn, clock, order.id)
    told = [order.caregiver_id] if order.caregiver_id is not None else [o.caregiver_id for o in offers]
    transition(
        conn,
        clock,
        order,
        OrderStatus.CANCELLED,
        actor_kind=actor_kind,
        actor=actor,
        reason=reason,
        action="cancelled",
        cancelled_at=clock.now(),
        cancel_reason=reason,
        next_offer_at=None,
        accept_due_at=None,
        arrival_due_at=None,
    )
    for caregiver in told:
        tell_withdrawn(conn, clock, config, order, caregiver, reason)
    audit.record(conn, actor, "order.cancel", "service_order", order.id, {"code": order.code, "reason": reason})


def stand_down(
    conn: psycopg.Connection,
    clock: Clock,
    alarm_id: int,
    *,
    actor: str,
    config: Config,
    actor_kind: Actor = Actor.OPERATOR,
) -> OrderRef | None:
    """Stop the emergency order of an alarm found false: cancel it, tell its caregiver and the elder's family.
    None when there is nothing to stop (no order, finished, or the caregiver is at the door already)."""
    row = conn.execute("SELECT id FROM service_order WHERE alarm_id = %s", (alarm_id,)).fetchone()
    if row is None:
        return None
    order = load_order(conn, int(row[0]), lock=True)
    if OrderStatus.CANCELLED not in TRANSITIONS[order.state]:
        return None
    cancel_order(
        conn,
        clock,
        order.id,
        reason=texts.REASONS[FALSE_ALARM],
        actor=actor,
        config=config,
        actor_kind=actor_kind,
    )
    notices.tell_family(conn, clock, config, order, "family_false_alarm")
    log.info("order %s stood down: alarm %s was a false alarm (decided by %s)", order.code, alarm_id, actor)
    return OrderRef(order.id, order.code, OrderStatus.CANCELLED)


def reassign_order(
    conn: psycopg.Connection,
    clock: Clock,
    order_id: int,
    *,
    caregiver_id: int | None,
    actor: str,
    config: Config,
) -> None:
    """Offer the order to ``caregiver_id``, or to the next best candidate (None), taking it from whoever
    holds or was offered it."""
    order = load_order(conn, order_id, lock=True)
    check(order, OrderStatus.OFFERED, "reassigned")
    offers = cancel_live_offers(conn, clock, order.id)
    previous = [order.caregiver_id] if order.caregiver_id is not None else [o.caregiver_id for o in offers]
    if order.caregiver_id is not None:
        order = take_back(
            conn,
            clock,
            order,
            actor_kind=Actor.OPERATOR,
            actor=actor,
            reason=N_("taken back to reassign"),
            action="reassigned",
        )
    deadline = {"accept_due_at": clock.now() + config.dispatch.accept_window(order.is_emergency)}
    if caregiver_id is None:
        _, ranking, choice = find_candidate(conn, clock, config, order)
        if choice is None:
            raise OrderError(
                Message.of(
                    N_(
                        "no other eligible caregiver for order %(code)s right now; choose a caregiver by id, "
                        "or cancel the order"
                    ),
                    code=order.code,
                )
            )
        ranked = choice.best
        reasons = ranking.reasons(ranked)
        why = N_("reassigned to the next best caregiver")
    else:
        now = clock.now()
        need = need_of(conn, order, now)
        ranking = ranking_now(config, order, now)
        diagnosis = diagnose(conn, need, ranking, caregiver_id, config.timezone)
        if diagnosis.refusals or diagnosis.verdict is None:
            raise OrderError(
                Message.of(
                    N_("cannot offer order %(code)s: %(refusals)s"),
                    code=order.code,
                    refusals=Listed(diagnosis.refusals, N_("; ")),
                )
            )
        ranked = diagnosis.verdict.ranked
        reasons = {**ranking.reasons(ranked), "chosen_by": actor, "warnings": list(diagnosis.warnings)}
        why = N_("reassigned to the caregiver the operator chose")
    make_offer(
        conn, clock, config, order, ranked, reasons, actor_kind=Actor.OPERATOR, actor=actor, why=why, changes=deadline
    )
    for caregiver in previous:
        if caregiver != ranked.candidate.caregiver_id:
            tell_withdrawn(conn, clock, config, order, caregiver, REASSIGNED)
    audit.record(
        conn,
        actor,
        "order.reassign",
        "service_order",
        order.id,
        {"code": order.code, "caregiver_id": ranked.candidate.caregiver_id, "previous": previous},
    )


def take_back(
    conn: psycopg.Connection,
    clock: Clock,
    order: OrderRow,
    *,
    actor_kind: Actor,
    actor: str,
    reason: str,
    action: str,
    details: dict[str, Any] | None = None,
) -> OrderRow:
    """Take a locked order from the caregiver who holds it (accepted or on the way): it is offered again, with
    nothing left of their acceptance. The caller tells them and makes the next offer or assignment."""
    return transition(
        conn,
        clock,
        order,
        OrderStatus.OFFERED,
        actor_kind=actor_kind,
        actor=actor,
        reason=reason,
        details=details,
        action=action,
        caregiver_id=None,
        provider_id=None,
        accepted_at=None,
        en_route_at=None,
        arrival_due_at=None,
        travel_km=None,
    )


def review_order(
    conn: psycopg.Connection,
    clock: Clock,
    order_id: int,
    *,
    satisfaction: int,
    note: str,
    actor: str,
) -> None:
    """Record the satisfaction return visit (回访) of a completed order."""
    if not isinstance(satisfaction, int) or isinstance(satisfaction, bool) or not 1 <= satisfaction <= 5:
        raise OrderError(
            Message.of(N_("satisfaction is a whole number from 1 to 5, not %(given)r"), given=satisfaction)
        )
    order = load_order(conn, order_id, lock=True)
    check(order, OrderStatus.REVIEWED, "reviewed")
    transition(
        conn,
        clock,
        order,
        OrderStatus.REVIEWED,
        actor_kind=Actor.OPERATOR,
        actor=actor,
        reason=N_("return visit recorded"),
        details={"note": note[:500]},
        action="reviewed",
        satisfaction=satisfaction,
        review_note=note,
        reviewed_at=clock.now(),
        reviewed_by=actor,
    )
    audit.record(
        conn, actor, "order.review", "service_order", order.id, {"code": order.code, "satisfaction": satisfaction}
    )


def tell_withdrawn(
    conn: psycopg.Connection,
    clock: Clock,
    config: Config,
    order: OrderRow,
    caregiver_id: int,
    reason: str,
) -> None:
    """Tell a caregiver that an order they held or were offered is no longer theirs, and why (``reason``: a
    sentence of the catalogue, told in their language, or a person's own words)."""
    notices.tell_caregiver(conn, clock, config, order, caregiver_id, "withdrawn", said={"reason": reason})


__all__ = [
    "OrderError",
    "OrderNotFound",
    "OrderRef",
    "cancel_order",
    "create_order",
    "reassign_order",
    "review_order",
    "stand_down",
    "take_back",
    "tell_withdrawn",
]
