"""``/api/v1/alarms``: list and filter, one alarm, acknowledge, resolve with outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from dashboard import alarms
from dashboard.alarms import Alarm, AlarmFilter
from dashboard.auth import Actor, Reader
from dashboard.paging import Limit, Offset, Page, page, shown
from dashboard.runtime import Pool, RuntimeDep
from dashboard.scope import area_filtered
from eldercare.vocabulary import AlarmOutcome, AlarmStatus, Severity

router = APIRouter(prefix="/alarms", tags=["alarms"])
AlarmId = Annotated[int, Path(ge=1, le=2**62)]


class Acknowledgement(BaseModel):
    note: str = Field("", max_length=1000)


class Resolution(BaseModel):
    outcome: AlarmOutcome
    note: str = Field("", max_length=1000)


@router.get("", response_model=Page[Alarm])
@area_filtered
def list_alarms(
    principal: Reader,
    pool: Pool,
    status: Annotated[list[AlarmStatus] | None, Query(description="one or more statuses")] = None,
    severity: Severity | None = None,
    type: Annotated[str | None, Query(max_length=32, pattern=r"^[a-z_]+$")] = None,
    elder_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[Alarm]:
    """Alarms, newest first, filtered by status, severity, type, elder and time of raising."""
    flt = AlarmFilter(
        status=status, severity=severity, type=type, elder_id=elder_id, since=since, until=until, area=principal.area
    )
    with pool.connection() as conn:
        items, total = alarms.list_alarms(conn, flt, limit, offset)
    return page(principal, items, total, limit, offset)


@router.get("/live", response_model=list[Alarm])
@area_filtered
def live(principal: Reader, pool: Pool) -> list[Alarm]:
    """Every alarm not yet resolved, as the board orders them: critical first, then the longest waiting."""
    with pool.connection() as conn:
        return [shown(principal, a) for a in alarms.live_board(conn, principal.area)]


@router.get("/{alarm_id}", response_model=Alarm, responses={404: {"description": "no such alarm"}})
def get_alarm(alarm_id: AlarmId, principal: Reader, pool: Pool) -> Alarm:
    with pool.connection() as conn:
        return shown(principal, alarms.get_alarm(conn, alarm_id))


@router.post(
    "/{alarm_id}/acknowledge",
    response_model=Alarm,
    responses={404: {"description": "no such alarm"}, 409: {"description": "not open"}},
)
def acknowledge(
    alarm_id: AlarmId, principal: Actor, pool: Pool, runtime: RuntimeDep, body: Acknowledgement | None = None
) -> Alarm:
    """Say that an operator has seen the alarm and is dealing with it."""
    with pool.connection() as conn:
        return alarms.acknowledge(conn, alarm_id, principal.username, runtime.clock.now(), body.note if body else "")


@router.post(
    "/{alarm_id}/resolve",
    response_model=Alarm,
    responses={404: {"description": "no such alarm"}, 409: {"description": "resolved already"}},
)
def resolve(alarm_id: AlarmId, body: Resolution, principal: Actor, pool: Pool, runtime: RuntimeDep) -> Alarm:
    """Close the alarm with its outcome: real emergency, false alarm, test or device fault."""
    with pool.connection() as conn:
        return alarms.resolve(conn, alarm_id, principal.username, runtime.clock.now(), body.outcome, body.note)
