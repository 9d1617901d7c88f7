"""Pages of the roster: a provider's week (caregivers by days, shifts and absences) and the forms that add
providers and caregivers with everything matching needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from dashboard import providers
from dashboard.auth import Reader
from dashboard.paging import shown
from dashboard.providers import Caregiver
from dashboard.runtime import Pool, RuntimeDep
from dashboard.scope import ROSTER, city_wide
from dashboard.ui.rendering import render
from eldercare.clock import FIRST_DAY, LAST_DAY
from eldercare.db import ID_MAX, INT_MAX
from eldercare.roster import Absence, Shift
from eldercare.vocabulary import AbsenceKind, ServiceType, TravelMode

router = APIRouter()
ProviderId = Annotated[int, Path(ge=1, le=INT_MAX)]


@dataclass(frozen=True, slots=True)
class Day:
    """One caregiver's day in the week: their shifts, and the absence that cancels them."""

    day: date
    shifts: list[Shift]
    absence: Absence | None


def week_of(caregiver: Caregiver, monday: date) -> list[Day]:
    days = []
    for n in range(7):
        day = monday + timedelta(days=n)
        shifts = [s for s in caregiver.shifts if s.weekday == day.isoweekday()]
        absence = next((a for a in caregiver.absences if a.first_day <= day <= a.last_day), None)
        days.append(Day(day, shifts, absence))
    return days


@router.get("/providers/{provider_id}/roster", response_class=HTMLResponse)
@city_wide(ROSTER)
def roster_page(
    request: Request,
    provider_id: ProviderId,
    principal: Reader,
    pool: Pool,
    runtime: RuntimeDep,
    week: Annotated[date | None, Query(ge=FIRST_DAY, le=LAST_DAY, description="any day of the week to show")] = None,
) -> HTMLResponse:
    today = runtime.clock.now().astimezone(ZoneInfo(runtime.settings.timezone)).date()
    shown_day = week or today
    monday = shown_day - timedelta(days=shown_day.weekday())
    with pool.connection() as conn:
        provider = shown(principal, providers.get_provider(conn, provider_id))
        staff, _ = providers.list_caregivers(conn, provider_id, 500, 0)
    rows = [(shown(principal, c), week_of(c, monday)) for c in staff]
    return render(
        request,
        "roster.html",
        principal,
        provider=provider,
        rows=rows,
        days=[monday + timedelta(days=n) for n in range(7)],
        previous=monday - timedelta(days=7),
        following=monday + timedelta(days=7),
        today=today,
    )


def _caregiver_form(
    request: Request, principal: Reader, pool: Pool, provider_id: int | None, caregiver_id: int | None
) -> HTMLResponse:
    with pool.connection() as conn:
        items = providers.list_providers(conn)
        caregiver = providers.get_caregiver(conn, caregiver_id) if caregiver_id else None
    slots: dict[tuple[int, int], Shift] = {}
    for shift in caregiver.shifts if caregiver else []:
        n = sum(1 for day, _ in slots if day == shift.weekday)
        slots[(shift.weekday, n)] = shift
    return render(
        request,
        "caregiver_form.html",
        principal,
        providers=items,
        provider_id=caregiver.provider_id if caregiver else provider_id,
        caregiver=shown(principal, caregiver) if caregiver else None,
        slots=slots,
        shift_slots=max([2, *(n + 1 for _, n in slots)]),
        services=list(ServiceType),
        modes=list(TravelMode),
        absence_kinds=list(AbsenceKind),
    )


@router.get("/caregivers/new", response_class=HTMLResponse)
@city_wide(ROSTER)
def new_caregiver_form(
    request: Request,
    principal: Reader,
    pool: Pool,
    provider_id: Annotated[int | None, Query(ge=1, le=INT_MAX)] = None,
) -> HTMLResponse:
    return _caregiver_form(request, principal, pool, provider_id, None)


@router.get("/caregivers/{caregiver_id}/edit", response_class=HTMLResponse)
@city_wide(ROSTER)
def edit_caregiver_form(
    request: Request, caregiver_id: Annotated[int, Path(ge=1, le=ID_MAX)], principal: Reader, pool: Pool
) -> HTMLResponse:
    return _caregiver_form(request, principal, pool, None, caregiver_id)


def _provider_form(request: Request, principal: Reader, pool: Pool, provider_id: int | None) -> HTMLResponse:
    with pool.connection() as conn:
        townships = conn.execute(
            "SELECT t.code, t.name, count(c.id) FROM township t LEFT JOIN community c ON c.township_id = t.id "
            "GROUP BY t.id ORDER BY t.code"
        ).fetchall()
        provider = providers.get_provider(conn, provider_id) if provider_id else None
        whole = set()
        if provider is not None:
            # townships all of whose communities the provider serves are shown ticked; the rest as communities
            for (code,) in conn.execute(
                "SELECT t.code FROM township t WHERE EXISTS (SELECT 1 FROM community c WHERE c.township_id = t.id) "
                "AND NOT EXISTS (SELECT 1 FROM community c WHERE c.township_id = t.id AND c.code <> ALL(%s))",
                (provider.communities,),
            ):
                whole.add(code)
        singles = (
            [
                code
                for (code,) in conn.execute(
                    "SELECT c.code FROM community c JOIN township t ON t.id = c.township_id "
                    "WHERE c.code = ANY(%s) AND t.code <> ALL(%s) ORDER BY c.code",
                    (provider.communities, sorted(whole)),
                )
            ]
            if provider
            else []
        )
    prices = {o.service.value: o.price_fen for o in provider.offers} if provider else {}
    return render(
        request,
        "provider_form.html",
        principal,
        townships=townships,
        services=list(ServiceType),
        provider=shown(principal, provider) if provider else None,
        whole=whole,
        singles=singles,
        prices=prices,
    )


@router.get("/providers/new", response_class=HTMLResponse)
@city_wide(ROSTER)
def new_provider_form(request: Request, principal: Reader, pool: Pool) -> HTMLResponse:
    return _provider_form(request, principal, pool, None)


@router.get("/providers/{provider_id}/edit", response_class=HTMLResponse)
@city_wide(ROSTER)
def edit_provider_form(request: Request, provider_id: ProviderId, principal: Reader, pool: Pool) -> HTMLResponse:
    return _provider_form(request, principal, pool, provider_id)
