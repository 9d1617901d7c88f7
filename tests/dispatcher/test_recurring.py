"""Recurring services make one order per occurrence, on time in local time, never twice."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from dispatcher.recurring import create_due_orders, due_times, occurrences, trigger_for
from tests.dispatcher.town import offset

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _add(
    conn,
    elder: int,
    service: str,
    schedule: str,
    lead: int = 60,
    duration: int = 30,
    *,
    ends_on: str | None = None,
    preferred_caregiver_id: int | None = None,
) -> int:
    return conn.execute(
        "INSERT INTO recurring_service (elder_id, service_type, schedule, lead_min, duration_min, starts_on, ends_on, "
        "preferred_caregiver_id) VALUES (%s, %s, %s, %s, %s, '2026-01-01', %s, %s) RETURNING id",
        (elder, service, schedule, lead, duration, ends_on, preferred_caregiver_id),
    ).fetchone()[0]


@pytest.mark.parametrize(
    ("schedule", "first"),
    [
        ("0 11 * * *", datetime(2026, 1, 7, 11, 0)),  # daily lunch
        ("0 9 * * 5", datetime(2026, 1, 9, 9, 0)),  # crontab's 5 is Friday
        ("0 9 * * fri", datetime(2026, 1, 9, 9, 0)),
        ("0 9 * * 0", datetime(2026, 1, 11, 9, 0)),  # and 0 (or 7) is Sunday
        ("30 14 * * 1-5", datetime(2026, 1, 7, 14, 30)),
        ("0 8 * * */2", datetime(2026, 1, 8, 8, 0)),
    ],
)
def test_schedules_read_as_crontab_in_local_time(schedule, first) -> None:
    trigger = trigger_for(schedule, SHANGHAI)
    start = datetime(2026, 1, 7, 10, 0, tzinfo=SHANGHAI)
    assert next(occurrences(trigger, start, start + timedelta(days=8))) == first.replace(tzinfo=SHANGHAI)


@pytest.mark.parametrize("schedule", ["0 11 * *", "0 25 * * *", "0 9 * * 9", "x y z w v"])
def test_bad_schedules_are_refused(schedule) -> None:
    with pytest.raises(ValueError):
        trigger_for(schedule, SHANGHAI)


def test_an_occurrence_becomes_one_order_lead_minutes_ahead(conn, clock, town, config) -> None:
    elder = town.elder()
    lunch = _add(conn, elder, "meal", "0 11 * * *", lead=59, duration=30)
    conn.execute("UPDATE recurring_service SET notes = 'no salt' WHERE id = %s", (lunch,))
    assert create_due_orders(conn, clock, config) == 0  # 10:00 local: 60 minutes ahead, not yet
    clock.advance(timedelta(minutes=1))
    assert create_due_orders(conn, clock, config) == 1
    assert create_due_orders(conn, clock, config) == 0
    row = conn.execute(
        "SELECT source, created_by, occurrence_at, window_start, window_end, duration_min, notes, "
        "status FROM service_order"
    ).fetchone()
    eleven = datetime(2026, 1, 7, 3, 0, tzinfo=UTC)
    assert row == ("recurring", "scheduler", eleven, eleven, eleven + timedelta(minutes=30), 30, "no salt", "created")
    clock.advance(timedelta(days=1))
    assert create_due_orders(conn, clock, config) == 1


def test_due_times_are_when_orders_get_made(conn, clock, town, config) -> None:
    elder = town.elder()
    _add(conn, elder, "meal", "0 11 * * *", lead=59)
    _add(conn, elder, "bathing", "0 14 * * wed", lead=120)
    _add(conn, elder, "care", "0 11 * * *", lead=59)  # the same moment as lunch: listed once
    _add(conn, elder, "cleaning", "0 9 * * thu", lead=60, ends_on="2026-01-07")  # ended before it falls due
    start = clock.now()
    times = due_times(conn, config, start, start + timedelta(days=1))
    assert times == [datetime(2026, 1, 7, 2, 1, tzinfo=UTC), datetime(2026, 1, 7, 4, 0, tzinfo=UTC)]
    made = []
    for when in times:
        clock.set(when - timedelta(seconds=1))
        assert create_due_orders(conn, clock, config) == 0
        clock.set(when)
        made.append(create_due_orders(conn, clock, config))
    assert made == [2, 1]


def test_a_missed_occurrence_is_made_up_within_grace_only(conn, clock, town, config) -> None:
    elder = town.elder()
    _add(conn, elder, "meal", "0 11 * * *", lead=60)
    _add(conn, elder, "cleaning", "0 10 * * *", lead=60)  # 10:00, down since before 09:00
    clock.advance(timedelta(minutes=25))  # 10:25: cleaning is 25 min late, lunch due
    assert create_due_orders(conn, clock, config) == 2
    clock.set(datetime(2026, 1, 8, 2, 35, tzinfo=UTC))  # next day 10:35: cleaning 35 min late
    assert create_due_orders(conn, clock, config) == 1  # lunch only


def test_inactive_ended_or_not_started_services_make_nothing(conn, clock, town, config) -> None:
    elder = town.elder()
    off = _add(conn, elder, "meal", "0 11 * * *")
    conn.execute("UPDATE recurring_service SET active = false WHERE id = %s", (off,))
    _add(conn, elder, "meal", "0 11 * * *", ends_on="2026-01-06")
    _add(conn, elder, "care", "0 11 * * *")
    conn.execute("UPDATE recurring_service SET starts_on = '2026-01-08' WHERE service_type = 'care'")
    assert create_due_orders(conn, clock, config) == 0


def test_the_usual_caregiver_is_asked_first(conn, clock, town, config) -> None:
    provider = town.provider()
    town.caregiver(provider, offset(0.1, 0))
    usual = town.caregiver(provider, offset(2.0, 0))
    _add(conn, town.elder(), "bathing", "0 11 * * *", preferred_caregiver_id=usual)
    assert create_due_orders(conn, clock, config) == 1
    offer = conn.execute("SELECT caregiver_id, status, reasons->>'preferred' FROM offer").fetchone()
    assert offer == (usual, "pending", "true")


def test_two_schedulers_at_once_make_each_occurrence_once(conn, clock, town, config, database_url) -> None:
    for _ in range(30):
        elder = town.elder(contacts=0)
        _add(conn, elder, "meal", "0 11 * * *")
        _add(conn, elder, "care", "0 10 * * *", lead=90)
    conn.commit()
    barrier = threading.Barrier(2)
    made: list[int] = []

    def scheduler() -> None:
        with psycopg.connect(database_url) as own:
            barrier.wait()
            for _ in range(3):
                made.append(create_due_orders(own, clock, config))
                own.commit()

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(made) == 60
    assert conn.execute(
        "SELECT count(*), count(DISTINCT (recurring_service_id, occurrence_at)) FROM service_order"
    ).fetchone() == (60, 60)
