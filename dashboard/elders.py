"""Elders: the searchable register, one elder's profile with contacts and devices, and vital-sign series."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import class_row
from pydantic import BaseModel, Field

from dashboard.errors import NotFound
from dashboard.scope import Area
from eldercare.i18n import N_
from eldercare.labels import Message


class ElderSummary(BaseModel):
    id: int
    code: str
    name: str
    gender: str
    age: int
    phone: str | None
    address: str
    township: str
    community: str
    ability_level: int = Field(description="0 intact .. 4 total loss of ability")
    lives_alone: bool
    left_behind: bool
    economic_status: str
    lat: float
    lon: float
    open_alarms: int
    active: bool = True


class EmergencyContact(BaseModel):
    id: int
    name: str
    relation: str
    phone: str
    language: str
    priority: int
    notify_sms: bool


class Device(BaseModel):
    id: str
    type: str
    type_name_zh: str
    type_name_en: str
    elder_id: int
    elder_code: str
    elder_name: str
    online: bool
    last_seen_at: datetime | None
    battery: int | None
    firmware: str | None
    active: bool


class Elder(ElderSummary):
    birth_date: date
    language: str
    notes: str
    thresholds: dict[str, Any]
    contacts: list[EmergencyContact]
    devices: list[Device]


class Reading(BaseModel):
    ts: datetime
    hr: int | None
    spo2: int | None
    sbp: int | None
    dbp: int | None
    temp: float | None
    steps: int | None
    battery: int | None


class HourlyReading(BaseModel):
    bucket: datetime
    samples: int
    hr_avg: float | None
    hr_min: int | None
    hr_max: int | None
    spo2_avg: float | None
    spo2_min: int | None
    sbp_avg: float | None
    dbp_avg: float | None
    temp_avg: float | None
    steps_max: int | None


SUMMARY = """
SELECT e.id, e.code, e.name, e.gender, extract(year FROM age(current_date, e.birth_date))::int AS age, e.phone,
       e.address, t.name AS township, c.name AS community, e.ability_level, e.lives_alone, e.left_behind,
       e.economic_status, e.lat, e.lon, e.active,
       (SELECT count(*) FROM alarm a WHERE a.elder_id = e.id AND a.status <> 'resolved')::int AS open_alarms
FROM elder e
JOIN community c ON c.id = e.community_id
JOIN township t ON t.id = c.township_id
"""

DEVICE = """
SELECT d.id, d.type, dt.name_zh AS type_name_zh, dt.name_en AS type_name_en, d.elder_id, e.code AS elder_code,
       e.name AS elder_name, d.online, d.last_seen_at, d.battery, d.firmware, d.active
FROM device d JOIN device_type dt ON dt.code = d.type JOIN elder e ON e.id = d.elder_id
"""


def search(
    conn: psycopg.Connection,
    q: str | None,
    township_id: int | None,
    limit: int,
    offset: int,
    *,
    include_inactive: bool = False,
    area: Area | None = None,
) -> tuple[list[ElderSummary], int]:
    """Elders whose name, code, phone or resident ID number matches ``q`` (or all), in code order; the active
    ones only unless ``include_inactive``."""
    clauses = ["true" if include_inactive else "e.active"]
    params: list[Any] = []
    if q:
        clauses.append("(e.name LIKE %s OR e.code ILIKE %s OR e.phone LIKE %s OR e.resident_id = %s)")
        params += [f"%{q}%", f"{q}%", f"%{q}%", q.strip().upper()]
    if township_id is not None:
        clauses.append("c.township_id = %s")
        params.append(township_id)
    if area:
        clause, values = area.over_elders("e.id")
        clauses.append(clause)
        params += values
    where = " WHERE " + " AND ".join(clauses)
    total = conn.execute(
        f"SELECT count(*) FROM elder e JOIN community c ON c.id = e.community_id{where}",  # noqa: S608
        params,
    ).fetchone()
    with conn.cursor(row_factory=class_row(ElderSummary)) as cur:
        rows = cur.execute(f"{SUMMARY}{where} ORDER BY e.code LIMIT %s OFFSET %s", [*params, limit, offset]).fetchall()
    return rows, int(total[0]) if total else 0


def get_elder(conn: psycopg.Connection, elder_id: int) -> Elder:
    with conn.cursor(row_factory=class_row(ElderSummary)) as cur:
        summary = cur.execute(f"{SUMMARY} WHERE e.id = %s", (elder_id,)).fetchone()
    if summary is None:
        raise NotFound(Message.of(N_("no elder with id %(id)s"), id=elder_id))
    extra = conn.execute(
        "SELECT birth_date, language, notes, thresholds FROM elder WHERE id = %s", (elder_id,)
    ).fetchone()
    assert extra is not None
    with conn.cursor(row_factory=class_row(EmergencyContact)) as cur:
        contacts = cur.execute(
            "SELECT id, name, relation, phone, language, priority, notify_sms FROM emergency_contact "
            "WHERE elder_id = %s ORDER BY priority, id",
            (elder_id,),
        ).fetchall()
    with conn.cursor(row_factory=class_row(Device)) as cur:
        devices = cur.execute(f"{DEVICE} WHERE d.elder_id = %s ORDER BY d.type, d.id", (elder_id,)).fetchall()
    return Elder(
        **summary.model_dump(),
        birth_date=extra[0],
        language=extra[1],
        notes=extra[2],
        thresholds=extra[3],
        contacts=contacts,
        devices=devices,
    )


def readings(conn: psycopg.Connection, elder_id: int, now: datetime, hours: int) -> list[Reading]:
    """The elder's raw readings over the last ``hours``, oldest first."""
    with conn.cursor(row_factory=class_row(Reading)) as cur:
        return cur.execute(
            "SELECT ts, hr, spo2, sbp, dbp, temp, steps, battery FROM reading "
            "WHERE elder_id = %s AND ts >= %s AND ts <= %s ORDER BY ts LIMIT 20000",
            (elder_id, now - timedelta(hours=hours), now),
        ).fetchall()


def hourly_readings(conn: psycopg.Connection, elder_id: int, now: datetime, days: int) -> list[HourlyReading]:
    """The elder's hourly rollup over the last ``days`` (all devices together), oldest first."""
    with conn.cursor(row_factory=class_row(HourlyReading)) as cur:
        return cur.execute(
            """
            SELECT bucket, sum(samples)::int AS samples,
                   (sum(hr_avg * samples) FILTER (WHERE hr_avg IS NOT NULL)
                    / nullif(sum(samples) FILTER (WHERE hr_avg IS NOT NULL), 0))::real AS hr_avg,
                   min(hr_min) AS hr_min, max(hr_max) AS hr_max, avg(spo2_avg)::real AS spo2_avg,
                   min(spo2_min) AS spo2_min, avg(sbp_avg)::real AS sbp_avg, avg(dbp_avg)::real AS dbp_avg,
                   avg(temp_avg)::real AS temp_avg, max(steps_max) AS steps_max
            FROM reading_hourly WHERE elder_id = %s AND bucket >= %s AND bucket <= %s
            GROUP BY bucket ORDER BY bucket
            """,
            (elder_id, now - timedelta(days=days), now),
        ).fetchall()


def device_health(
    conn: psycopg.Connection,
    now: datetime,
    offline_minutes: int,
    low_battery: int,
    problem: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Device], int]:
    """Active devices, those with a problem first: offline (not heard from), low battery, longest silent."""
    stale = now - timedelta(minutes=offline_minutes)
    clauses = ["d.active", "d.elder_id IS NOT NULL"]  # an enrolled, unbound device has no elder to show here
    params: list[Any] = []
    if problem == "offline":
        clauses.append("(NOT d.online OR d.last_seen_at IS NULL OR d.last_seen_at < %s)")
        params.append(stale)
    elif problem == "low_battery":
        clauses.append("d.battery <= %s")
        params.append(low_battery)
    where = " WHERE " + " AND ".join(clauses)
    total = conn.execute(f"SELECT count(*) FROM device d{where}", params).fetchone()  # noqa: S608
    with conn.cursor(row_factory=class_row(Device)) as cur:
        rows = cur.execute(
            f"{DEVICE}{where} ORDER BY d.last_seen_at NULLS FIRST, d.id LIMIT %s OFFSET %s",
            [*params, limit, offset],
        ).fetchall()
    return rows, int(total[0]) if total else 0


def device_counts(conn: psycopg.Connection, now: datetime, offline_minutes: int, low_battery: int) -> dict[str, int]:
    row = conn.execute(
        """
        SELECT count(*),
               count(*) FILTER (WHERE NOT online OR last_seen_at IS NULL OR last_seen_at < %s),
               count(*) FILTER (WHERE battery <= %s)
        FROM device WHERE active AND elder_id IS NOT NULL
        """,
        (now - timedelta(minutes=offline_minutes), low_battery),
    ).fetchone()
    assert row is not None
    return {"total": row[0], "offline": row[1], "low_battery": row[2]}
