"""The JSON API under ``/api/v1``, documented at ``/openapi.json``."""

from fastapi import APIRouter, Depends

from dashboard.api import (
    alarms,
    elder_register,
    elders,
    enrolment,
    imports,
    insights,
    orders,
    plans,
    providers,
    roster,
    supervision,
    token,
)
from dashboard.auth import within_area

router = APIRouter(prefix="/api/v1", dependencies=[Depends(within_area)])
for module in (
    token,
    alarms,
    orders,
    elders,
    elder_register,
    enrolment,
    providers,
    insights,
    roster,
    imports,
    plans,
    supervision,
):
    router.include_router(module.router)

__all__ = ["router"]
