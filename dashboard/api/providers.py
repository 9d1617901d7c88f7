"""``/api/v1/providers``, ``/caregivers`` and ``/recurring-services``: the registers behind dispatching."""

from __future__ import annotations

from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Path, Query

from dashboard import providers, recurring
from dashboard.auth import Actor, Administrator, Forbidden, Permission, Reader
from dashboard.errors import NotFound
from dashboard.paging import Limit, Offset, Page, page, shown
from dashboard.providers import Caregiver, CaregiverCreate, CaregiverUpdate, Provider, ProviderCreate, ProviderUpdate
from dashboard.recurring import RecurringCreate, RecurringService, RecurringUpdate
from dashboard.runtime import Pool, RuntimeDep
from dashboard.scope import ROSTER, city_wide
from eldercare import roster
from eldercare.db import ID_MAX, INT_MAX
from eldercare.i18n import N_
from eldercare.labels import Coded, Listed, Message

router = APIRouter(tags=["providers, caregivers and recurring services"])
Id = Annotated[int, Path(ge=1, le=ID_MAX)]
CONFLICT: dict[int | str, dict[str, Any]] = {409: {"description": "clashes with an existing record"}}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such record"}}
FORBIDDEN: dict[int | str, dict[str, Any]] = {403: {"description": "the change needs an administrator"}}


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


# What only an administrator may change about a provider: who it is, what the bureau buys from it and at what
# price, its contract, its standing (red or black list) and the kitchen its meals come from. Operators keep its
# contacts, capacity and area current.
ADMIN_ONLY = ("name", "standing", "standing_note", "active", "services", "contract_starts", "contract_ends", "kitchen")


def _admin_only_changes(conn: psycopg.Connection, provider_id: int, body: ProviderUpdate) -> list[str]:
    """The fields of ``body`` only an administrator may change that differ from the provider as it is."""
    current = roster.provider_state(conn, provider_id)
    given = body.model_dump(exclude_unset=True, mode="json")
    if "services" in given:
        given["services"] = sorted(given["services"], key=lambda offer: offer["service"])
    return [name for name in ADMIN_ONLY if name in given and given[name] != current[name]]


@router.patch("/providers/{provider_id}", response_model=Provider, responses={**NOT_FOUND, **FORBIDDEN})
@city_wide(ROSTER)
def update_provider(provider_id: Id, body: ProviderUpdate, principal: Actor, pool: Pool) -> Provider:
    """Change a provider. Operators may change its phones, manager, capacity and area; its name, services and
    prices, contract and standing (red list: commended; black list: no new orders) are for administrators."""
    with pool.connection() as conn:
        if not principal.may(Permission.ADMINISTER):
            try:
                refused = _admin_only_changes(conn, provider_id, body)
            except roster.Unknown as err:
                raise NotFound(*err.args) from None
            if refused:
                raise Forbidden(
                    Message.of(
                        N_(
                            "the %(role)s role may not change a provider's %(fields)s: ask an administrator; an "
                            "operator may change its phones, manager, capacity and service area"
                        ),
                        role=Coded("role", principal.role),
                        fields=Listed(tuple(refused)),
                    )
                )
        return providers.update_provider(conn, provider_id, body, principal.username)


@router.get("/caregivers", response_model=Page[Caregiver])
@city_wide(ROSTER)
def list_caregivers(
    principal: Reader,
    pool: Pool,
    provider_id: Annotated[int | None, Query(ge=1, le=INT_MAX)] = None,
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
def create_caregiver(body: CaregiverCreate, principal: Actor, pool: Pool) -> Caregiver:
    """Enrol a caregiver (operators and administrators), with all that matching needs."""
    with pool.connection() as conn:
        return providers.create_caregiver(conn, body, principal.username)


@router.patch("/caregivers/{caregiver_id}", response_model=Caregiver, responses={**CONFLICT, **NOT_FOUND})
@city_wide(ROSTER)
def update_caregiver(caregiver_id: Id, body: CaregiverUpdate, principal: Actor, pool: Pool) -> Caregiver:
    """Change a caregiver: skills, shifts, leave, load, where they set out from (operators and administrators)."""
    with pool.connection() as conn:
        return providers.update_caregiver(conn, caregiver_id, body, principal.username)


@router.get("/recurring-services", response_model=Page[RecurringService])
def list_recurring(
    principal: Reader,
    pool: Pool,
    elder_id: Annotated[int | None, Query(ge=1, le=ID_MAX)] = None,
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
        today = runtime.clock.now().astimezone(runtime.dispatch.timezone).date()  # the city's day, as the form's
        return recurring.create_recurring(conn, body, principal.username, today)


@router.patch("/recurring-services/{recurring_id}", response_model=RecurringService, responses=NOT_FOUND)
def update_recurring(recurring_id: Id, body: RecurringUpdate, principal: Actor, pool: Pool) -> RecurringService:
    with pool.connection() as conn:
        return recurring.update_recurring(conn, recurring_id, body, principal.username)
