"""Entitlements: what the bureau pays for, per elder. An elder's categories (decided in the register, or derived:
高龄 from the birth date, 失能 / 半失能 from the ability level) select packages from the table the bureau edits;
per service type the most generous package applies. Used by settlement, the elder page and order taking."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import psycopg
from psycopg.rows import class_row

from eldercare.register.model import VERY_OLD_AGE

_CATEGORIES = f"""
SELECT g.elder_id, g.category FROM elder_eligibility g WHERE g.elder_id = ANY(%(ids)s)
UNION SELECT e.id, 'very_old' FROM elder e
      WHERE e.id = ANY(%(ids)s) AND e.birth_date <= (%(on)s::date - interval '{VERY_OLD_AGE} years')
UNION SELECT e.id, 'disabled' FROM elder e WHERE e.id = ANY(%(ids)s) AND e.ability_level >= 3
UNION SELECT e.id, 'partly_disabled' FROM elder e WHERE e.id = ANY(%(ids)s) AND e.ability_level IN (1, 2)
"""  # noqa: S608 (a constant)


def categories(conn: psycopg.Connection, elder_ids: Iterable[int], on: date) -> dict[int, set[str]]:
    """Each elder's categories on day ``on``: decided ones and those derived from age and ability level."""
    found: dict[int, set[str]] = {}
    for elder_id, category in conn.execute(_CATEGORIES, {"ids": list(elder_ids), "on": on}):
        found.setdefault(elder_id, set()).add(category)
    return found


@dataclass(frozen=True, slots=True)
class Package:
    """One row of the bureau's table: a monthly amount of one service for a category from an ability level."""

    id: int
    category: str
    min_ability_level: int
    service_type: str
    unit: str  # 'visits' or 'hours'
    monthly_amount: Decimal
    subsidy_share: Decimal
    example: bool

    @property
    def copayment_share(self) -> Decimal:
        return 1 - self.subsidy_share


def packages(conn: psycopg.Connection) -> list[Package]:
    with conn.cursor(row_factory=class_row(Package)) as cur:
        return cur.execute(
            "SELECT id, category, min_ability_level, service_type, unit, monthly_amount, subsidy_share, example "
            "FROM entitlement ORDER BY service_type, category, min_ability_level"
        ).fetchall()


def best(table: list[Package], elder_categories: set[str], ability_level: int) -> dict[str, Package]:
    """Per service type, the package that applies to an elder: the highest subsidy share, then the largest amount."""
    chosen: dict[str, Package] = {}
    for package in table:
        if package.category not in elder_categories or ability_level < package.min_ability_level:
            continue
        held = chosen.get(package.service_type)
        if held is None or (package.subsidy_share, package.monthly_amount) > (held.subsidy_share, held.monthly_amount):
            chosen[package.service_type] = package
    return chosen


@dataclass(frozen=True, slots=True)
class Balance:
    """An elder's entitlement to one service this month, and what is left of it."""

    service_type: str
    category: str
    unit: str
    monthly_amount: float
    used: float
    subsidy_share: float
    example: bool

    @property
    def left(self) -> float:
        return max(0.0, self.monthly_amount - self.used)


def balances(conn: psycopg.Connection, elder_id: int, month_first: date, month_after: date, tz: str) -> list[Balance]:
    """The elder's entitlements with the month's use: verified or confirmed visits, counted as settlement counts
    them (a visit, or its verified hours)."""
    row = conn.execute("SELECT ability_level FROM elder WHERE id = %s", (elder_id,)).fetchone()
    if row is None:
        return []
    chosen = best(packages(conn), categories(conn, [elder_id], month_first).get(elder_id, set()), row[0])
    used = {
        service: (float(visits), float(minutes or 0) / 60)
        for service, visits, minutes in conn.execute(
            "SELECT so.service_type, count(*), sum(v.verified_minutes) FROM visit v "
            "JOIN service_order so ON so.id = v.order_id WHERE so.elder_id = %s AND v.status IN ('verified', "
            "'confirmed') AND v.completed_at >= (%s::timestamp AT TIME ZONE %s) "
            "AND v.completed_at < (%s::timestamp AT TIME ZONE %s) GROUP BY so.service_type",
            (elder_id, month_first, tz, month_after, tz),
        )
    }
    return [
        Balance(
            service,
            p.category,
            p.unit,
            float(p.monthly_amount),
            used.get(service, (0.0, 0.0))[0 if p.unit == "visits" else 1],
            float(p.subsidy_share),
            p.example,
        )
        for service, p in sorted(chosen.items())
    ]


def price_ranges(conn: psycopg.Connection, elder_id: int) -> dict[str, tuple[int, int]]:
    """Per service, the lowest and highest price (fen) of the providers serving the elder's community: what an
    order beyond the entitlement costs the elder."""
    rows = conn.execute(
        "SELECT ps.service_type, min(ps.price_fen), max(ps.price_fen) FROM elder e "
        "JOIN provider_area pa ON pa.community_id = e.community_id JOIN provider p ON p.id = pa.provider_id "
        "AND p.active JOIN provider_service ps ON ps.provider_id = p.id AND ps.price_fen IS NOT NULL "
        "WHERE e.id = %s GROUP BY ps.service_type",
        (elder_id,),
    ).fetchall()
    return {service: (low, high) for service, low, high in rows}
