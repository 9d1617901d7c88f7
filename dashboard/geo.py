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


@dataclass(frozen=True, slots=True)
class Projection:
    """Latitude and longitude to canvas x and y (equirectangular, corrected for latitude), and back in app.js."""

    min_lat: float
    min_lon: float
    x_scale: float
    scale: float
    off_x: float
    off_y: float
    height: int = HEIGHT

    def xy(self, lat: float, lon: float) -> tuple[float, float]:
        x = self.off_x + (lon - self.min_lon) * self.x_scale * self.scale
        y = self.height - self.off_y - (lat - self.min_lat) * self.scale
        return round(x, 1), round(y, 1)


def fit(lats: list[float], lons: list[float]) -> Projection:
    """The projection that fits these coordinates into the canvas, centred, within the margin."""
    mid_lat = (min(lats) + max(lats)) / 2
    x_scale = math.cos(math.radians(mid_lat))
    span_x = max((max(lons) - min(lons)) * x_scale, 1e-6)
    span_y = max(max(lats) - min(lats), 1e-6)
    scale = min((WIDTH - 2 * MARGIN) / span_x, (HEIGHT - 2 * MARGIN) / span_y)
    return Projection(min(lats), min(lons), x_scale, scale, (WIDTH - span_x * scale) / 2, (HEIGHT - span_y * scale) / 2)


def map_data(conn: psycopg.Connection) -> MapData:
    """Every point scaled into the canvas (equirectangular, corrected for latitude; fine at a city's scale)."""
    rows = _raw(conn)
    if not rows:
        return MapData([])
    projection = fit([r[3] for r in rows], [r[4] for r in rows])
    points = [
        Point(kind, row_id, label, *projection.xy(lat, lon), severity=severity)
        for kind, row_id, label, lat, lon, severity in rows
    ]
    order = {"community": 0, "elder": 1, "caregiver": 2, "township": 3, "alarm": 4}
    points.sort(key=lambda p: order[p.kind])
    return MapData(points)


def place_map(conn: psycopg.Connection) -> tuple[MapData, Projection | None]:
    """Townships and communities only, with the projection: the map a location is picked on."""
    rows = conn.execute(
        "SELECT 'township', id, name, lat, lon FROM township UNION ALL "
        "SELECT 'community', id, name, lat, lon FROM community ORDER BY 1"
    ).fetchall()
    if not rows:
        return MapData([]), None
    projection = fit([r[3] for r in rows], [r[4] for r in rows])
    return MapData([Point(kind, i, label, *projection.xy(lat, lon)) for kind, i, label, lat, lon in rows]), projection
