"""``/api/v1/alarms``: list and filter, one alarm, acknowledge, resolve with outcome."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

import dispatcher
from dashboard import alarms
from dashboard.alarms import Alarm, AlarmFilter
from dashboard.auth import Actor, Reader
from dashboard.errors import Invalid
from dashboard.paging import Limit, Offset, Page, page, shown
from dashboard.runtime import Pool, RuntimeDep
from dashboard.scope import area_filtered
from eldercare.db import ID_MAX
from eldercare.i18n import N_
from eldercare.labels import Message
from eldercare.vocabulary import AlarmOutcome, AlarmStatus, Severity

router = APIRouter(prefix="/alarms", tags=["alarms"])
AlarmId = Annotated[int, Path(ge=1, le=ID_MAX)]


class Acknowledgement(BaseModel):
    note: str = Field("", max_length=1000)


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=1000, description="what was done or learnt, e.g. a call and its answer")


class Resolution(BaseModel):
    outcome: AlarmOutcome
    note: str = Field("", max_length=1000)
    stop_order: bool = Field(
        False,
        description="with outcome false_alarm: cancel the alarm's emergency order and tell its caregiver and the "
        "elder's family by SMS (the operator's decision is audited)",
    )


@router.get("", response_model=Page[Alarm])
@area_filtered
def list_alarms(
    principal: Reader,
    pool: Pool,
    status: Annotated[list[AlarmStatus] | None, Query(description="one or more statuses")] = None,
    severity: Severity | None = None,
    type: Annotated[str | None, Query(max_length=32, pattern=r"^[a-z_]+$")] = None,
    elder_id: Annotated[int | None, Query(ge=1, le=ID_MAX)] = None,
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
    """Every alarm not yet resolved, and resolved ones whose order is still under way, as the board orders them:
    critical first, then the longest waiting."""
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
    """Close the alarm with its outcome: real emergency, false alarm, test or device fault. A false alarm with
    ``stop_order`` also stands its emergency order down."""
    if body.stop_order and body.outcome is not AlarmOutcome.FALSE_ALARM:
        raise Invalid(
            Message.of(N_("stop_order is only for a false alarm: set outcome to false_alarm, or leave stop_order out"))
        )
    with pool.connection() as conn:
        alarm = alarms.resolve(
            conn, alarm_id, principal.username, runtime.clock.now(), body.outcome, body.note, body.stop_order
        )
        if body.stop_order:
            dispatcher.stand_down(conn, runtime.clock, alarm_id, actor=principal.username, config=runtime.dispatch)
        return alarm


@router.post(
    "/{alarm_id}/take",
    response_model=Alarm,
    responses={404: {"description": "no such alarm"}, 409: {"description": "resolved already"}},
)
def take(alarm_id: AlarmId, principal: Actor, pool: Pool, runtime: RuntimeDep) -> Alarm:
    """Take ownership of a live alarm (from whoever held it); an open one is acknowledged with it."""
    with pool.connection() as conn:
        return alarms.take(conn, alarm_id, principal.username, runtime.clock.now())


@router.post(
    "/{alarm_id}/notes",
    response_model=Alarm,
    responses={404: {"description": "no such alarm"}, 422: {"description": "empty note"}},
)
def add_note(alarm_id: AlarmId, body: NoteIn, principal: Actor, pool: Pool, runtime: RuntimeDep) -> Alarm:
    """Add an operator's note to the alarm; notes stay with it after it is resolved."""
    with pool.connection() as conn:
        return alarms.add_note(conn, alarm_id, principal.username, runtime.clock.now(), body.text)
