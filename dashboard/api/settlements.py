"""``/api/v1/settlements``: a provider's monthly settlement (JSON, CSV, .xlsx), confirmed by the provider and
approved by an admin, after which the month is locked; and ``/api/v1/entitlements``, the bureau's table."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from dashboard import settlement, settlement_export
from dashboard.api.insights import local_today
from dashboard.auth import Actor, Administrator, Reader
from dashboard.paging import shown
from dashboard.runtime import Pool, RuntimeDep
from dashboard.settlement import Settlement
from eldercare.db import INT_MAX

router = APIRouter(prefix="/settlements", tags=["settlements"])
ProviderId = Annotated[int, Path(ge=1, le=INT_MAX)]
Month = Annotated[str, Path(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]
STATE_ERRORS: dict[int | str, dict[str, str]] = {
    409: {"description": "not in a state that allows it"},
    422: {"description": "cannot be done"},
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/{provider_id}/{month}", response_model=Settlement)
def get_settlement(
    provider_id: ProviderId, month: Month, principal: Reader, pool: Pool, runtime: RuntimeDep
) -> Settlement:
    """A line per visit (verified times and place, verification, entitlement used, subsidy, co-payment), corrections
    of earlier approved months, and totals by service type and eligibility category."""
    with pool.connection() as conn:
        return shown(principal, settlement.settlement(conn, provider_id, month, runtime.settings.timezone))


@router.get(
    "/{provider_id}/{month}/export",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, XLSX: {}}, "description": "the settlement as a file"}},
)
def export(
    provider_id: ProviderId,
    month: Month,
    principal: Reader,
    pool: Pool,
    runtime: RuntimeDep,
    format: Annotated[Literal["csv", "xlsx"], Query()] = "xlsx",
) -> Response:
    """The settlement as .xlsx or CSV, with Chinese headers."""
    with pool.connection() as conn:
        report = shown(principal, settlement.settlement(conn, provider_id, month, runtime.settings.timezone))
    name = f"settlement-{month}-provider-{provider_id}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if format == "csv":
        return Response(settlement_export.as_csv(report), media_type="text/csv; charset=utf-8", headers=headers)
    return Response(settlement_export.as_xlsx(report), media_type=XLSX, headers=headers)


@router.post("/{provider_id}/{month}/confirm", response_model=Settlement, responses=STATE_ERRORS)
def confirm(provider_id: ProviderId, month: Month, principal: Actor, pool: Pool, runtime: RuntimeDep) -> Settlement:
    """The provider confirms the month's lines (recorded as the signed-in account); the month must be over."""
    with pool.connection() as conn:
        settlement.confirm(conn, runtime.clock, provider_id, month, principal.username, local_today(runtime))
        return shown(principal, settlement.settlement(conn, provider_id, month, runtime.settings.timezone))


@router.post("/{provider_id}/{month}/approve", response_model=Settlement, responses=STATE_ERRORS)
def approve(
    provider_id: ProviderId, month: Month, principal: Administrator, pool: Pool, runtime: RuntimeDep
) -> Settlement:
    """An admin approves a confirmed month: its lines are frozen and it never changes again."""
    with pool.connection() as conn:
        report = settlement.approve(
            conn, runtime.clock, provider_id, month, principal.username, runtime.settings.timezone
        )
        return shown(principal, report)
