"""Raced emergencies: offered to the best three at once, the first yes wins, the others are told it is taken.

Real PostgreSQL, twilio-python over HTTP to the Twilio stand-in, replies signed by the stand-in and posted to
the dispatcher's webhook; dispatcher steps driven by hand under a manual clock. Two caregivers saying yes at
the same instant: tests/dispatcher/test_concurrency.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from dispatcher.orders import cancel_order, create_order
from tests.dispatcher.town import offset
from tests.waiting import patience


def _sos_offered(conn, clock, town, harness, elder: int) -> tuple[int, str]:
    """The elder presses SOS now and the dispatcher runs once: the emergency order's id and code."""
    alarm = town.sos(elder, clock.now())
    conn.commit()
    harness.drive()
    return harness.one("SELECT id, code FROM service_order WHERE alarm_id = %s", alarm)


@pytest.fixture
def raced(conn, clock, town, harness):
    """Six emergency caregivers, three at 0.3 to 0.8 km and three at 2.5 to 3.1 km (each three within the race's
    margin of one another), an elder with a contact, an SOS; offered once."""
    provider = town.provider()
    caregivers = [town.caregiver(provider, offset(km, 0)) for km in (0.3, 0.5, 0.8, 2.5, 2.8, 3.1)]
    order, code = _sos_offered(conn, clock, town, harness, town.elder(contacts=1))
    return {"caregivers": caregivers, "order": order, "code": code}


def test_the_best_three_are_offered_at_once_by_sms(raced, harness) -> None:
    caregivers, order, code = raced["caregivers"], raced["order"], raced["code"]
    assert harness.offers(order) == [(c, "sent") for c in caregivers[:3]]
    for caregiver in caregivers[:3]:
        offer = harness.standin.wait_for(to=harness.phone(caregiver), timeout=patience(10))[0]
        assert f"Y {code}" in offer.body and "/m/" in offer.body
    # the three offers above went out; nobody further away was asked
    offered_to = {c for (c,) in harness.all("SELECT caregiver_id FROM sms_message WHERE purpose = 'offer'")}
    assert offered_to == set(caregivers[:3])
    assert harness.all("SELECT rank FROM offer WHERE order_id = %s ORDER BY id", order) == [(1,), (2,), (3,)]
    # the three were found by one search, not one search each (three times the time to the first SMS)
    searches = harness.all(
        "SELECT details->'search' FROM order_event WHERE order_id = %s AND to_status = 'offered' ORDER BY id", order
    )
    assert len(searches) == 3 and len({str(s) for s in searches}) == 1, searches


def test_the_first_yes_wins_and_the_others_are_told_it_is_taken(raced, harness) -> None:
    first, second, third = raced["caregivers"][:3]
    order, code = raced["order"], raced["code"]
    answer = harness.standin.reply(harness.phone(second), f"Y {code}")
    assert answer.status_code == 200 and "已接单" in answer.text
    assert harness.one("SELECT status, caregiver_id FROM service_order WHERE id = %s", order) == ("accepted", second)
    assert harness.offers(order) == [(first, "cancelled"), (second, "accepted"), (third, "cancelled")]
    harness.drive()
    for loser in (first, third):
        told = harness.standin.wait_for(2, to=harness.phone(loser), timeout=patience(10))
        assert "已由其他护理员接单" in told[1].body and code in told[1].body
    assert harness.one("SELECT count(*) FROM sms_message WHERE purpose = 'offer_taken'") == 2
    # a late yes from a loser changes nothing
    late = harness.standin.reply(harness.phone(first), f"Y {code}")
    assert "已由他人接单" in late.text
    assert harness.one("SELECT status, caregiver_id FROM service_order WHERE id = %s", order) == ("accepted", second)
    timeline = harness.all("SELECT to_status, details FROM order_event WHERE order_id = %s ORDER BY id", order)
    assert [t for t, _ in timeline] == ["created", "offered", "offered", "offered", "accepted"]
    assert sorted(timeline[-1][1]["taken_from"]) == sorted([first, third])


def test_a_decline_leaves_the_others_live_and_the_next_best_joins_the_race(raced, harness) -> None:
    first, second, third, fourth = raced["caregivers"][:4]
    order, code = raced["order"], raced["code"]
    assert "已拒绝" in harness.standin.reply(harness.phone(first), f"N {code}").text
    harness.drive()
    # the race is back to three at once, without waiting for the other two to answer or expire
    assert harness.offers(order) == [(first, "declined"), (second, "sent"), (third, "sent"), (fourth, "sent")]
    assert harness.standin.wait_for(to=harness.phone(fourth), timeout=patience(10))
    assert harness.one("SELECT status FROM service_order WHERE id = %s", order) == "offered"
    assert "已接单" in harness.standin.reply(harness.phone(third), f"Y {code}").text
    assert harness.offers(order) == [
        (first, "declined"),
        (second, "cancelled"),
        (third, "accepted"),
        (fourth, "cancelled"),
    ]


def test_when_all_three_decline_the_next_three_are_offered_and_it_escalates(raced, harness) -> None:
    caregivers, order, code = raced["caregivers"], raced["order"], raced["code"]
    for caregiver in caregivers[:3]:
        harness.standin.reply(harness.phone(caregiver), f"N {code}")
    harness.drive()
    assert harness.offers(order) == [(c, "declined") for c in caregivers[:3]] + [(c, "sent") for c in caregivers[3:]]
    # three offers found no taker: escalated as with offers one at a time; offering goes on
    assert harness.one("SELECT status, escalation_level FROM service_order WHERE id = %s", order) == ("escalated", 1)


def test_when_all_three_expire_the_next_three_are_offered(raced, harness, clock) -> None:
    caregivers, order, code = raced["caregivers"], raced["order"], raced["code"]
    clock.advance(timedelta(seconds=89))
    harness.drive()
    assert harness.offers(order) == [(c, "sent") for c in caregivers[:3]]
    clock.advance(timedelta(seconds=2))
    harness.drive()
    assert harness.offers(order) == [(c, "expired") for c in caregivers[:3]] + [(c, "sent") for c in caregivers[3:]]
    assert harness.one("SELECT status, escalation_level FROM service_order WHERE id = %s", order) == ("escalated", 1)
    assert "已过期" in harness.standin.reply(harness.phone(caregivers[0]), f"Y {code}").text
    # the second race is as live as the first: its winner takes the order, the rest are told
    assert "已接单" in harness.standin.reply(harness.phone(caregivers[4]), f"Y {code}").text
    assert harness.one("SELECT status, caregiver_id FROM service_order WHERE id = %s", order) == (
        "accepted",
        caregivers[4],
    )
    assert [s for _, s in harness.offers(order)[3:]] == ["cancelled", "accepted", "cancelled"]


def test_a_booked_service_is_still_offered_to_one_caregiver_at_a_time(conn, town, harness) -> None:
    provider = town.provider()
    caregivers = [town.caregiver(provider, offset(km, 0)) for km in (0.3, 0.8, 1.5)]
    ref = create_order(
        conn, harness.clock, elder_id=town.elder(), service_type="meal", actor="op", config=harness.config
    )
    conn.commit()
    harness.drive()
    assert harness.offers(ref.id) == [(caregivers[0], "sent")]


@pytest.fixture
def kept_short(conn, clock, town, harness):
    """An SOS with one caregiver near (0.3 km) and two far (6 and 7 km): the race starts with the near one alone."""
    provider = town.provider()
    near, far, farther = (town.caregiver(provider, offset(km, 0)) for km in (0.3, 6.0, 7.0))
    order, code = _sos_offered(conn, clock, town, harness, town.elder())
    return {"near": near, "far": far, "farther": farther, "order": order, "code": code}


def test_a_caregiver_much_farther_than_the_best_joins_only_when_the_best_does_not_answer(
    kept_short, clock, harness
) -> None:
    near, far, farther, order = kept_short["near"], kept_short["far"], kept_short["farther"], kept_short["order"]
    # 6 km by e-bike is some 30 minutes against 3 for the nearest: more than the margin of the race
    assert harness.offers(order) == [(near, "sent")]
    widen = harness.config.dispatch.emergency_race_widen_seconds
    clock.advance(timedelta(seconds=widen - 1))
    harness.drive()
    assert harness.offers(order) == [(near, "sent")]
    clock.advance(timedelta(seconds=1))
    harness.drive()
    # no yes within the widening time: the next ones join, the nearest's offer runs on
    assert harness.offers(order) == [(near, "sent"), (far, "sent"), (farther, "sent")]
    assert harness.standin.wait_for(to=harness.phone(far), timeout=patience(10))
    why = harness.one(
        "SELECT reason FROM order_event WHERE order_id = %s AND details->>'caregiver' = "
        "(SELECT code FROM caregiver WHERE id = %s)",
        order,
        far,
    )
    assert "race widens" in why
    assert harness.one("SELECT next_offer_at FROM service_order WHERE id = %s", order) is None
    # the nearest may still take it, and the others are told
    assert "已接单" in harness.standin.reply(harness.phone(near), f"Y {kept_short['code']}").text
    assert harness.offers(order) == [(near, "accepted"), (far, "cancelled"), (farther, "cancelled")]


def test_a_yes_before_the_widening_time_asks_nobody_else(kept_short, clock, harness) -> None:
    near, order = kept_short["near"], kept_short["order"]
    assert "已接单" in harness.standin.reply(harness.phone(near), f"Y {kept_short['code']}").text
    clock.advance(timedelta(seconds=harness.config.dispatch.emergency_race_widen_seconds + 1))
    harness.drive()
    assert harness.offers(order) == [(near, "accepted")]
    assert harness.one("SELECT status FROM service_order WHERE id = %s", order) == "accepted"


def test_a_widened_race_that_still_leaves_someone_out_widens_again(conn, clock, town, harness) -> None:
    provider = town.provider()
    # each about 25 minutes by e-bike further than the one before: every race takes one more
    ladder = [town.caregiver(provider, offset(km, 0)) for km in (0.3, 5.0, 10.0)]
    order, _ = _sos_offered(conn, clock, town, harness, town.elder())
    widen = timedelta(seconds=harness.config.dispatch.emergency_race_widen_seconds)
    assert harness.offers(order) == [(ladder[0], "sent")]
    clock.advance(widen)
    harness.drive()
    assert harness.offers(order) == [(ladder[0], "sent"), (ladder[1], "sent")]
    clock.advance(widen)
    harness.drive()
    # the first offer expired at 90 s, the race went on with the two others
    assert harness.offers(order) == [(ladder[0], "expired"), (ladder[1], "sent"), (ladder[2], "sent")]


def test_an_unanswered_offer_still_ends_the_race_when_nobody_is_left_to_widen_to(conn, clock, town, harness) -> None:
    provider = town.provider()
    only = town.caregiver(provider, offset(0.3, 0))
    order, _ = _sos_offered(conn, clock, town, harness, town.elder())
    # nobody left out by the margin: nothing to widen to, and no sweep comes back for it
    assert harness.one("SELECT next_offer_at FROM service_order WHERE id = %s", order) is None
    clock.advance(timedelta(seconds=91))
    harness.drive()
    assert harness.offers(order) == [(only, "expired")]
    assert harness.one("SELECT status FROM service_order WHERE id = %s", order) == "escalated"


def test_cancelling_a_raced_emergency_tells_everyone_it_was_offered_to(raced, harness) -> None:
    caregivers, order = raced["caregivers"], raced["order"]
    with harness.connect() as conn:
        cancel_order(conn, harness.clock, order, reason="false alarm", actor="op", config=harness.config)
    assert harness.offers(order) == [(c, "cancelled") for c in caregivers[:3]]
    told = harness.all("SELECT caregiver_id FROM sms_message WHERE purpose = 'operator' ORDER BY caregiver_id")
    assert told == [(c,) for c in sorted(caregivers[:3])]
