"""``/api/v1/orders``: list and filter, one order with its timeline and offers; create, cancel, reassign and
review through the dispatcher's public functions (which write the timeline and the audit log)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime, BaseModel, Field

import dispatcher
from dashboard import orders
from dashboard.auth import Actor, Principal, Reader
from dashboard.orders import Order, OrderDetail, OrderFilter
from dashboard.paging import Limit, Offset, Page, page, shown
from dashboard.runtime import Pool, RuntimeDep
from dashboard.scope import area_filtered
from eldercare.db import ID_MAX, INT_MAX
from eldercare.vocabulary import OrderStatus, ServiceType

router = APIRouter(prefix="/orders", tags=["orders"])
OrderId = Annotated[int, Path(ge=1, le=ID_MAX)]


@router.get("", response_model=Page[Order])
@area_filtered
def list_orders(
    principal: Reader,
    pool: Pool,
    status: Annotated[list[OrderStatus] | None, Query(description="one or more statuses")] = None,
    service_type: Annotated[str | None, Query(pattern=r"^[a-z]{2,16}$")] = None,
    provider_id: Annotated[int | None, Query(ge=1, le=INT_MAX)] = None,
    caregiver_id: Annotated[int | None, Query(ge=1, le=ID_MAX)] = None,
    elder_id: Annotated[int | None, Query(ge=1, le=ID_MAX)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[Order]:
    """Orders, newest first, filtered by status, service type, provider, caregiver, elder and creation time."""
    flt = OrderFilter(
        status=status,
        service_type=service_type,
        provider_id=provider_id,
        caregiver_id=caregiver_id,
        elder_id=elder_id,
        since=since,
        until=until,
        area=principal.area,
    )
    with pool.connection() as conn:
        items, total = orders.list_orders(conn, flt, limit, offset)
    return page(principal, items, total, limit, offset)


@router.get("/{order_id}", response_model=OrderDetail, responses={404: {"description": "no such order"}})
def get_order(order_id: OrderId, principal: Reader, pool: Pool) -> OrderDetail:
    """The order, its timeline (every transition, who and when) and its offers with the reasons for each."""
    with pool.connection() as conn:
        return shown(principal, orders.get_order(conn, order_id))


class NewOrder(BaseModel):
    elder_id: int = Field(ge=1, le=ID_MAX)
    service_type: ServiceType
    window_start: AwareDatetime | None = Field(None, description="when the service is wanted (default: now)")
    window_end: AwareDatetime | None = None
    notes: str = Field("", max_length=1000)


class Cancellation(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class Reassignment(BaseModel):
    caregiver_id: int | None = Field(None, ge=1, le=ID_MAX, description="null: offer to the next best candidate")


class Review(BaseModel):
    satisfaction: int = Field(ge=1, le=5, description="the elder's score on the return visit (回访), 1-5")
    note: str = Field("", max_length=1000)


ACTION_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such order"},
    409: {"description": "the order's status does not allow this"},
}


def _done(conn: psycopg.Connection, principal: Principal, order_id: int) -> OrderDetail:
    return shown(principal, orders.get_order(conn, order_id))


@router.post("", response_model=OrderDetail, status_code=201, responses={422: {"description": "cannot be ordered"}})
def create(body: NewOrder, principal: Actor, pool: Pool, runtime: RuntimeDep) -> OrderDetail:
    """Create a service order; the dispatcher offers it to the best caregiver as soon as it is committed."""
    with pool.connection() as conn:
        ref = dispatcher.create_order(
            conn,
            runtime.clock,
            elder_id=body.elder_id,
            service_type=body.service_type.value,
            actor=principal.username,
            window_start=body.window_start,
            window_end=body.window_end,
            notes=body.notes,
            source="api" if principal.via == "token" else "operator",
            config=runtime.dispatch,
        )
        return _done(conn, principal, ref.id)


@router.post("/{order_id}/cancel", response_model=OrderDetail, responses=ACTION_ERRORS)
def cancel(order_id: OrderId, body: Cancellation, principal: Actor, pool: Pool, runtime: RuntimeDep) -> OrderDetail:
    """Cancel an order not yet under way; the caregiver holding or offered it is told."""
    with pool.connection() as conn:
        dispatcher.cancel_order(
            conn, runtime.clock, order_id, reason=body.reason, actor=principal.username, config=runtime.dispatch
        )
        return _done(conn, principal, order_id)


@router.post("/{order_id}/reassign", response_model=OrderDetail, responses=ACTION_ERRORS)
def reassign(order_id: OrderId, body: Reassignment, principal: Actor, pool: Pool, runtime: RuntimeDep) -> OrderDetail:
    """Offer the order to another caregiver, or to the next best candidate."""
    with pool.connection() as conn:
        dispatcher.reassign_order(
            conn,
            runtime.clock,
            order_id,
            caregiver_id=body.caregiver_id,
            actor=principal.username,
            config=runtime.dispatch,
        )
        return _done(conn, principal, order_id)


@router.post("/{order_id}/review", response_model=OrderDetail, responses=ACTION_ERRORS)
def review(order_id: OrderId, body: Review, principal: Actor, pool: Pool, runtime: RuntimeDep) -> OrderDetail:
    """Record the satisfaction return visit (回访) of a completed order."""
    with pool.connection() as conn:
        dispatcher.review_order(
            conn, runtime.clock, order_id, satisfaction=body.satisfaction, note=body.note, actor=principal.username
        )
        return _done(conn, principal, order_id)
