"""Visit verification: each rule, each exception kind, the card code and the elder's button."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dashboard import alarms
from dispatcher import Caregiver, accept_offer, arrive, caregiver_by_id, create_order, escalation, finish, sweep
from dispatcher.verification import resolve
from dispatcher.visits import Proof
from eldercare.register import card_code
from eldercare.vocabulary import AlarmOutcome
from tests.dispatcher.town import CENTER, offset

HOME = Proof(lat=CENTER[0], lon=CENTER[1], accuracy_m=15)
FAR = Proof(*offset(2.0, 0), accuracy_m=15)


@pytest.fixture
def booked(conn, clock, town, config):
    """A meal (planned 40 min... as the service type says) booked for now, accepted by a caregiver 0.5 km away."""
    provider = town.provider()
    caregiver_id = town.caregiver(provider, offset(0.5, 0), max_load=5)
    elder = town.elder()

    def order(start=None, service: str = "meal") -> int:
        begins = start or clock.now()
        ref = create_order(
            conn,
            clock,
            elder_id=elder,
            service_type=service,
            actor="op1",
            window_start=begins,
            window_end=begins + timedelta(hours=1),
            config=config,
        )
        sweep(conn, clock, config)
        caregiver = caregiver_by_id(conn, caregiver_id)
        assert caregiver is not None
        answer = accept_offer(conn, clock, config, caregiver, ref.id, "sms")
        assert answer.changed, answer
        return ref.id

    return order, caregiver_id, elder


def _caregiver(conn, caregiver_id: int) -> Caregiver:
    caregiver = caregiver_by_id(conn, caregiver_id)
    assert caregiver is not None
    return caregiver


def _visit(conn, clock, config, caregiver_id, order_id, at=HOME, minutes=40, done_at=HOME):
    caregiver = _caregiver(conn, caregiver_id)
    assert arrive(conn, clock, config, caregiver, order_id, "page", at).key == "arrived"
    clock.advance(timedelta(minutes=minutes))
    assert finish(conn, clock, config, caregiver, order_id, "page", done_at).key == "done"
    status = conn.execute("SELECT status FROM visit WHERE order_id = %s", (order_id,)).fetchone()[0]
    kinds = {k for (k,) in conn.execute("SELECT kind FROM visit_exception WHERE order_id = %s", (order_id,))}
    return status, kinds


def test_at_home_for_the_planned_time_is_verified(conn, clock, config, booked) -> None:
    order, caregiver, _ = booked
    oid = order()
    assert _visit(conn, clock, config, caregiver, oid) == ("verified", set())
    row = conn.execute(
        "SELECT arrival_check, completion_check, verified_minutes, arrival_distance_m < 1 FROM visit "
        "WHERE order_id = %s",
        (oid,),
    ).fetchone()
    assert row == ("near", "near", 40, True)


def test_far_from_home_is_an_exception(conn, clock, config, booked) -> None:
    order, caregiver, _ = booked
    oid = order()
    status, kinds = _visit(conn, clock, config, caregiver, oid, at=FAR)
    assert (status, kinds) == ("exception", {"far"})
    details = conn.execute("SELECT details FROM visit_exception WHERE order_id = %s", (oid,)).fetchone()[0]
    assert 1900 < details["arrival_m"] < 2100 and details["radius_m"] == 300


@pytest.mark.parametrize(
    ("proof", "why"),
    [
        (Proof(location_error="geolocation error 1: User denied Geolocation"), "denied"),
        (Proof.from_form({"lat": "29.72", "lon": "113.93", "accuracy": "25000"}), "accuracy"),
        (Proof.from_form({"lat": "NaN", "lon": "113.93", "accuracy": "10"}), "impossible"),
        (Proof.from_form({"lat": "95", "lon": "113.93", "accuracy": "10"}), "impossible"),
        (Proof.from_form({"lat": "north", "lon": "x", "accuracy": "10"}), "unreadable"),
        (Proof.from_form({}), "no location"),
    ],
)
def test_no_usable_location_is_an_exception_not_a_refusal(conn, clock, config, booked, proof, why) -> None:
    order, caregiver, _ = booked
    oid = order()
    assert _visit(conn, clock, config, caregiver, oid, at=proof) == ("exception", {"no_check_in"})
    assert conn.execute("SELECT arrival_check FROM visit WHERE order_id = %s", (oid,)).fetchone()[0] == "no_location"
    assert why in (proof.location_error or "location accuracy")


def test_short_and_long_visits(conn, clock, config, booked) -> None:
    order, caregiver, _ = booked
    assert _visit(conn, clock, config, caregiver, order(), minutes=10)[1] == {"short"}
    assert _visit(conn, clock, config, caregiver, order(), minutes=200)[1] == {"long"}


def test_overlapping_visits_of_one_caregiver(conn, clock, config, booked) -> None:
    order, caregiver_id, _ = booked
    first, second = order(), order()
    caregiver = _caregiver(conn, caregiver_id)
    arrive(conn, clock, config, caregiver, first, "page", HOME)
    clock.advance(timedelta(minutes=5))
    _, kinds = _visit(conn, clock, config, caregiver_id, second)
    assert kinds == {"overlap"}
    details = conn.execute("SELECT details FROM visit_exception WHERE order_id = %s", (second,)).fetchone()[0]
    assert details["orders"] == [conn.execute("SELECT code FROM service_order WHERE id = %s", (first,)).fetchone()[0]]


def test_a_visit_while_the_elder_is_in_hospital(conn, clock, config, booked) -> None:
    order, caregiver, elder = booked
    oid = order()
    conn.execute(
        "UPDATE elder SET inactive_reason = 'in_hospital', inactive_since = '2026-01-01' WHERE id = %s", (elder,)
    )
    assert _visit(conn, clock, config, caregiver, oid)[1] == {"in_hospital"}


def test_a_visit_verified_by_the_card_code_and_a_replaced_code_is_not(conn, clock, config, booked) -> None:
    order, caregiver, elder = booked
    old = card_code.issue(conn, clock, elder, "op1")
    new = card_code.issue(conn, clock, elder, "op1")
    assert card_code.current(conn, elder) == (new, clock.now())
    assert new != old
    card = Proof(card_code=new)
    assert _visit(conn, clock, config, caregiver, order(), at=card, done_at=card) == ("verified", set())
    replayed = Proof(card_code=old)
    status, kinds = _visit(conn, clock, config, caregiver, order(), at=replayed, done_at=card)
    assert (status, kinds) == ("exception", {"bad_code", "no_check_in"})
    why = conn.execute("SELECT details->>'why' FROM visit_exception WHERE kind = 'bad_code'").fetchone()[0]
    assert why == "a replaced card code"


def test_a_visit_verified_by_the_elders_button(conn, clock, config, booked) -> None:
    order, caregiver_id, elder = booked
    oid = order()
    caregiver = _caregiver(conn, caregiver_id)
    arrive(conn, clock, config, caregiver, oid, "sms")
    clock.advance(timedelta(minutes=20))
    conn.execute(
        "INSERT INTO device_event (device_id, elder_id, seq, type, ts) VALUES (%s, %s, 1, 'visit', %s)",
        (f"but{elder:06d}", elder, clock.now()),
    )
    clock.advance(timedelta(minutes=20))
    finish(conn, clock, config, caregiver, oid, "sms")
    row = conn.execute("SELECT status, button_pressed_at IS NOT NULL FROM visit WHERE order_id = %s", (oid,)).fetchone()
    assert row == ("verified", True)


def test_an_operator_resolves_each_exception_with_a_reason(conn, clock, config, booked) -> None:
    order, caregiver, _ = booked
    oid = order()
    _visit(conn, clock, config, caregiver, oid, at=FAR, minutes=10)
    exceptions = conn.execute(
        "SELECT id, kind FROM visit_exception WHERE order_id = %s ORDER BY kind", (oid,)
    ).fetchall()
    assert [k for _, k in exceptions] == ["far", "short"]
    with pytest.raises(Exception, match="reason is empty"):
        resolve(conn, clock, exceptions[0][0], resolution="confirmed", reason="  ", actor="op1")
    with pytest.raises(Exception, match="resolution must be one of"):
        resolve(conn, clock, exceptions[0][0], resolution="maybe", reason="x", actor="op1")
    assert resolve(conn, clock, exceptions[0][0], resolution="confirmed", reason="电话核实", actor="op1") == "exception"
    with pytest.raises(Exception, match="already confirmed"):
        resolve(conn, clock, exceptions[0][0], resolution="rejected", reason="x", actor="op1")
    assert resolve(conn, clock, exceptions[1][0], resolution="confirmed", reason="老人确认", actor="op1") == "confirmed"
    with pytest.raises(Exception, match="no visit exception"):
        resolve(conn, clock, 999_999, resolution="rejected", reason="x", actor="op1")
    audited = conn.execute("SELECT count(*) FROM audit_log WHERE action = 'visit_exception.confirmed'").fetchone()[0]
    assert audited == 2


def test_a_visit_long_not_reported_done_reminds_its_caregiver_and_alerts_the_operators_once(
    conn, clock, config, booked
) -> None:
    order, caregiver_id, elder = booked
    oid = order()  # a meal, booked for now
    caregiver = _caregiver(conn, caregiver_id)
    assert arrive(conn, clock, config, caregiver, oid, "page", HOME).key == "arrived"
    arrived = clock.now()
    takes = conn.execute("SELECT duration_min FROM service_order WHERE id = %s", (oid,)).fetchone()[0]
    grace = config.dispatch.unfinished_minutes
    clock.set(arrived + timedelta(minutes=takes + grace - 1))
    assert sweep(conn, clock, config).unfinished == 0  # not yet: within its time and the grace
    clock.set(arrived + timedelta(minutes=takes + grace))
    assert sweep(conn, clock, config).unfinished == 1
    alarm = conn.execute(
        "SELECT id, elder_id, order_id, status, severity, details->>'caregiver', (details->>'minutes')::int "
        "FROM alarm WHERE type = 'visit_unfinished'"
    ).fetchall()
    assert [a[1:] for a in alarm] == [(elder, oid, "open", "warning", caregiver.code, takes + grace)]
    alarm_id = alarm[0][0]
    reminder = conn.execute(
        "SELECT body FROM sms_message WHERE caregiver_id = %s AND order_id = %s AND body LIKE %s",
        (caregiver_id, oid, "%DONE%"),
    ).fetchall()
    code = conn.execute("SELECT code FROM service_order WHERE id = %s", (oid,)).fetchone()[0]
    assert len(reminder) == 1 and code in reminder[0][0], reminder
    event = conn.execute(
        "SELECT from_status, to_status, actor_kind, reason FROM order_event WHERE order_id = %s ORDER BY id DESC "
        "LIMIT 1",
        (oid,),
    ).fetchone()
    assert event == ("arrived", "arrived", "system", escalation.UNFINISHED)
    # once: a later sweep leaves it be, even after the operators resolved the alarm
    clock.advance(timedelta(hours=2))
    alarms.resolve(conn, alarm_id, "op1", clock.now(), AlarmOutcome.REAL_EMERGENCY, "phoned: she had forgotten")
    assert sweep(conn, clock, config).unfinished == 0
    # the caregiver may still report it done
    assert finish(conn, clock, config, caregiver, oid, "sms", HOME).key == "done"
    assert conn.execute("SELECT status FROM service_order WHERE id = %s", (oid,)).fetchone()[0] == "completed"


def test_a_visit_reported_done_in_time_or_not_arrived_at_is_not_chased(conn, clock, config, booked) -> None:
    order, caregiver_id, _ = booked
    done, waiting = order(), order()
    _visit(conn, clock, config, caregiver_id, done)
    clock.advance(timedelta(hours=6))
    assert sweep(conn, clock, config).unfinished == 0
    statuses = conn.execute("SELECT id, status FROM service_order WHERE id IN (%s, %s)", (done, waiting)).fetchall()
    assert dict(statuses) == {done: "completed", waiting: "escalated"}  # no arrival: escalated, not "unfinished"
    assert conn.execute("SELECT count(*) FROM alarm WHERE type = 'visit_unfinished'").fetchone()[0] == 0


def test_a_caregiver_opted_out_of_sms_gets_no_reminder_but_the_operators_are_alerted(
    conn, clock, config, booked
) -> None:
    order, caregiver_id, _ = booked
    oid = order()
    assert arrive(conn, clock, config, _caregiver(conn, caregiver_id), oid, "page", HOME).key == "arrived"
    conn.execute("UPDATE caregiver SET sms_opt_out = true WHERE id = %s", (caregiver_id,))
    clock.advance(timedelta(hours=6))
    sent_before = conn.execute("SELECT count(*) FROM sms_message WHERE caregiver_id = %s", (caregiver_id,)).fetchone()
    assert sweep(conn, clock, config).unfinished == 1
    sent_after = conn.execute("SELECT count(*) FROM sms_message WHERE caregiver_id = %s", (caregiver_id,)).fetchone()
    assert sent_after == sent_before
    alarms_raised = conn.execute("SELECT count(*) FROM alarm WHERE type = 'visit_unfinished' AND order_id = %s", (oid,))
    assert alarms_raised.fetchone() == (1,)
