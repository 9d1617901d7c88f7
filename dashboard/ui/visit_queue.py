"""The exceptions queue page: visits that failed verification, each confirmed or rejected with a reason."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from dashboard import visit_exceptions
from dashboard.auth import Reader
from dashboard.paging import shown
from dashboard.runtime import Pool
from dashboard.ui.rendering import render

router = APIRouter()


@router.get("/visit-exceptions", response_class=HTMLResponse)
def exceptions_page(
    request: Request,
    principal: Reader,
    pool: Pool,
    state: Annotated[Literal["open", "resolved", "all"], Query()] = "open",
) -> HTMLResponse:
    open_only = {"open": True, "resolved": False, "all": None}[state]
    with pool.connection() as conn:
        items, total = visit_exceptions.list_exceptions(conn, open_only, 200, 0)
    return render(
        request,
        "visit_exceptions.html",
        principal,
        items=[shown(principal, item) for item in items],
        total=total,
        state=state,
    )
