"""The JSON API under ``/api/v1``, documented at ``/openapi.json``."""

from fastapi import APIRouter

from dashboard.api import alarms, elders, enrolment, insights, orders, providers, token

router = APIRouter(prefix="/api/v1")
for module in (token, alarms, orders, elders, enrolment, providers, insights):
    router.include_router(module.router)

__all__ = ["router"]
