"""The exceptions queue as operators read it: visits that failed verification, with who, where and why."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row
from pydantic import BaseModel


class VisitException(BaseModel):
    id: int
    order_id: int
    order_code: str
    service_type: str
    service_name_zh: str
    service_name_en: str
    elder_id: int
    elder_name: str
    caregiver_id: int | None
    caregiver_name: str | None
    kind: str
    details: dict[str, Any]
    raised_at: datetime
    visit_status: str | None
    arrived_at: datetime | None
    completed_at: datetime | None
    resolution: str | None
    resolution_reason: str | None
    resolved_by: str | None
    resolved_at: datetime | None


_FROM = """
FROM visit_exception x
JOIN service_order so ON so.id = x.order_id
JOIN service_type st ON st.code = so.service_type
JOIN elder e ON e.id = so.elder_id
LEFT JOIN visit v ON v.order_id = x.order_id
LEFT JOIN caregiver c ON c.id = coalesce(v.caregiver_id, so.caregiver_id)
WHERE (%(open)s::bool IS NULL OR (x.resolution IS NULL) = %(open)s) AND (%(id)s::bigint IS NULL OR x.id = %(id)s)
"""
_SELECT = f"""
SELECT x.id, x.order_id, so.code AS order_code, so.service_type, st.name_zh AS service_name_zh,
       st.name_en AS service_name_en, so.elder_id, e.name AS elder_name, c.id AS caregiver_id,
       c.name AS caregiver_name, x.kind, x.details, x.raised_at, v.status AS visit_status, v.arrived_at,
       v.completed_at, x.resolution, x.resolution_reason, x.resolved_by, x.resolved_at
{_FROM}
ORDER BY x.resolution IS NOT NULL, x.raised_at, x.id
LIMIT %(limit)s OFFSET %(offset)s
"""


def list_exceptions(
    conn: psycopg.Connection, open_only: bool | None, limit: int, offset: int
) -> tuple[list[VisitException], int]:
    """Exceptions, open ones first and oldest first; ``open_only`` True: open, False: resolved, None: all."""
    params = {"open": open_only, "id": None, "limit": limit, "offset": offset}
    with conn.cursor(row_factory=class_row(VisitException)) as cur:
        items = cur.execute(_SELECT, params).fetchall()
    row = conn.execute(f"SELECT count(*) {_FROM}", params).fetchone()
    return items, int(row[0]) if row else 0


def get_exception(conn: psycopg.Connection, exception_id: int) -> VisitException | None:
    with conn.cursor(row_factory=class_row(VisitException)) as cur:
        return cur.execute(_SELECT, {"id": exception_id, "open": None, "limit": 1, "offset": 0}).fetchone()
