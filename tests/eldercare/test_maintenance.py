from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from eldercare import maintenance


def _partitions(conn: psycopg.Connection) -> set[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'reading'::regclass"
    ).fetchall()
    return {r[0] for r in rows}


def test_partitions_are_kept_a_week_ahead_and_old_ones_dropped(database_url: str) -> None:
    later = datetime.now(UTC) + timedelta(days=30)
    with psycopg.connect(database_url) as conn:
        assert maintenance.storage_engine(conn) == "postgresql"
        created = maintenance.ensure_partitions(conn, later)
        assert created == 9  # yesterday .. a week ahead of `later`, none of which existed
        assert f"reading_{(later + timedelta(days=7)):%Y%m%d}" in _partitions(conn)
        assert maintenance.ensure_partitions(conn, later) == 0
        dropped = maintenance.apply_retention(conn, later + timedelta(days=400), days=1)
        assert dropped >= created
        assert _partitions(conn) <= {"reading_default", f"reading_{(later + timedelta(days=7)):%Y%m%d}"}
