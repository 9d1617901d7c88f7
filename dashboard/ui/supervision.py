"""Supervision pages: the period's spot checks and their record form, rectifications and complaints, the circular
(printable, .xlsx) and providers' credit with the standing decisions."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from dashboard import supervision
from dashboard.auth import Actor, Administrator, Reader
from dashboard.errors import Invalid
from dashboard.runtime import Pool, RuntimeDep
from dashboard.scope import area_filtered, city_wide
from dashboard.ui.rendering import render
from eldercare.db import ID_MAX, INT_MAX
from eldercare.supervision import checks, complaints, credit, queries
from eldercare.supervision.checks import CheckRecord, PlanInput
from eldercare.supervision.complaints import ComplaintInput
from eldercare.supervision.queries import FINDINGS

router = APIRouter()
Id = Annotated[int, Path(ge=1, le=ID_MAX)]
Period = Annotated[Literal["week", "month"], Query()]
CREDIT = "providers' credit is the bureau's, for every township alike"


@router.get("/supervision", response_class=HTMLResponse)
@area_filtered
def checks_page(
    request: Request,
    principal: Reader,
    pool: Pool,
    runtime: RuntimeDep,
    period: Period = "week",
    day: Annotated[date | None, Query(ge=checks.FIRST_DAY, le=checks.LAST_DAY)] = None,
) -> HTMLResponse:
    start, end = checks.period_bounds(period, day or supervision.today(runtime))
    place, level = supervision.place(principal), supervision.level(principal)
    with pool.connection() as conn:
        items = supervision.shown_checks(principal, queries.checks(conn, period, start, place, level))
        open_tasks = queries.rectifications(conn, place)
        complaint_list = queries.complaints(conn, place, limit=50)
        townships = (
            conn.execute("SELECT id, name FROM township ORDER BY code").fetchall() if principal.area is None else []
        )
    return render(
        request,
        "supervision.html",
        principal,
        checks=items,
        period=period,
        start=start,
        end=end,
        level=level,
        townships=townships,
        rectifications=open_tasks,
        complaints=complaint_list,
    )


@router.get("/supervision/checks/{check_id}", response_class=HTMLResponse)
def check_page(request: Request, check_id: Id, principal: Reader, pool: Pool) -> HTMLResponse:
    with pool.connection() as conn:
        item = supervision.shown_checks(principal, [supervision.one_check(conn, check_id)])[0]
    return render(request, "spot_check.html", principal, check=item, error=None)


@router.post("/supervision/checks/{check_id}", response_class=HTMLResponse)
async def record_check(
    request: Request,
    check_id: Id,
    principal: Actor,
    pool: Pool,
    runtime: RuntimeDep,
    reached: Annotated[Literal["yes", "no"], Form()],
    delivered: Annotated[Literal["yes", "no", "partly", ""], Form()] = "",
    punctual: Annotated[Literal["yes", "no", ""], Form()] = "",
    attitude: Annotated[Literal["good", "fair", "rude", ""], Form()] = "",
    fee_asked_yuan: Annotated[float, Form(ge=0, le=1_000_000)] = 0,
    satisfaction: Annotated[int | None, Form(ge=1, le=5)] = None,
    unsafe: Annotated[bool, Form()] = False,
    note: Annotated[str, Form(max_length=2000)] = "",
    photo: Annotated[UploadFile | None, File()] = None,
) -> Response:
    record = CheckRecord(
        reached=reached == "yes",
        delivered=delivered or None,
        punctual=None if not punctual else punctual == "yes",
        attitude=attitude or None,
        fee_asked_fen=round(fee_asked_yuan * 100),
        satisfaction=satisfaction,
        unsafe=unsafe,
        note=note,
    )
    content = await photo.read(checks.MAX_PHOTO_BYTES + 1) if photo is not None and photo.filename else b""

    def save() -> None:
        with pool.connection() as conn:
            supervision.refusing(
                checks.record_check,
                conn,
                check_id,
                record,
                principal.username,
                runtime.clock.now(),
                runtime.dashboard.rectification_days,
            )
            if content:
                supervision.refusing(checks.add_photo, conn, check_id, photo.content_type if photo else "", content)

    from starlette.concurrency import run_in_threadpool

    await run_in_threadpool(save)
    return RedirectResponse(f"/supervision/checks/{check_id}", status_code=303)


@router.post("/supervision/rectifications/{rectification_id}/answer")
def answer_rectification(
    rectification_id: Id,
    principal: Actor,
    pool: Pool,
    runtime: RuntimeDep,
    answer: Annotated[str, Form(min_length=1, max_length=2000)],
) -> Response:
    with pool.connection() as conn:
        supervision.refusing(
            checks.answer_rectification, conn, rectification_id, answer, principal.username, runtime.clock.now()
        )
    return RedirectResponse("/supervision", status_code=303)


@router.get("/supervision/circular", response_class=HTMLResponse)
@area_filtered
def circular_page(
    request: Request,
    principal: Reader,
    pool: Pool,
    runtime: RuntimeDep,
    period: Period = "week",
    day: Annotated[date | None, Query(ge=checks.FIRST_DAY, le=checks.LAST_DAY)] = None,
) -> HTMLResponse:
    start, end = checks.period_bounds(period, day or supervision.today(runtime))
    rows = supervision.circular(pool, runtime, principal, period, start)
    return render(
        request,
        "circular.html",
        principal,
        rows=rows,
        period=period,
        start=start,
        last=end - timedelta(days=1),
        findings=FINDINGS,
    )


@router.get("/supervision/credit", response_class=HTMLResponse)
@city_wide(CREDIT)
def credit_page(
    request: Request,
    principal: Reader,
    pool: Pool,
    runtime: RuntimeDep,
    month: Annotated[str | None, Query(pattern=supervision.MONTH)] = None,
) -> HTMLResponse:
    month = month or supervision.today(runtime).strftime("%Y-%m")
    with pool.connection() as conn:
        items = credit.credits(conn, date(int(month[:4]), int(month[5:]), 1))
    facts = {c.provider_id: credit.Facts(**c.facts) for c in items}
    return render(request, "credit.html", principal, credits=items, facts=facts, month=month)


@router.post("/supervision/credit")
@city_wide(CREDIT)
def compute_credit(
    principal: Administrator,
    pool: Pool,
    runtime: RuntimeDep,
    month: Annotated[str, Form(pattern=supervision.MONTH)],
) -> Response:
    with pool.connection() as conn:
        credit.compute(conn, date(int(month[:4]), int(month[5:]), 1), runtime.settings.timezone, runtime.clock.now())
    return RedirectResponse(f"/supervision/credit?month={month}", status_code=303)


@router.post("/providers/{provider_id}/standing")
@city_wide("a provider's standing is decided by administrators")
def decide_standing(
    provider_id: Annotated[int, Path(ge=1, le=INT_MAX)],
    principal: Administrator,
    pool: Pool,
    runtime: RuntimeDep,
    standing: Annotated[Literal["red", "normal", "black"], Form()],
    reason: Annotated[str, Form(min_length=1, max_length=500)],
    month: Annotated[str, Form(pattern=supervision.MONTH)],
) -> Response:
    with pool.connection() as conn:
        supervision.refusing(
            credit.decide,
            conn,
            provider_id,
            standing,
            reason,
            principal.username,
            runtime.clock.now(),
            date(int(month[:4]), int(month[5:]), 1),
        )
    return RedirectResponse(f"/supervision/credit?month={month}", status_code=303)


@router.post("/supervision/plans")
def create_plan(
    principal: Administrator,
    pool: Pool,
    runtime: RuntimeDep,
    period: Annotated[Literal["week", "month"], Form()],
    period_start: Annotated[date, Form(ge=checks.FIRST_DAY, le=checks.LAST_DAY)],
    level: Annotated[Literal["city", "township", "community"], Form()],
    township_id: Annotated[int | None, Form(ge=1, le=INT_MAX)] = None,
    community_id: Annotated[int | None, Form(ge=1, le=INT_MAX)] = None,
    elder_calls: Annotated[int, Form(ge=0, le=10000)] = 0,
    home_visits: Annotated[int, Form(ge=0, le=10000)] = 0,
    liaison_calls: Annotated[int, Form(ge=0, le=10000)] = 0,
) -> Response:
    try:
        data = PlanInput(
            period=period,
            period_start=period_start,
            level=level,
            township_id=township_id,
            community_id=community_id,
            elder_calls=elder_calls,
            home_visits=home_visits,
            liaison_calls=liaison_calls,
        )
    except ValidationError as err:
        # the form's fields are checked already: what is left is the plan's own check, a sentence of the catalogue
        cause = err.errors()[0].get("ctx", {}).get("error")
        raise Invalid(*(cause.args if isinstance(cause, ValueError) else (str(err),))) from None
    with pool.connection() as conn:
        supervision.refusing(
            checks.create_plan, conn, data, principal.username, runtime.clock.now(), runtime.settings.timezone
        )
    return RedirectResponse(f"/supervision?period={period}&day={period_start.isoformat()}", status_code=303)


@router.post("/supervision/complaints")
def enter_complaint(
    principal: Actor,
    pool: Pool,
    runtime: RuntimeDep,
    elder_id: Annotated[int, Form(ge=1, le=ID_MAX)],
    body: Annotated[str, Form(min_length=1, max_length=2000)],
) -> Response:
    with pool.connection() as conn:
        supervision.refusing(
            complaints.enter,
            conn,
            ComplaintInput(elder_id=elder_id, body=body),
            principal.username,
            runtime.clock.now(),
        )
    return RedirectResponse("/supervision", status_code=303)


@router.post("/supervision/complaints/{complaint_id}/close")
def close_complaint(
    complaint_id: Id,
    principal: Actor,
    pool: Pool,
    runtime: RuntimeDep,
    answer: Annotated[str, Form(min_length=1, max_length=2000)],
) -> Response:
    with pool.connection() as conn:
        supervision.refusing(complaints.close, conn, complaint_id, answer, principal.username, runtime.clock.now())
    return RedirectResponse("/supervision", status_code=303)
