"""The JSON API under ``/api/v1``, documented at ``/openapi.json``."""

from fastapi import APIRouter

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
    token,
    visits,
)

router = APIRouter(prefix="/api/v1")
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
):
    router.include_router(module.router)

__all__ = ["router"]
