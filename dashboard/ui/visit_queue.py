"""Pages of verified visits and what is paid for them: the exceptions queue (each confirmed or rejected with a
reason), the bureau's entitlement table and the age-allowance cross-check."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from dashboard import i18n, visit_exceptions
from dashboard.api.entitlements import list_packages
from dashboard.auth import Permission, Reader
from dashboard.paging import shown
from dashboard.runtime import Pool
from dashboard.ui.rendering import render
from eldercare import allowance_check
from eldercare.labels import label
from eldercare.vocabulary import EligibilityCategory, ServiceType

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


@router.get("/entitlements", response_class=HTMLResponse)
def entitlements_page(request: Request, principal: Reader, pool: Pool) -> HTMLResponse:
    packages = list_packages(principal, pool)
    return render(
        request,
        "entitlements.html",
        principal,
        packages=packages,
        categories=[c.value for c in EligibilityCategory],
        services=[s.value for s in ServiceType],
        can_approve=principal.may(Permission.ADMINISTER),
    )


@router.get("/allowance-check", response_class=HTMLResponse)
def allowance_page(request: Request, principal: Reader) -> HTMLResponse:
    reader = i18n.for_request(request)
    words = {f"kind_{kind}": label(reader, "allowance_finding", kind) for kind in allowance_check.KINDS}
    words |= {"rows": reader.gettext("Rows"), "findings": reader.gettext("To check")}
    return render(request, "allowance_check.html", principal, words=words)
