"""Writing a seeded city into the database, emptying it, and saving the manifest."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import psycopg

from eldercare.db import copy_rows
from eldercare.seed import enrolment
from eldercare.seed.model import COLUMNS, HISTORY_TABLES, REFERENCE_DAY, TABLES, City


def count_elders(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT count(*) FROM elder").fetchone()
    return int(row[0]) if row else 0


def reset(conn: psycopg.Connection) -> None:
    """Delete every elder, device, provider and all history, keeping operators and the schema."""
    tables = ", ".join(HISTORY_TABLES + tuple(reversed(TABLES)))
    conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE".encode())


def write(
    conn: psycopg.Connection,
    city: City,
    progress: Callable[[str, int], None] | None = None,
    today: date = REFERENCE_DAY,
) -> None:
    """Write the city in the caller's transaction: the places and the care plans with COPY, the people and their
    devices through the registers (``eldercare.seed.enrolment``)."""

    def done(table: str) -> None:
        if progress:
            progress(table, len(city.rows[table]))

    for table in ("township", "community"):
        copy_rows(conn, table, COLUMNS[table], city.rows[table])
        done(table)
    # a pipeline sends the registers' statements without waiting for each answer that nobody reads (COPY, which
    # the device register uses for many devices, cannot run in one)
    with conn.pipeline():
        enrolment.elders(conn, city, today)
    done("elder")
    done("emergency_contact")
    enrolment.devices(conn, city)
    done("device")
    with conn.pipeline():
        enrolment.providers(conn, city)
        enrolment.caregivers(conn, city)
    done("provider")
    done("caregiver")
    copy_rows(conn, "recurring_service", COLUMNS["recurring_service"], city.rows["recurring_service"])
    done("recurring_service")


def write_manifest(path: Path, city: City) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(city.manifest, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    tmp.replace(path)
