"""``/api/v1/elders`` and ``/api/v1/devices``: the register, one elder with readings, device health."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from dashboard import elders
from dashboard.auth import Reader
from dashboard.elders import Device, Elder, ElderSummary, HourlyReading, Reading
from dashboard.paging import Limit, Offset, Page, page, shown
from dashboard.runtime import Pool, RuntimeDep
from dashboard.scope import area_filtered
from eldercare.db import ID_MAX, INT_MAX

router = APIRouter(tags=["elders and devices"])
ElderId = Annotated[int, Path(ge=1, le=ID_MAX)]


class ElderWithReadings(Elder):
    recent_readings: list[Reading]


class Problem(StrEnum):
    OFFLINE = "offline"
    LOW_BATTERY = "low_battery"


@router.get("/elders", response_model=Page[ElderSummary])
@area_filtered
def list_elders(
    principal: Reader,
    pool: Pool,
    q: Annotated[
        str | None, Query(max_length=64, description="part of a name, code or phone, or a resident ID number")
    ] = None,
    township_id: Annotated[int | None, Query(ge=1, le=INT_MAX)] = None,
    include_inactive: Annotated[bool, Query(description="also elders taken off the register")] = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[ElderSummary]:
    with pool.connection() as conn:
        items, total = elders.search(
            conn, q, township_id, limit, offset, include_inactive=include_inactive, area=principal.area
        )
    return page(principal, items, total, limit, offset)


@router.get("/elders/{elder_id}", response_model=ElderWithReadings, responses={404: {"description": "no such elder"}})
def get_elder(elder_id: ElderId, principal: Reader, pool: Pool, runtime: RuntimeDep) -> ElderWithReadings:
    """The elder's profile, emergency contacts, devices and readings of the last hour."""
    with pool.connection() as conn:
        elder = elders.get_elder(conn, elder_id)
        recent = elders.readings(conn, elder_id, runtime.clock.now(), hours=1)
    return shown(principal, ElderWithReadings(**elder.model_dump(), recent_readings=recent))


@router.get("/elders/{elder_id}/readings", response_model=list[Reading])
def readings(
    elder_id: ElderId,
    principal: Reader,
    pool: Pool,
    runtime: RuntimeDep,
    hours: Annotated[int, Query(ge=1, le=72)] = 24,
) -> list[Reading]:
    """Raw readings of the last ``hours`` (at most 72), oldest first."""
    with pool.connection() as conn:
        elders.get_elder(conn, elder_id)
        return elders.readings(conn, elder_id, runtime.clock.now(), hours)


@router.get("/elders/{elder_id}/readings/hourly", response_model=list[HourlyReading])
def hourly(
    elder_id: ElderId,
    principal: Reader,
    pool: Pool,
    runtime: RuntimeDep,
    days: Annotated[int, Query(ge=1, le=400)] = 30,
) -> list[HourlyReading]:
    """Hourly averages and extremes of the last ``days``, oldest first."""
    with pool.connection() as conn:
        elders.get_elder(conn, elder_id)
        return elders.hourly_readings(conn, elder_id, runtime.clock.now(), days)


class DeviceCounts(BaseModel):
    total: int
    offline: int
    low_battery: int


@router.get("/devices", response_model=Page[Device])
def devices(
    principal: Reader,
    pool: Pool,
    runtime: RuntimeDep,
    problem: Problem | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[Device]:
    """Active devices, longest silent first; ``problem`` keeps the offline ones or those with a low battery."""
    settings = runtime.dashboard
    with pool.connection() as conn:
        items, total = elders.device_health(
            conn,
            runtime.clock.now(),
            settings.device_offline_minutes,
            settings.low_battery_percent,
            problem.value if problem else None,
            limit,
            offset,
        )
    return page(principal, items, total, limit, offset)


@router.get("/devices/summary", response_model=DeviceCounts)
def device_summary(principal: Reader, pool: Pool, runtime: RuntimeDep) -> DeviceCounts:
    settings = runtime.dashboard
    with pool.connection() as conn:
        counts = elders.device_counts(
            conn, runtime.clock.now(), settings.device_offline_minutes, settings.low_battery_percent
        )
    return DeviceCounts(**counts)
