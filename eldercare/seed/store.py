"""Writing a seeded city into the database with COPY, emptying it, and saving the manifest."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from eldercare.seed.model import HISTORY_TABLES, TABLES, City

COLUMNS: dict[str, tuple[str, ...]] = {
    "township": ("id", "code", "name", "lat", "lon"),
    "community": ("id", "township_id", "code", "name", "lat", "lon"),
    "elder": (
        "id",
        "code",
        "name",
        "gender",
        "birth_date",
        "phone",
        "language",
        "community_id",
        "address",
        "lat",
        "lon",
        "ability_level",
        "lives_alone",
        "left_behind",
        "economic_status",
        "living_situation",
    ),
    "emergency_contact": ("id", "elder_id", "name", "relation", "phone", "language", "priority"),
    "device": ("id", "type", "elder_id", "secret_hash", "battery", "firmware"),
    "provider": ("id", "code", "name", "phone", "manager_name", "manager_phone", "standing", "capacity"),
    "provider_service": ("provider_id", "service_type"),
    "provider_area": ("provider_id", "community_id"),
    "caregiver": (
        "id",
        "code",
        "provider_id",
        "name",
        "gender",
        "phone",
        "language",
        "home_lat",
        "home_lon",
        "travel_mode",
        "max_load",
        "rating",
    ),
    "caregiver_skill": ("caregiver_id", "service_type"),
    "caregiver_shift": ("id", "caregiver_id", "weekday", "starts", "ends"),
    "recurring_service": (
        "id",
        "elder_id",
        "service_type",
        "schedule",
        "duration_min",
        "lead_min",
        "starts_on",
    ),
}


def _copy(conn: psycopg.Connection, table: str, rows: list[tuple[Any, ...]]) -> None:
    columns = COLUMNS[table]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with conn.cursor().copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
    if "id" in columns and table != "device":
        # COPY writes identity values as given; move each sequence past them.
        conn.execute(
            sql.SQL("SELECT setval(pg_get_serial_sequence({t}, 'id'), (SELECT coalesce(max(id), 1) FROM {i}))").format(
                t=sql.Literal(table), i=sql.Identifier(table)
            )
        )


def count_elders(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT count(*) FROM elder").fetchone()
    return int(row[0]) if row else 0


def reset(conn: psycopg.Connection) -> None:
    """Delete every elder, device, provider and all history, keeping operators and the schema."""
    tables = ", ".join(HISTORY_TABLES + tuple(reversed(TABLES)))
    conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE".encode())


def write(conn: psycopg.Connection, city: City, progress: Callable[[str, int], None] | None = None) -> None:
    """Insert the city with COPY, in the caller's transaction."""
    for table in TABLES:
        _copy(conn, table, city.rows[table])
        if progress:
            progress(table, len(city.rows[table]))
    # the seeded devices are bound to their elders from now on, as the register binds (eldercare.device_register)
    conn.execute(
        "INSERT INTO device_binding (device_id, elder_id, bound_at, bound_by) "
        "SELECT id, elder_id, registered_at, 'seed' FROM device d WHERE elder_id IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM device_binding b WHERE b.device_id = d.id AND b.unbound_at IS NULL)"
    )


def write_manifest(path: Path, city: City) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(city.manifest, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    tmp.replace(path)
