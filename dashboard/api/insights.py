"""``/api/v1/kpis``, ``/reports/monthly`` (JSON and CSV) and ``/return-visits/sample``."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from dashboard import i18n, kpi_rollup, kpis, orders, reports, scope
from dashboard.auth import Reader
from dashboard.errors import Invalid, day_in_range
from dashboard.kpi_memo import ReportMemo
from dashboard.kpis import KpiFilter, KpiReport
from dashboard.orders import Order
from dashboard.paging import shown
from dashboard.reports import MonthlyReport
from dashboard.runtime import Memo, Pool, Runtime, RuntimeDep
from eldercare.db import INT_MAX
from eldercare.i18n import N_
from eldercare.labels import Message

router = APIRouter(tags=["KPIs and reports"])
Week = Annotated[str, Query(pattern=r"^\d{4}-W(0[1-9]|[1-4][0-9]|5[0-3])$", description="ISO week, e.g. 2026-W05")]
Month = Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]
MAX_DAYS = 800


def local_today(runtime: Runtime) -> date:
    return runtime.clock.now().astimezone(ZoneInfo(runtime.settings.timezone)).date()


def kpi_filter(
    runtime: Runtime,
    from_day: date | None,
    to_day: date | None,
    service_type: str | None,
    provider_id: int | None,
    township_id: int | None,
) -> KpiFilter:
    for given in (from_day, to_day):
        if given is not None:
            day_in_range(given)
    to_day = to_day or local_today(runtime)
    from_day = from_day or to_day - timedelta(days=29)
    if from_day > to_day:
        raise Invalid(
            Message.of(N_("from (%(from_day)s) is after to (%(to_day)s); swap them"), from_day=from_day, to_day=to_day)
        )
    if (to_day - from_day).days > MAX_DAYS:
        raise Invalid(Message.of(N_("at most %(days)s days at once; narrow from/to"), days=MAX_DAYS))
    return KpiFilter(
        from_day=from_day, to_day=to_day, service_type=service_type, provider_id=provider_id, township_id=township_id
    )


def fresh_report(pool: Pool, runtime: Runtime, memo: ReportMemo, flt: KpiFilter) -> KpiReport:
    """The KPI report from rollups at most ``kpi_max_age_seconds`` old (computed once per rollup version)."""
    with pool.connection() as conn:
        version = kpi_rollup.refresh_if_stale(conn, runtime.dashboard.kpi_max_age_seconds)

    def compute() -> KpiReport:
        with pool.connection() as conn:
            return kpis.report(conn, flt)

    return memo.get(version, ("kpis", flt.model_dump_json()), compute)


@router.get("/kpis", response_model=KpiReport)
@scope.area_filtered
def get_kpis(
    principal: Reader,
    pool: Pool,
    runtime: RuntimeDep,
    memo: Memo,
    from_: Annotated[
        date | None, Query(alias="from", description="first local day (default: 29 days before to)")
    ] = None,
    to: Annotated[date | None, Query(description="last local day (default: today)")] = None,
    service_type: Annotated[str | None, Query(pattern=r"^[a-z]{2,16}$")] = None,
    provider_id: Annotated[int | None, Query(ge=0, le=INT_MAX, description="0: orders never assigned")] = None,
    township_id: Annotated[int | None, Query(ge=1, le=INT_MAX)] = None,
) -> KpiReport:
    """KPIs over local days [from, to], in total and by service type, provider, township and day."""
    township_id = scope.township_of(principal.area, township_id)
    flt = kpi_filter(runtime, from_, to, service_type, provider_id, township_id)
    return fresh_report(pool, runtime, memo, flt)


def fresh_monthly(pool: Pool, runtime: Runtime, memo: ReportMemo, month: str, provider_id: int | None) -> MonthlyReport:
    with pool.connection() as conn:
        version = kpi_rollup.refresh_if_stale(conn, runtime.dashboard.kpi_max_age_seconds)

    def compute() -> MonthlyReport:
        with pool.connection() as conn:
            return reports.monthly(conn, month, provider_id)

    return memo.get(version, ("monthly", month, provider_id), compute)


@router.get("/reports/monthly", response_model=MonthlyReport)
def monthly(
    principal: Reader,
    pool: Pool,
    runtime: RuntimeDep,
    memo: Memo,
    month: Month,
    provider_id: Annotated[int | None, Query(ge=1, le=INT_MAX)] = None,
) -> MonthlyReport:
    """Orders, service hours and subsidised amount per provider and service type for the settlement."""
    return fresh_monthly(pool, runtime, memo, month, provider_id)


@router.get(
    "/reports/monthly.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "the report as CSV"}},
)
def monthly_csv(
    request: Request,
    principal: Reader,
    pool: Pool,
    runtime: RuntimeDep,
    memo: Memo,
    month: Month,
    provider_id: Annotated[int | None, Query(ge=1, le=INT_MAX)] = None,
) -> Response:
    report = fresh_monthly(pool, runtime, memo, month, provider_id)
    suffix = f"-provider-{provider_id}" if provider_id else ""
    return Response(
        reports.as_csv(report, i18n.for_request(request)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="eldercare-report-{month}{suffix}.csv"'},
    )


@router.get("/return-visits/sample", response_model=list[Order])
def return_visit_sample(principal: Reader, pool: Pool, runtime: RuntimeDep, week: Week | None = None) -> list[Order]:
    """This week's (or ``week``'s) random sample of completed orders for spot-check calls; stable within a week."""
    if week is None:
        year, number, _ = local_today(runtime).isocalendar()
        week = f"{year}-W{number:02d}"
    orders.week_bounds(week)
    with pool.connection() as conn:
        sample = orders.return_visit_sample(
            conn, week, runtime.settings.timezone, runtime.dashboard.return_visit_sample
        )
    return [shown(principal, o) for o in sample]
