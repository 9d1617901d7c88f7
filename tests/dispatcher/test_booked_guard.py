"""Booked orders are guarded: no routine SMS in quiet hours, texts that say when to go, and arrivals and
completions refused far from the booked time (or taken as an exception when the caregiver insists).

The reproductions: a meal booked two days ahead was offered at 01:30 at night, the reply said "请尽快前往",
and ARRIVED came 34 hours early and was accepted.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from dispatcher import OrderRef, create_order
from dispatcher.quiet import QuietHours, booked_offer_at
from dispatcher.settings import Config, DispatcherSettings
from eldercare.config import Settings
from eldercare.register import card_code
from tests.dispatcher.town import offset

CHIBI = ZoneInfo("Asia/Shanghai")


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 1, day, hour, minute, tzinfo=CHIBI)


def _config(**dispatch: object) -> Config:
    return Config(Settings(_env_file=None), DispatcherSettings(_env_file=None, **dispatch))  # type: ignore[arg-type]


def test_quiet_hours_cross_midnight_and_release_at_their_end() -> None:
    quiet = QuietHours(time(21, 0), time(7, 0), CHIBI)
    assert not quiet.covers(local(7, 20, 59)) and quiet.covers(local(7, 21, 0)) and quiet.covers(local(8, 1, 30))
    assert not quiet.covers(local(8, 7, 0))
    assert quiet.release(local(8, 1, 30)) == local(8, 7, 0)
    assert quiet.release(local(7, 23, 0)) == local(8, 7, 0)
    assert quiet.release(local(7, 12, 0)) == local(7, 12, 0)
    assert QuietHours(time(13, 0), time(14, 0), CHIBI).release(local(7, 13, 30)) == local(7, 14, 0)
    assert not QuietHours(time(0, 0), time(0, 0), CHIBI).covers(local(7, 3, 0))  # equal: no quiet hours


def test_booked_offers_come_a_lead_ahead_never_at_night_and_in_time_for_early_visits() -> None:
    config = _config(booked_offer_lead_hours=24)
    # two days ahead, booked at 01:30: offered 24 h before the visit, in the daytime
    assert booked_offer_at(config, local(7, 1, 30), local(9, 11, 0)) == local(8, 11, 0)
    # booked at 01:30 for the same morning: when the quiet hours end
    assert booked_offer_at(config, local(7, 1, 30), local(7, 11, 0)) == local(7, 7, 0)
    short = _config(booked_offer_lead_hours=6)
    # a visit at 07:30: the morning is too late to find someone, so the evening before (before 21:00)
    assert booked_offer_at(short, local(7, 15, 0), local(8, 7, 30)) == local(7, 20, 45)
    # a visit at 11:00 with a 6 h lead (05:00, quiet): at 07:00
    assert booked_offer_at(short, local(7, 15, 0), local(8, 11, 0)) == local(8, 7, 0)


@pytest.fixture
def meal_caregiver(town):
    provider = town.provider()
    return town.caregiver(provider, offset(0.5, 0))


def test_a_meal_booked_two_days_ahead_at_night_is_offered_in_the_day_and_told_when(
    conn, clock, town, harness, meal_caregiver
) -> None:
    clock.set(local(8, 1, 30).astimezone(UTC))
    elder = town.elder()
    conn.commit()
    ref = create_order(
        conn,
        clock,
        elder_id=elder,
        service_type="meal",
        actor="op1",
        window_start=local(10, 11, 0),
        window_end=local(10, 12, 0),
        config=harness.config,
    )
    conn.commit()
    harness.drive()
    assert harness.offers(ref.id) == []
    assert harness.standin.sent(to=harness.phone(meal_caregiver)) == []
    # nor all night: escalation does not text a manager either
    clock.set(local(8, 6, 59).astimezone(UTC))
    harness.drive()
    assert harness.offers(ref.id) == [] and harness.standin.sent() == []

    clock.set(local(9, 11, 0).astimezone(UTC))
    harness.drive()
    offer = harness.standin.wait_for(to=harness.phone(meal_caregiver))[0]
    assert ref.code in offer.body and "01-10 11:00" in offer.body
    reply = harness.standin.reply(harness.phone(meal_caregiver), f"Y {ref.code}")
    assert "01-10 11:00–12:00" in reply.text and "请尽快前往" not in reply.text

    # ARRIVED a day early: refused with the reason, nothing recorded
    refused = harness.standin.reply(harness.phone(meal_caregiver), f"ARRIVED {ref.code}")
    assert "太早" in refused.text and "未记录" in refused.text
    assert harness.one("SELECT status FROM service_order WHERE id = %s", ref.id) == "accepted"
    assert harness.one("SELECT count(*) FROM visit_refusal WHERE order_id = %s", ref.id) == 1
    # the caregiver insists: taken, and queued as an exception for an operator
    clock.advance(timedelta(minutes=5))
    taken = harness.standin.reply(harness.phone(meal_caregiver), f"ARRIVED {ref.code}")
    assert "已记录到达" in taken.text
    assert harness.one("SELECT status FROM service_order WHERE id = %s", ref.id) == "arrived"
    assert harness.one("SELECT kind FROM visit_exception WHERE order_id = %s", ref.id) == "early"


def test_an_emergency_at_night_is_never_held_nor_refused(conn, clock, town, harness, meal_caregiver) -> None:
    clock.set(local(8, 1, 30).astimezone(UTC))
    elder = town.elder()
    town.sos(elder, clock.now())
    conn.commit()
    harness.drive()
    code = harness.one("SELECT code FROM service_order")
    assert harness.standin.wait_for(to=harness.phone(meal_caregiver))
    harness.standin.reply(harness.phone(meal_caregiver), f"Y {code}")
    assert "已记录到达" in harness.standin.reply(harness.phone(meal_caregiver), f"ARRIVED {code}").text


def test_a_late_completion_is_refused_and_hours_are_never_negative(conn, clock, town, harness, meal_caregiver) -> None:
    ref, phone = _meal_accepted_now(conn, clock, harness, town.elder(), meal_caregiver)
    harness.standin.reply(phone, f"ARRIVED {ref.code}")
    # the planned end (window end + 40 min of a meal) + 2 h of grace are long past
    clock.advance(timedelta(hours=5))
    refused = harness.standin.reply(phone, f"DONE {ref.code}")
    assert "完成未记录" in refused.text
    assert harness.one("SELECT status FROM service_order WHERE id = %s", ref.id) == "arrived"
    # an insisting caregiver after the time to insist has passed is refused again
    clock.advance(timedelta(minutes=31))
    assert "完成未记录" in harness.standin.reply(phone, f"DONE {ref.code}").text
    clock.advance(timedelta(minutes=1))
    assert "已完成" in harness.standin.reply(phone, f"DONE {ref.code}").text
    minutes, status = harness.one("SELECT verified_minutes, status FROM visit WHERE order_id = %s", ref.id)
    assert minutes == 5 * 60 + 32 and status == "exception"
    kinds = {k for (k,) in harness.all("SELECT kind FROM visit_exception WHERE order_id = %s", ref.id)}
    assert kinds == {"late", "no_check_in", "long"}


def test_a_caregiver_without_a_smartphone_texts_the_card_code(conn, clock, town, harness, meal_caregiver) -> None:
    elder = town.elder()
    code = card_code.issue(conn, clock, elder, "op1")
    ref, phone = _meal_accepted_now(conn, clock, harness, elder, meal_caregiver)
    assert "已记录到达" in harness.standin.reply(phone, f"到达 {code}").text
    clock.advance(timedelta(minutes=40))
    assert "已完成" in harness.standin.reply(phone, f"完成 {ref.code} {code}").text
    row = harness.one("SELECT arrival_check, completion_check, status FROM visit WHERE order_id = %s", ref.id)
    assert row == ("card", "card", "verified")


def _meal_accepted_now(conn, clock, harness, elder: int, caregiver: int) -> tuple[OrderRef, str]:
    """A meal booked for the coming hour, offered and accepted by SMS; the order and the caregiver's phone."""
    conn.commit()
    start = clock.now()
    ref = create_order(
        conn,
        clock,
        elder_id=elder,
        service_type="meal",
        actor="op1",
        window_start=start,
        window_end=start + timedelta(hours=1),
        config=harness.config,
    )
    conn.commit()
    harness.drive()
    phone = harness.phone(caregiver)
    harness.standin.reply(phone, f"Y {ref.code}")
    return ref, phone
