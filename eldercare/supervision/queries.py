"""Reading supervision back: checks, rectifications and complaints as lists, and the period's circular."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import psycopg
from psycopg.rows import class_row
from pydantic import BaseModel

FINDINGS = ("not_delivered", "illegal_charge", "late", "rude", "unsafe")


class Check(BaseModel):
    id: int
    plan_id: int
    period: str
    period_start: date
    level: str
    kind: str
    elder_id: int
    elder_code: str
    elder_name: str
    elder_phone: str | None
    elder_address: str
    township: str
    community: str
    provider_id: int | None
    provider_name: str | None
    order_code: str | None
    service_type: str | None
    checked_at: datetime | None
    checked_by: str | None
    reached: bool | None
    delivered: str | None
    punctual: bool | None
    attitude: str | None
    fee_asked_fen: int | None
    satisfaction: int | None
    unsafe: bool | None
    note: str
    photos: int


class Rectification(BaseModel):
    id: int
    provider_id: int
    provider_name: str
    elder_code: str
    township: str
    check_id: int | None
    complaint_id: int | None
    finding: str
    opened_at: datetime
    deadline: datetime
    answer: str | None
    closed_at: datetime | None
    alarm_id: int | None


class Complaint(BaseModel):
    id: int
    elder_id: int
    elder_code: str
    township: str
    provider_name: str | None
    source: str
    body: str
    received_at: datetime
    answer: str | None
    closed_at: datetime | None


class CircularRow(BaseModel):
    """One township and provider in a period's circular."""

    township: str
    provider: str
    planned: int
    done: int
    findings: dict[str, int]
    rectifications: int
    closed_on_time: int
    complaints: int


# an account's area as (township id, community id), either or both None; c is the elder's community in each query
Place = tuple[int | None, int | None]
CITY: Place = (None, None)
IN_PLACE = (
    "(%(township)s::int IS NULL OR c.township_id = %(township)s) "
    "AND (%(community)s::int IS NULL OR c.id = %(community)s)"
)


def _place(place: Place) -> dict[str, Any]:
    return {"township": place[0], "community": place[1]}


_CHECKS = """
SELECT k.id, k.plan_id, k.period, k.period_start, pl.level, k.kind, k.elder_id, e.code AS elder_code,
       e.name AS elder_name, e.phone AS elder_phone, e.address AS elder_address, t.name AS township,
       c.name AS community, k.provider_id, p.name AS provider_name, o.code AS order_code,
       o.service_type, k.checked_at, k.checked_by, k.reached, k.delivered, k.punctual, k.attitude,
       k.fee_asked_fen, k.satisfaction, k.unsafe, k.note,
       (SELECT count(*) FROM spot_check_photo ph WHERE ph.check_id = k.id)::int AS photos
FROM spot_check k
JOIN spot_check_plan pl ON pl.id = k.plan_id
JOIN elder e ON e.id = k.elder_id JOIN community c ON c.id = e.community_id JOIN township t ON t.id = c.township_id
LEFT JOIN provider p ON p.id = k.provider_id
LEFT JOIN service_order o ON o.id = k.order_id
"""


def checks(
    conn: psycopg.Connection, period: str, period_start: date, place: Place = CITY, level: str | None = None
) -> list[Check]:
    """The period's checks of elders in ``place`` (of plans at ``level``: each level sees its own), unrecorded
    first."""
    with conn.cursor(row_factory=class_row(Check)) as cur:
        return cur.execute(
            _CHECKS
            + " WHERE k.period = %(period)s AND k.period_start = %(start)s AND "
            + IN_PLACE
            + " AND (%(level)s::text IS NULL OR pl.level = %(level)s)"
            + " ORDER BY k.checked_at IS NOT NULL, t.name, k.kind, e.code",
            {"period": period, "start": period_start, "level": level, **_place(place)},
        ).fetchall()


def check(conn: psycopg.Connection, check_id: int) -> Check | None:
    with conn.cursor(row_factory=class_row(Check)) as cur:
        return cur.execute(_CHECKS + " WHERE k.id = %s", (check_id,)).fetchone()


_RECTIFICATIONS = """
SELECT r.id, r.provider_id, p.name AS provider_name, e.code AS elder_code, t.name AS township, r.check_id,
       r.complaint_id, r.finding, r.opened_at, r.deadline, r.answer, r.closed_at, r.alarm_id
FROM rectification r JOIN provider p ON p.id = r.provider_id
JOIN elder e ON e.id = r.elder_id JOIN community c ON c.id = e.community_id JOIN township t ON t.id = c.township_id
"""


def rectifications(conn: psycopg.Connection, place: Place = CITY, limit: int = 200) -> list[Rectification]:
    """Open rectifications first (the nearest deadline first), then the latest closed."""
    with conn.cursor(row_factory=class_row(Rectification)) as cur:
        return cur.execute(
            _RECTIFICATIONS
            + " WHERE "
            + IN_PLACE
            + " ORDER BY r.closed_at IS NOT NULL, r.deadline, r.closed_at DESC LIMIT %(limit)s",
            {**_place(place), "limit": limit},
        ).fetchall()


_COMPLAINTS = """
SELECT k.id, k.elder_id, e.code AS elder_code, t.name AS township, p.name AS provider_name, k.source, k.body,
       k.received_at, k.answer, k.closed_at
FROM complaint k JOIN elder e ON e.id = k.elder_id JOIN community c ON c.id = e.community_id
JOIN township t ON t.id = c.township_id LEFT JOIN provider p ON p.id = k.provider_id
"""


def complaints(conn: psycopg.Connection, place: Place = CITY, limit: int = 200) -> list[Complaint]:
    """Open complaints first, then the latest closed."""
    with conn.cursor(row_factory=class_row(Complaint)) as cur:
        return cur.execute(
            _COMPLAINTS + " WHERE " + IN_PLACE + " ORDER BY k.closed_at IS NOT NULL, k.received_at DESC "
            "LIMIT %(limit)s",
            {**_place(place), "limit": limit},
        ).fetchall()


_CIRCULAR = """
WITH bounds AS (
    SELECT (%(start)s::timestamp AT TIME ZONE %(tz)s) AS since, (%(end)s::timestamp AT TIME ZONE %(tz)s) AS until
), drawn AS (
    SELECT c.township_id, k.provider_id, count(*) AS planned, count(k.checked_at) AS done
    FROM spot_check k JOIN elder e ON e.id = k.elder_id JOIN community c ON c.id = e.community_id
    WHERE k.period = %(period)s AND k.period_start = %(start)s AND {IN_PLACE}
    GROUP BY 1, 2
), found AS (
    SELECT c.township_id, r.provider_id, r.finding, count(*) AS n,
           count(*) FILTER (WHERE r.closed_at <= r.deadline) AS on_time
    FROM rectification r JOIN spot_check k ON k.id = r.check_id
    JOIN elder e ON e.id = r.elder_id JOIN community c ON c.id = e.community_id
    WHERE k.period = %(period)s AND k.period_start = %(start)s AND {IN_PLACE}
    GROUP BY 1, 2, 3
), complained AS (
    SELECT c.township_id, k.provider_id, count(*) AS n
    FROM complaint k JOIN elder e ON e.id = k.elder_id JOIN community c ON c.id = e.community_id, bounds b
    WHERE k.received_at >= b.since AND k.received_at < b.until AND k.provider_id IS NOT NULL AND {IN_PLACE}
    GROUP BY 1, 2
), keys AS (
    SELECT township_id, provider_id FROM drawn UNION SELECT township_id, provider_id FROM found
    UNION SELECT township_id, provider_id FROM complained
)
SELECT t.name, p.name, coalesce(d.planned, 0)::int, coalesce(d.done, 0)::int,
       coalesce((SELECT jsonb_object_agg(f.finding, f.n) FROM found f
                 WHERE f.township_id = x.township_id AND f.provider_id = x.provider_id), '{}'),
       coalesce((SELECT sum(f.n) FROM found f WHERE f.township_id = x.township_id
                 AND f.provider_id = x.provider_id), 0)::int,
       coalesce((SELECT sum(f.on_time) FROM found f WHERE f.township_id = x.township_id
                 AND f.provider_id = x.provider_id), 0)::int,
       coalesce(m.n, 0)::int
FROM keys x JOIN township t ON t.id = x.township_id JOIN provider p ON p.id = x.provider_id
LEFT JOIN drawn d ON d.township_id = x.township_id AND d.provider_id = x.provider_id
LEFT JOIN complained m ON m.township_id = x.township_id AND m.provider_id = x.provider_id
ORDER BY t.name, p.name
""".replace("{IN_PLACE}", IN_PLACE)


def circular(
    conn: psycopg.Connection, period: str, start: date, end: date, timezone: str, place: Place = CITY
) -> list[CircularRow]:
    """Per township and provider: checks drawn and done, findings by kind, rectifications and how many were closed
    by their deadline, and complaints received in the period."""
    rows = conn.execute(
        _CIRCULAR, {"period": period, "start": start, "end": end, "tz": timezone, **_place(place)}
    ).fetchall()
    keys = ("township", "provider", "planned", "done", "findings", "rectifications", "closed_on_time", "complaints")
    return [CircularRow(**dict(zip(keys, row, strict=True))) for row in rows]
