"""``/api/v1/providers``, ``/caregivers`` and ``/recurring-services``: the registers behind dispatching."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from dashboard import providers, recurring
from dashboard.auth import Actor, Administrator, Reader
from dashboard.paging import Limit, Offset, Page, page, shown
from dashboard.providers import Caregiver, CaregiverCreate, CaregiverUpdate, Provider, ProviderCreate, ProviderUpdate
from dashboard.recurring import RecurringCreate, RecurringService, RecurringUpdate
from dashboard.runtime import Pool, RuntimeDep
from dashboard.scope import ROSTER, city_wide

router = APIRouter(tags=["providers, caregivers and recurring services"])
Id = Annotated[int, Path(ge=1, le=2**62)]
CONFLICT: dict[int | str, dict[str, Any]] = {409: {"description": "clashes with an existing record"}}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such record"}}


@router.get("/providers", response_model=list[Provider])
@city_wide(ROSTER)
def list_providers(principal: Reader, pool: Pool) -> list[Provider]:
    with pool.connection() as conn:
        return [shown(principal, p) for p in providers.list_providers(conn)]


@router.get("/providers/{provider_id}", response_model=Provider, responses=NOT_FOUND)
@city_wide(ROSTER)
def get_provider(provider_id: Id, principal: Reader, pool: Pool) -> Provider:
    with pool.connection() as conn:
        return shown(principal, providers.get_provider(conn, provider_id))


@router.post("/providers", response_model=Provider, status_code=201, responses=CONFLICT)
@city_wide(ROSTER)
def create_provider(body: ProviderCreate, principal: Administrator, pool: Pool) -> Provider:
    with pool.connection() as conn:
        return providers.create_provider(conn, body, principal.username)


@router.patch("/providers/{provider_id}", response_model=Provider, responses=NOT_FOUND)
@city_wide(ROSTER)
def update_provider(provider_id: Id, body: ProviderUpdate, principal: Administrator, pool: Pool) -> Provider:
    """Change a provider, including its standing: red list (commended) or black list (no new orders)."""
    with pool.connection() as conn:
        return providers.update_provider(conn, provider_id, body, principal.username)


@router.get("/caregivers", response_model=Page[Caregiver])
@city_wide(ROSTER)
def list_caregivers(
    principal: Reader,
    pool: Pool,
    provider_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[Caregiver]:
    with pool.connection() as conn:
        items, total = providers.list_caregivers(conn, provider_id, limit, offset)
    return page(principal, items, total, limit, offset)


@router.get("/caregivers/{caregiver_id}", response_model=Caregiver, responses=NOT_FOUND)
@city_wide(ROSTER)
def get_caregiver(caregiver_id: Id, principal: Reader, pool: Pool) -> Caregiver:
    with pool.connection() as conn:
        return shown(principal, providers.get_caregiver(conn, caregiver_id))


@router.post("/caregivers", response_model=Caregiver, status_code=201, responses={**CONFLICT, **NOT_FOUND})
@city_wide(ROSTER)
def create_caregiver(body: CaregiverCreate, principal: Administrator, pool: Pool) -> Caregiver:
    with pool.connection() as conn:
        return providers.create_caregiver(conn, body, principal.username)


@router.patch("/caregivers/{caregiver_id}", response_model=Caregiver, responses={**CONFLICT, **NOT_FOUND})
@city_wide(ROSTER)
def update_caregiver(caregiver_id: Id, body: CaregiverUpdate, principal: Administrator, pool: Pool) -> Caregiver:
    with pool.connection() as conn:
        return providers.update_caregiver(conn, caregiver_id, body, principal.username)


@router.get("/recurring-services", response_model=Page[RecurringService])
def list_recurring(
    principal: Reader,
    pool: Pool,
    elder_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[RecurringService]:
    with pool.connection() as conn:
        items, total = recurring.list_recurring(conn, elder_id, limit, offset)
    return page(principal, items, total, limit, offset)


@router.post("/recurring-services", response_model=RecurringService, status_code=201, responses=NOT_FOUND)
def create_recurring(body: RecurringCreate, principal: Actor, pool: Pool, runtime: RuntimeDep) -> RecurringService:
    """Plan a service that repeats; the dispatcher's scheduler creates each occurrence's order."""
    with pool.connection() as conn:
        return recurring.create_recurring(conn, body, principal.username, runtime.clock.now().date())


@router.patch("/recurring-services/{recurring_id}", response_model=RecurringService, responses=NOT_FOUND)
def update_recurring(recurring_id: Id, body: RecurringUpdate, principal: Actor, pool: Pool) -> RecurringService:
    with pool.connection() as conn:
        return recurring.update_recurring(conn, recurring_id, body, principal.username)
