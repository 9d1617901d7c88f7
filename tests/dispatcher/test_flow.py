"""Acceptance: an emergency from alarm to done by SMS, and every way an offer moves on or escalates.

Real PostgreSQL, twilio-python over HTTP to the Twilio stand-in, replies signed by the stand-in and posted to
the dispatcher's webhook over HTTP; dispatcher steps driven by hand under a manual clock.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.dispatcher.town import offset
from tests.waiting import patience

# emergencies offered one caregiver at a time: these tests follow one offer after another (races: test_race.py)
HARNESS_DISPATCH = {"emergency_race_size": 1}


def _sos(town, clock, elder: int) -> int:
    """The elder presses their button's SOS now."""
    return town.sos(elder, clock.now(), device=f"but{elder:06d}")


@pytest.fixture
def emergency(conn, clock, town, harness):
    """Three emergency caregivers at 0.3, 0.8 and 1.5 km, an elder with two contacts, an SOS; offered once."""
    provider = town.provider()
    caregivers = [town.caregiver(provider, offset(km, 0)) for km in (0.3, 0.8, 1.5)]
    elder = town.elder(contacts=2)
    alarm = _sos(town, clock, elder)
    conn.commit()
    harness.drive()
    order_id = harness.one("SELECT id FROM service_order WHERE alarm_id = %s", alarm)
    return {
        "caregivers": caregivers,
        "elder": elder,
        "alarm": alarm,
        "order": order_id,
        "code": harness.one("SELECT code FROM service_order WHERE id = %s", order_id),
    }


def test_sos_to_done_by_sms_with_family_told_and_the_whole_timeline(emergency, harness, clock) -> None:
    first, order, code = emergency["caregivers"][0], emergency["order"], emergency["code"]
    offer = harness.standin.wait_for(to=harness.phone(first), timeout=patience(10))[0]
    assert f"Y {code}" in offer.body and "0.3公里" in offer.body and "/m/" in offer.body
    family = harness.all("SELECT to_phone, body FROM sms_message WHERE purpose = 'family' ORDER BY id")
    assert len(family) == 2 and all("紧急呼叫" in body and code in body for _, body in family)
    assert len(harness.standin.sent(direction="outbound-api")) == 3

    response = harness.standin.reply(harness.phone(first), f"Y {code}")
    assert response.status_code == 200 and "已接单" in response.text
    assert harness.one("SELECT status FROM service_order WHERE id = %s", order) == "accepted"
    command = harness.one("SELECT payload FROM device_command WHERE type = 'help_coming'")
    assert command["order_code"] == code and command["alarm_id"] == emergency["alarm"] and command["eta_min"] >= 1
    clock.advance(timedelta(minutes=6))
    assert "已记录到达" in harness.standin.reply(harness.phone(first), "到达").text
    assert harness.one("SELECT payload->>'order_code' FROM device_command WHERE type = 'help_arrived'") == code
    clock.advance(timedelta(minutes=20))
    assert "已完成" in harness.standin.reply(harness.phone(first), f"DONE {code}").text
    harness.drive()

    timeline = harness.all(
        "SELECT from_status, to_status, actor_kind FROM order_event WHERE order_id = %s ORDER BY id", order
    )
    assert timeline == [
        (None, "created", "system"),
        ("created", "offered", "system"),
        ("offered", "accepted", "caregiver"),
        ("accepted", "arrived", "caregiver"),
        ("arrived", "completed", "caregiver"),
    ]
    family_bodies = [
        b for _, b in harness.all("SELECT to_phone, body FROM sms_message WHERE purpose = 'family' ORDER BY id")
    ]
    assert sum("已接单" in b for b in family_bodies) == 2 and sum("已到达" in b for b in family_bodies) == 2
    statuses = {
        s
        for (s,) in harness.all(
            "SELECT DISTINCT status FROM sms_message WHERE direction = 'outbound' AND purpose <> 'reply'"
        )
    }
    assert statuses <= {"queued", "sent", "delivered"}
    row = harness.one("SELECT accepted_at, arrived_at, completed_at, travel_km FROM service_order WHERE id = %s", order)
    assert row[1] - row[0] == timedelta(minutes=6) and row[3] == pytest.approx(0.3, abs=0.01)


def test_decline_moves_to_the_next_caregiver(emergency, harness) -> None:
    first, second, _ = emergency["caregivers"]
    assert "已拒绝" in harness.standin.reply(harness.phone(first), "N").text
    harness.drive()
    assert harness.offers(emergency["order"]) == [(first, "declined"), (second, "sent")]
    assert harness.standin.wait_for(to=harness.phone(second), timeout=patience(10))


def test_no_answer_expires_after_90_seconds_and_moves_on(emergency, harness, clock) -> None:
    first, second, _ = emergency["caregivers"]
    clock.advance(timedelta(seconds=89))
    harness.drive()
    assert harness.offers(emergency["order"]) == [(first, "sent")]
    clock.advance(timedelta(seconds=2))
    harness.drive()
    assert harness.offers(emergency["order"]) == [(first, "expired"), (second, "sent")]
    # a late yes is told the offer expired, and changes nothing
    assert "已过期" in harness.standin.reply(harness.phone(first), f"Y {emergency['code']}").text
    assert harness.offers(emergency["order"]) == [(first, "expired"), (second, "sent")]


def test_opted_out_number_is_marked_and_skipped(conn, clock, town, harness) -> None:
    provider = town.provider()
    first = town.caregiver(provider, offset(0.3, 0))
    second = town.caregiver(provider, offset(0.8, 0))
    elder = town.elder()
    conn.commit()
    harness.standin.add_rule(harness.phone(first), "21610")
    _sos(town, clock, elder)
    conn.commit()
    harness.drive()
    order = harness.one("SELECT id FROM service_order")
    assert harness.offers(order) == [(first, "failed"), (second, "sent")]
    assert harness.one("SELECT sms_opt_out, opted_out_at FROM caregiver WHERE id = %s", first) == (True, clock.now())
    assert harness.one("SELECT status, error_code FROM sms_message WHERE caregiver_id = %s", first) == (
        "opted_out",
        21610,
    )


def test_failed_delivery_reported_by_status_callback_moves_on(conn, clock, town, harness) -> None:
    provider = town.provider()
    first = town.caregiver(provider, offset(0.3, 0))
    second = town.caregiver(provider, offset(0.8, 0))
    elder = town.elder()
    conn.commit()
    harness.standin.add_rule(harness.phone(first), "undelivered")
    _sos(town, clock, elder)
    conn.commit()
    harness.drive()
    order = harness.one("SELECT id FROM service_order")
    harness.wait_until("SELECT status FROM offer WHERE caregiver_id = %s", first, expect="failed")
    harness.drive()
    harness.standin.wait_for(to=harness.phone(second), timeout=patience(5))
    assert harness.offers(order) == [(first, "failed"), (second, "sent")]
    assert harness.one("SELECT status, error_code FROM sms_message WHERE caregiver_id = %s", first) == (
        "undelivered",
        30003,
    )


def test_retries_with_backoff_on_429_and_5xx(conn, clock, town, harness) -> None:
    provider = town.provider()
    first = town.caregiver(provider, offset(0.3, 0))
    elder = town.elder(contacts=0)
    conn.commit()
    phone = harness.phone(first)
    harness.standin.add_rule(phone, "429", times=1)
    _sos(town, clock, elder)
    conn.commit()
    harness.drive()
    assert harness.one("SELECT status, attempts, next_attempt_at FROM sms_message WHERE caregiver_id = %s", first) == (
        "pending",
        1,
        clock.now() + timedelta(seconds=0.5),
    )
    harness.standin.add_rule(phone, "500", times=1)
    clock.advance(timedelta(seconds=0.5))
    harness.drive()
    assert harness.one("SELECT next_attempt_at FROM sms_message WHERE caregiver_id = %s", first) == (
        clock.now() + timedelta(seconds=1)
    )
    clock.advance(timedelta(seconds=1))
    harness.drive()
    assert harness.one("SELECT status, attempts FROM sms_message WHERE caregiver_id = %s", first)[1] == 3
    assert len(harness.standin.sent(to=phone, direction="outbound-api")) == 3
    assert harness.offers(harness.one("SELECT id FROM service_order")) == [(first, "sent")]


def test_running_out_of_caregivers_escalates_to_operators_and_manager(emergency, harness) -> None:
    order, code = emergency["order"], emergency["code"]
    for caregiver in emergency["caregivers"]:
        harness.standin.reply(harness.phone(caregiver), f"N {code}")
    harness.drive()
    assert [s for _, s in harness.offers(order)] == ["declined"] * 3
    status, level = harness.one("SELECT status, escalation_level FROM service_order WHERE id = %s", order)
    assert (status, level) == ("escalated", 1)
    alarm = harness.one("SELECT type, severity, status, details FROM alarm WHERE type = 'order_escalated'")
    assert alarm[:3] == ("order_escalated", "critical", "open") and alarm[3]["order_code"] == code
    manager = harness.one("SELECT body FROM sms_message WHERE purpose = 'manager'")
    assert code in manager and "无人接单" in manager


def test_five_minutes_without_acceptance_escalates(conn, clock, town, database_url) -> None:
    from tests.dispatcher.harness import Harness

    provider = town.provider()
    for km in (0.3, 0.6, 0.9, 1.2, 1.5, 1.8):
        town.caregiver(provider, offset(km, 0))
    elder = town.elder(contacts=0)
    _sos(town, clock, elder)
    conn.commit()
    harness = Harness.start(database_url, clock, escalate_after_offers=10, **HARNESS_DISPATCH)
    try:
        harness.drive()
        order = harness.one("SELECT id FROM service_order")
        for _ in range(3):
            clock.advance(timedelta(seconds=91))
            harness.drive()
        assert harness.one("SELECT status FROM service_order WHERE id = %s", order) == "offered"
        clock.advance(timedelta(seconds=30))  # 5 min 3 s after the order
        harness.drive()
        assert harness.one("SELECT status, escalation_level FROM service_order WHERE id = %s", order) == (
            "escalated",
            1,
        )
        # the search goes on while operators look
        assert [s for _, s in harness.offers(order)][-1] == "sent"
    finally:
        harness.stop()


def test_accepted_emergency_without_arrival_in_30_minutes_escalates_again(emergency, harness, clock) -> None:
    first, order = emergency["caregivers"][0], emergency["order"]
    harness.standin.reply(harness.phone(first), "1")
    clock.advance(timedelta(minutes=29))
    harness.drive()
    assert harness.one("SELECT status FROM service_order WHERE id = %s", order) == "accepted"
    clock.advance(timedelta(minutes=1))
    harness.drive()
    assert harness.one("SELECT status, escalation_level, caregiver_id FROM service_order WHERE id = %s", order) == (
        "escalated",
        1,
        first,
    )
    assert harness.one("SELECT count(*) FROM sms_message WHERE purpose = 'manager'") == 1
    # the caregiver still gets there and finishes
    assert "已记录到达" in harness.standin.reply(harness.phone(first), "ARRIVED").text
    assert "已完成" in harness.standin.reply(harness.phone(first), "DONE").text
    assert harness.one("SELECT status FROM service_order WHERE id = %s", order) == "completed"
