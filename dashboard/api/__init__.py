"""The JSON API under ``/api/v1``, documented at ``/openapi.json``."""

from fastapi import APIRouter, Depends

from dashboard.api import (
    alarms,
    allowance,
    elder_register,
    elders,
    enrolment,
    entitlements,
    imports,
    insights,
    orders,
    plans,
    providers,
    roster,
    settlements,
    supervision,
    token,
    visits,
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
    entitlements,
    providers,
    insights,
    roster,
    imports,
    plans,
    visits,
    settlements,
    allowance,
    supervision,
):
    router.include_router(module.router)

__all__ = ["router"]
