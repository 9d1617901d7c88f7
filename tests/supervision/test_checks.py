"""Plans drawn from the database, a check with findings, rectifications and the alarm of an overdue one."""

from __future__ import annotations

from datetime import date, timedelta

import psycopg
import pytest

from eldercare.clock import ManualClock
from eldercare.supervision import checks
from eldercare.supervision.checks import CheckRecord, CheckRefused, PlanInput
from tests.supervision.conftest import NOW

TZ = "Asia/Shanghai"


def _drawn(conn: psycopg.Connection, plan_id: int) -> list[tuple[str, int]]:
    return conn.execute("SELECT kind, elder_id FROM spot_check WHERE plan_id = %s ORDER BY id", (plan_id,)).fetchall()


def test_a_plan_is_drawn_again_alike_from_its_recorded_seed(city_url: str) -> None:
    plan = PlanInput(period="week", period_start=date(2026, 3, 11), level="city", elder_calls=8, home_visits=4)
    with psycopg.connect(city_url) as conn:
        plan_id = checks.create_plan(conn, plan, "admin", NOW, TZ)
        seed, start = conn.execute(
            "SELECT seed, period_start FROM spot_check_plan WHERE id = %s", (plan_id,)
        ).fetchone()  # type: ignore[misc]
        first = _drawn(conn, plan_id)
        assert start == date(2026, 3, 9)  # the Monday
        assert [k for k, _ in first].count("elder_call") == 8 and [k for k, _ in first].count("home_visit") == 4
        with pytest.raises(CheckRefused):
            checks.create_plan(conn, plan, "admin", NOW, TZ)  # one city plan per week
        conn.rollback()
    with psycopg.connect(city_url) as conn:
        conn.execute("DELETE FROM spot_check_plan")
        again = checks.create_plan(conn, plan.model_copy(update={"seed": seed}), "admin", NOW, TZ)
        assert _drawn(conn, again) == first


def test_a_township_plan_keeps_to_its_township_and_skips_elders_drawn_this_week(city_url: str) -> None:
    with psycopg.connect(city_url) as conn:
        city_plan = checks.create_plan(
            conn,
            PlanInput(period="week", period_start=date(2026, 3, 9), level="city", elder_calls=10),
            "admin",
            NOW,
            TZ,
        )
        township = conn.execute(
            "SELECT c.township_id FROM spot_check k JOIN elder e ON e.id = k.elder_id "
            "JOIN community c ON c.id = e.community_id WHERE k.plan_id = %s LIMIT 1",
            (city_plan,),
        ).fetchone()[0]  # type: ignore[index]
        plan = PlanInput(
            period="week", period_start=date(2026, 3, 9), level="township", township_id=township, elder_calls=500
        )
        plan_id = checks.create_plan(conn, plan, "town", NOW, TZ)
        drawn = {e for _, e in _drawn(conn, plan_id)}
        before = {e for _, e in _drawn(conn, city_plan)}
        outside = conn.execute(
            "SELECT count(*) FROM elder e JOIN community c ON c.id = e.community_id "
            "WHERE e.id = ANY(%s) AND c.township_id <> %s",
            (list(drawn), township),
        ).fetchone()[0]  # type: ignore[index]
        assert drawn and outside == 0 and not drawn & before


def test_a_finding_opens_a_rectification_that_becomes_an_alarm_when_overdue(city_url: str) -> None:
    clock = ManualClock(NOW)
    with psycopg.connect(city_url) as conn:
        plan_id = checks.create_plan(
            conn, PlanInput(period="week", period_start=NOW.date(), level="city", home_visits=2), "admin", NOW, TZ
        )
        check_id, elder_id = conn.execute(
            "SELECT id, elder_id FROM spot_check WHERE plan_id = %s LIMIT 1", (plan_id,)
        ).fetchone()  # type: ignore[misc]
        record = CheckRecord(reached=True, delivered="partly", punctual=False, attitude="rude", satisfaction=2)
        opened = checks.record_check(conn, check_id, record, "town", clock.now(), deadline_days=3)
        assert len(opened) == 2  # late and rude
        conn.commit()
        with pytest.raises(CheckRefused):  # a record is kept, not overwritten
            checks.record_check(conn, check_id, record, "town", clock.now())
        conn.rollback()
        assert checks.raise_overdue(conn, clock.now()) == 0
        clock.advance(timedelta(days=3, seconds=1))
        late, rude = conn.execute(
            "SELECT id FROM rectification WHERE check_id = %s ORDER BY finding", (check_id,)
        ).fetchall()
        checks.answer_rectification(conn, rude[0], "the caregiver was retrained", "provider", clock.now())
        assert checks.raise_overdue(conn, clock.now()) == 1
        assert checks.raise_overdue(conn, clock.now()) == 0  # once
        alarm = conn.execute(
            "SELECT a.type, a.elder_id, a.status, a.details->>'finding' FROM alarm a "
            "JOIN rectification r ON r.alarm_id = a.id WHERE r.id = %s",
            (late[0],),
        ).fetchone()
        assert alarm == ("rectification_overdue", elder_id, "open", "late")


def test_bad_records_and_photos_are_refused(city_url: str) -> None:
    with psycopg.connect(city_url) as conn:
        plan_id = checks.create_plan(
            conn,
            PlanInput(period="month", period_start=NOW.date(), level="city", home_visits=1, elder_calls=1),
            "admin",
            NOW,
            TZ,
        )
        visit = conn.execute(
            "SELECT id FROM spot_check WHERE plan_id = %s AND kind = 'home_visit'", (plan_id,)
        ).fetchone()[0]  # type: ignore[index]
        call = conn.execute(
            "SELECT id FROM spot_check WHERE plan_id = %s AND kind = 'elder_call'", (plan_id,)
        ).fetchone()[0]  # type: ignore[index]
        assert checks.add_photo(conn, visit, "image/png", b"\x89PNG....")
        for media_type, content, check_id in (
            ("image/gif", b"GIF89a", visit),
            ("image/png", b"", visit),
            ("image/png", b"x" * (checks.MAX_PHOTO_BYTES + 1), visit),
            ("image/png", b"\x89PNG", call),
        ):
            with pytest.raises(CheckRefused):
                checks.add_photo(conn, check_id, media_type, content)
        with pytest.raises(checks.NoSuchRecord):
            checks.record_check(conn, 10**9, CheckRecord(reached=False), "x", NOW)
    with pytest.raises(ValueError):
        PlanInput(period="week", period_start=NOW.date(), level="township")  # which township?
    with pytest.raises(ValueError):
        CheckRecord(reached=True, satisfaction=6)
