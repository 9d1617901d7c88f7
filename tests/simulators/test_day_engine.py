"""The engine's two shortcuts change no decision, and the sweep keeps the dispatcher's own rhythm."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
import pytest

from eldercare import seed as seeding
from eldercare.config import Settings
from eldercare.db import connect
from simulators.citysim import demand as demands
from simulators.citysim import params as parameters
from simulators.citysim.databases import Databases
from simulators.citysim.engine import Engine
from simulators.citysim.run import dispatcher_config

TIMELINE = "SELECT order_id, at, from_status, to_status, actor, reason FROM order_event ORDER BY id"


def _day(url: str, *, skip: bool, name: str = "nearest") -> dict[str, Any]:
    params = parameters.load()
    config = dispatcher_config(name, params, Settings(_env_file=None))
    with connect(url) as conn:
        elders = demands.load_elders(conn)
        demand = demands.draw(elders, params, 1)
        run = Engine(conn, config, params, 1, demand, elders, name, skip_futile_retries=skip).run()
        return {
            "run": run,
            "timeline": conn.execute(TIMELINE).fetchall(),
            "offers": conn.execute(
                "SELECT order_id, caregiver_id, status, created_at, sent_at, expires_at, answered_at FROM offer "
                "ORDER BY id"
            ).fetchall(),
            "alarms": conn.execute("SELECT id, status, acknowledged_at, resolved_at FROM alarm ORDER BY id").fetchall(),
            "settings": config.dispatch,
        }


@pytest.fixture(scope="module")
def days(pg_server_url: str) -> dict[bool, dict[str, Any]]:
    """One small city, one day with the futile retries skipped and one with every retry run."""
    with Databases(pg_server_url) as databases:
        city = databases.seed_city(seeding.SeedPlan(elders=240, seed=1, caregivers=24))
        return {skip: _day(databases.copy_of(city, f"skip{int(skip)}"), skip=skip) for skip in (True, False)}


def test_skipping_futile_retries_changes_no_decision(days: dict[bool, dict[str, Any]]) -> None:
    skipped, every = days[True], days[False]
    assert len(skipped["timeline"]) > 200
    assert skipped["timeline"] == every["timeline"]
    assert skipped["offers"] == every["offers"]
    assert skipped["alarms"] == every["alarms"]
    assert skipped["run"].answered == every["run"].answered
    # and it is what saves the work: far fewer sweeps for the same day
    assert skipped["run"].sweeps * 3 < every["run"].sweeps


def test_offers_expire_on_the_sweep_after_their_deadline(days: dict[bool, dict[str, Any]]) -> None:
    settings = days[True]["settings"]
    cadence = timedelta(seconds=settings.sweep_seconds)
    expired = [o for o in days[True]["offers"] if o[2] == "expired"]
    assert expired, "a day without an unanswered offer tests nothing"
    for _, _, _, _, sent_at, expires_at, answered_at in expired:
        assert expires_at - sent_at in (
            timedelta(seconds=settings.emergency_offer_seconds),
            timedelta(minutes=settings.routine_offer_minutes),
        )
        assert expires_at <= answered_at < expires_at + cadence


def test_every_order_of_an_alarm_was_made_the_moment_it_was_raised(pg_server_url: str) -> None:
    """New alarms wake the sweep as NOTIFY wakes the real dispatcher: no waiting for the next tick."""
    with Databases(pg_server_url) as databases:
        url = databases.copy_of(databases.seed_city(seeding.SeedPlan(elders=200, seed=2, caregivers=20)), "x")
        _day(url, skip=True, name="smart")
        with psycopg.connect(url) as conn:
            gaps = conn.execute(
                "SELECT so.created_at - a.raised_at FROM alarm a JOIN service_order so ON so.alarm_id = a.id"
            ).fetchall()
    assert gaps and all(gap == timedelta(0) for (gap,) in gaps)
