"""The order lifecycle as a state machine: which transitions exist, and the one function that makes them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from eldercare.clock import Clock
from eldercare.i18n import N_
from eldercare.labels import LABELS, Coded, Listed, Message
from eldercare.vocabulary import OrderStatus, ServiceType


class Actor(StrEnum):
    SYSTEM = "system"
    OPERATOR = "operator"
    CAREGIVER = "caregiver"
    SCHEDULER = "scheduler"
    FAMILY = "family"


S = OrderStatus
# Every allowed (from, to). The self-loops on OFFERED and ESCALATED are offer events that leave the order
# where it is (an offer made, declined, expired or failed), so that each appears in the timeline too.
# ESCALATED means "operators, look": no acceptance in time, or an accepted order with no arrival in time;
# in the second case the caregiver still holds the order and may go on to arrive and finish it.
# CREATED -> ACCEPTED is a booked visit handed to the caregiver whose day's plan has it (dispatcher/planning).
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.CREATED: frozenset({S.OFFERED, S.ACCEPTED, S.ESCALATED, S.CANCELLED}),
    S.OFFERED: frozenset({S.OFFERED, S.ACCEPTED, S.ESCALATED, S.CANCELLED}),
    S.ESCALATED: frozenset({S.ESCALATED, S.OFFERED, S.ACCEPTED, S.EN_ROUTE, S.ARRIVED, S.CANCELLED}),
    S.ACCEPTED: frozenset({S.EN_ROUTE, S.ARRIVED, S.ESCALATED, S.OFFERED, S.CANCELLED}),
    S.EN_ROUTE: frozenset({S.ARRIVED, S.ESCALATED, S.OFFERED, S.CANCELLED}),
    S.ARRIVED: frozenset({S.COMPLETED}),
    S.COMPLETED: frozenset({S.REVIEWED}),
    S.REVIEWED: frozenset(),
    S.CANCELLED: frozenset(),
}
# Moving to these needs a caregiver on the order (the schema checks it too, less politely).
NEEDS_CAREGIVER = frozenset({S.ACCEPTED, S.EN_ROUTE, S.ARRIVED, S.COMPLETED, S.REVIEWED})

# Columns a transition may set besides status and updated_at (never built from input).
SETTABLE = frozenset(
    {
        "caregiver_id",
        "provider_id",
        "offers_made",
        "accepted_at",
        "en_route_at",
        "arrived_at",
        "completed_at",
        "cancelled_at",
        "cancel_reason",
        "accept_due_at",
        "arrival_due_at",
        "next_offer_at",
        "escalation_level",
        "escalated_at",
        "travel_km",
        "satisfaction",
        "review_note",
        "reviewed_at",
        "reviewed_by",
    }
)


class OrderError(Exception):
    """An order action that cannot be done; its ``Message`` is fit to show an operator, in their language
    (``str`` is the English)."""


class OrderNotFound(OrderError):
    """No order with that id or code."""


def _asked(action: str) -> object:
    """What was asked of an order, as the reader's words where the action is a known one."""
    return Coded("order_action", action) if action in LABELS["order_action"] else f"be {action}"


class InvalidTransition(OrderError):
    """The order's status does not allow the action."""

    def __init__(self, order_code: str, current: OrderStatus, wanted: OrderStatus, action: str) -> None:
        state = Coded("order_state", current.value)
        asked = _asked(action)
        allowed = sorted(TRANSITIONS[current])
        if allowed:
            message = Message.of(
                N_("order %(code)s is %(status)s and cannot %(action)s; from %(status)s it may become: %(allowed)s"),
                code=order_code,
                status=state,
                action=asked,
                allowed=Listed(tuple(Coded("order_state", s.value) for s in allowed)),
            )
        else:
            message = Message.of(
                N_("order %(code)s is %(status)s and cannot %(action)s; it is final"),
                code=order_code,
                status=state,
                action=asked,
            )
        super().__init__(message)
        self.current = current
        self.wanted = wanted


@dataclass(frozen=True, slots=True)
class OrderRow:
    """An order as the dispatcher's decisions need it."""

    id: int
    code: str
    elder_id: int
    service_type: str
    status: str
    priority: int
    source: str
    alarm_id: int | None
    window_start: datetime
    window_end: datetime
    duration_min: int
    notes: str
    created_at: datetime
    caregiver_id: int | None
    provider_id: int | None
    offers_made: int
    accepted_at: datetime | None
    arrived_at: datetime | None
    accept_due_at: datetime | None
    arrival_due_at: datetime | None
    escalation_level: int
    next_offer_at: datetime | None
    travel_km: float | None

    @property
    def state(self) -> OrderStatus:
        return OrderStatus(self.status)

    @property
    def is_emergency(self) -> bool:
        return self.service_type == ServiceType.EMERGENCY


_ORDER_COLUMNS = sql.SQL(", ").join(sql.Identifier(f) for f in OrderRow.__dataclass_fields__)
_SELECT = sql.SQL("SELECT {} FROM service_order WHERE {} = %s {}")
_LOCK = sql.SQL("FOR UPDATE")


def load_order(conn: psycopg.Connection, order_id: int, *, lock: bool = False) -> OrderRow:
    """The order, optionally locked FOR UPDATE until the caller's transaction ends; OrderNotFound if absent."""
    query = _SELECT.format(_ORDER_COLUMNS, sql.Identifier("id"), _LOCK if lock else sql.SQL(""))
    with conn.cursor(row_factory=class_row(OrderRow)) as cur:
        row = cur.execute(query, (order_id,)).fetchone()
    if row is None:
        raise OrderNotFound(
            Message.of(N_("there is no order with id %(id)s; check the id, or list orders to find it"), id=order_id)
        )
    return row


def load_order_by_code(conn: psycopg.Connection, code: str, *, lock: bool = False) -> OrderRow | None:
    query = _SELECT.format(_ORDER_COLUMNS, sql.Identifier("code"), _LOCK if lock else sql.SQL(""))
    with conn.cursor(row_factory=class_row(OrderRow)) as cur:
        return cur.execute(query, (code,)).fetchone()


def check(order: OrderRow, to: OrderStatus, action: str) -> None:
    """Refuse a transition the table does not allow, with a message that says what is possible."""
    if to not in TRANSITIONS[order.state]:
        raise InvalidTransition(order.code, order.state, to, action)


def transition(
    conn: psycopg.Connection,
    clock: Clock,
    order: OrderRow,
    to: OrderStatus,
    *,
    actor_kind: Actor,
    actor: str,
    reason: str = "",
    details: dict[str, Any] | None = None,
    action: str | None = None,
    **changes: Any,
) -> OrderRow:
    """Move a locked order to ``to``, set ``changes`` on it and write the timeline row; returns the new order.

    The only place that changes an order's status. The caller holds the order's row lock (``load_order(...,
    lock=True)``) and owns the transaction.
    """
    check(order, to, action or to.value)
    if to in NEEDS_CAREGIVER and changes.get("caregiver_id", order.caregiver_id) is None:
        raise OrderError(
            Message.of(
                N_("order %(code)s has no caregiver; it cannot %(action)s before one accepts"),
                code=order.code,
                action=_asked(action or to.value),
            )
        )
    unknown = set(changes) - SETTABLE
    if unknown:
        raise ValueError(f"transition cannot set {sorted(unknown)}")
    now = clock.now()
    assignments: list[sql.Composable] = [sql.SQL("status = %(status)s"), sql.SQL("updated_at = %(now)s")]
    assignments += [sql.SQL("{} = {}").format(sql.Identifier(c), sql.Placeholder(c)) for c in changes]
    statement = sql.SQL("UPDATE service_order SET {} WHERE id = %(id)s AND status = %(from)s RETURNING {}").format(
        sql.SQL(", ").join(assignments), _ORDER_COLUMNS
    )
    params = {**changes, "status": to.value, "now": now, "id": order.id, "from": order.status}
    with conn.cursor(row_factory=class_row(OrderRow)) as cur:
        updated = cur.execute(statement, params).fetchone()
    if updated is None:
        # the caller did not hold the lock and someone else moved the order first
        raise OrderError(
            Message.of(N_("order %(code)s changed while this action ran; look at it again and retry"), code=order.code)
        )
    record_event(conn, now, order.id, order.status, to, actor_kind, actor, reason, details)
    return updated


def record_event(
    conn: psycopg.Connection,
    at: datetime,
    order_id: int,
    from_status: str | None,
    to_status: OrderStatus,
    actor_kind: Actor,
    actor: str,
    reason: str,
    details: dict[str, Any] | None,
) -> None:
    """One row of the order's timeline. Called by ``transition`` and, for the creation row, by ``orders``."""
    conn.execute(
        "INSERT INTO order_event (order_id, at, from_status, to_status, actor_kind, actor, reason, details) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (order_id, at, from_status, to_status.value, actor_kind.value, actor, reason, Jsonb(details or {})),
    )
