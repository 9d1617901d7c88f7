"""An empty, migrated database and a small seeded city written as the bureau's spreadsheets."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from eldercare import imports, seed
from eldercare.config import CHIBI
from eldercare.seed.sheets import city_sheets, write_sheet

TODAY = date(2026, 1, 7)
NOW = datetime(2026, 1, 7, 2, 0, tzinfo=UTC)
CONTEXT = imports.Context(actor="importer", today=TODAY, now=NOW, city=CHIBI)


@pytest.fixture(scope="session")
def sheets() -> dict[str, list[dict[str, Any]]]:
    """A seeded city of 60 elders (with contacts and devices), 6 providers and 12 caregivers, as import rows."""
    return city_sheets(seed.generate(seed.SeedPlan(elders=60, seed=7, providers=6, caregivers=12)))


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url) as connection:
        yield connection


def load(
    conn: psycopg.Connection,
    tmp_path: Path,
    kind: str,
    rows: list[dict[str, Any]],
    *,
    dry_run: bool = False,
    suffix: str = ".xlsx",
    language: str = "zh",
) -> imports.Report:
    path = write_sheet(tmp_path / f"{kind}{suffix}", kind, rows, language)
    return imports.import_file(conn, kind, path.name, path.read_bytes(), CONTEXT, dry_run=dry_run)


def count(conn: psycopg.Connection, table: str) -> int:
    row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608 - test's own table names
    assert row is not None
    return int(row[0])
