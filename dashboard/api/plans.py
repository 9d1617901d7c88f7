"""``/api/v1/plans``: plan a day's booked visits now (operators, admins) and read the plan in force.

An account limited to an area reads the visits of its area's elders, without the plan's figures (they are the
whole city's); planning and pinning are for city-wide accounts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import psycopg
from fastapi import APIRouter, Path
from psycopg import sql
from pydantic import BaseModel, Field

from dashboard.auth import Actor, Reader
from dashboard.errors import Invalid, NotFound
from dashboard.runtime import Pool, RuntimeDep
from dashboard.scope import Area, area_filtered
from dispatcher import planning
from dispatcher.planning.store import VisitKey
from eldercare.i18n import N_
from eldercare.labels import Message

router = APIRouter(prefix="/plans", tags=["plans"])


class PlanRequest(BaseModel):
    day: date = Field(description="the local day to plan (today up to two weeks ahead)")


class PlannedVisit(BaseModel):
    id: int
    elder_id: int
    service_type: str
    order_id: int | None
    recurring_service_id: int | None
    occurrence_at: datetime | None
    window_start: datetime
    window_end: datetime
    duration_min: int
    caregiver_id: int | None
    sequence: int | None
    planned_start: datetime | None
    unassigned_reason: str | None
    unassigned_detail: str | None
    pinned_to: int | None = Field(description="the caregiver an operator pinned the visit to, kept by every re-plan")

    @property
    def key(self) -> VisitKey:
        """What names the visit across plans: its occurrence, or its order."""
        if self.recurring_service_id is not None:
            return (self.recurring_service_id, self.occurrence_at, None)
        return (None, None, self.order_id)


class Plan(BaseModel):
    id: int
    day: date
    made_at: datetime
    made_by: str
    timed_out: bool = Field(description="the solver reached its time limit: the best plan it had found")
    figures: dict[str, object]
    visits: list[PlannedVisit]


_VISITS = sql.SQL(
    "SELECT id, elder_id, service_type, order_id, recurring_service_id, occurrence_at, window_start, window_end, "
    "duration_min, caregiver_id, sequence, planned_start, unassigned_reason, unassigned_detail, pinned_to "
    "FROM plan_visit WHERE plan_id = %s AND {area} ORDER BY caregiver_id NULLS LAST, sequence, window_start, id"
)


def plan_in_force(conn: psycopg.Connection, day: date, area: Area | None = None) -> Plan | None:
    """The day's plan in force; for an account limited to ``area``, its elders' visits and no figures."""
    row = conn.execute(
        "SELECT id, day, made_at, made_by, timed_out, figures FROM plan WHERE day = %s AND superseded_at IS NULL",
        (day,),
    ).fetchone()
    if row is None:
        return None
    clause, values = area.over_elders("elder_id") if area else ("true", [])
    visits = conn.execute(_VISITS.format(area=sql.SQL(clause)), (row[0], *values)).fetchall()
    fields = list(PlannedVisit.model_fields)
    return Plan(
        id=row[0],
        day=row[1],
        made_at=row[2],
        made_by=row[3],
        timed_out=row[4],
        figures={} if area else row[5],
        visits=[PlannedVisit(**dict(zip(fields, v, strict=True))) for v in visits],
    )


@router.post(
    "",
    response_model=Plan,
    status_code=201,
    responses={422: {"description": "the day is in the past or too far ahead"}},
)
def make_plan(body: PlanRequest, principal: Actor, pool: Pool, runtime: RuntimeDep) -> Plan:
    """Plan the day's booked visits now as routes over the rostered caregivers; the new plan is the one in force
    (the day's earlier plan is superseded). Planned visits that are orders already go to their caregivers; each
    caregiver of the plan gets one SMS with their day to confirm."""
    config = runtime.dispatch
    today = runtime.clock.now().astimezone(config.timezone).date()
    refused = planning.plannable(body.day, today)
    if refused is not None:
        raise Invalid(refused)
    with pool.connection() as conn:
        planning.plan_day(conn, runtime.clock, config, body.day, made_by=principal.username, tell=True)
        made = plan_in_force(conn, body.day)
    assert made is not None
    return made


@router.get("/{day}", response_model=Plan, responses={404: {"description": "no plan for that day"}})
@area_filtered
def get_plan(day: date, principal: Reader, pool: Pool) -> Plan:
    """The plan in force for a local day: every booked visit, with its caregiver and start, or why nobody (for an
    account limited to an area: its elders' visits, without the whole city's figures)."""
    with pool.connection() as conn:
        found = plan_in_force(conn, day, principal.area)
    if found is None:
        raise NotFound(Message.of(N_("no plan has been made for %(day)s; POST /api/v1/plans to make one"), day=day))
    return found


class PinRequest(BaseModel):
    caregiver_id: int | None = Field(
        ge=1, le=2**63 - 1, description="the caregiver to keep the visit with; null takes the pin away"
    )


@router.post(
    "/{day}/visits/{visit_id}/pin",
    response_model=PlannedVisit,
    responses={
        404: {"description": "no such visit in the day's plan in force"},
        422: {"description": "the caregiver may not serve that visit"},
    },
)
def pin_visit(
    day: date,
    visit_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    body: PinRequest,
    principal: Actor,
    pool: Pool,
    runtime: RuntimeDep,
) -> PlannedVisit:
    """Pin a visit of the day's plan in force to a caregiver who may serve it (skill, area, standing, shift, not
    away): every later plan of the day keeps it with them while they still may. It moves at the next plan."""
    with pool.connection() as conn:
        found = plan_in_force(conn, day)
        visit = next((v for v in found.visits if v.id == visit_id), None) if found else None
        if visit is None:
            raise NotFound(
                Message.of(N_("visit %(visit)s is not in the plan in force for %(day)s"), visit=visit_id, day=day)
            )
        may = planning.pin_choices(conn, day, runtime.dispatch).get(visit.key, []) if body.caregiver_id else []
        if body.caregiver_id is not None and body.caregiver_id not in may:
            raise Invalid(
                Message.of(
                    N_("caregiver %(caregiver)s may not serve visit %(visit)s (skill, area, shift or away)"),
                    caregiver=body.caregiver_id,
                    visit=visit_id,
                )
            )
        planning.pin(conn, visit_id, body.caregiver_id, actor=principal.username)
    return visit.model_copy(update={"pinned_to": body.caregiver_id})
