from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from eldercare import maintenance
from tests.services import on_both_backends


def _partitions(conn: psycopg.Connection) -> set[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'reading'::regclass"
    ).fetchall()
    return {r[0] for r in rows}


@on_both_backends
def test_partitions_are_kept_a_week_ahead_and_old_ones_dropped(database_url: str, backend: str) -> None:
    later = datetime.now(UTC) + timedelta(days=30)
    with psycopg.connect(database_url) as conn:
        assert maintenance.storage_engine(conn) == backend
        if backend == "timescaledb":  # chunks are TimescaleDB's business, and its policies drop them
            assert maintenance.ensure_partitions(conn, later) == 0
            assert maintenance.apply_retention(conn, later + timedelta(days=400), days=1) == 0
            return
        created = maintenance.ensure_partitions(conn, later)
        assert created == 9  # yesterday .. a week ahead of `later`, none of which existed
        assert f"reading_{(later + timedelta(days=7)):%Y%m%d}" in _partitions(conn)
        assert maintenance.ensure_partitions(conn, later) == 0
        dropped = maintenance.apply_retention(conn, later + timedelta(days=400), days=1)
        assert dropped >= created
        assert _partitions(conn) <= {"reading_default", f"reading_{(later + timedelta(days=7)):%Y%m%d}"}


@on_both_backends
def test_hourly_rollup_is_refreshed_by_the_job_or_answers_in_real_time(database_url: str) -> None:
    now = datetime.now(UTC)
    with psycopg.connect(database_url) as conn:
        conn.execute(
            """
            INSERT INTO township (code, name, lat, lon) VALUES ('T1', '蒲圻街道', 29.7, 113.9);
            INSERT INTO community (township_id, code, name, lat, lon) VALUES (1, 'C1', '金鸡山社区', 29.7, 113.9);
            INSERT INTO elder (code, name, gender, birth_date, community_id, address, lat, lon)
                VALUES ('E1', '王秀英', 'F', '1940-05-01', 1, '金鸡路1号', 29.71, 113.89);
            INSERT INTO device (id, type, elder_id, secret_hash) VALUES ('wch000001', 'watch', 1, 'x');
            """
        )
        conn.execute(
            "INSERT INTO reading (device_id, elder_id, ts, received_at, seq, hr) "
            "VALUES ('wch000001', 1, %s, %s, 1, 72)",
            (now - timedelta(minutes=30), now),
        )
        maintenance.refresh_rollups(conn, now)
        assert conn.execute("SELECT samples, hr_avg FROM reading_hourly").fetchall() == [(1, 72.0)]


@pytest.mark.parametrize("backend", ["timescaledb"], indirect=True)
def test_timescaledb_upkeep_is_policies(database_url: str) -> None:
    """On TimescaleDB the storage upkeep is its own jobs: compression, retention of readings and rollups, refresh."""
    with psycopg.connect(database_url) as conn:
        jobs = conn.execute(
            "SELECT proc_name, coalesce(c.view_name, j.hypertable_name), "
            "coalesce(config->>'compress_after', config->>'drop_after', config->>'start_offset') "
            "FROM timescaledb_information.jobs j LEFT JOIN timescaledb_information.continuous_aggregates c "
            "ON c.materialization_hypertable_name = j.hypertable_name WHERE j.hypertable_name IS NOT NULL"
        ).fetchall()
        realtime = conn.execute(
            "SELECT NOT materialized_only FROM timescaledb_information.continuous_aggregates "
            "WHERE view_name = 'reading_hourly'"
        ).fetchone()
    assert sorted(jobs) == [
        ("policy_compression", "reading", "7 days"),
        ("policy_refresh_continuous_aggregate", "reading_hourly", "3 days"),
        ("policy_retention", "reading", "400 days"),
        ("policy_retention", "reading_hourly", "400 days"),
    ]
    assert realtime == (True,)
    with psycopg.connect(database_url) as conn:
        compression = conn.execute(
            "SELECT segmentby, orderby, index::text FROM timescaledb_information.hypertable_compression_settings "
            "WHERE hypertable = 'reading'::regclass"
        ).fetchone()
    assert compression is not None and compression[:2] == ("device_id", "ts DESC,seq")
    assert '"type": "bloom", "column": "elder_id"' in compression[2] and compression[2].count("bloom") == 1
