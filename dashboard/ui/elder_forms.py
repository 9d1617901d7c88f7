"""The register's forms: a new elder, editing one (contacts, eligibility, thresholds), deactivation and
reactivation, and recording an assessment. Plain HTML forms posted to these routes, which write through
``eldercare.register``; a refusal shows the form again with each problem next to its field."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

import dispatcher
from dashboard import geo, i18n
from dashboard.auth import Actor, Principal
from dashboard.runtime import Runtime
from dashboard.ui.rendering import render
from eldercare.db import ID_MAX
from eldercare.register import elders as register
from eldercare.register.identity import mask_resident_id
from eldercare.register.model import (
    MAX_CONTACTS,
    THRESHOLD_METRICS,
    Language,
    Problem,
    Rejected,
)
from eldercare.users import Role
from eldercare.vocabulary import EligibilityCategory, LivingSituation

router = APIRouter()
ElderId = Annotated[int, Path(ge=1, le=ID_MAX)]
# Contact rows shown: at least five, and two empty after the last filled one, up to every contact the register
# accepts (``MAX_CONTACTS``), so an unchanged save keeps them all.
CONTACT_ROWS = 5
SPARE_CONTACT_ROWS = 2
LANGUAGE_NAMES = {Language.ZH: "中文", Language.EN: "English"}  # each in its own words
TEXT_FIELDS: tuple[str, ...] = ("name", "gender", "birth_date", "address", "living_situation", "language")
TEXT_FIELDS += ("medical_notes", "medications", "allergies", "home_access_notes", "notes")


def _today(runtime: Runtime) -> date:
    return runtime.clock.now().astimezone(runtime.dispatch.timezone).date()


def _communities(conn: psycopg.Connection) -> list[tuple[int, str, str]]:
    return [
        (int(r[0]), r[1], r[2])
        for r in conn.execute(
            "SELECT c.id, t.name, c.name FROM community c JOIN township t ON t.id = c.township_id "
            "ORDER BY t.code, c.code"
        ).fetchall()
    ]


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


def _number(form: FormData, key: str) -> float | str | None:
    text = _text(form, key)
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return text  # the register says what is wrong with it


def elder_data(form: FormData, conn: psycopg.Connection, *, creating: bool) -> dict[str, Any]:
    """The register's input from the form's fields; empty optional fields are left out."""
    data: dict[str, Any] = {key: _text(form, key) for key in TEXT_FIELDS}
    data["phone"] = _text(form, "phone") or None
    resident_id = _text(form, "resident_id")
    if "*" not in resident_id:  # a masked number shown to an operator is left as it is
        data["resident_id"] = resident_id or None
    place = conn.execute(
        "SELECT t.name, c.name, c.lat, c.lon FROM community c JOIN township t ON t.id = c.township_id "
        "WHERE c.id::text = %s",
        (_text(form, "community_id"),),
    ).fetchone()
    data["township"], data["community"] = (place[0], place[1]) if place else ("", "")
    lat, lon = _number(form, "lat"), _number(form, "lon")
    if lat is None and lon is None and place is not None:
        lat, lon = place[2], place[3]  # the community's centre until a location is typed
    data["lat"], data["lon"] = lat, lon
    data["eligibility"] = [
        {
            "category": category.value,
            "decided_on": _text(form, f"elig_{category.value}_date"),
            "document_no": _text(form, f"elig_{category.value}_doc"),
        }
        for category in EligibilityCategory
        if form.get(f"elig_{category.value}")
    ]
    data["contacts"] = [
        {
            "name": _text(form, f"contact_{n}_name"),
            "relation": _text(form, f"contact_{n}_relation"),
            "phone": _text(form, f"contact_{n}_phone"),
            "language": _text(form, f"contact_{n}_language") or Language.ZH.value,
            "notify_sms": bool(form.get(f"contact_{n}_sms")),
            "liaison": bool(form.get(f"contact_{n}_liaison")),
        }
        for n in range(MAX_CONTACTS)
        if _text(form, f"contact_{n}_name") or _text(form, f"contact_{n}_phone")
    ]
    data["thresholds"] = {key: value for key in THRESHOLD_METRICS if (value := _number(form, f"thr_{key}")) is not None}
    if creating and _text(form, "assess_level"):
        data["assessment"] = {
            "assessed_on": _text(form, "assess_on"),
            "level": _text(form, "assess_level"),
            "assessors": [
                a.strip() for a in _text(form, "assess_assessors").replace("，", ",").split(",") if a.strip()
            ],
        }
    return data


def _form_values(form: FormData | None, record: register.ElderRecord | None, principal: Principal) -> dict[str, Any]:
    """What the form's fields show: what was posted, else the record being edited."""
    if form is not None:
        return {key: value for key, value in form.items() if isinstance(value, str)}
    if record is None:
        return {"living_situation": LivingSituation.WITH_FAMILY.value, "language": "zh", "contact_0_sms": "on"}
    values: dict[str, Any] = {
        key: getattr(record, key)
        for key in (
            "name", "gender", "birth_date", "phone", "language", "address", "lat", "lon", "living_situation",
            "medical_notes", "medications", "allergies", "home_access_notes", "notes",
        )
    }  # fmt: skip
    values["resident_id"] = record.resident_id or ""
    if principal.role is not Role.ADMIN and record.resident_id:
        values["resident_id"] = mask_resident_id(record.resident_id)
    for item in record.eligibility:
        values[f"elig_{item.category}"] = "on"
        values[f"elig_{item.category}_date"] = item.decided_on
        values[f"elig_{item.category}_doc"] = item.document_no
    for n, contact in enumerate(record.contacts):
        values |= {
            f"contact_{n}_name": contact.name,
            f"contact_{n}_relation": contact.relation,
            f"contact_{n}_phone": contact.phone,
            f"contact_{n}_language": contact.language,
            f"contact_{n}_sms": "on" if contact.notify_sms else "",
            f"contact_{n}_liaison": "on" if contact.liaison else "",
        }
    for key, value in record.thresholds.items():
        values[f"thr_{key}"] = f"{value:g}"
    return values


def _contact_rows(values: dict[str, Any]) -> range:
    """The contact rows to show: every filled one, then room to add more."""
    filled = max(
        (
            n + 1
            for n in range(MAX_CONTACTS)
            if any(values.get(f"contact_{n}_{key}") for key in ("name", "relation", "phone"))
        ),
        default=0,
    )
    return range(min(MAX_CONTACTS, max(CONTACT_ROWS, filled + SPARE_CONTACT_ROWS)))


def _render_form(
    request: Request,
    principal: Principal,
    conn: psycopg.Connection,
    *,
    record: register.ElderRecord | None,
    form: FormData | None,
    problems: list[Problem],
    community_id: int | None,
) -> HTMLResponse:
    place_map, projection = geo.place_map(conn)
    reader = i18n.for_request(request)
    values = _form_values(form, record, principal)
    return render(
        request,
        "elder_form.html",
        principal,
        place_map=place_map,
        projection=asdict(projection) if projection else None,
        status_code=422 if problems else 200,
        record=record,
        values=values,
        community_id=community_id,
        communities=_communities(conn),
        problems={p.field.split(".")[0]: p.words(reader) for p in reversed(problems)},
        all_problems=[(p.field, p.words(reader)) for p in problems],
        categories=list(EligibilityCategory),
        situations=list(LivingSituation),
        thresholds=list(THRESHOLD_METRICS),
        contact_rows=_contact_rows(values),
        languages=LANGUAGE_NAMES,
    )


def _community_of(conn: psycopg.Connection, record: register.ElderRecord) -> int | None:
    row = conn.execute(
        "SELECT c.id FROM community c JOIN township t ON t.id = c.township_id WHERE t.name = %s AND c.name = %s",
        (record.township, record.community),
    ).fetchone()
    return int(row[0]) if row else None


@router.get("/elders-new", response_class=HTMLResponse)
def new_elder_page(request: Request, principal: Actor) -> HTMLResponse:
    with request.app.state.pool.connection() as conn:
        return _render_form(request, principal, conn, record=None, form=None, problems=[], community_id=None)


def _posted_community(form: FormData) -> int | None:
    text = _text(form, "community_id")
    return int(text) if text.isdigit() else None


async def _submit(
    request: Request,
    principal: Principal,
    write: Callable[[psycopg.Connection, dict[str, Any], date], register.Saved],
    elder_id: int | None,
) -> Response:
    form = await request.form()
    runtime: Runtime = request.app.state.runtime

    def work() -> Response:
        with request.app.state.pool.connection() as conn:
            record = register.get_record(conn, elder_id) if elder_id else None
            try:
                saved = write(conn, elder_data(form, conn, creating=elder_id is None), _today(runtime))
            except Rejected as rejected:
                conn.rollback()
                return _render_form(
                    request,
                    principal,
                    conn,
                    record=record,
                    form=form,
                    problems=rejected.problems,
                    community_id=_posted_community(form),
                )
            warned = "?warning=location" if saved.warnings else ""
            return RedirectResponse(f"/elders/{saved.elder_id}{warned}", status_code=303)

    return await run_in_threadpool(work)


@router.post("/elders-new", response_class=HTMLResponse)
async def create_elder(request: Request, principal: Actor) -> Response:
    return await _submit(
        request,
        principal,
        lambda conn, data, today: register.create_elder(conn, data, principal.username, today),
        None,
    )


@router.get("/elders/{elder_id}/edit", response_class=HTMLResponse)
def edit_elder_page(request: Request, principal: Actor, elder_id: ElderId) -> HTMLResponse:
    with request.app.state.pool.connection() as conn:
        record = register.get_record(conn, elder_id)
        return _render_form(
            request,
            principal,
            conn,
            record=record,
            form=None,
            problems=[],
            community_id=_community_of(conn, record),
        )


@router.post("/elders/{elder_id}/edit", response_class=HTMLResponse)
async def edit_elder(request: Request, principal: Actor, elder_id: ElderId) -> Response:
    return await _submit(
        request,
        principal,
        lambda conn, data, today: register.update_elder(conn, elder_id, data, principal.username, today),
        elder_id,
    )


@router.post("/elders/{elder_id}/deactivate")
async def deactivate_elder(request: Request, principal: Actor, elder_id: ElderId) -> Response:
    form = await request.form()
    runtime: Runtime = request.app.state.runtime

    def cancel(conn: psycopg.Connection, order_id: int, reason: str) -> None:
        dispatcher.cancel_order(
            conn, runtime.clock, order_id, reason=reason, actor=principal.username, config=runtime.dispatch
        )

    def work() -> None:
        with request.app.state.pool.connection() as conn:
            change = {"reason": _text(form, "reason"), "since": _text(form, "since"), "note": _text(form, "note")}
            register.deactivate(conn, elder_id, change, principal.username, _today(runtime), cancel)

    await run_in_threadpool(work)
    return RedirectResponse(f"/elders/{elder_id}", status_code=303)


@router.post("/elders/{elder_id}/reactivate")
async def reactivate_elder(request: Request, principal: Actor, elder_id: ElderId) -> Response:
    def work() -> None:
        with request.app.state.pool.connection() as conn:
            register.reactivate(conn, elder_id, principal.username)

    await run_in_threadpool(work)
    return RedirectResponse(f"/elders/{elder_id}", status_code=303)


@router.post("/elders/{elder_id}/assess")
async def assess_elder(request: Request, principal: Actor, elder_id: ElderId) -> Response:
    form = await request.form()
    runtime: Runtime = request.app.state.runtime

    def work() -> None:
        with request.app.state.pool.connection() as conn:
            data = {
                "assessed_on": _text(form, "assessed_on"),
                "level": _text(form, "level"),
                "assessors": [a.strip() for a in _text(form, "assessors").replace("，", ",").split(",") if a.strip()],
                "notes": _text(form, "notes"),
            }
            register.add_assessment(conn, elder_id, data, principal.username, _today(runtime))

    await run_in_threadpool(work)
    return RedirectResponse(f"/elders/{elder_id}", status_code=303)
