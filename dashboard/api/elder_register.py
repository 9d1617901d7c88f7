"""``/api/v1/elders`` writes: register (建档), change, deactivate and reactivate an elder, record assessments.

Everything goes through ``eldercare.register``, which checks the whole input before writing and audits each
change with before and after. Admins and operators edit; viewers read with phones, addresses, the resident
ID number and the home access notes masked; only admins see the full resident ID number.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Path, Request
from pydantic import BaseModel

import dispatcher
from dashboard import i18n
from dashboard.auth import Actor, Principal, Reader
from dashboard.paging import shown
from dashboard.runtime import Pool, Runtime, RuntimeDep
from eldercare.db import ID_MAX
from eldercare.register import elders as register
from eldercare.register.elders import Assessment, ElderRecord
from eldercare.register.identity import mask_resident_id
from eldercare.register.model import AssessmentInput, Deactivation, ElderCreate, ElderPatch, Problem
from eldercare.users import Role

router = APIRouter(prefix="/elders", tags=["elder register"])
ElderId = Annotated[int, Path(ge=1, le=ID_MAX)]
HIDDEN = "****"

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such elder"},
    422: {"description": "the input was refused; each entry of detail names the field (loc) and why (msg)"},
}


class ElderSaved(BaseModel):
    elder: ElderRecord
    warnings: list[Problem] = []
    cancelled_orders: list[str] = []


def today(runtime: Runtime) -> date:
    return runtime.clock.now().astimezone(runtime.dispatch.timezone).date()


def visible(principal: Principal, record: ElderRecord) -> ElderRecord:
    """The record as this principal may see it: the full ID number for admins only; viewers see less."""
    update: dict[str, Any] = {}
    if principal.role is not Role.ADMIN:
        update["resident_id"] = mask_resident_id(record.resident_id)
    if principal.masked:
        update["home_access_notes"] = HIDDEN if record.home_access_notes else ""
    return shown(principal, record.model_copy(update=update))


def _saved(conn: psycopg.Connection, principal: Principal, saved: register.Saved, request: Request) -> ElderSaved:
    """What was saved, as this principal may see it; its warnings in the reader's language."""
    record = visible(principal, register.get_record(conn, saved.elder_id))
    reader = i18n.for_request(request)
    warnings = [Problem(field=w.field, message=w.words(reader)) for w in saved.warnings]
    return ElderSaved(elder=record, warnings=warnings, cancelled_orders=saved.cancelled_orders)


@router.post("", response_model=ElderSaved, status_code=201, responses=ERRORS)
def create(body: ElderCreate, principal: Actor, pool: Pool, runtime: RuntimeDep, request: Request) -> ElderSaved:
    """Register an elder. A location outside the city is saved with a warning."""
    with pool.connection() as conn:
        saved = register.create_elder(conn, body.model_dump(mode="json"), principal.username, today(runtime))
        return _saved(conn, principal, saved, request)


@router.get("/{elder_id}/record", response_model=ElderRecord, responses=ERRORS)
def record(elder_id: ElderId, principal: Reader, pool: Pool) -> ElderRecord:
    """The elder as the register keeps it, the form's fields."""
    with pool.connection() as conn:
        return visible(principal, register.get_record(conn, elder_id))


@router.patch("/{elder_id}", response_model=ElderSaved, responses=ERRORS)
def update(
    elder_id: ElderId, body: ElderPatch, principal: Actor, pool: Pool, runtime: RuntimeDep, request: Request
) -> ElderSaved:
    """Change the fields given; a list given (contacts, eligibility) replaces the whole list."""
    with pool.connection() as conn:
        saved = register.update_elder(
            conn, elder_id, body.model_dump(mode="json", exclude_unset=True), principal.username, today(runtime)
        )
        return _saved(conn, principal, saved, request)


@router.post("/{elder_id}/deactivate", response_model=ElderSaved, responses=ERRORS)
def deactivate(
    elder_id: ElderId, body: Deactivation, principal: Actor, pool: Pool, runtime: RuntimeDep, request: Request
) -> ElderSaved:
    """Take the elder off the active register (deceased, moved away, in hospital, in a care home): open orders
    are cancelled with the reason, recurring services make no more orders; every record is kept."""

    def cancel(conn: psycopg.Connection, order_id: int, reason: str) -> None:
        dispatcher.cancel_order(
            conn, runtime.clock, order_id, reason=reason, actor=principal.username, config=runtime.dispatch
        )

    with pool.connection() as conn:
        saved = register.deactivate(
            conn, elder_id, body.model_dump(mode="json"), principal.username, today(runtime), cancel
        )
        return _saved(conn, principal, saved, request)


@router.post("/{elder_id}/reactivate", response_model=ElderSaved, responses=ERRORS)
def reactivate(elder_id: ElderId, principal: Actor, pool: Pool, request: Request) -> ElderSaved:
    """Put the elder back on the register; recurring services resume from their next occurrence."""
    with pool.connection() as conn:
        return _saved(conn, principal, register.reactivate(conn, elder_id, principal.username), request)


@router.get("/{elder_id}/assessments", response_model=list[Assessment], responses=ERRORS)
def assessments(elder_id: ElderId, principal: Reader, pool: Pool) -> list[Assessment]:
    """The elder's ability assessments, latest first."""
    with pool.connection() as conn:
        register.get_record(conn, elder_id)
        return register.assessments(conn, elder_id)


@router.post("/{elder_id}/assessments", response_model=list[Assessment], status_code=201, responses=ERRORS)
def assess(
    elder_id: ElderId, body: AssessmentInput, principal: Actor, pool: Pool, runtime: RuntimeDep
) -> list[Assessment]:
    """Record an assessment; the latest by date sets the elder's ability level."""
    with pool.connection() as conn:
        register.add_assessment(conn, elder_id, body.model_dump(mode="json"), principal.username, today(runtime))
        return register.assessments(conn, elder_id)
