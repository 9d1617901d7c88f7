"""The live boards: alarms waiting for an operator, and orders by status with each order's story."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from dashboard import alarms, orders
from dashboard.api.entitlements import elder_entitlements
from dashboard.api.insights import local_today
from dashboard.auth import Reader
from dashboard.errors import NotFound
from dashboard.orders import ACTIVE
from dashboard.paging import shown
from dashboard.runtime import Pool, RuntimeDep
from dashboard.scope import area_filtered
from dashboard.ui.rendering import render
from eldercare.db import ID_MAX
from eldercare.vocabulary import OrderStatus, ServiceType

router = APIRouter()
BOARD_COLUMN = 30  # newest orders shown per status; the order list (API) pages through the rest
SERVICE_TYPES = tuple(ServiceType)


@router.get("/alarms", response_class=HTMLResponse)
@area_filtered
def alarm_board(request: Request, principal: Reader, pool: Pool) -> HTMLResponse:
    with pool.connection() as conn:
        board = [shown(principal, a) for a in alarms.live_board(conn, principal.area)]
        types = conn.execute("SELECT code, name_zh, name_en FROM alarm_type ORDER BY code").fetchall()
        townships = [r[0] for r in conn.execute("SELECT name FROM township ORDER BY code").fetchall()]
    return render(request, "alarms.html", principal, alarms=board, alarm_types=types, townships=townships)


@router.get("/partials/alarms", response_class=HTMLResponse)
@area_filtered
def alarm_cards(request: Request, principal: Reader, pool: Pool) -> HTMLResponse:
    """The board's cards alone, fetched by the page when an ``alarm`` event arrives."""
    with pool.connection() as conn:
        board = [shown(principal, a) for a in alarms.live_board(conn, principal.area)]
    return render(request, "_alarm_cards.html", principal, alarms=board)


def _order_board(request: Request, principal: Reader, pool: Pool, runtime: RuntimeDep, template: str) -> HTMLResponse:
    with pool.connection() as conn:
        grouped = orders.board(conn, runtime.clock.now(), BOARD_COLUMN, principal.area)
    # a reviewed order is a completed one whose return visit is done: one column for both
    finished = sorted(
        grouped[OrderStatus.COMPLETED] + grouped[OrderStatus.REVIEWED], key=lambda o: o.created_at, reverse=True
    )[:BOARD_COLUMN]
    statuses = (*ACTIVE, OrderStatus.COMPLETED, OrderStatus.CANCELLED)
    columns = [
        (s, [shown(principal, o) for o in (finished if s is OrderStatus.COMPLETED else grouped[s])]) for s in statuses
    ]
    return render(request, template, principal, columns=columns, service_types=SERVICE_TYPES, cap=BOARD_COLUMN)


@router.get("/orders", response_class=HTMLResponse)
@area_filtered
def order_board(request: Request, principal: Reader, pool: Pool, runtime: RuntimeDep) -> HTMLResponse:
    return _order_board(request, principal, pool, runtime, "orders.html")


@router.get("/partials/orders", response_class=HTMLResponse)
@area_filtered
def order_columns(request: Request, principal: Reader, pool: Pool, runtime: RuntimeDep) -> HTMLResponse:
    return _order_board(request, principal, pool, runtime, "_order_columns.html")


@router.get("/orders/{order_id}", response_class=HTMLResponse)
def order_page(
    request: Request, principal: Reader, pool: Pool, order_id: Annotated[int, Path(ge=1, le=ID_MAX)]
) -> HTMLResponse:
    with pool.connection() as conn:
        order = shown(principal, orders.get_order(conn, order_id))
    return render(request, "order.html", principal, order=order)


@router.get("/orders-new", response_class=HTMLResponse)
@area_filtered  # a blank form; the elder it names is checked like any other
def new_order_page(
    request: Request,
    principal: Reader,
    pool: Pool,
    runtime: RuntimeDep,
    elder_id: Annotated[int | None, Query(ge=1, le=ID_MAX)] = None,
) -> HTMLResponse:
    ent = None
    if elder_id is not None:
        with pool.connection() as conn:
            try:
                ent = elder_entitlements(conn, elder_id, f"{local_today(runtime):%Y-%m}", runtime.settings.timezone)
            except NotFound:
                elder_id = None
    return render(request, "order_new.html", principal, elder_id=elder_id, service_types=SERVICE_TYPES, ent=ent)
