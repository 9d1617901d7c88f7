"""Pagination shared by the list endpoints: ``limit`` and ``offset`` in, a page with the total out."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from dashboard.auth import Principal
from dashboard.privacy import masked

T = TypeVar("T", bound=BaseModel)

Limit = Annotated[int, Query(ge=1, le=500, description="items per page")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="items to skip")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def shown(principal: Principal, model: T) -> T:
    """The model as this principal may see it: masked for viewers."""
    return masked(model) if principal.masked else model


def page(principal: Principal, items: list[T], total: int, limit: int, offset: int) -> Page[T]:
    return Page[T](items=[shown(principal, item) for item in items], total=total, limit=limit, offset=offset)
