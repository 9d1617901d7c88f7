"""``/api/v1/visit-exceptions``: the queue of visits that failed verification, and resolving one with a reason;
``/api/v1/elders/{id}/card-code``: issuing a new visit card code for an elder's home."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

import dispatcher
from dashboard import visit_exceptions
from dashboard.auth import Actor, Reader
from dashboard.errors import Conflict, NotFound
from dashboard.paging import Limit, Offset, Page, page, shown
from dashboard.runtime import Pool, RuntimeDep
from dashboard.visit_exceptions import VisitException
from eldercare.db import ID_MAX
from eldercare.i18n import N_
from eldercare.labels import Coded, Message
from eldercare.register import card_code
from eldercare.register.record import NoSuchElder

router = APIRouter(tags=["visits"])
ExceptionId = Annotated[int, Path(ge=1, le=ID_MAX)]
ElderId = Annotated[int, Path(ge=1, le=ID_MAX)]


@router.get("/visit-exceptions", response_model=Page[VisitException])
def list_exceptions(
    principal: Reader,
    pool: Pool,
    state: Annotated[Literal["open", "resolved", "all"], Query(description="which exceptions")] = "open",
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[VisitException]:
    """Visits that failed verification (no check-in, early, late, short, long, far from home, overlapping,
    in hospital, wrong card code), open ones first, oldest first."""
    open_only = {"open": True, "resolved": False, "all": None}[state]
    with pool.connection() as conn:
        items, total = visit_exceptions.list_exceptions(conn, open_only, limit, offset)
    return page(principal, items, total, limit, offset)


class Resolution(BaseModel):
    resolution: Literal["confirmed", "rejected"] = Field(
        description="confirmed: the visit happened and counts (e.g. confirmed by phone with the elder); "
        "rejected: it does not count"
    )
    reason: str = Field(min_length=1, max_length=1000, pattern=r"\S")


@router.post(
    "/visit-exceptions/{exception_id}/resolve",
    response_model=VisitException,
    responses={404: {"description": "no such exception"}, 409: {"description": "already resolved"}},
)
def resolve_exception(
    exception_id: ExceptionId, body: Resolution, principal: Actor, pool: Pool, runtime: RuntimeDep
) -> VisitException:
    """Confirm or reject one exception with the reason; the visit counts once all of its exceptions are confirmed."""
    with pool.connection() as conn:
        found = visit_exceptions.get_exception(conn, exception_id)
        if found is None:
            raise NotFound(Message.of(N_("there is no visit exception %(id)s; reload the queue"), id=exception_id))
        if found.resolution is not None:
            raise Conflict(
                Message.of(
                    N_("visit exception %(id)s was already %(resolution)s by %(by)s"),
                    id=exception_id,
                    resolution=Coded("resolution", found.resolution),
                    by=found.resolved_by,
                )
            )
        dispatcher.resolve_visit_exception(
            conn, runtime.clock, exception_id, resolution=body.resolution, reason=body.reason, actor=principal.username
        )
        done = visit_exceptions.get_exception(conn, exception_id)
        assert done is not None
        return shown(principal, done)


class CardCode(BaseModel):
    code: str = Field(description="six digits to print on the card kept at the elder's home")


@router.post("/elders/{elder_id}/card-code", response_model=CardCode, responses={404: {"description": "no such elder"}})
def issue_card_code(elder_id: ElderId, principal: Actor, pool: Pool, runtime: RuntimeDep) -> CardCode:
    """Issue a new visit card code for the elder's home; the old one stops counting at once."""
    with pool.connection() as conn:
        try:
            return CardCode(code=card_code.issue(conn, runtime.clock, elder_id, principal.username))
        except NoSuchElder as err:
            raise NotFound(*err.args) from err
