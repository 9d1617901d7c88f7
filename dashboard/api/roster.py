"""``/api/v1/search`` and eligibility: pickers that find records by name, and why a caregiver is or is not
offered an order."""

from __future__ import annotations

import gettext
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import AwareDatetime, BaseModel, Field

import dispatcher
from dashboard import i18n, search
from dashboard.auth import Reader, Role
from dashboard.errors import Invalid, NotFound, day_in_range
from dashboard.paging import shown
from dashboard.runtime import Pool, RuntimeDep
from dashboard.scope import ROSTER, city_wide
from eldercare.db import ID_MAX
from eldercare.i18n import N_
from eldercare.labels import Message
from eldercare.register.identity import mask_resident_id
from eldercare.vocabulary import ServiceType

router = APIRouter(tags=["search and eligibility"])
Id = Annotated[int, Path(ge=1, le=ID_MAX)]


class Reason(BaseModel):
    code: str = Field(description="stable key of the rule broken, e.g. no_skill, outside_area, off_shift, absent")
    detail: str = Field(
        description="the particulars, in the language of the caller (its Accept-Language, or the "
        "dashboard's language switch)"
    )


class Verdict(BaseModel):
    """One caregiver against one need."""

    caregiver_id: int
    code: str
    name: str
    provider_id: int
    provider_name: str
    eligible: bool
    reasons: list[Reason]
    distance_km: float
    eta_min: float
    rank: int | None = Field(description="1 for the caregiver the dispatcher would choose; None when not eligible")


class Readiness(BaseModel):
    """What a caregiver will be offered at all, and what stands in the way."""

    caregiver_id: int
    services: list[str]
    communities: int
    will_be_offered: bool
    reasons: list[Reason]


def _verdicts(found: list[dispatcher.Verdict], limit: int, words: gettext.NullTranslations) -> list[Verdict]:
    out = []
    rank = 0
    for v in found[:limit]:
        rank += v.eligible
        out.append(
            Verdict(
                caregiver_id=v.candidate.caregiver_id,
                code=v.candidate.code,
                name=v.candidate.name,
                provider_id=v.candidate.provider_id,
                provider_name=v.provider_name,
                eligible=v.eligible,
                reasons=[Reason(code=r.code, detail=r.words(words)) for r in v.reasons],
                distance_km=round(v.ranked.distance_km, 2),
                eta_min=round(v.ranked.eta_min, 1),
                rank=rank if v.eligible else None,
            )
        )
    return out


@router.get("/search", response_model=list[search.Hit])
def find(
    principal: Reader,
    pool: Pool,
    kind: search.Kind,
    q: Annotated[str, Query(min_length=1, max_length=50)],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> list[search.Hit]:
    """Elders, caregivers or providers by name, code or (not for viewers) phone digits, and elders by (not for
    viewers) resident ID number, whole or its last four or more digits, shown masked except to admins; for pickers."""
    with pool.connection() as conn:
        hits = search.search(conn, kind, q, by_phone=not principal.masked, limit=limit)
    if principal.role is not Role.ADMIN:
        hits = [h.model_copy(update={"resident_id": mask_resident_id(h.resident_id)}) for h in hits]
    return [shown(principal, h) for h in hits]


@router.get("/orders/{order_id}/candidates", response_model=list[Verdict])
def order_candidates(
    order_id: Id,
    request: Request,
    principal: Reader,
    pool: Pool,
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 30,
) -> list[Verdict]:
    """Caregivers for an order: the eligible ranked as the dispatcher would rank them, then those with the skill
    whose provider serves the elder's community, each with why they are not eligible."""
    with pool.connection() as conn:
        found = dispatcher.order_verdicts(conn, runtime.clock.now(), runtime.dispatch, order_id)
    return _verdicts(found, limit, i18n.for_request(request))


@router.get("/caregivers/{caregiver_id}/eligibility", response_model=Verdict)
@city_wide(ROSTER)
def caregiver_eligibility(
    caregiver_id: Id,
    request: Request,
    principal: Reader,
    pool: Pool,
    runtime: RuntimeDep,
    order_id: Annotated[int | None, Query(ge=1, le=ID_MAX)] = None,
    elder_id: Annotated[int | None, Query(ge=1, le=ID_MAX)] = None,
    service_type: ServiceType | None = None,
    at: AwareDatetime | None = None,
) -> Verdict:
    """Whether this caregiver would be offered an order (``order_id``), or a service for an elder at a time
    (``elder_id``, ``service_type``, ``at``: now when left out), and every reason they would not."""
    now: datetime = runtime.clock.now()
    if at is not None:
        day_in_range(at.date())
    with pool.connection() as conn:
        if order_id is not None:
            found = dispatcher.order_verdicts(conn, now, runtime.dispatch, order_id, caregivers=[caregiver_id])
            found = [v for v in found if v.candidate.caregiver_id == caregiver_id]
        elif elder_id is not None and service_type is not None:
            maybe = dispatcher.elder_verdicts(
                conn, runtime.dispatch, elder_id, service_type, at or now, caregivers=[caregiver_id], nearby=False
            )
            if maybe is None:
                raise NotFound(
                    Message.of(N_("no elder with id %(id)s; pick one with /api/v1/search?kind=elder"), id=elder_id)
                )
            found = maybe
        else:
            raise Invalid(
                Message.of(N_("name an order (order_id), or an elder and a service (elder_id and service_type)"))
            )
    if not found:
        raise NotFound(
            Message.of(N_("no caregiver with id %(id)s; pick one with /api/v1/search?kind=caregiver"), id=caregiver_id)
        )
    return _verdicts(found, 1, i18n.for_request(request))[0]


@router.get("/caregivers/{caregiver_id}/readiness", response_model=Readiness)
@city_wide(ROSTER)
def caregiver_readiness(
    caregiver_id: Id, request: Request, principal: Reader, pool: Pool, runtime: RuntimeDep
) -> Readiness:
    """What the caregiver will be offered (services, communities) and what stands in the way, checked today."""
    with pool.connection() as conn:
        found = dispatcher.readiness(conn, caregiver_id, runtime.clock.now(), runtime.dispatch.timezone)
    if found is None:
        raise NotFound(
            Message.of(N_("no caregiver with id %(id)s; pick one with /api/v1/search?kind=caregiver"), id=caregiver_id)
        )
    return Readiness(
        caregiver_id=caregiver_id,
        services=list(found.services),
        communities=found.communities,
        will_be_offered=not found.blocked,
        reasons=[Reason(code=r.code, detail=r.words(i18n.for_request(request))) for r in found.reasons],
    )
