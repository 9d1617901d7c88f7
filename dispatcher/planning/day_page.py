"""The caregiver's page of their planned day, reached by the signed link in the plan SMS: the visits in order
with times and addresses, the kitchen stops where meals are collected, and a button that confirms the day (as
the reply Y / 确认 does)."""

from __future__ import annotations

import psycopg
from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from dispatcher import texts
from dispatcher.caregiver_actions import caregiver_by_id
from dispatcher.caregiver_page import render_page, rendered
from dispatcher.links import DAY_PREFIX, DayGrant, LinkError, read_day_token
from dispatcher.planning.confirm import KitchenStop, confirm_day, day_route, step_line
from dispatcher.web_resources import Resources, WebResources

day_router = APIRouter(prefix=DAY_PREFIX, include_in_schema=False)


def _render(res: WebResources, conn: psycopg.Connection, grant: DayGrant, token: str, notice: str | None) -> str:
    caregiver = caregiver_by_id(conn, grant.caregiver_id)
    plan = conn.execute(
        "SELECT p.day, p.superseded_at IS NULL, r.confirmed_at IS NOT NULL FROM plan p "
        "JOIN plan_route r ON r.plan_id = p.id AND r.caregiver_id = %s WHERE p.id = %s",
        (grant.caregiver_id, grant.plan_id),
    ).fetchone()
    if caregiver is None or plan is None:
        raise LinkError("this plan or caregiver no longer exists")
    day, current, confirmed = plan
    tz = res.config.timezone
    language = caregiver.language
    visits = [
        {"start": f"{step.start.astimezone(tz):%H:%M}", "kitchen": step_line(res.config, language, step, 0)}
        if isinstance(step, KitchenStop)
        else {
            "start": f"{step.start.astimezone(tz):%H:%M}",
            "service": texts.service_name(step.service, language),
            "elder": step.elder,
            "address": step.address,
            "window": f"{step.window_start.astimezone(tz):%H:%M}–{step.window_end.astimezone(tz):%H:%M}",
        }
        for step in day_route(conn, grant.plan_id, grant.caregiver_id)
    ]
    return render_page(
        "caregiver_day.html",
        caregiver.language,
        day=day.isoformat(),
        visits=visits,
        current=current,
        confirmed=confirmed,
        notice=notice,
        base=f"{DAY_PREFIX}/{token}",
    )


@day_router.get("/{token}", response_class=HTMLResponse)
async def show_day(token: str, res: Resources) -> HTMLResponse:
    def work() -> str:
        grant = read_day_token(res.config, token)
        with res.connection() as conn:
            return _render(res, conn, grant, token, None)

    return await rendered(work)


@day_router.post("/{token}/confirm", response_class=HTMLResponse)
async def confirm(token: str, res: Resources) -> HTMLResponse:
    def work() -> str:
        grant = read_day_token(res.config, token)
        with res.connection() as conn:
            caregiver = caregiver_by_id(conn, grant.caregiver_id)
            if caregiver is None:
                raise LinkError("this caregiver no longer exists")
            day = confirm_day(conn, res.clock, res.config, grant.caregiver_id)
            key, values = ("day_confirmed", {"day": day.isoformat()}) if day else ("nothing_to_confirm", {})
            return _render(res, conn, grant, token, texts.text(key, caregiver.language, **values))

    return await rendered(work)
