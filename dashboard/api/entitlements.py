"""``/api/v1/entitlements``: the bureau's table of monthly packages per eligibility category and ability level
(admins edit it; every change is audited), and ``/api/v1/elders/{id}/entitlements``: an elder's packages with
the month's balance."""

from __future__ import annotations

from typing import Annotated, Literal

import psycopg
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from dashboard.api.insights import local_today
from dashboard.auth import Administrator, Reader
from dashboard.errors import Conflict, NotFound
from dashboard.reports import month_bounds
from dashboard.runtime import Pool, RuntimeDep
from eldercare import audit, entitlements
from eldercare.db import ID_MAX
from eldercare.i18n import N_
from eldercare.labels import Message
from eldercare.vocabulary import EligibilityCategory, ServiceType

router = APIRouter(tags=["entitlements"])
EntitlementId = Annotated[int, Path(ge=1, le=ID_MAX)]
ElderId = Annotated[int, Path(ge=1, le=ID_MAX)]


class PackageIn(BaseModel):
    category: EligibilityCategory
    min_ability_level: int = Field(0, ge=0, le=4, description="from this ability level up (0: any)")
    service_type: ServiceType
    unit: Literal["visits", "hours"]
    monthly_amount: float = Field(ge=0.5, le=744, description="visits or hours a month (kept to 0.1)")
    subsidy_share: float = Field(ge=0, le=1, description="the bureau's share of the price; the elder pays the rest")
    note: str = Field("", max_length=500)


class PackageOut(PackageIn):
    id: int
    example: bool = Field(description="one of the seeded examples, not yet edited by the bureau")
    copayment_share: float


def _read(conn: psycopg.Connection) -> list[PackageOut]:
    notes: dict[int, str] = dict(conn.execute("SELECT id, note FROM entitlement").fetchall())
    return [
        PackageOut(
            id=p.id,
            category=EligibilityCategory(p.category),
            min_ability_level=p.min_ability_level,
            service_type=ServiceType(p.service_type),
            unit="hours" if p.unit == "hours" else "visits",
            monthly_amount=float(p.monthly_amount),
            subsidy_share=float(p.subsidy_share),
            note=notes.get(p.id, ""),
            example=p.example,
            copayment_share=float(p.copayment_share),
        )
        for p in entitlements.packages(conn)
    ]


@router.get("/entitlements", response_model=list[PackageOut])
def list_packages(principal: Reader, pool: Pool) -> list[PackageOut]:
    """The whole table, by service type and category."""
    with pool.connection() as conn:
        return _read(conn)


_WRITE = (
    "category = %(category)s, min_ability_level = %(min_ability_level)s, service_type = %(service_type)s, "
    "unit = %(unit)s, monthly_amount = %(monthly_amount)s, subsidy_share = %(subsidy_share)s, note = %(note)s"
)


@router.post(
    "/entitlements", response_model=list[PackageOut], status_code=201, responses={409: {"description": "exists"}}
)
def add_package(body: PackageIn, principal: Administrator, pool: Pool) -> list[PackageOut]:
    """Add a package; one per category, ability level and service type."""
    with pool.connection() as conn:
        row = conn.execute(
            "INSERT INTO entitlement (category, min_ability_level, service_type, unit, monthly_amount, subsidy_share, "
            "note, updated_by) VALUES (%(category)s, %(min_ability_level)s, %(service_type)s, %(unit)s, "
            "%(monthly_amount)s, %(subsidy_share)s, %(note)s, %(by)s) ON CONFLICT DO NOTHING RETURNING id",
            {**body.model_dump(mode="json"), "by": principal.username},
        ).fetchone()
        if row is None:
            raise Conflict(
                Message.of(N_("there is already a package for this category, ability level and service; edit that one"))
            )
        audit.record(conn, principal.username, "entitlement.add", "entitlement", row[0], body.model_dump(mode="json"))
        return _read(conn)


@router.put(
    "/entitlements/{entitlement_id}",
    response_model=list[PackageOut],
    responses={404: {"description": "no such package"}, 409: {"description": "clashes with another package"}},
)
def edit_package(
    entitlement_id: EntitlementId, body: PackageIn, principal: Administrator, pool: Pool
) -> list[PackageOut]:
    """Change a package (it stops being an example)."""
    with pool.connection() as conn:
        try:
            row = conn.execute(
                f"UPDATE entitlement SET {_WRITE}, example = false, updated_by = %(by)s, updated_at = now() "  # noqa: S608
                "WHERE id = %(id)s RETURNING id",
                {**body.model_dump(mode="json"), "by": principal.username, "id": entitlement_id},
            ).fetchone()
        except psycopg.errors.UniqueViolation as err:
            raise Conflict(
                Message.of(N_("another package has this category, ability level and service; edit that one"))
            ) from err
        if row is None:
            raise NotFound(Message.of(N_("there is no entitlement package %(id)s"), id=entitlement_id))
        audit.record(
            conn, principal.username, "entitlement.edit", "entitlement", entitlement_id, body.model_dump(mode="json")
        )
        return _read(conn)


@router.delete(
    "/entitlements/{entitlement_id}",
    response_model=list[PackageOut],
    responses={404: {"description": "no such package"}},
)
def remove_package(entitlement_id: EntitlementId, principal: Administrator, pool: Pool) -> list[PackageOut]:
    with pool.connection() as conn:
        if conn.execute("DELETE FROM entitlement WHERE id = %s RETURNING id", (entitlement_id,)).fetchone() is None:
            raise NotFound(Message.of(N_("there is no entitlement package %(id)s"), id=entitlement_id))
        audit.record(conn, principal.username, "entitlement.remove", "entitlement", entitlement_id)
        return _read(conn)


class BalanceOut(BaseModel):
    service_type: str
    category: str
    unit: str
    monthly_amount: float
    used: float
    left: float
    subsidy_share: float
    example: bool


class ElderEntitlements(BaseModel):
    elder_id: int
    month: str
    balances: list[BalanceOut]
    self_paid_prices_fen: dict[str, tuple[int, int]] = Field(
        description="per service, the lowest and highest provider price an order beyond the entitlement costs"
    )


def elder_entitlements(conn: psycopg.Connection, elder_id: int, month: str, tz: str) -> ElderEntitlements:
    first, after = month_bounds(month)
    if conn.execute("SELECT 1 FROM elder WHERE id = %s", (elder_id,)).fetchone() is None:
        raise NotFound(Message.of(N_("there is no elder %(id)s"), id=elder_id))
    return ElderEntitlements(
        elder_id=elder_id,
        month=month,
        balances=[
            BalanceOut(
                service_type=b.service_type, category=b.category, unit=b.unit, monthly_amount=b.monthly_amount,
                used=round(b.used, 2), left=round(b.left, 2), subsidy_share=b.subsidy_share, example=b.example,
            )
            for b in entitlements.balances(conn, elder_id, first, after, tz)
        ],
        self_paid_prices_fen=entitlements.price_ranges(conn, elder_id),
    )  # fmt: skip


@router.get(
    "/elders/{elder_id}/entitlements",
    response_model=ElderEntitlements,
    responses={404: {"description": "no such elder"}},
)
def get_elder_entitlements(
    elder_id: ElderId,
    principal: Reader,
    pool: Pool,
    runtime: RuntimeDep,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
) -> ElderEntitlements:
    """The elder's packages (from their categories and ability level) and what is left of each this month."""
    with pool.connection() as conn:
        return elder_entitlements(conn, elder_id, month or f"{local_today(runtime):%Y-%m}", runtime.settings.timezone)
