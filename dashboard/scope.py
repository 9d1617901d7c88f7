"""Accounts limited to an area: one rule, applied to every route, so a township's operator sees only its own.

The rule: every record a request names (in its path, its query, its JSON body or its form) by one of the names
in ``OWNERS`` must lie inside the account's area, else the answer is 404, the same as for a record that does not
exist. A route that names none of them lists or summarises many records: it must either filter them by the area
(marked ``@area_filtered``, and its data function applies ``Area.over_elders``) or be city-wide by nature
(marked ``@city_wide``, with the reason); any other is refused (403) to an account limited to an area, so a route
added later is closed to such accounts until someone decides what it shows them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from fastapi import Request
from starlette.concurrency import run_in_threadpool

from dashboard.errors import NotFound, Refused
from eldercare.db import ID_MAX
from eldercare.i18n import N_
from eldercare.labels import Coded, Message

MARK = "__eldercare_area__"
FILTERED = "filtered"
CITY = "city"
PUBLIC = "public"

F = TypeVar("F", bound=Callable[..., Any])

# the township and community of the record each name refers to; no row: no such record (the route says 404)
_IN = "JOIN elder e ON e.id = x.elder_id JOIN community c ON c.id = e.community_id WHERE x.id = %s"
_OWNED = {
    "order_id": "service_order",
    "alarm_id": "alarm",
    "recurring_id": "recurring_service",
    "check_id": "spot_check",
    "complaint_id": "complaint",
    "rectification_id": "rectification",
}
OWNERS: dict[str, str] = {
    "elder_id": "SELECT c.township_id, c.id FROM elder e JOIN community c ON c.id = e.community_id WHERE e.id = %s",
    **{name: f"SELECT c.township_id, c.id FROM {table} x {_IN}" for name, table in _OWNED.items()},  # noqa: S608
    # an unbound device belongs to no area: the whole city's stock, outside every limited account
    "device_id": "SELECT c.township_id, c.id FROM device x LEFT JOIN elder e ON e.id = x.elder_id "
    "LEFT JOIN community c ON c.id = e.community_id WHERE x.id = %s",
    "community_id": "SELECT township_id, id FROM community WHERE id = %s",
    "township_id": "SELECT id, NULL FROM township WHERE id = %s",
}
TEXT_IDS = frozenset({"device_id"})


@dataclass(frozen=True, slots=True)
class Area:
    """The township or the community an account is limited to (exactly one is set)."""

    township_id: int | None = None
    community_id: int | None = None

    def holds(self, township_id: int | None, community_id: int | None) -> bool:
        if self.community_id is not None:
            return community_id == self.community_id
        return township_id is not None and township_id == self.township_id

    def over_elders(self, column: str) -> tuple[str, list[Any]]:
        """A SQL predicate (and its parameter) true when the elder id in ``column`` lives in the area."""
        if self.community_id is not None:
            return f"{column} IN (SELECT id FROM elder WHERE community_id = %s)", [self.community_id]  # noqa: S608
        township = "SELECT e.id FROM elder e JOIN community c ON c.id = e.community_id WHERE c.township_id = %s"
        return f"{column} IN ({township})", [self.township_id]

    def over_townships(self, column: str) -> tuple[str, list[Any]]:
        """A SQL predicate true when the township id in ``column`` is the area's (or holds its community)."""
        if self.community_id is not None:
            return f"{column} = (SELECT township_id FROM community WHERE id = %s)", [self.community_id]  # noqa: S608
        return f"{column} = %s", [self.township_id]


def area_of(township_id: int | None, community_id: int | None) -> Area | None:
    """The area of an account with these columns, None for the whole city."""
    if township_id is None and community_id is None:
        return None
    return Area(township_id, community_id)


def _mark(kind: str) -> Callable[[F], F]:
    def decorate(endpoint: F) -> F:
        setattr(endpoint, MARK, kind)
        return endpoint

    return decorate


area_filtered = _mark(FILTERED)
"""A route that lists or counts records and keeps to the account's area in its SQL."""


def city_wide(reason: str) -> Callable[[F], F]:
    """A route whose answer is the same for every account: no area's records in it (``reason`` says why)."""
    del reason  # for the reader, and for the scope test's list
    return _mark(CITY)


ROSTER = "providers and caregivers serve several townships; the records of an area they touch are checked"

public = _mark(PUBLIC)
"""A route that needs no sign-in (the token endpoint)."""


def _values(key: str, value: object) -> Iterator[tuple[str, object]]:
    if key in OWNERS and value not in (None, ""):
        yield from ((key, v) for v in value) if isinstance(value, list) else [(key, value)]


async def named_records(request: Request) -> list[tuple[str, object]]:
    """Every (name, id) of ``OWNERS`` the request carries, in its path, query, JSON body or form."""
    found: list[tuple[str, object]] = []
    for key, value in request.path_params.items():
        found += _values(key, value)
    for key, value in request.query_params.multi_items():
        found += _values(key, value)
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            try:
                body = json.loads(await request.body() or b"null")
            except ValueError:
                body = None  # the route's own validation answers it
            if isinstance(body, dict):
                for key, value in body.items():
                    found += _values(key, value)
        elif content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            for key, value in (await request.form()).multi_items():
                if isinstance(value, str):
                    found += _values(key, value)
    return found


def _key(name: str, value: object) -> object | None:
    """The id as the database compares it; None when it is not even an id (the route refuses it itself)."""
    if name in TEXT_IDS:
        return value if isinstance(value, str) else None
    try:
        number = int(str(value))
    except ValueError:
        return None
    return number if 1 <= number <= ID_MAX else None


def outside(conn: psycopg.Connection, area: Area, records: list[tuple[str, object]]) -> tuple[str, object] | None:
    """The first named record that exists and lies outside ``area``, or None."""
    for name, value in records:
        key = _key(name, value)
        if key is None:
            continue
        row = conn.execute(OWNERS[name], (key,)).fetchone()
        if row is not None and not area.holds(row[0], row[1]):
            return name, value
    return None


async def check(request: Request, area: Area, kind: str | None) -> None:
    """Refuse, as not found, a request naming a record outside ``area``; refuse unmarked summaries (403)."""
    records = await named_records(request)
    if records:

        def find() -> tuple[str, object] | None:
            with request.app.state.pool.connection() as conn:
                return outside(conn, area, records)

        hit = await run_in_threadpool(find)
        if hit is not None:
            raise NotFound(
                Message.of(N_("no such %(record)s"), record=Coded("record", hit[0].removesuffix("_id")))
            )  # as if absent: no hint of what lies outside
        return
    if kind not in (FILTERED, CITY):
        raise Refused(Message.of(N_("this page covers the whole city; an account limited to an area cannot open it")))


def kind_of(endpoint: object) -> str | None:
    """How a route is marked: FILTERED, CITY, PUBLIC or None."""
    kind = getattr(endpoint, MARK, None)
    return kind if isinstance(kind, str) else None


def township_of(area: Area | None, asked: int | None) -> int | None:
    """The township of a summary kept per township (KPIs): the one asked, or the account's own."""
    if area is None:
        return asked
    if area.community_id is not None:
        raise Refused(
            Message.of(N_("these figures are kept per township; an account limited to a community cannot open them"))
        )
    return area.township_id
