"""Service KPIs from the daily rollups: alarm answer times, acceptance, arrival, fulfilment, satisfaction.

Every figure is one SQL aggregate over ``kpi_order_daily`` / ``kpi_alarm_daily`` (see migration 0030);
percentiles are exact because the rollups keep each order's and alarm's seconds in an array.
Definitions (docs/dashboard.md says the same):
- alarms answered: critical and warning alarms (not info) received in the period; acknowledged within 60 s
  and 180 s of being received (targets 97.5% and 99%); one never acknowledged counts as late;
- acceptance time: creation to acceptance of the orders accepted, p50 and p90;
- arrival within 30/45/60 min: arrival after the order was due (its creation, or its window's start if later),
  over the orders that arrived or were accepted and then cancelled or escalated (targets: 45 min 90%, 60 min 100%);
- fulfilment: completed / (completed + cancelled + escalated and not yet handled);
- satisfaction: the mean return-visit score (1-5).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from pydantic import BaseModel, Field, computed_field

TARGETS = {"ack_60": 0.975, "ack_180": 0.99, "arrived_45": 0.90, "arrived_60": 1.0}
# each percentage: (its numerator, its denominator), as named in the rollups
RATES = {
    "ack_60": ("ack_60", "alarms"),
    "ack_180": ("ack_180", "alarms"),
    "arrived_30": ("arrived_30", "arrival_measured"),
    "arrived_45": ("arrived_45", "arrival_measured"),
    "arrived_60": ("arrived_60", "arrival_measured"),
    "fulfilment": ("completed", "closed"),
}


class Dimension(StrEnum):
    SERVICE_TYPE = "service_type"
    PROVIDER = "provider"
    TOWNSHIP = "township"
    DAY = "day"


class KpiFilter(BaseModel):
    from_day: date
    to_day: date
    service_type: str | None = None
    provider_id: int | None = None
    township_id: int | None = None


class Rate(BaseModel):
    """A percentage and what it counts: the numerator over the denominator, and the published target if any."""

    numerator: int
    denominator: int
    target: float | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None


class Figures(BaseModel):
    key: str
    label: str
    orders: int = 0
    accepted: int = 0
    accept_p50_s: float | None = None
    accept_p90_s: float | None = None
    arrival_measured: int = 0
    arrived_30: float | None = None
    arrived_45: float | None = None
    arrived_60: float | None = None
    completed: int = 0
    cancelled: int = 0
    escalated: int = 0
    fulfilment: float | None = None
    reviewed: int = 0
    satisfaction: float | None = None
    alarms: int | None = None
    acknowledged: int | None = None
    ack_60: float | None = None
    ack_180: float | None = None
    ack_p50_s: float | None = None
    closed: int = Field(0, description="orders completed, cancelled or escalated: fulfilment's denominator")
    rates: dict[str, Rate] = Field(
        default_factory=dict, description="each percentage above with its numerator, denominator and target"
    )


class KpiReport(BaseModel):
    filter: KpiFilter
    targets: dict[str, float]
    total: Figures
    by_service_type: list[Figures]
    by_provider: list[Figures]
    by_township: list[Figures]
    by_day: list[Figures]


# Unfiltered pages read the slices (one dimension at a time, a few hundred rows a day); filtered ones read the
# fine-grained rollup. Per dimension: (slice, key expression, label expression, join); fixed text, never input.
SLICE_KEYS: dict[Dimension | None, tuple[str, str, str, str]] = {
    None: ("all", "'all'", "'all'", ""),
    Dimension.SERVICE_TYPE: (
        "service_type",
        "r.key",
        "min(st.name_zh) || ' ' || min(st.name_en)",
        "JOIN service_type st ON st.code = r.key",
    ),
    Dimension.PROVIDER: (
        "provider",
        "r.key",
        "coalesce(min(p.name), '-')",
        "LEFT JOIN provider p ON p.id = r.key::int",
    ),
    Dimension.TOWNSHIP: ("township", "r.key", "min(t.name)", "JOIN township t ON t.id = r.key::integer"),
    Dimension.DAY: ("all", "r.day::text", "r.day::text", ""),
}
DAILY_KEYS: dict[Dimension | None, tuple[str, str, str]] = {
    None: ("'all'", "'all'", ""),
    Dimension.SERVICE_TYPE: (
        "r.service_type",
        "min(st.name_zh) || ' ' || min(st.name_en)",
        "JOIN service_type st ON st.code = r.service_type",
    ),
    Dimension.PROVIDER: (
        "r.provider_id::text",
        "coalesce(min(p.name), '-')",
        "LEFT JOIN provider p ON p.id = r.provider_id",
    ),
    Dimension.TOWNSHIP: ("r.township_id::text", "min(t.name)", "JOIN township t ON t.id = r.township_id"),
    Dimension.DAY: ("r.day::text", "r.day::text", ""),
}
ORDER_FIGURES = """
WITH r AS MATERIALIZED ({source}),
sums AS (
    SELECT {key} AS key, {label} AS label, sum(orders)::int AS orders, sum(accepted)::int AS accepted,
           sum(arrival_measured)::int AS arrival_measured, sum(arrived_30)::int AS arrived_30,
           sum(arrived_45)::int AS arrived_45, sum(arrived_60)::int AS arrived_60,
           sum(completed)::int AS completed, sum(cancelled)::int AS cancelled,
           sum(escalated)::int AS escalated, sum(closed)::int AS closed, sum(reviewed)::int AS reviewed,
           sum(satisfaction_sum)::int AS satisfaction_sum
    FROM r {join} GROUP BY 1),
pct AS MATERIALIZED (
    SELECT {key} AS key, percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY s) AS p
    FROM r CROSS JOIN LATERAL unnest(r.accept_secs) s GROUP BY 1)
SELECT sums.*, pct.p[1] AS accept_p50_s, pct.p[2] AS accept_p90_s
FROM sums LEFT JOIN pct USING (key) ORDER BY key
"""


def _filtered(flt: KpiFilter) -> bool:
    return flt.service_type is not None or flt.provider_id is not None or flt.township_id is not None


def _order_figures(conn: psycopg.Connection, flt: KpiFilter, dim: Dimension | None) -> list[dict[str, Any]]:
    params: dict[str, Any] = {
        "from": flt.from_day,
        "to": flt.to_day,
        "service_type": flt.service_type,
        "provider_id": flt.provider_id,
        "township_id": flt.township_id,
    }
    if _filtered(flt):
        key, label, join = DAILY_KEYS[dim]
        clauses = ["r.day BETWEEN %(from)s AND %(to)s"]
        if flt.service_type:
            clauses.append("r.service_type = %(service_type)s")
        if flt.provider_id is not None:
            clauses.append("r.provider_id = %(provider_id)s")
        if flt.township_id is not None:
            clauses.append("r.township_id = %(township_id)s")
        source = "SELECT * FROM kpi_order_daily r WHERE " + " AND ".join(clauses)  # noqa: S608 - fixed clauses
    else:
        dimension, key, label, join = SLICE_KEYS[dim]
        params["dimension"] = dimension
        source = (
            "SELECT * FROM kpi_order_slice r WHERE r.dimension = %(dimension)s AND r.day BETWEEN %(from)s AND %(to)s"
        )
    query = sql.SQL(ORDER_FIGURES).format(
        source=sql.SQL(source), key=sql.SQL(key), label=sql.SQL(label), join=sql.SQL(join)
    )
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()


ALARM_KEYS: dict[Dimension | None, tuple[str, str, str, str]] = {
    None: ("all", "'all'", "'all'", ""),
    Dimension.TOWNSHIP: ("township", "r.key", "min(t.name)", "JOIN township t ON t.id = r.key::integer"),
    Dimension.DAY: ("all", "r.day::text", "r.day::text", ""),
}


def _alarm_figures(conn: psycopg.Connection, flt: KpiFilter, dim: Dimension | None) -> list[dict[str, Any]]:
    """Critical and warning alarms (the slices leave info alarms out), from the slices."""
    dimension, key, label, join = ALARM_KEYS[dim]
    clauses = ["r.day BETWEEN %(from)s AND %(to)s"]
    if flt.township_id is not None:
        dimension, clauses = "township", [*clauses, "r.key = %(township_id)s::text"]
    query = sql.SQL(
        """
        WITH r AS MATERIALIZED (SELECT * FROM kpi_alarm_slice r WHERE r.dimension = %(dimension)s AND {where}),
        sums AS (
            SELECT {key} AS key, {label} AS label, sum(raised)::int AS alarms,
                   sum(acknowledged)::int AS acknowledged, sum(ack_60)::int AS ack_60, sum(ack_180)::int AS ack_180
            FROM r {join} GROUP BY 1),
        pct AS MATERIALIZED (
            SELECT {key} AS key, percentile_cont(0.5) WITHIN GROUP (ORDER BY s) AS p50
            FROM r CROSS JOIN LATERAL unnest(r.ack_secs) s GROUP BY 1)
        SELECT sums.*, pct.p50 AS ack_p50_s FROM sums LEFT JOIN pct USING (key) ORDER BY key
        """
    ).format(where=sql.SQL(" AND ".join(clauses)), key=sql.SQL(key), label=sql.SQL(label), join=sql.SQL(join))
    params = {"dimension": dimension, "from": flt.from_day, "to": flt.to_day, "township_id": flt.township_id}
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()


def _rates(counts: dict[str, Any]) -> dict[str, Rate]:
    """The percentages these counts give (those whose counts are there), each with its own denominator."""
    return {
        name: Rate(numerator=counts[part] or 0, denominator=counts[whole] or 0, target=TARGETS.get(name))
        for name, (part, whole) in RATES.items()
        if part in counts and whole in counts
    }


_ORDER_COUNTS = ("orders", "accepted", "arrival_measured", "completed", "cancelled", "escalated", "closed", "reviewed")


def _figures(order: dict[str, Any] | None, alarm: dict[str, Any] | None, key: str, label: str) -> Figures:
    counts = {**(order or {}), **(alarm or {})}
    rates = _rates(counts)
    update: dict[str, Any] = {name: rate.value for name, rate in rates.items()}
    if order:
        update.update({k: order[k] for k in (*_ORDER_COUNTS, "accept_p50_s", "accept_p90_s")})
        update["satisfaction"] = order["satisfaction_sum"] / order["reviewed"] if order["reviewed"] else None
    if alarm:
        update.update({k: alarm[k] for k in ("alarms", "acknowledged", "ack_p50_s")})
    label = order["label"] if order else alarm["label"] if alarm else label
    return Figures(key=key, label=label, rates=rates, **update)


def _merged(conn: psycopg.Connection, flt: KpiFilter, dim: Dimension | None) -> list[Figures]:
    orders = {row["key"]: row for row in _order_figures(conn, flt, dim)}
    # alarms belong to elders, not to service types or providers: shown only where they apply
    with_alarms = dim in ALARM_KEYS and flt.service_type is None and flt.provider_id is None
    alarms = {row["key"]: row for row in _alarm_figures(conn, flt, dim)} if with_alarms else {}
    keys = sorted(set(orders) | set(alarms), key=lambda k: (len(k), k) if dim is not Dimension.DAY else (0, k))
    return [_figures(orders.get(k), alarms.get(k), k, k) for k in keys]


def report(conn: psycopg.Connection, flt: KpiFilter) -> KpiReport:
    """Every KPI over the filter's days, in total and by service type, provider, township and day."""
    total = _merged(conn, flt, None)
    return KpiReport(
        filter=flt,
        targets=TARGETS,
        total=total[0] if total else Figures(key="all", label="all"),
        by_service_type=_merged(conn, flt, Dimension.SERVICE_TYPE),
        by_provider=_merged(conn, flt, Dimension.PROVIDER),
        by_township=_merged(conn, flt, Dimension.TOWNSHIP),
        by_day=_merged(conn, flt, Dimension.DAY),
    )
