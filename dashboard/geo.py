"""The map without a tile server: places, elders, open alarms and caregivers projected onto an SVG canvas."""

from __future__ import annotations

import math
from dataclasses import dataclass

import psycopg

WIDTH = 1000
HEIGHT = 700
MARGIN = 30


@dataclass(frozen=True, slots=True)
class Point:
    kind: str  # township, community, elder, alarm, caregiver
    id: int
    label: str
    x: float
    y: float
    severity: str = ""


@dataclass(frozen=True, slots=True)
class MapData:
    points: list[Point]
    width: int = WIDTH
    height: int = HEIGHT


def _raw(conn: psycopg.Connection) -> list[tuple[str, int, str, float, float, str]]:
    return conn.execute(
        """
        SELECT 'township', id, name, lat, lon, '' FROM township
        UNION ALL SELECT 'community', id, name, lat, lon, '' FROM community
        UNION ALL SELECT 'elder', id, name, lat, lon, '' FROM elder WHERE active
        UNION ALL SELECT 'caregiver', id, name, home_lat, home_lon, '' FROM caregiver WHERE active
        UNION ALL
        SELECT 'alarm', a.id, e.name || ' · ' || t.name_zh || ' ' || t.name_en, coalesce(a.lat, e.lat),
               coalesce(a.lon, e.lon), a.severity
        FROM alarm a JOIN elder e ON e.id = a.elder_id JOIN alarm_type t ON t.code = a.type
        WHERE a.status <> 'resolved'
        """
    ).fetchall()


def map_data(conn: psycopg.Connection) -> MapData:
    """Every point scaled into the canvas (equirectangular, corrected for latitude; fine at a city's scale)."""
    rows = _raw(conn)
    if not rows:
        return MapData([])
    lats = [r[3] for r in rows]
    lons = [r[4] for r in rows]
    mid_lat = (min(lats) + max(lats)) / 2
    x_scale = math.cos(math.radians(mid_lat))
    span_x = max((max(lons) - min(lons)) * x_scale, 1e-6)
    span_y = max(max(lats) - min(lats), 1e-6)
    scale = min((WIDTH - 2 * MARGIN) / span_x, (HEIGHT - 2 * MARGIN) / span_y)
    off_x = (WIDTH - span_x * scale) / 2
    off_y = (HEIGHT - span_y * scale) / 2
    points = [
        Point(
            kind=kind,
            id=row_id,
            label=label,
            x=round(off_x + (lon - min(lons)) * x_scale * scale, 1),
            y=round(HEIGHT - off_y - (lat - min(lats)) * scale, 1),
            severity=severity,
        )
        for kind, row_id, label, lat, lon, severity in rows
    ]
    order = {"community": 0, "elder": 1, "caregiver": 2, "township": 3, "alarm": 4}
    points.sort(key=lambda p: order[p.kind])
    return MapData(points)
