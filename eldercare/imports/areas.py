"""The ``areas`` import: the city's townships and their communities, one community a row; a row never renames
a township or community, makes a second one of a name, or moves a community to another township."""

from __future__ import annotations

import psycopg

from eldercare import areas
from eldercare.imports.cells import CellProblems, Column, Row
from eldercare.imports.run import Context, Saved


def located(
    row: Row, context: Context, lat_key: str, lon_key: str, *, required: bool = False
) -> tuple[float, float] | None:
    """The row's latitude and longitude, both or neither, inside the city (else noted on the row)."""
    lat = row.number(lat_key, required=required)
    lon = row.number(lon_key, required=required)
    if lat is None or lon is None:
        if (lat is None) != (lon is None) and not row.problems:
            row.note(lat_key if lat is None else lon_key, "half_location")
        return None
    city = context.city
    if not city.contains(lat, lon):
        row.note(
            lat_key,
            "outside_city",
            lat=f"{lat:.5f}",
            lon=f"{lon:.5f}",
            south=city.south,
            north=city.north,
            west=city.west,
            east=city.east,
        )
        return None
    return lat, lon


class Areas:
    name: str = "areas"
    titles: tuple[str, ...] = ("areas", "区域")
    columns: tuple[Column, ...] = (
        Column(
            "township", "乡镇街道", "township", required=True, note="乡镇或街道名称，如 蒲圻街道", example="蒲圻街道"
        ),
        Column("township_code", "乡镇编码", "township code", note="可空；空时自动编号", example="PQ"),
        Column("community", "社区村", "community", required=True, note="社区或村名称", example="金鸡山社区"),
        Column("community_code", "社区编码", "community code", note="可空；空时自动编号", example="PQ-001"),
        Column("lat", "纬度", "latitude", note="社区中心纬度，可空（取乡镇中心）", example="29.716"),
        Column("lon", "经度", "longitude", note="社区中心经度，可空", example="113.900"),
    )

    def natural_key(self, row: Row) -> tuple[str, str] | None:
        township, community = row.text("township"), row.text("community")
        return ("community", f"{township}/{community}") if township and community else None

    def save(self, conn: psycopg.Connection, row: Row, context: Context) -> Saved:
        township = row.text("township", required=True)
        community = row.text("community", required=True)
        township_code, community_code = row.text("township_code"), row.text("community_code")
        centre = located(row, context, "lat", "lon")
        _keeps_name(conn, row, "township", township_code, township)
        _keeps_name(conn, row, "community", community_code, community)
        _township_once(conn, row, township, township_code)
        _community_once(conn, row, township, township_code, community, community_code)
        _stays_in_township(conn, row, township, township_code, community_code)
        row.check()
        assert township is not None and community is not None
        town = areas.save_township(conn, township, township_code, None, context.city.centre, context.actor)
        if town.created and centre is not None:
            # a township first met with a located community is centred there until it has a centre of its own
            town = areas.save_township(conn, township, town.code, centre, context.city.centre, context.actor)
        place = areas.save_community(conn, town, community, community_code, centre, context.actor)
        if place.created:
            return Saved("created")
        return Saved("updated" if place.changed else "unchanged")


_NAME_OF_CODE = {
    "township": "SELECT name FROM township WHERE code = %s",
    "community": "SELECT name FROM community WHERE code = %s",
}


def _keeps_name(conn: psycopg.Connection, row: Row, place: str, code: str | None, name: str | None) -> None:
    """Note on the row a code the register (or an earlier row of the file) has under another name: saving the row
    would rename that township or community, and the records that name it would lose it."""
    if code is None or name is None:
        return
    found = conn.execute(_NAME_OF_CODE[place], (code,)).fetchone()
    if found is not None and found[0] != name:
        row.note(f"{place}_code", f"{place}_renamed", value=code, registered=found[0], given=name)


def _township_once(conn: psycopg.Connection, row: Row, name: str | None, code: str | None) -> None:
    """Note on the row a new township code given to a name the register has under another code: saving the row
    would make a second township of that name, and finding a township by its name would pick either."""
    if code is None or name is None:
        return
    found = conn.execute(
        "SELECT code FROM township WHERE name = %s AND NOT EXISTS (SELECT 1 FROM township WHERE code = %s) "
        "ORDER BY code LIMIT 1",
        (name, code),
    ).fetchone()
    if found is not None:
        row.note("township_code", "township_duplicated", value=code, registered=found[0], given=name)


def _community_once(
    conn: psycopg.Connection,
    row: Row,
    township: str | None,
    township_code: str | None,
    name: str | None,
    code: str | None,
) -> None:
    """Note on the row a new community code given to a name the row's township (found by its code, else its
    name) has under another code: saving the row would make a second community of that name there."""
    if township is None or code is None or name is None:
        return
    found = conn.execute(
        "SELECT c.code FROM community c JOIN township t ON t.id = c.township_id "
        "WHERE c.name = %s AND (t.code = %s OR (%s::text IS NULL AND t.name = %s)) "
        "AND NOT EXISTS (SELECT 1 FROM community WHERE code = %s) ORDER BY c.code LIMIT 1",
        (name, township_code, township_code, township, code),
    ).fetchone()
    if found is not None:
        row.note(
            "community_code", "community_duplicated", value=code, registered=found[0], given=name, township=township
        )


def _stays_in_township(
    conn: psycopg.Connection, row: Row, township: str | None, township_code: str | None, community_code: str | None
) -> None:
    """Note on the row a community code the register has in another township than the row's (found by its code,
    else its name): saving the row would move that community, and its elders and service areas with it."""
    if township is None or community_code is None:
        return
    found = conn.execute(
        "SELECT c.name, t.code, t.name FROM community c JOIN township t ON t.id = c.township_id WHERE c.code = %s",
        (community_code,),
    ).fetchone()
    if found is None:
        return
    name, registered_code, registered_township = found
    same = registered_code == township_code if township_code is not None else registered_township == township
    if not same:
        row.note(
            "community_code",
            "community_moved",
            value=community_code,
            registered=name,
            township=registered_township,
            given=township,
        )


__all__ = ["Areas", "CellProblems", "located"]
