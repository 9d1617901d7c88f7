"""Pages of records: the elder register and one elder's page, device health, providers and caregivers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from dashboard import alarms, elders, orders, providers, recurring
from dashboard.alarms import AlarmFilter
from dashboard.api.elder_register import visible
from dashboard.api.entitlements import elder_entitlements
from dashboard.auth import Permission, Reader
from dashboard.orders import OrderFilter
from dashboard.paging import shown
from dashboard.runtime import Pool, RuntimeDep
from dashboard.scope import ROSTER, area_filtered, city_wide
from dashboard.ui.rendering import render
from devices.types import DEVICE_TYPES
from eldercare.db import ID_MAX, INT_MAX
from eldercare.register import card_code
from eldercare.register import elders as register
from eldercare.vocabulary import InactiveReason, ServiceType

router = APIRouter()
PAGE = 50


@router.get("/elders", response_class=HTMLResponse)
@area_filtered
def elder_list(
    request: Request,
    principal: Reader,
    pool: Pool,
    q: Annotated[str | None, Query(max_length=64)] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    inactive: bool = False,
) -> HTMLResponse:
    with pool.connection() as conn:
        items, total = elders.search(conn, q, None, PAGE, offset, include_inactive=inactive, area=principal.area)
    return render(
        request,
        "elders.html",
        principal,
        elders=[shown(principal, e) for e in items],
        total=total,
        q=q or "",
        inactive=inactive,
        offset=offset,
        page=PAGE,
    )


def _series(
    rows: list[Any], time_field: str, fields: tuple[str, ...], since: datetime, until: datetime
) -> dict[str, list[Any]]:
    """Columns for uPlot: epoch seconds, then one list per field; ``span`` is the period the x axis shows."""
    data: dict[str, list[Any]] = {
        "span": [since.timestamp(), until.timestamp()],
        "t": [getattr(r, time_field).timestamp() for r in rows],
    }
    for field in fields:
        data[field] = [getattr(r, field) for r in rows]
    return data


@router.get("/elders/{elder_id}", response_class=HTMLResponse)
def elder_page(
    request: Request,
    principal: Reader,
    pool: Pool,
    runtime: RuntimeDep,
    elder_id: Annotated[int, Path(ge=1, le=ID_MAX)],
) -> HTMLResponse:
    now = runtime.clock.now()
    with pool.connection() as conn:
        elder = shown(principal, elders.get_elder(conn, elder_id))
        day = elders.readings(conn, elder_id, now, 24)
        month = elders.hourly_readings(conn, elder_id, now, 30)
        alarm_history, _ = alarms.list_alarms(conn, AlarmFilter(elder_id=elder_id), 20, 0)
        order_history, _ = orders.list_orders(conn, OrderFilter(elder_id=elder_id), 20, 0)
        record = visible(principal, register.get_record(conn, elder_id))
        assessments = register.assessments(conn, elder_id)
        care_plan, _ = recurring.list_recurring(conn, elder_id, 50, 0)
        card = card_code.current(conn, elder_id) if principal.may(Permission.ACT) else None
        ent = elder_entitlements(
            conn, elder_id, f"{now.astimezone(runtime.dispatch.timezone):%Y-%m}", runtime.settings.timezone
        )
    return render(
        request,
        "elder.html",
        principal,
        elder=elder,
        record=record,
        assessments=assessments,
        card=card,
        ent=ent,
        care_plan=care_plan,
        plan_services=[s.value for s in ServiceType if s is not ServiceType.EMERGENCY],
        reasons=list(InactiveReason),
        today=runtime.clock.now().astimezone(runtime.dispatch.timezone).date(),
        warning=request.query_params.get("warning"),
        day=_series(day, "ts", ("hr", "spo2", "sbp", "dbp"), now - timedelta(hours=24), now),
        month=_series(
            month, "bucket", ("hr_avg", "hr_min", "hr_max", "spo2_avg", "sbp_avg"), now - timedelta(days=30), now
        ),
        alarm_history=[shown(principal, a) for a in alarm_history],
        order_history=[shown(principal, o) for o in order_history],
    )


@router.get("/devices", response_class=HTMLResponse)
def device_page(
    request: Request,
    principal: Reader,
    pool: Pool,
    runtime: RuntimeDep,
    problem: Annotated[str | None, Query(pattern=r"^(offline|low_battery)$")] = "offline",
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> HTMLResponse:
    settings = runtime.dashboard
    now = runtime.clock.now()
    with pool.connection() as conn:
        counts = elders.device_counts(conn, now, settings.device_offline_minutes, settings.low_battery_percent)
        items, total = elders.device_health(
            conn, now, settings.device_offline_minutes, settings.low_battery_percent, problem, PAGE, offset
        )
    return render(
        request,
        "devices.html",
        principal,
        devices=items,
        total=total,
        counts=counts,
        problem=problem,
        offset=offset,
        page=PAGE,
        low_battery=settings.low_battery_percent,
        offline_minutes=settings.device_offline_minutes,
        device_types=DEVICE_TYPES,
    )


@router.get("/providers", response_class=HTMLResponse)
@city_wide(ROSTER)
def provider_page(
    request: Request,
    principal: Reader,
    pool: Pool,
    provider_id: Annotated[int | None, Query(ge=1, le=INT_MAX)] = None,
) -> HTMLResponse:
    with pool.connection() as conn:
        items = [shown(principal, p) for p in providers.list_providers(conn)]
        staff, _ = providers.list_caregivers(conn, provider_id, 200, 0) if provider_id else ([], 0)
    return render(
        request,
        "providers.html",
        principal,
        providers=items,
        provider_id=provider_id,
        caregivers=[shown(principal, c) for c in staff],
    )
