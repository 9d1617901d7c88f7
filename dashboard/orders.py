"""Service orders as operators see them: the board by status, the list with filters, one order's story."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row
from pydantic import BaseModel, Field

from dashboard.errors import Invalid, NotFound
from dashboard.paging import count_capped
from dashboard.scope import Area
from eldercare.i18n import N_
from eldercare.labels import Message
from eldercare.vocabulary import OrderStatus

# the order lifecycle belongs to the dispatcher; the dashboard shows and filters by its statuses


ACTIVE = (
    OrderStatus.ESCALATED,
    OrderStatus.CREATED,
    OrderStatus.OFFERED,
    OrderStatus.ACCEPTED,
    OrderStatus.EN_ROUTE,
    OrderStatus.ARRIVED,
)


class Order(BaseModel):
    id: int
    code: str
    elder_id: int
    elder_code: str
    elder_name: str
    elder_address: str
    township: str
    service_type: str
    service_name_zh: str
    service_name_en: str
    status: OrderStatus
    priority: int
    source: str
    alarm_id: int | None
    window_start: datetime
    window_end: datetime
    duration_min: int
    notes: str
    created_at: datetime
    created_by: str
    caregiver_id: int | None
    caregiver_name: str | None
    caregiver_phone: str | None
    provider_id: int | None
    provider_name: str | None
    offers_made: int
    accepted_at: datetime | None
    arrived_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    escalation_level: int
    satisfaction: int | None
    review_note: str | None
    reviewed_at: datetime | None
    updated_at: datetime


class TimelineEntry(BaseModel):
    at: datetime
    from_status: str | None
    to_status: str
    actor_kind: str
    actor: str
    actor_name: str | None = Field(None, description="the caregiver's or operator's name, for people to read")
    reason: str
    details: dict[str, Any]


class Offer(BaseModel):
    id: int
    caregiver_id: int
    caregiver_name: str
    caregiver_phone: str
    rank: int
    score: float
    distance_km: float
    eta_min: float
    reasons: dict[str, Any] = Field(description="why this caregiver was chosen: the ranking's terms")
    status: str
    created_at: datetime
    sent_at: datetime | None
    expires_at: datetime
    answered_at: datetime | None


class OrderDetail(Order):
    timeline: list[TimelineEntry]
    offers: list[Offer]


class OrderFilter(BaseModel):
    status: list[OrderStatus] | None = None
    service_type: str | None = None
    provider_id: int | None = None
    caregiver_id: int | None = None
    elder_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    area: Area | None = None  # an account's area: only its elders' orders


SELECT = """
SELECT o.id, o.code, o.elder_id, e.code AS elder_code, e.name AS elder_name, e.address AS elder_address,
       t.name AS township, o.service_type, st.name_zh AS service_name_zh, st.name_en AS service_name_en,
       o.status, o.priority, o.source, o.alarm_id, o.window_start, o.window_end, o.duration_min, o.notes,
       o.created_at, o.created_by, o.caregiver_id, cg.name AS caregiver_name, cg.phone AS caregiver_phone,
       o.provider_id, p.name AS provider_name, o.offers_made, o.accepted_at, o.arrived_at, o.completed_at,
       o.cancelled_at, o.cancel_reason, o.escalation_level, o.satisfaction, o.review_note, o.reviewed_at,
       o.updated_at
FROM service_order o
JOIN elder e ON e.id = o.elder_id
JOIN community c ON c.id = e.community_id
JOIN township t ON t.id = c.township_id
JOIN service_type st ON st.code = o.service_type
LEFT JOIN caregiver cg ON cg.id = o.caregiver_id
LEFT JOIN provider p ON p.id = o.provider_id
"""


def _where(flt: OrderFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if flt.status:
        clauses.append("o.status = ANY(%s)")
        params.append([s.value for s in flt.status])
    for column, value in (
        ("o.service_type", flt.service_type),
        ("o.provider_id", flt.provider_id),
        ("o.caregiver_id", flt.caregiver_id),
        ("o.elder_id", flt.elder_id),
    ):
        if value is not None:
            clauses.append(f"{column} = %s")
            params.append(value)
    if flt.since:
        clauses.append("o.created_at >= %s")
        params.append(flt.since)
    if flt.until:
        clauses.append("o.created_at < %s")
        params.append(flt.until)
    if flt.area:
        clause, values = flt.area.over_elders("o.elder_id")
        clauses.append(clause)
        params += values
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def list_orders(conn: psycopg.Connection, flt: OrderFilter, limit: int, offset: int) -> tuple[list[Order], int]:
    """One page of orders, newest first, and how many match in all."""
    where, params = _where(flt)
    total = count_capped(conn, f"FROM service_order o{where}", params)
    with conn.cursor(row_factory=class_row(Order)) as cur:
        rows = cur.execute(
            f"{SELECT}{where} ORDER BY o.created_at DESC, o.id DESC LIMIT %s OFFSET %s",
            [*params, limit, offset],
        ).fetchall()
    return rows, total


FINISHED = (OrderStatus.COMPLETED, OrderStatus.REVIEWED, OrderStatus.CANCELLED)
# an account's area (both None: the whole city), in each branch so that each status keeps its own newest
IN_AREA = (
    " AND (%(township)s::int IS NULL OR elder_id IN (SELECT e.id FROM elder e JOIN community c "
    "ON c.id = e.community_id WHERE c.township_id = %(township)s))"
    " AND (%(community)s::int IS NULL OR elder_id IN (SELECT id FROM elder WHERE community_id = %(community)s))"
)
# one branch per status, each with its status written out, so each is planned on the (status, created_at) index
NEWEST_PER_STATUS = sql.SQL(" UNION ALL ").join(
    sql.SQL(
        "(SELECT id FROM service_order WHERE status = {status}{recent}{area} "
        "ORDER BY created_at DESC LIMIT %(per_status)s)"
    ).format(
        status=sql.Literal(status.value),
        area=sql.SQL(IN_AREA),
        recent=sql.SQL(" AND updated_at >= %(since)s" if status in FINISHED else ""),
    )
    for status in OrderStatus
)


def board(
    conn: psycopg.Connection, now: datetime, per_status: int = 50, area: Area | None = None
) -> dict[OrderStatus, list[Order]]:
    """The newest orders of each status in progress, and of those finished in the last day, by status (of the
    elders in ``area``)."""
    place = {"township": area.township_id if area else None, "community": area.community_id if area else None}
    with conn.cursor(row_factory=class_row(Order)) as cur:
        rows = cur.execute(
            sql.SQL("{} WHERE o.id IN ({}) ORDER BY o.priority, o.created_at DESC").format(
                sql.SQL(SELECT), NEWEST_PER_STATUS
            ),
            {"since": now - timedelta(days=1), "per_status": per_status, **place},
        ).fetchall()
    grouped: dict[OrderStatus, list[Order]] = {status: [] for status in OrderStatus}
    for row in rows:
        grouped[row.status].append(row)
    return grouped


def get_order(conn: psycopg.Connection, order_id: int) -> OrderDetail:
    with conn.cursor(row_factory=class_row(Order)) as cur:
        order = cur.execute(f"{SELECT} WHERE o.id = %s", (order_id,)).fetchone()
    if order is None:
        raise NotFound(Message.of(N_("no order with id %(id)s"), id=order_id))
    with conn.cursor(row_factory=class_row(TimelineEntry)) as cur:
        timeline = cur.execute(
            "SELECT ev.at, ev.from_status, ev.to_status, ev.actor_kind, ev.actor, ev.reason, ev.details, "
            "CASE ev.actor_kind WHEN 'caregiver' THEN (SELECT name FROM caregiver WHERE code = ev.actor) "
            "WHEN 'operator' THEN (SELECT coalesce(nullif(display_name, ''), username) FROM operator "
            "WHERE username = ev.actor) END AS actor_name "
            "FROM order_event ev WHERE ev.order_id = %s ORDER BY ev.at, ev.id",
            (order_id,),
        ).fetchall()
    with conn.cursor(row_factory=class_row(Offer)) as cur:
        offers = cur.execute(
            """
            SELECT f.id, f.caregiver_id, cg.name AS caregiver_name, cg.phone AS caregiver_phone, f.rank, f.score,
                   f.distance_km, f.eta_min, f.reasons, f.status, f.created_at, f.sent_at, f.expires_at,
                   f.answered_at
            FROM offer f JOIN caregiver cg ON cg.id = f.caregiver_id
            WHERE f.order_id = %s ORDER BY f.created_at, f.rank
            """,
            (order_id,),
        ).fetchall()
    return OrderDetail(**order.model_dump(), timeline=timeline, offers=offers)


def week_bounds(week: str) -> tuple[date, date]:
    """Monday and the next Monday of an ISO week written ``2026-W05``."""
    year, _, number = week.partition("-W")
    try:
        if not 1900 <= int(year) <= 2999:
            raise ValueError("year out of range")
        monday = date.fromisocalendar(int(year), int(number), 1)
    except ValueError:
        raise Invalid(
            Message.of(N_("%(week)s is not a week: write YYYY-Www with a year 1900-2999, e.g. 2026-W05"), week=week)
        ) from None
    return monday, monday + timedelta(days=7)


def return_visit_sample(conn: psycopg.Connection, week: str, timezone: str, size: int) -> list[Order]:
    """A random sample of the week's completed orders for spot-check calls, the same whenever it is drawn.

    The order is decided by a hash of the order id and the week, so two operators (or two processes) asking
    for the same week get the same list, and next week's list is a fresh draw.
    """
    monday, next_monday = week_bounds(week)
    with conn.cursor(row_factory=class_row(Order)) as cur:
        return cur.execute(
            f"""{SELECT}
            WHERE o.completed_at >= %s::timestamp AT TIME ZONE %s AND o.completed_at < %s::timestamp AT TIME ZONE %s
              AND o.status IN ('completed', 'reviewed')
            ORDER BY md5(o.id::text || %s), o.id LIMIT %s""",
            (monday, timezone, next_monday, timezone, week, size),
        ).fetchall()


def awaiting_review(conn: psycopg.Connection, limit: int = 100) -> list[Order]:
    """Completed orders with no return visit yet, the most recently completed first."""
    with conn.cursor(row_factory=class_row(Order)) as cur:
        return cur.execute(
            f"{SELECT} WHERE o.status = 'completed' ORDER BY o.completed_at DESC LIMIT %s",
            (limit,),
        ).fetchall()
