"""Pagination shared by the list endpoints: ``limit`` and ``offset`` in, a page with the total out.

Totals are counted up to COUNT_CAP rows: exact counts of a year of orders cost more than the page itself,
and nobody pages through ten thousand rows; ``total_capped`` says when there are more.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Generic, TypeVar

import psycopg
from fastapi import Query
from pydantic import BaseModel, Field

from dashboard.auth import Principal
from dashboard.privacy import masked

T = TypeVar("T", bound=BaseModel)

Limit = Annotated[int, Query(ge=1, le=500, description="items per page")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="items to skip")]


COUNT_CAP = 10_000


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description=f"rows matching, counted up to {COUNT_CAP}")
    total_capped: bool = Field(description=f"true when at least {COUNT_CAP} rows match")
    limit: int
    offset: int


def count_capped(conn: psycopg.Connection, from_where: str, params: Sequence[Any]) -> int:
    """How many rows ``SELECT 1 <from_where>`` gives, counting no further than COUNT_CAP."""
    row = conn.execute(
        f"SELECT count(*) FROM (SELECT 1 {from_where} LIMIT {COUNT_CAP}) capped",  # noqa: S608 - fixed clauses
        params,
    ).fetchone()
    return int(row[0]) if row else 0


def shown(principal: Principal, model: T) -> T:
    """The model as this principal may see it: masked for viewers."""
    return masked(model) if principal.masked else model


def page(principal: Principal, items: list[T], total: int, limit: int, offset: int) -> Page[T]:
    return Page[T](
        items=[shown(principal, item) for item in items],
        total=total,
        total_capped=total >= COUNT_CAP,
        limit=limit,
        offset=offset,
    )
