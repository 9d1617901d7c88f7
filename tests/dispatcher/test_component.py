"""The running component: LISTEN makes it quick, the sweep makes it complete, the election makes it single."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import timedelta

import pytest

from dispatcher.component import Dispatcher
from dispatcher.orders import create_order
from dispatcher.settings import Config
from dispatcher.sweep import STEPS, SweepReport
from eldercare.component import Context
from tests.dispatcher.harness import Harness
from tests.dispatcher.town import offset
from tests.waiting import eventually, patience


def _context(harness: Harness) -> Context:
    return Context(harness.config.platform, harness.database_url, "mqtt://127.0.0.1:1", clock=harness.clock)


def _config(harness: Harness, **dispatch) -> Config:
    return replace(harness.config, dispatch=harness.config.dispatch.model_copy(update=dispatch))


@pytest.fixture
def town_with_caregiver(conn, town):
    provider = town.provider()
    caregiver = town.caregiver(provider, offset(0.4, 0))
    elder = town.elder(contacts=1)
    conn.commit()
    return caregiver, elder


def _sos(harness: Harness, elder: int) -> None:
    with harness.connect() as conn:
        conn.execute(
            "INSERT INTO alarm (elder_id, type, severity, raised_at, last_raised_at) "
            "VALUES (%s, 'sos', 'critical', %s, %s)",
            (elder, harness.clock.now(), harness.clock.now()),
        )


def test_an_alarm_notify_brings_the_offer_without_waiting_for_the_sweep(town_with_caregiver, harness) -> None:
    caregiver, elder = town_with_caregiver
    dispatcher = Dispatcher(_context(harness), _config(harness, sweep_seconds=60, scheduler_enabled=False))
    dispatcher.start()
    try:
        eventually(dispatcher.listener.listening.is_set, "the dispatcher to listen")
        _sos(harness, elder)
        offer = harness.standin.wait_for(to=harness.phone(caregiver), timeout=patience(10))[0]
        assert "Y " in offer.body
        harness.standin.wait_for(count=2, direction="outbound-api", timeout=patience(10))  # and the family
        eventually(lambda: harness.one("SELECT status FROM offer") == "sent")
    finally:
        dispatcher.stop()


def test_alarms_raised_while_no_dispatcher_ran_are_found_by_the_sweep(town_with_caregiver, harness) -> None:
    caregiver, elder = town_with_caregiver
    _sos(harness, elder)
    dispatcher = Dispatcher(_context(harness), _config(harness, scheduler_enabled=False))
    dispatcher.start()
    try:
        harness.standin.wait_for(to=harness.phone(caregiver), timeout=patience(10))
    finally:
        dispatcher.stop()
    assert harness.one("SELECT count(*) FROM service_order") == 1


def test_two_dispatchers_elect_one_scheduler_and_make_one_order_per_occurrence(conn, town, harness) -> None:
    for _ in range(5):
        conn.execute(
            "INSERT INTO recurring_service (elder_id, service_type, schedule, lead_min, starts_on) "
            "VALUES (%s, 'meal', '0 11 * * *', 60, '2026-01-01')",
            (town.elder(contacts=0),),
        )
    conn.commit()
    config = _config(harness, election_seconds=0.2)
    first, second = Dispatcher(_context(harness), config), Dispatcher(_context(harness), config)
    first.start()
    second.start()
    try:
        eventually(lambda: harness.one("SELECT count(*) FROM service_order") == 5)
        assert first.scheduler is not None and second.scheduler is not None
        schedulers = (first.scheduler, second.scheduler)
        eventually(lambda: sum(s.leading for s in schedulers) == 1)
        leader = first if first.scheduler.leading else second
        leading, waiting = schedulers if leader is first else schedulers[::-1]
        rounds = (leading.rounds, waiting.rounds)
        eventually(lambda: leading.rounds >= rounds[0] + 3 and waiting.rounds >= rounds[1] + 3)
        # a few elections later: still one leader
        assert leading.leading and not waiting.leading
        leader.stop()
        eventually(lambda: waiting.leading, timeout=10)
        eventually(lambda: waiting.runs.get("recurring services", 0) >= 1, timeout=10)
        # storage upkeep runs on the elected one too, at once and then on its schedule
        assert {"recurring services", "reading partitions", "hourly rollup"} <= set(leading.runs)
    finally:
        for d in (first, second):
            if not d._stop.is_set():
                d.stop()
    assert harness.one("SELECT count(*), count(DISTINCT (recurring_service_id, occurrence_at)) FROM service_order") == (
        5,
        5,
    )


def test_the_running_dispatcher_sweeps_every_step_a_visit_long_not_reported_done_among_them(
    conn, town, clock, harness
) -> None:
    caregiver = town.caregiver(town.provider(), offset(0.4, 0))
    order = create_order(conn, clock, elder_id=town.elder(), service_type="cleaning", actor="op", config=harness.config)
    takes = conn.execute("SELECT duration_min FROM service_order WHERE id = %s", (order.id,)).fetchone()[0]
    arrived = clock.now() - timedelta(minutes=takes + harness.config.dispatch.unfinished_minutes)
    conn.execute(
        "UPDATE service_order SET status = 'arrived', caregiver_id = %s, provider_id = "
        "(SELECT provider_id FROM caregiver WHERE id = %s), accepted_at = %s, arrived_at = %s WHERE id = %s",
        (caregiver, caregiver, arrived, arrived, order.id),
    )
    conn.commit()
    dispatcher = Dispatcher(_context(harness), _config(harness, scheduler_enabled=False))
    dispatcher.start()
    try:
        reminder = harness.standin.wait_for(to=harness.phone(caregiver), timeout=patience(10))[0]
        assert f"DONE {order.code}" in reminder.body
        eventually(lambda: harness.one("SELECT order_id FROM alarm WHERE type = 'visit_unfinished'") == order.id)
    finally:
        dispatcher.stop()
    assert {step.name for step in STEPS} == {f.name for f in fields(SweepReport)}
