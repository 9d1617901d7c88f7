from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from eldercare.db import connect
from eldercare.migrate import MIGRATIONS_DIR, MigrationError, discover, migrate
from tests.services import Databases, on_both_backends


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {r[0] for r in rows}


# A township, a community and an elder in it: the rows the tests below build on.
ONE_ELDER = """
INSERT INTO township (code, name, lat, lon) VALUES ('T1', '蒲圻街道', 29.7, 113.9);
INSERT INTO community (township_id, code, name, lat, lon) VALUES (1, 'C1', '金鸡山社区', 29.7, 113.9);
INSERT INTO elder (code, name, gender, birth_date, community_id, address, lat, lon)
    VALUES ('E1', '王秀英', 'F', '1940-05-01', 1, '金鸡路1号', 29.71, 113.89);
"""


@contextmanager
def _empty_database(backend_databases: Databases) -> Iterator[str]:
    """A database of the backend with an empty public schema, dropped afterwards."""
    url = backend_databases.create()
    try:
        with psycopg.connect(url) as conn:
            conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        yield url
    finally:
        backend_databases.drop(url)


@contextmanager
def _database_before(backend_databases: Databases, tmp_path: Path, version: int) -> Iterator[str]:
    """An empty database of the backend with the migrations before ``version`` applied, dropped afterwards."""
    for migration in discover():
        if migration.version < version:
            (tmp_path / migration.path.name).write_text(migration.sql)
    with _empty_database(backend_databases) as url:
        migrate(url, tmp_path)
        yield url


@on_both_backends
def test_migrations_apply_to_empty_database_and_reapply_as_no_op(backend_databases: Databases) -> None:
    with _empty_database(backend_databases) as url:
        applied = migrate(url)
        assert [m.version for m in applied] == [m.version for m in discover()]
        expected = {
            "elder",
            "device",
            "reading",
            "alarm",
            "service_order",
            "order_event",
            "offer",
            "sms_message",
            "recurring_service",
            "provider",
            "caregiver",
            "operator",
            "audit_log",
            "dead_letter",
        }
        assert expected <= _tables(url)
        before = _tables(url)
        assert migrate(url) == []
        assert _tables(url) == before


def test_an_edited_applied_migration_is_refused(database_url: str, tmp_path: Path) -> None:
    for migration in discover():
        (tmp_path / migration.path.name).write_text(migration.sql)
    first = sorted(tmp_path.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited\n")
    with pytest.raises(MigrationError, match=r"changed after it was applied"):
        migrate(database_url, tmp_path)


def test_a_failing_migration_names_itself_and_applies_nothing(database_url: str, tmp_path: Path) -> None:
    for migration in discover():
        (tmp_path / migration.path.name).write_text(migration.sql)
    (tmp_path / "9999_broken.sql").write_text("CREATE TABLE half_done (id int); SELECT no_such_function();")
    with pytest.raises(MigrationError, match=r"9999_broken\.sql failed"):
        migrate(database_url, tmp_path)
    assert "half_done" not in _tables(database_url)


def test_an_upgraded_database_has_the_statistics_of_the_caregivers_recent_orders_index_at_once(
    backend_databases: Databases, tmp_path: Path
) -> None:
    """A database with orders, migrated to 0241: the statistics of the index 0240 made on when each caregiver's orders
    stopped exist at once (without them the emergency matching query is planned as if it read every candidate's
    history, and compiled, JIT, where the server can), and its planner finds a caregiver's recent orders by it."""
    with _database_before(backend_databases, tmp_path, 240) as url:
        with psycopg.connect(url) as conn:
            conn.execute(ONE_ELDER)
            conn.execute(
                """
                INSERT INTO provider (code, name, phone, manager_name, manager_phone)
                    VALUES ('P1', 'P', '+8613800000000', 'p', '+8613800000001');
                INSERT INTO caregiver (code, provider_id, name, gender, phone, home_lat, home_lon)
                    SELECT 'C' || n, 1, 'c', 'F', '+86139000000' || lpad(n::text, 2, '0'), 29.7, 113.9
                    FROM generate_series(1, 20) n;
                """
            )
            conn.execute(
                "INSERT INTO service_order (code, elder_id, service_type, status, source, window_start, window_end, "
                "duration_min, created_at, created_by, caregiver_id, accepted_at, en_route_at, arrived_at, "
                "completed_at, updated_at) "
                "SELECT 'PAST' || lpad(g::text, 6, '0'), 1, 'cleaning', 'completed', 'operator', t, "
                "t + interval '2 hours', 60, t, 'test', 1 + g %% 20, t, t, t, t + interval '1 hour', t "
                "FROM generate_series(1, 20000) g, LATERAL (SELECT %s - g * interval '1 hour' AS t) past",
                (NOW - timedelta(days=2),),
            )
        assert [m.version for m in migrate(url)][:2] == [240, 241]
        with psycopg.connect(url) as conn:
            stats = conn.execute(
                "SELECT count(*) FROM pg_stats WHERE tablename = 'service_order_caregiver_ended_idx'"
            ).fetchone()
            assert stats == (1,)
            plan = "\n".join(
                row[0]
                for row in conn.execute(
                    "EXPLAIN SELECT * FROM service_order WHERE caregiver_id = 3 AND "
                    "coalesce(completed_at, cancelled_at, 'infinity'::timestamptz) > %s",
                    (NOW - timedelta(days=1),),
                )
            )
            assert "service_order_caregiver_ended_idx" in plan and "rows=1 " in plan, plan


def test_the_platforms_sessions_compile_no_query(database_url: str) -> None:
    """``eldercare.db`` sessions run with ``jit = off`` (and in UTC): the platform's queries are short, and a
    server that compiles queries does so on their estimated cost, a second an SOS on a stale estimate."""
    with connect(database_url) as conn:
        assert conn.execute("SHOW jit").fetchone() == ("off",)
        assert conn.execute("SHOW timezone").fetchone() == ("UTC",)


def test_misnamed_migration_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "1_init.sql").write_text("SELECT 1")
    with pytest.raises(MigrationError, match=r"NNNN_lowercase_words\.sql"):
        discover(tmp_path)


def test_a_database_holding_two_places_of_one_name_is_not_migrated_until_they_are_renamed(
    backend_databases: Databases, tmp_path: Path
) -> None:
    """Migration 0250 makes place names unique (the register finds a community by them): on a database that holds
    two townships of one name, or two communities of one name in one township, it stops, names them and changes
    nothing; once renamed, it applies."""
    with _database_before(backend_databases, tmp_path, 250) as url:
        with psycopg.connect(url) as conn:
            conn.execute(ONE_ELDER)
            conn.execute(
                "INSERT INTO township (code, name, lat, lon) VALUES ('T2', '蒲圻街道', 29.8, 113.9);"
                "INSERT INTO community (township_id, code, name, lat, lon) VALUES (1, 'C2', '金鸡山社区', 29.7, 113.9);"
                "INSERT INTO community (township_id, code, name, lat, lon) VALUES (2, 'C3', '金鸡山社区', 29.8, 113.9);"
            )
        with pytest.raises(
            MigrationError, match=r"0250_place_names_unique\.sql failed: townships of one name: '蒲圻街道' \(T1, T2\)"
        ):
            migrate(url)
        with psycopg.connect(url) as conn:
            conn.execute("UPDATE township SET name = '赤马港街道' WHERE code = 'T2'")
        with pytest.raises(
            MigrationError, match=r"communities of one name in one township: '金鸡山社区' in T1 \(C1, C2\)"
        ):
            migrate(url)
        with psycopg.connect(url) as conn:
            conn.execute("UPDATE community SET name = '金鸡山二社区' WHERE code = 'C2'")
        assert [m.version for m in migrate(url)] == [m.version for m in discover() if m.version >= 250]
        with psycopg.connect(url) as conn:
            # a community's name may repeat in another township (C3 above), not in its own, nor a township's anywhere
            for statement in (
                "INSERT INTO township (code, name, lat, lon) VALUES ('T3', '蒲圻街道', 29.9, 113.9)",
                "INSERT INTO community (township_id, code, name, lat, lon) VALUES (2, 'C4', '金鸡山社区', 29.8, 113.9)",
            ):
                with pytest.raises(psycopg.errors.UniqueViolation), conn.transaction():
                    conn.execute(statement.encode())


def test_migration_files_are_numbered_without_gaps() -> None:
    versions = [m.version for m in discover(MIGRATIONS_DIR)]
    assert versions == sorted(versions) and len(versions) == len(set(versions))


@pytest.fixture
def conn(database_url: str):
    with psycopg.connect(database_url) as connection:
        connection.execute(ONE_ELDER)
        connection.execute(
            """
            INSERT INTO device (id, type, elder_id, secret_hash) VALUES ('wch000001', 'watch', 1, 'x');
            """
        )
        yield connection


def _refused(conn: psycopg.Connection, statement: str, params: tuple = ()) -> psycopg.Error:
    with pytest.raises(psycopg.Error) as caught, conn.transaction():
        conn.execute(statement.encode() if not params else statement, params)
    return caught.value


NOW = datetime.now(UTC)


def test_database_refuses_an_order_for_a_service_that_does_not_exist(conn) -> None:
    err = _refused(
        conn,
        "INSERT INTO service_order (code, elder_id, service_type, source, window_start, window_end, duration_min,"
        " created_at, created_by, updated_at) VALUES ('AB12', 1, 'massage', 'operator', %s, %s, 30, %s, 'x', %s)",
        (NOW, NOW, NOW, NOW),
    )
    assert isinstance(err, psycopg.errors.ForeignKeyViolation)


@on_both_backends
def test_database_refuses_a_reading_for_an_unknown_device(conn) -> None:
    err = _refused(
        conn,
        "INSERT INTO reading (device_id, elder_id, ts, received_at, seq, hr) VALUES ('nope', 1, %s, %s, 1, 70)",
        (NOW, NOW),
    )
    assert isinstance(err, psycopg.errors.ForeignKeyViolation)


@on_both_backends
def test_database_refuses_out_of_range_values(conn) -> None:
    assert isinstance(
        _refused(
            conn,
            "INSERT INTO reading (device_id, elder_id, ts, received_at, seq, hr) "
            "VALUES ('wch000001', 1, %s, %s, 1, 400)",
            (NOW, NOW),
        ),
        psycopg.errors.CheckViolation,
    )
    assert isinstance(_refused(conn, "UPDATE elder SET ability_level = 7"), psycopg.errors.CheckViolation)
    assert isinstance(
        _refused(
            conn,
            "INSERT INTO emergency_contact (elder_id, name, relation, phone) VALUES (1, 'a', 'b', '12345')",
        ),
        psycopg.errors.CheckViolation,
    )


def test_database_keeps_one_live_alarm_per_elder_and_type(conn) -> None:
    insert = (
        "INSERT INTO alarm (elder_id, type, severity, raised_at, last_raised_at) "
        "VALUES (1, 'sos', 'critical', now(), now())"
    )
    conn.execute(insert.encode())
    assert isinstance(_refused(conn, insert), psycopg.errors.UniqueViolation)
    conn.execute("UPDATE alarm SET status = 'resolved', acknowledged_at = now(), resolved_at = now(), outcome = 'test'")
    conn.execute(insert.encode())  # a new one may open once the old one is resolved


def test_database_refuses_a_resolved_alarm_without_outcome(conn) -> None:
    conn.execute(
        "INSERT INTO alarm (elder_id, type, severity, raised_at, last_raised_at) "
        "VALUES (1, 'fall', 'critical', now(), now())"
    )
    err = _refused(conn, "UPDATE alarm SET status = 'resolved', acknowledged_at = now(), resolved_at = now()")
    assert isinstance(err, psycopg.errors.CheckViolation)


@on_both_backends
def test_a_redelivered_reading_is_stored_once(conn) -> None:
    insert = (
        "INSERT INTO reading (device_id, elder_id, ts, received_at, seq, hr) "
        "VALUES ('wch000001', 1, %s, %s, 7, 70) ON CONFLICT DO NOTHING"
    )
    for _ in range(3):
        conn.execute(insert, (NOW, NOW))
    assert conn.execute("SELECT count(*) FROM reading").fetchone() == (1,)


def test_partitions_are_created_ahead_and_absorb_the_default_partition(conn) -> None:
    far = NOW + timedelta(days=40)
    conn.execute(
        "INSERT INTO reading (device_id, elder_id, ts, received_at, seq, hr) VALUES ('wch000001', 1, %s, %s, 1, 70)",
        (far, NOW),
    )
    assert conn.execute("SELECT count(*) FROM reading_default").fetchone() == (1,)
    created = conn.execute("SELECT ensure_reading_partitions(%s::date, %s::date)", (far, far)).fetchone()
    assert created == (1,)
    assert conn.execute("SELECT count(*) FROM reading_default").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM reading WHERE ts = %s", (far,)).fetchone() == (1,)
    assert conn.execute("SELECT ensure_reading_partitions(%s::date, %s::date)", (far, far)).fetchone() == (0,)
    assert conn.execute("SELECT drop_reading_partitions_before(%s)", (far + timedelta(days=2),)).fetchone()[0] >= 1
    assert conn.execute("SELECT count(*) FROM reading").fetchone() == (0,)


@on_both_backends
def test_hourly_rollup_refresh(conn) -> None:
    hour = NOW.replace(minute=0, second=0, microsecond=0)
    for minute, hr in ((1, 60), (2, 80), (3, 100)):
        conn.execute(
            "INSERT INTO reading (device_id, elder_id, ts, received_at, seq, hr) "
            "VALUES ('wch000001', 1, %s, %s, %s, %s)",
            (hour + timedelta(minutes=minute), NOW, minute, hr),
        )
    conn.execute("SELECT refresh_reading_hourly(%s, %s)", (hour, hour + timedelta(hours=1)))
    conn.execute("SELECT refresh_reading_hourly(%s, %s)", (hour, hour + timedelta(hours=1)))  # idempotent
    row = conn.execute("SELECT samples, hr_min, hr_max, hr_avg FROM reading_hourly").fetchall()
    assert row == [(3, 60, 100, 80.0)]


def test_alarm_changes_are_notified_in_their_transaction(database_url: str, conn) -> None:
    conn.commit()
    with psycopg.connect(database_url, autocommit=True) as listener:
        listener.execute("LISTEN eldercare_alarm")
        conn.execute(
            "INSERT INTO alarm (elder_id, type, severity, raised_at, last_raised_at) "
            "VALUES (1, 'sos', 'critical', now(), now())"
        )
        assert list(listener.notifies(timeout=0.3, stop_after=1)) == []  # not before commit
        conn.commit()
        notes = list(listener.notifies(timeout=5, stop_after=1))
    assert notes and '"type" : "sos"' in notes[0].payload
