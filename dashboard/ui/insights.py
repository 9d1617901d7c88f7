"""Pages that look back: KPIs with charts, the map, return visits and the monthly settlement report."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from dashboard import geo, orders, providers, scope, settlement
from dashboard.api.insights import fresh_monthly, fresh_report, kpi_filter, local_today
from dashboard.auth import Permission, Reader
from dashboard.paging import shown
from dashboard.runtime import Memo, Pool, RuntimeDep
from dashboard.ui.boards import SERVICE_TYPES
from dashboard.ui.rendering import render
from eldercare.db import INT_MAX

router = APIRouter()


@router.get("/kpis", response_class=HTMLResponse)
@scope.area_filtered
def kpi_page(
    request: Request,
    principal: Reader,
    pool: Pool,
    runtime: RuntimeDep,
    memo: Memo,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: Annotated[date | None, Query()] = None,
    service_type: Annotated[str | None, Query(pattern=r"^[a-z]{0,16}$")] = None,
    township_id: Annotated[int | None, Query(ge=1, le=INT_MAX)] = None,
) -> HTMLResponse:
    flt = kpi_filter(runtime, from_, to, service_type or None, None, scope.township_of(principal.area, township_id))
    report = fresh_report(pool, runtime, memo, flt)
    days = report.by_day
    chart = {
        # the x axis spans the filter's days, however few of them have data
        "span": [flt.from_day.toordinal(), flt.to_day.toordinal()],
        "t": [date.fromisoformat(d.key).toordinal() for d in days],
        "labels": [d.key for d in days],
        "ack_60": [d.ack_60 for d in days],
        "ack_180": [d.ack_180 for d in days],
        "arrived_45": [d.arrived_45 for d in days],
        "fulfilment": [d.fulfilment for d in days],
        "accept_p50": [d.accept_p50_s for d in days],
        "accept_p90": [d.accept_p90_s for d in days],
        "orders": [d.orders for d in days],
    }
    return render(request, "kpis.html", principal, report=report, chart=chart, service_types=SERVICE_TYPES)


@router.get("/map", response_class=HTMLResponse)
def map_page(request: Request, principal: Reader, pool: Pool) -> HTMLResponse:
    with pool.connection() as conn:
        data = geo.map_data(conn)
    return render(request, "map.html", principal, map=data)


@router.get("/visits", response_class=HTMLResponse)
def visits_page(
    request: Request,
    principal: Reader,
    pool: Pool,
    runtime: RuntimeDep,
    week: Annotated[str | None, Query(pattern=r"^\d{4}-W(0[1-9]|[1-4][0-9]|5[0-3])$")] = None,
) -> HTMLResponse:
    if week is None:
        year, number, _ = local_today(runtime).isocalendar()
        week = f"{year}-W{number:02d}"
    with pool.connection() as conn:
        waiting = [shown(principal, o) for o in orders.awaiting_review(conn, 50)]
        sample = [
            shown(principal, o)
            for o in orders.return_visit_sample(
                conn, week, runtime.settings.timezone, runtime.dashboard.return_visit_sample
            )
        ]
    return render(request, "visits.html", principal, waiting=waiting, sample=sample, week=week)


@router.get("/reports", response_class=HTMLResponse)
def report_page(
    request: Request,
    principal: Reader,
    pool: Pool,
    runtime: RuntimeDep,
    memo: Memo,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
    provider_id: Annotated[int | None, Query(ge=1, le=INT_MAX)] = None,
) -> HTMLResponse:
    month = month or local_today(runtime).strftime("%Y-%m")
    report = fresh_monthly(pool, runtime, memo, month, provider_id)
    with pool.connection() as conn:
        provider_list = providers.list_providers(conn)
        settled = settlement.settlement(conn, provider_id, month, runtime.settings.timezone) if provider_id else None
    return render(
        request,
        "reports.html",
        principal,
        report=report,
        month=month,
        provider_id=provider_id,
        providers=provider_list,
        settled=shown(principal, settled) if settled else None,
        can_approve=principal.may(Permission.ADMINISTER),
    )
