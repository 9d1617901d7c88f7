"""``/api/v1/orders``: list and filter, one order with its timeline and offers; actions go to the dispatcher."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query

from dashboard import orders
from dashboard.api.paging import Limit, Offset, Page, page, shown
from dashboard.auth import Reader
from dashboard.orders import Order, OrderDetail, OrderFilter, OrderStatus
from dashboard.runtime import Pool

router = APIRouter(prefix="/orders", tags=["orders"])
OrderId = Annotated[int, Path(ge=1, le=2**62)]


@router.get("", response_model=Page[Order])
def list_orders(
    principal: Reader,
    pool: Pool,
    status: Annotated[list[OrderStatus] | None, Query(description="one or more statuses")] = None,
    service_type: Annotated[str | None, Query(pattern=r"^[a-z]{2,16}$")] = None,
    provider_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    caregiver_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    elder_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
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
    )
    with pool.connection() as conn:
        items, total = orders.list_orders(conn, flt, limit, offset)
    return page(principal, items, total, limit, offset)


@router.get("/{order_id}", response_model=OrderDetail, responses={404: {"description": "no such order"}})
def get_order(order_id: OrderId, principal: Reader, pool: Pool) -> OrderDetail:
    """The order, its timeline (every transition, who and when) and its offers with the reasons for each."""
    with pool.connection() as conn:
        return shown(principal, orders.get_order(conn, order_id))
