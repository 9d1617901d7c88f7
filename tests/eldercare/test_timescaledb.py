"""TimescaleDB's path run for real: compression, retention and the continuous aggregate, against plain PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from dashboard import elders
from eldercare import maintenance
from gateway import readings
from tests.services import Databases, on_both_backends

NOW = datetime.now(UTC).replace(second=0, microsecond=0)
DEVICES = ("pdt000002", "wch000001")


def _city(conn: psycopg.Connection) -> None:
    conn.execute(
        """
        INSERT INTO township (code, name, lat, lon) VALUES ('T1', '蒲圻街道', 29.7, 113.9);
        INSERT INTO community (township_id, code, name, lat, lon) VALUES (1, 'C1', '金鸡山社区', 29.7, 113.9);
        INSERT INTO elder (code, name, gender, birth_date, community_id, address, lat, lon)
            VALUES ('E1', '王秀英', 'F', '1940-05-01', 1, '金鸡路1号', 29.71, 113.89);
        INSERT INTO device (id, type, elder_id, secret_hash) VALUES ('wch000001', 'watch', 1, 'x');
        INSERT INTO device (id, type, elder_id, secret_hash) VALUES ('pdt000002', 'pendant', 1, 'x');
        """
    )


def _rows(days: int, every: timedelta, seq_from: int = 0) -> list[readings.Row]:
    """Readings of both devices of elder 1 over the last ``days``, one per device every ``every``."""
    rows: list[readings.Row] = []
    steps = int(timedelta(days=days) / every)
    for step in range(steps):
        ts = NOW - step * every
        for n, device in enumerate(DEVICES):
            rows.append((device, 1, ts, ts, seq_from + step, 60 + (step * 7 + n) % 50, 90 + step % 10,
                         110 + step % 40, 70 + step % 20, 36.0 + (step % 10) / 10, step * 3, None, None,
                         100 - step % 100))  # fmt: skip
    return rows


def _store(url: str, rows: list[readings.Row]) -> int:
    """Store through the gateway's COPY path; returns how many were new (a copy with other values fails)."""
    with psycopg.connect(url) as conn:
        readings.prepare(conn)
        stored = readings.insert(conn, rows)
    assert stored.conflicts == set()
    return stored.new


def _run_job(url: str, proc: str, relation: str) -> None:
    """Run the TimescaleDB policy job ``proc`` of ``relation`` now, as its scheduler would."""
    with psycopg.connect(url, autocommit=True) as conn:
        job = conn.execute(
            "SELECT job_id FROM timescaledb_information.jobs WHERE proc_name = %s AND hypertable_name IN "
            "(%s, (SELECT materialization_hypertable_name FROM timescaledb_information.continuous_aggregates "
            "WHERE view_name = %s))",
            (proc, relation, relation),
        ).fetchone()
        assert job is not None, f"no {proc} job for {relation}"
        conn.execute("CALL run_job(%s)", job)


def _answers(url: str) -> tuple[list[elders.Reading], list[elders.HourlyReading], list[tuple]]:
    """What the elder's page shows (raw readings, hourly chart) and a whole-history aggregate per day."""
    with psycopg.connect(url) as conn:
        # two devices' readings at the same instant come in either order
        raw = sorted(elders.readings(conn, 1, NOW, hours=24 * 12), key=lambda r: (r.ts, r.hr or 0))
        hourly = elders.hourly_readings(conn, 1, NOW, days=30)
        daily = conn.execute(
            "SELECT device_id, date_bin('1 day', ts, TIMESTAMPTZ '2000-01-01') AS day, count(*), sum(hr), "
            "min(spo2), max(sbp), sum(steps) FROM reading WHERE elder_id = 1 GROUP BY 1, 2 ORDER BY 1, 2"
        ).fetchall()
    return raw, hourly, daily


@pytest.fixture
def city_url(database_url: str) -> str:
    with psycopg.connect(database_url) as conn:
        _city(conn)
    return database_url


@pytest.mark.parametrize("backend", ["timescaledb"], indirect=True)
def test_compression_policy_compresses_old_chunks_and_answers_stay_the_same(city_url: str) -> None:
    history = _rows(days=20, every=timedelta(minutes=20))
    assert _store(city_url, history) == 2 * 20 * 72
    with psycopg.connect(city_url) as conn:
        conn.execute("SELECT refresh_reading_hourly(%s, %s)", (NOW - timedelta(days=31), NOW))  # the plain path's
    before = _answers(city_url)
    # 20 days back from now touch 21 days (UTC), or 20 when now is in the day's last 20 minutes
    days = {(device, ts.astimezone(UTC).date()) for device, _, ts, *_ in history}
    assert len(before[1]) >= 20 * 24 and len(before[2]) == len(days) in (2 * 20, 2 * 21)

    _run_job(city_url, "policy_compression", "reading")
    ran = datetime.now(UTC)  # the policy judges "older than 7 days" by the clock when it ran, a little after NOW

    with psycopg.connect(city_url) as conn:
        chunks = conn.execute(
            "SELECT range_end <= %s - INTERVAL '7 days', range_end <= %s - INTERVAL '7 days', is_compressed "
            "FROM timescaledb_information.chunks WHERE hypertable_name = 'reading'",
            (NOW, ran),
        ).fetchall()
        assert sum(old for old, _, _ in chunks) >= 12
        assert all(compressed for old, _, compressed in chunks if old), "every chunk older than 7 days is compressed"
        assert not any(compressed for _, old, compressed in chunks if not old), "and only those"
        stats = conn.execute(
            "SELECT sum(before_compression_total_bytes), sum(after_compression_total_bytes) "
            "FROM chunk_compression_stats('reading') WHERE compression_status = 'Compressed'"
        ).fetchone()
        assert stats is not None and stats[1] < stats[0]
    assert _answers(city_url) == before

    # a redelivered batch landing in compressed chunks is stored once, the new reading in it too
    again = _rows(days=20, every=timedelta(minutes=20))[-5:]
    old = NOW - timedelta(days=15, seconds=7)
    fresh = ("wch000001", 1, old, NOW, 999_999, 70, 97, 120, 80, 36.5, None, None, None, 90)
    assert _store(city_url, [*again, fresh]) == 1
    with psycopg.connect(city_url) as conn:
        assert conn.execute("SELECT count(*) FROM reading").fetchone() == (2 * 20 * 72 + 1,)
        # a copy with other values than the compressed reading it repeats is found out, not stored
        changed = (*again[0][:5], 150, *again[0][6:])
        readings.prepare(conn)
        stored = readings.insert(conn, [changed])
        assert (stored.new, len(stored.conflicts)) == (0, 1)


@on_both_backends
def test_retention_drops_readings_and_rollups_older_than_400_days(city_url: str, backend: str) -> None:
    old = [NOW - timedelta(days=410), NOW - timedelta(days=390), NOW - timedelta(hours=1)]
    rows: list[readings.Row] = [
        ("wch000001", 1, ts, ts, n, 70, 97, 120, 80, 36.5, None, None, None, 90) for n, ts in enumerate(old)
    ]
    with psycopg.connect(city_url) as conn:
        for ts in old:
            maintenance.ensure_partitions(conn, ts)
    assert _store(city_url, rows) == 3
    with psycopg.connect(city_url, autocommit=True) as conn:
        conn.execute("SELECT refresh_reading_hourly(%s, %s)", (NOW - timedelta(days=420), NOW))
        if backend == "timescaledb":
            conn.execute(
                "CALL refresh_continuous_aggregate('reading_hourly', %s, %s)", (NOW - timedelta(days=420), NOW)
            )
    if backend == "timescaledb":
        _run_job(city_url, "policy_retention", "reading")
        _run_job(city_url, "policy_retention", "reading_hourly")
    else:
        with psycopg.connect(city_url) as conn:
            assert maintenance.apply_retention(conn, NOW) >= 1
    with psycopg.connect(city_url) as conn:
        kept = [r[0] for r in conn.execute("SELECT seq FROM reading ORDER BY seq").fetchall()]
        buckets = conn.execute("SELECT count(*), min(bucket) FROM reading_hourly").fetchone()
    assert kept == [1, 2]
    assert buckets is not None and buckets[0] == 2 and buckets[1] > NOW - timedelta(days=400)


def test_continuous_aggregate_equals_the_plain_rollup(databases: Databases, timescale_databases: Databases) -> None:
    rows = _rows(days=2, every=timedelta(minutes=7))  # within the refresh policy's three days
    results = []
    for dbs in (databases, timescale_databases):
        url = dbs.create()
        try:
            with psycopg.connect(url) as conn:
                _city(conn)
                maintenance.ensure_partitions(conn, NOW - timedelta(days=2))
            _store(url, rows)
            with psycopg.connect(url, autocommit=True) as conn:
                before = conn.execute("SELECT * FROM reading_hourly ORDER BY device_id, bucket").fetchall()
                conn.execute(
                    "SELECT refresh_reading_hourly(%s, %s)", (NOW - timedelta(days=3), NOW + timedelta(hours=1))
                )
                if dbs is timescale_databases:
                    _run_job(url, "policy_refresh_continuous_aggregate", "reading_hourly")
                results.append(conn.execute("SELECT * FROM reading_hourly ORDER BY device_id, bucket").fetchall())
                if dbs is timescale_databases:
                    assert before == results[-1], "not yet materialised, the aggregate answers from the readings"
        finally:
            dbs.drop(url)
    plain, timescale = results
    assert len(plain) >= 2 * 48
    assert timescale == plain
