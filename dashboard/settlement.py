"""The monthly settlement with each provider (结算): a line per visit, subsidised only when verified and within the
elder's entitlement; confirmed by the provider, approved by an admin, then locked. A change to a visit of an
approved month (an exception confirmed later, say) becomes a correction line in the next open month."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

import psycopg
from psycopg.rows import class_row
from pydantic import BaseModel

from dashboard.errors import Conflict, Invalid, NotFound
from dashboard.reports import month_bounds
from eldercare import audit, entitlements
from eldercare.clock import Clock
from eldercare.i18n import N_
from eldercare.labels import Coded, Message

PAID = ("verified", "confirmed")
# corrections look back this many months for approved visits whose settlement changed
CORRECTION_MONTHS = 12


class Line(BaseModel):
    kind: str  # 'visit' or 'correction'
    order_id: int
    order_code: str
    provider_id: int
    elder_id: int
    elder_name: str
    service_type: str
    visit_day: date
    arrived_at: datetime | None
    completed_at: datetime | None
    arrival_check: str | None
    completion_check: str | None
    verification: str
    category: str
    entitlement_used: float
    price_fen: int
    subsidy_fen: int
    copayment_fen: int


class Total(BaseModel):
    key: str
    visits: int
    price_fen: int
    subsidy_fen: int
    copayment_fen: int


class Settlement(BaseModel):
    provider_id: int
    month: str
    status: str  # draft, confirmed, approved
    confirmed_by: str | None
    approved_by: str | None
    lines: list[Line]
    by_service: list[Total]
    by_category: list[Total]
    subsidy_fen: int
    copayment_fen: int


_VISITS = """
SELECT v.order_id, so.code, so.provider_id, so.elder_id, e.name, e.ability_level, so.service_type,
       (v.completed_at AT TIME ZONE %(tz)s)::date, v.arrived_at, v.completed_at, v.arrival_check, v.completion_check,
       v.status, coalesce(v.verified_minutes, 0),
       coalesce(ps.price_fen, round(st.subsidy_per_hour_fen * so.duration_min / 60.0))::bigint
FROM visit v
JOIN service_order so ON so.id = v.order_id
JOIN elder e ON e.id = so.elder_id
JOIN service_type st ON st.code = so.service_type
LEFT JOIN provider_service ps ON ps.provider_id = so.provider_id AND ps.service_type = so.service_type
WHERE v.completed_at >= (%(first)s::timestamp AT TIME ZONE %(tz)s)
  AND v.completed_at < (%(after)s::timestamp AT TIME ZONE %(tz)s)
ORDER BY v.completed_at, v.order_id
"""


def visit_lines(conn: psycopg.Connection, month: str, tz: str) -> list[Line]:
    """Every provider's visit lines of ``month`` as they stand now. The entitlement is used up in the order the
    visits were completed, across providers (an elder has one allowance however many providers serve them)."""
    first, after = month_bounds(month)
    rows = conn.execute(_VISITS, {"first": first, "after": after, "tz": tz}).fetchall()
    table = entitlements.packages(conn)
    cats = entitlements.categories(conn, {r[3] for r in rows}, first)
    used: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    lines = []
    for row in rows:
        order_id, code, provider, elder, name, ability, service, day, arrived, completed, a_chk, c_chk = row[:12]
        status, minutes, price = row[12:]
        package = entitlements.best(table, cats.get(elder, set()), ability).get(service)
        subsidy, category, covered = 0, "", Decimal(0)
        if status in PAID and package is not None:
            amount = Decimal(1) if package.unit == "visits" else Decimal(minutes) / 60
            covered = min(amount, max(Decimal(0), package.monthly_amount - used[(elder, service)]))
            used[(elder, service)] += covered
            fraction = covered / amount if amount else Decimal(0)
            subsidy = int((price * package.subsidy_share * fraction).quantize(Decimal(1), ROUND_HALF_UP))
            category = package.category if covered else ""  # beyond the entitlement: self-paid
        # unverified visits are withheld (nothing billed) until an operator confirms them
        copayment = price - subsidy if status in PAID else 0
        lines.append(
            Line(
                kind="visit",
                order_id=order_id,
                order_code=code,
                provider_id=provider,
                elder_id=elder,
                elder_name=name,
                service_type=service,
                visit_day=day,
                arrived_at=arrived,
                completed_at=completed,
                arrival_check=a_chk,
                completion_check=c_chk,
                verification=status,
                category=category,
                entitlement_used=float(covered),
                price_fen=price,
                subsidy_fen=subsidy,
                copayment_fen=copayment,
            )
        )
    return lines


_FROZEN = """
SELECT l.kind, l.order_id, so.code AS order_code, l.provider_id, l.elder_id, e.name AS elder_name, l.service_type,
       l.visit_day, l.arrived_at, l.completed_at, l.arrival_check, l.completion_check, l.verification, l.category,
       l.entitlement_used::float AS entitlement_used, l.price_fen, l.subsidy_fen, l.copayment_fen
FROM settlement_line l JOIN service_order so ON so.id = l.order_id JOIN elder e ON e.id = l.elder_id
WHERE l.provider_id = %s AND l.month = %s ORDER BY l.id
"""


def _state(conn: psycopg.Connection, provider_id: int, first: date) -> tuple[str, str | None, str | None]:
    row = conn.execute(
        "SELECT status, confirmed_by, approved_by FROM settlement_month WHERE provider_id = %s AND month = %s",
        (provider_id, first),
    ).fetchone()
    return (row[0], row[1], row[2]) if row else ("draft", None, None)


def corrections(conn: psycopg.Connection, provider_id: int, month: str, tz: str) -> list[Line]:
    """Lines that put right what changed since an earlier approved month was locked: the difference between each
    of its visits as it stands now and what was settled for it so far."""
    first, _ = month_bounds(month)
    months = [
        m
        for (m,) in conn.execute(
            "SELECT month FROM settlement_month WHERE provider_id = %s AND status = 'approved' AND month < %s "
            "ORDER BY month DESC LIMIT %s",
            (provider_id, first, CORRECTION_MONTHS),
        )
    ]
    settled = {
        order_id: (int(subsidy), int(copayment))
        for order_id, subsidy, copayment in conn.execute(
            "SELECT order_id, sum(subsidy_fen), sum(copayment_fen) FROM settlement_line WHERE provider_id = %s "
            "AND month < %s GROUP BY order_id",
            (provider_id, first),
        )
    }
    found = []
    for earlier in sorted(months):
        for line in visit_lines(conn, f"{earlier:%Y-%m}", tz):
            if line.provider_id != provider_id:
                continue
            subsidy, copayment = settled.get(line.order_id, (0, 0))
            if (line.subsidy_fen, line.copayment_fen) != (subsidy, copayment):
                found.append(
                    line.model_copy(
                        update={
                            "kind": "correction",
                            "subsidy_fen": line.subsidy_fen - subsidy,
                            "copayment_fen": line.copayment_fen - copayment,
                        }
                    )
                )
    return found


def _totals(lines: list[Line], key: str) -> list[Total]:
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for line in lines:
        row = sums[getattr(line, key) or "-"]
        row[0] += line.kind == "visit"
        row[1] += line.price_fen if line.kind == "visit" else 0
        row[2] += line.subsidy_fen
        row[3] += line.copayment_fen
    return [
        Total(key=k, visits=v[0], price_fen=v[1], subsidy_fen=v[2], copayment_fen=v[3]) for k, v in sorted(sums.items())
    ]


def settlement(conn: psycopg.Connection, provider_id: int, month: str, tz: str) -> Settlement:
    """The provider's settlement of ``month``: frozen lines once approved, else computed now."""
    first, _ = month_bounds(month)
    if conn.execute("SELECT 1 FROM provider WHERE id = %s", (provider_id,)).fetchone() is None:
        raise NotFound(Message.of(N_("there is no provider %(id)s"), id=provider_id))
    status, confirmed_by, approved_by = _state(conn, provider_id, first)
    if status == "approved":
        with conn.cursor(row_factory=class_row(Line)) as cur:
            lines = cur.execute(_FROZEN, (provider_id, first)).fetchall()
    else:
        lines = [line for line in visit_lines(conn, month, tz) if line.provider_id == provider_id]
        lines += corrections(conn, provider_id, month, tz)
    return Settlement(
        provider_id=provider_id,
        month=month,
        status=status,
        confirmed_by=confirmed_by,
        approved_by=approved_by,
        lines=lines,
        by_service=_totals(lines, "service_type"),
        by_category=_totals(lines, "category"),
        subsidy_fen=sum(line.subsidy_fen for line in lines),
        copayment_fen=sum(line.copayment_fen for line in lines),
    )


def confirm(conn: psycopg.Connection, clock: Clock, provider_id: int, month: str, actor: str, today: date) -> None:
    """The provider confirms the month's lines (the month must be over)."""
    first, after = month_bounds(month)
    if after > today:
        raise Invalid(
            Message.of(
                N_("%(month)s is not over yet; confirm its settlement from %(day)s on"),
                month=month,
                day=after.isoformat(),
            )
        )
    if conn.execute("SELECT 1 FROM provider WHERE id = %s", (provider_id,)).fetchone() is None:
        raise Invalid(Message.of(N_("there is no provider %(id)s"), id=provider_id))
    row = conn.execute(
        "INSERT INTO settlement_month (provider_id, month, status, confirmed_by, confirmed_at) "
        "VALUES (%s, %s, 'confirmed', %s, %s) ON CONFLICT DO NOTHING RETURNING 1",
        (provider_id, first, actor, clock.now()),
    ).fetchone()
    if row is None:
        status = _state(conn, provider_id, first)[0]
        raise Conflict(
            Message.of(
                N_("the settlement of %(month)s for provider %(id)s is already %(status)s"),
                month=month,
                id=provider_id,
                status=Coded("settlement_state", status),
            )
        )
    audit.record(conn, actor, "settlement.confirm", "provider", provider_id, {"month": month})


def approve(conn: psycopg.Connection, clock: Clock, provider_id: int, month: str, actor: str, tz: str) -> Settlement:
    """An admin approves a confirmed month: its lines are frozen and the month locks."""
    first, _ = month_bounds(month)
    locked = conn.execute(
        "SELECT status FROM settlement_month WHERE provider_id = %s AND month = %s FOR UPDATE", (provider_id, first)
    ).fetchone()
    if locked is None:
        raise Conflict(
            Message.of(
                N_("the settlement of %(month)s for provider %(id)s is not confirmed by the provider yet"),
                month=month,
                id=provider_id,
            )
        )
    if locked[0] == "approved":
        raise Conflict(
            Message.of(
                N_("the settlement of %(month)s for provider %(id)s is already approved and locked"),
                month=month,
                id=provider_id,
            )
        )
    draft = settlement(conn, provider_id, month, tz)
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO settlement_line (provider_id, month, order_id, kind, elder_id, service_type, visit_day, "
            "arrived_at, completed_at, arrival_check, completion_check, verification, category, entitlement_used, "
            "price_fen, subsidy_fen, copayment_fen) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    provider_id,
                    first,
                    x.order_id,
                    x.kind,
                    x.elder_id,
                    x.service_type,
                    x.visit_day,
                    x.arrived_at,
                    x.completed_at,
                    x.arrival_check,
                    x.completion_check,
                    x.verification,
                    x.category,
                    x.entitlement_used,
                    x.price_fen,
                    x.subsidy_fen,
                    x.copayment_fen,
                )
                for x in draft.lines
            ],
        )
    conn.execute(
        "UPDATE settlement_month SET status = 'approved', approved_by = %s, approved_at = %s "
        "WHERE provider_id = %s AND month = %s",
        (actor, clock.now(), provider_id, first),
    )
    audit.record(
        conn,
        actor,
        "settlement.approve",
        "provider",
        provider_id,
        {"month": month, "lines": len(draft.lines), "subsidy_fen": draft.subsidy_fen},
    )
    return settlement(conn, provider_id, month, tz)
