"""The city's townships (乡镇, 街道) and communities (社区, 村): added or renamed by code or name, audited.

Shared by the import and anything else that lays out a city; the demo seed writes its own fixed city.
Functions take a connection and do not commit.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from eldercare import audit


@dataclass(frozen=True, slots=True)
class Place:
    """A township or a community as written: its id, code, name and centre, and whether it was just created."""

    id: int
    code: str
    name: str
    lat: float
    lon: float
    created: bool = False
    changed: bool = False


def _place(row: tuple[int, str, str, float, float] | None) -> Place | None:
    return None if row is None else Place(*row)


def save_township(
    conn: psycopg.Connection,
    name: str,
    code: str | None,
    centre: tuple[float, float] | None,
    default_centre: tuple[float, float],
    actor: str,
) -> Place:
    """The township of that code (else that name), created or brought up to date; a new one without a centre
    gets ``default_centre`` (the city's), a new one without a code gets the next free ``T`` number."""
    found = _place(
        conn.execute(
            "SELECT id, code, name, lat, lon FROM township WHERE code = %s OR (%s::text IS NULL AND name = %s) "
            "ORDER BY code = %s DESC LIMIT 1",
            (code or "", code, name, code or ""),
        ).fetchone()
    )
    if found is None:
        code = code or _next_code(conn, "township", "T")
        lat, lon = centre or default_centre
        row = conn.execute(
            "INSERT INTO township (code, name, lat, lon) VALUES (%s, %s, %s, %s) RETURNING id", (code, name, lat, lon)
        ).fetchone()
        assert row is not None
        place = Place(int(row[0]), code, name, lat, lon, created=True)
        audit.record(conn, actor, "township.create", "township", place.id, {"before": None, "after": _state(place)})
        return place
    return _update(conn, "township", found, name, centre, actor)


def save_community(
    conn: psycopg.Connection,
    township: Place,
    name: str,
    code: str | None,
    centre: tuple[float, float] | None,
    actor: str,
) -> Place:
    """The community of that code (else that name in ``township``), created or brought up to date; a new one
    without a centre gets its township's."""
    found = _place(
        conn.execute(
            "SELECT id, code, name, lat, lon FROM community WHERE code = %s "
            "OR (%s::text IS NULL AND township_id = %s AND name = %s) ORDER BY code = %s DESC LIMIT 1",
            (code or "", code, township.id, name, code or ""),
        ).fetchone()
    )
    if found is None:
        code = code or _next_code(conn, "community", f"{township.code}-")
        lat, lon = centre or (township.lat, township.lon)
        row = conn.execute(
            "INSERT INTO community (township_id, code, name, lat, lon) VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (township.id, code, name, lat, lon),
        ).fetchone()
        assert row is not None
        place = Place(int(row[0]), code, name, lat, lon, created=True)
        after = {**_state(place), "township": township.code}
        audit.record(conn, actor, "community.create", "community", place.id, {"before": None, "after": after})
        return place
    conn.execute("UPDATE community SET township_id = %s WHERE id = %s", (township.id, found.id))
    return _update(conn, "community", found, name, centre, actor)


def _update(
    conn: psycopg.Connection, table: str, found: Place, name: str, centre: tuple[float, float] | None, actor: str
) -> Place:
    lat, lon = centre or (found.lat, found.lon)
    place = Place(found.id, found.code, name, lat, lon, changed=(name, lat, lon) != (found.name, found.lat, found.lon))
    if place.changed:
        statement = sql.SQL("UPDATE {} SET name = %s, lat = %s, lon = %s WHERE id = %s").format(sql.Identifier(table))
        conn.execute(statement, (name, lat, lon, found.id))
        audit.record(conn, actor, f"{table}.update", table, found.id, {"before": _state(found), "after": _state(place)})
    return place


def _next_code(conn: psycopg.Connection, table: str, prefix: str) -> str:
    """The first free code ``prefix`` + a number, counting on from how many rows start with ``prefix``."""
    query = sql.SQL("SELECT count(*) FROM {} WHERE starts_with(code, %s)").format(sql.Identifier(table))
    row = conn.execute(query, (prefix,)).fetchone()
    number = int(row[0]) + 1 if row else 1
    width = 3 if prefix.endswith("-") else 2
    exists = sql.SQL("SELECT 1 FROM {} WHERE code = %s").format(sql.Identifier(table))
    while conn.execute(exists, (f"{prefix}{number:0{width}d}",)).fetchone() is not None:
        number += 1
    return f"{prefix}{number:0{width}d}"


def _state(place: Place) -> dict[str, object]:
    return {"code": place.code, "name": place.name, "lat": place.lat, "lon": place.lon}
