"""What a caregiver can do with an order, by SMS keyword or on their page: accept, decline, set off,
arrive, finish. Each returns the answer to show them; none changes anything it should not."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row

from dispatcher import metrics, notices, texts, visits
from dispatcher.lifecycle import Actor, OrderRow, load_order, transition
from dispatcher.offers import Offer, arrival_due, close_offer, live_offer, withdraw_raced
from dispatcher.planning.store import collect_batch
from dispatcher.settings import Config
from dispatcher.visits import NO_PROOF, Proof
from eldercare import audit
from eldercare.clock import Clock
from eldercare.vocabulary import HELD_SQL, OrderStatus, ServiceType

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Caregiver:
    id: int
    code: str
    name: str
    phone: str
    language: str
    provider_id: int
    max_load: int
    sms_opt_out: bool
    active: bool


_CAREGIVER = sql.SQL(
    "SELECT id, code, name, phone, language, provider_id, max_load, sms_opt_out, active FROM caregiver WHERE {} = %s"
)


def caregiver_by_phone(conn: psycopg.Connection, phone: str) -> Caregiver | None:
    with conn.cursor(row_factory=class_row(Caregiver)) as cur:
        return cur.execute(_CAREGIVER.format(sql.Identifier("phone")), (phone,)).fetchone()


def caregiver_by_id(conn: psycopg.Connection, caregiver_id: int) -> Caregiver | None:
    with conn.cursor(row_factory=class_row(Caregiver)) as cur:
        return cur.execute(_CAREGIVER.format(sql.Identifier("id")), (caregiver_id,)).fetchone()


@dataclass(frozen=True, slots=True)
class Answer:
    """The reply to a caregiver: a text key with its values, and whether anything changed."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)
    changed: bool = False

    def text(self, language: str) -> str:
        return texts.text(self.key, language, **self.values)

    @property
    def accepted(self) -> bool:
        """The caregiver holds the order (an emergency to go to at once, or a booked visit at its time)."""
        return self.key in ("accepted", "accepted_booked")


def _held(order: OrderRow, caregiver: Caregiver) -> bool:
    return order.caregiver_id == caregiver.id and order.state in (
        OrderStatus.ACCEPTED,
        OrderStatus.EN_ROUTE,
        OrderStatus.ARRIVED,
        OrderStatus.ESCALATED,
    )


def held_count(conn: psycopg.Connection, caregiver_id: int) -> int:
    row = conn.execute(
        f"SELECT count(*) FROM service_order WHERE caregiver_id = %s AND {HELD_SQL}",  # noqa: S608 (a constant)
        (caregiver_id,),
    ).fetchone()
    return int(row[0]) if row else 0


def _not_live(conn: psycopg.Connection, config: Config, order: OrderRow, caregiver: Caregiver) -> Answer:
    """Why a caregiver's answer to this order finds no live offer of theirs."""
    if _held(order, caregiver):
        return _accepted(conn, config, order)
    mine = conn.execute(
        "SELECT status FROM offer WHERE order_id = %s AND caregiver_id = %s ORDER BY id DESC LIMIT 1",
        (order.id, caregiver.id),
    ).fetchone()
    if mine is None:
        return Answer("not_yours", {"code": order.code})
    if mine[0] == "expired":
        return Answer("expired", {"code": order.code})
    return Answer("taken", {"code": order.code})


def _accepted(conn: psycopg.Connection, config: Config, order: OrderRow, *, changed: bool = False) -> Answer:
    """The word to a caregiver holding an order: go at once to an emergency, at the booked time to the rest."""
    values = {"code": order.code, "address": _address(conn, order)}
    if order.is_emergency or order.alarm_id is not None:
        return Answer("accepted", values, changed=changed)
    return Answer("accepted_booked", {**values, "window": _window(config, order)}, changed=changed)


def _address(conn: psycopg.Connection, order: OrderRow) -> str:
    row = conn.execute("SELECT address FROM elder WHERE id = %s", (order.elder_id,)).fetchone()
    return str(row[0]) if row else ""


def _their_live_offer(
    conn: psycopg.Connection, clock: Clock, config: Config, order: OrderRow, caregiver: Caregiver
) -> Offer | Answer:
    """The caregiver's live offer of this order, or the answer explaining why there is none."""
    offer = live_offer(conn, order.id, caregiver.id)
    if offer is None:
        return _not_live(conn, config, order, caregiver)
    if offer.expires_at <= clock.now():
        # the sweep has not got to it yet; the deadline holds all the same
        close_offer(
            conn,
            clock,
            config,
            order,
            offer,
            "expired",
            actor_kind=Actor.SYSTEM,
            actor="dispatcher",
            why=f"offer to {caregiver.code} expired",
        )
        return Answer("expired", {"code": order.code}, changed=True)
    return offer


def accept(
    conn: psycopg.Connection, clock: Clock, config: Config, caregiver: Caregiver, order_id: int, via: str
) -> Answer:
    order = load_order(conn, order_id, lock=True)
    offer = _their_live_offer(conn, clock, config, order, caregiver)
    if isinstance(offer, Answer):
        return offer
    load = held_count(conn, caregiver.id)
    if load >= caregiver.max_load:
        close_offer(
            conn,
            clock,
            config,
            order,
            offer,
            "declined",
            actor_kind=Actor.CAREGIVER,
            actor=caregiver.code,
            why=f"{caregiver.code} is at their limit of {caregiver.max_load} orders",
        )
        return Answer("full", {"code": order.code, "load": load}, changed=True)
    now = clock.now()
    conn.execute("UPDATE offer SET status = 'accepted', answered_at = %s WHERE id = %s", (now, offer.id))
    metrics.OFFERS.labels("accepted").inc()
    others = withdraw_raced(conn, clock, config, order)
    due = arrival_due(config, order, now)
    order = transition(
        conn,
        clock,
        order,
        OrderStatus.ACCEPTED,
        actor_kind=Actor.CAREGIVER,
        actor=caregiver.code,
        reason=f"accepted by {caregiver.code} ({via})",
        details={
            "offer_id": offer.id,
            "eta_min": round(offer.eta_min, 1),
            "distance_km": round(offer.distance_km, 3),
            **({"taken_from": [o.caregiver_id for o in others]} if others else {}),
        },
        action="accepted",
        caregiver_id=caregiver.id,
        provider_id=caregiver.provider_id,
        accepted_at=now,
        travel_km=offer.distance_km,
        arrival_due_at=due,
        accept_due_at=None,
        next_offer_at=None,
    )
    if order.is_emergency or order.alarm_id is not None:
        notices.help_accepted(conn, clock, config, order, offer.eta_min)
    audit.record(conn, caregiver.code, "order.accept", "service_order", order.id, {"code": order.code, "via": via})
    return _accepted(conn, config, order, changed=True)


def decline(
    conn: psycopg.Connection, clock: Clock, config: Config, caregiver: Caregiver, order_id: int, via: str
) -> Answer:
    order = load_order(conn, order_id, lock=True)
    offer = _their_live_offer(conn, clock, config, order, caregiver)
    if isinstance(offer, Answer):
        return offer
    close_offer(
        conn,
        clock,
        config,
        order,
        offer,
        "declined",
        actor_kind=Actor.CAREGIVER,
        actor=caregiver.code,
        why=f"declined by {caregiver.code} ({via})",
    )
    audit.record(conn, caregiver.code, "order.decline", "service_order", order.id, {"code": order.code, "via": via})
    return Answer("declined", {"code": order.code}, changed=True)


_REFUSED = {
    ("early", OrderStatus.ARRIVED): "too_early_arrived",
    ("early", OrderStatus.COMPLETED): "too_early_completed",
    ("late", OrderStatus.ARRIVED): "too_late_arrived",
    ("late", OrderStatus.COMPLETED): "too_late_completed",
}


def _progress(
    conn: psycopg.Connection,
    clock: Clock,
    config: Config,
    caregiver: Caregiver,
    order_id: int,
    to: OrderStatus,
    allowed_from: tuple[OrderStatus, ...],
    via: str,
    proof: Proof | None = None,
    **changes: Any,
) -> tuple[OrderRow | None, Answer]:
    order = load_order(conn, order_id, lock=True)
    if order.caregiver_id != caregiver.id:
        return None, Answer("not_yours", {"code": order.code})
    if order.state not in allowed_from:
        action = {"en_route": "set off", "arrived": "arrived", "completed": "finished"}[to.value]
        return None, Answer("wrong_step", {"code": order.code, "status": order.status, "action": action})
    when = visits.Timing()
    if proof is not None:
        when = visits.timing(conn, clock, config, order, caregiver.id, to.value)
        if when.refused:
            values = {"code": order.code, "window": _window(config, order), "minutes": config.dispatch.insist_minutes}
            audit.record(
                conn,
                caregiver.code,
                f"order.{to.value}.refused",
                "service_order",
                order.id,
                {"code": order.code, "via": via, "kind": when.kind},
            )
            return None, Answer(_REFUSED[(str(when.kind), to)], values, changed=True)
    order = transition(
        conn,
        clock,
        order,
        to,
        actor_kind=Actor.CAREGIVER,
        actor=caregiver.code,
        reason=f"{to.value} ({via})",
        action=to.value,
        **changes,
    )
    if to is OrderStatus.ARRIVED and proof is not None:
        visits.record_arrival(conn, clock, config, order, via, proof, when)
    elif to is OrderStatus.COMPLETED and proof is not None:
        visits.record_completion(conn, clock, config, order, via, proof, when)
    audit.record(conn, caregiver.code, f"order.{to.value}", "service_order", order.id, {"code": order.code, "via": via})
    return order, Answer("done" if to is OrderStatus.COMPLETED else to.value, {"code": order.code}, changed=True)


def _window(config: Config, order: OrderRow) -> str:
    start, end = order.window_start.astimezone(config.timezone), order.window_end.astimezone(config.timezone)
    return f"{start:%m-%d %H:%M}–{end:%H:%M}"


def set_off(
    conn: psycopg.Connection, clock: Clock, config: Config, caregiver: Caregiver, order_id: int, via: str
) -> Answer:
    order, answer = _progress(
        conn,
        clock,
        config,
        caregiver,
        order_id,
        OrderStatus.EN_ROUTE,
        (OrderStatus.ACCEPTED,),
        via,
        en_route_at=clock.now(),
    )
    if order is not None and order.service_type == ServiceType.MEAL:
        # by the kitchen, where the day's plan has them collect this meal with others
        collect_batch(conn, clock, order.id, caregiver.id)
    return answer


def arrive(
    conn: psycopg.Connection,
    clock: Clock,
    config: Config,
    caregiver: Caregiver,
    order_id: int,
    via: str,
    proof: Proof = NO_PROOF,
) -> Answer:
    """Record the caregiver's arrival, when it comes at a sensible time of the visit, and where it came from."""
    order, answer = _progress(
        conn,
        clock,
        config,
        caregiver,
        order_id,
        OrderStatus.ARRIVED,
        (OrderStatus.ACCEPTED, OrderStatus.EN_ROUTE, OrderStatus.ESCALATED),
        via,
        proof,
        arrived_at=clock.now(),
        arrival_due_at=None,
    )
    if order is not None and (order.is_emergency or order.alarm_id is not None):
        notices.help_arrived(conn, clock, config, order)
    return answer


def finish(
    conn: psycopg.Connection,
    clock: Clock,
    config: Config,
    caregiver: Caregiver,
    order_id: int,
    via: str,
    proof: Proof = NO_PROOF,
) -> Answer:
    """Record the end of the visit, when it comes at a sensible time, and verify the visit."""
    _, answer = _progress(
        conn,
        clock,
        config,
        caregiver,
        order_id,
        OrderStatus.COMPLETED,
        (OrderStatus.ARRIVED,),
        via,
        proof,
        completed_at=clock.now(),
    )
    return answer
