from __future__ import annotations

from datetime import time, timedelta

import pytest

from dispatcher import (
    InvalidTransition,
    OrderError,
    OrderNotFound,
    cancel_order,
    create_order,
    reassign_order,
    review_order,
)
from dispatcher.lifecycle import Actor, load_order, transition
from eldercare.vocabulary import OrderStatus
from tests.dispatcher.town import offset
from tests.waiting import patience


def _timeline(conn, order_id: int) -> list[tuple[str | None, str, str]]:
    return conn.execute(
        "SELECT from_status, to_status, actor FROM order_event WHERE order_id = %s ORDER BY id", (order_id,)
    ).fetchall()


def test_create_order_records_who_and_when(conn, clock, town, config) -> None:
    elder = town.elder()
    start = clock.now() + timedelta(hours=3)
    ref = create_order(
        conn,
        clock,
        elder_id=elder,
        service_type="cleaning",
        actor="op1",
        window_start=start,
        notes="bring a mop",
        config=config,
    )
    assert ref.status == "created" and len(ref.code) == 6
    row = conn.execute(
        "SELECT status, source, created_by, created_at, window_start, window_end, duration_min, notes, "
        "next_offer_at, accept_due_at, priority FROM service_order WHERE id = %s",
        (ref.id,),
    ).fetchone()
    assert row[:4] == ("created", "operator", "op1", clock.now())
    assert row[4] == start and row[5] == start + timedelta(hours=2)
    assert row[6] == 120 and row[7] == "bring a mop"
    assert row[8] == clock.now() and row[9] == clock.now() + timedelta(minutes=60)
    assert _timeline(conn, ref.id) == [(None, "created", "op1")]
    audit = conn.execute("SELECT actor, action, target_id FROM audit_log").fetchall()
    assert audit == [("op1", "order.create", str(ref.id))]


def test_emergency_orders_come_first_and_escalate_sooner(conn, clock, town, config) -> None:
    elder = town.elder()
    ref = create_order(conn, clock, elder_id=elder, service_type="emergency", actor="op1", config=config)
    priority, due, end = conn.execute(
        "SELECT priority, accept_due_at, window_end FROM service_order WHERE id = %s", (ref.id,)
    ).fetchone()
    assert priority == 0 and due == clock.now() + timedelta(minutes=5) and end == clock.now() + timedelta(minutes=30)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"elder_id": 999999, "service_type": "meal"}, "no elder with id 999999"),
        ({"service_type": "massage"}, "service type 'massage' is unknown; use one of: meal, cleaning"),
        ({"service_type": "meal", "source": "fax"}, "source 'fax'"),
    ],
)
def test_create_order_refuses_bad_input_clearly(conn, clock, town, config, kwargs, message) -> None:
    elder = town.elder()
    with pytest.raises(OrderError, match=message):
        create_order(conn, clock, **{"elder_id": elder, "actor": "op1", "config": config, **kwargs})


def test_create_order_refuses_a_window_that_ends_before_it_starts(conn, clock, town, config) -> None:
    elder = town.elder()
    with pytest.raises(OrderError, match=r"ends .* before it starts"):
        create_order(
            conn,
            clock,
            elder_id=elder,
            service_type="meal",
            actor="op1",
            config=config,
            window_start=clock.now() + timedelta(hours=2),
            window_end=clock.now() + timedelta(hours=1),
        )
    with pytest.raises(OrderError, match="time zone"):
        create_order(
            conn,
            clock,
            elder_id=elder,
            service_type="meal",
            actor="op1",
            config=config,
            window_start=clock.now().replace(tzinfo=None),
        )


def test_one_order_per_alarm(conn, clock, town, config) -> None:
    elder = town.elder()
    alarm = town.sos(elder, clock.now())
    ref = create_order(
        conn,
        clock,
        elder_id=elder,
        service_type="emergency",
        actor="op1",
        source="alarm",
        alarm_id=alarm,
        config=config,
    )
    with pytest.raises(OrderError, match=f"already has order {ref.code}"):
        create_order(conn, clock, elder_id=elder, service_type="emergency", actor="op1", alarm_id=alarm, config=config)


def test_cancel_withdraws_the_offer_and_tells_the_caregiver(conn, clock, town, config) -> None:
    provider = town.provider()
    caregiver = town.caregiver(provider, offset(0.5, 0))
    elder = town.elder()
    ref = create_order(conn, clock, elder_id=elder, service_type="meal", actor="op1", config=config)
    reassign_order(conn, clock, ref.id, caregiver_id=caregiver, actor="op1", config=config)
    clock.advance(timedelta(seconds=30))
    cancel_order(conn, clock, ref.id, reason="elder is in hospital", actor="op2", config=config)
    status, reason, cancelled_at = conn.execute(
        "SELECT status, cancel_reason, cancelled_at FROM service_order WHERE id = %s", (ref.id,)
    ).fetchone()
    assert (status, reason, cancelled_at) == ("cancelled", "elder is in hospital", clock.now())
    assert conn.execute("SELECT status FROM offer WHERE order_id = %s", (ref.id,)).fetchone() == ("cancelled",)
    withdrawn = conn.execute(
        "SELECT body FROM sms_message WHERE purpose = 'operator' AND caregiver_id = %s", (caregiver,)
    ).fetchone()
    assert ref.code in withdrawn[0]
    assert _timeline(conn, ref.id)[-1] == ("offered", "cancelled", "op2")
    with pytest.raises(InvalidTransition, match="cancelled and cannot be cancelled"):
        cancel_order(conn, clock, ref.id, reason="again", actor="op2", config=config)
    with pytest.raises(OrderError, match="say why"):
        cancel_order(conn, clock, ref.id, reason="  ", actor="op2", config=config)


def test_missing_order_is_not_found(conn, clock, config) -> None:
    with pytest.raises(OrderNotFound, match="no order with id 424242"):
        cancel_order(conn, clock, 424242, reason="x", actor="op1", config=config)


def test_reassign_to_next_best_skips_those_already_asked(conn, clock, town, config) -> None:
    provider = town.provider()
    near = town.caregiver(provider, offset(0.3, 0))
    middle = town.caregiver(provider, offset(1.0, 0))
    far = town.caregiver(provider, offset(3.0, 0))
    elder = town.elder()
    ref = create_order(conn, clock, elder_id=elder, service_type="meal", actor="op1", config=config)
    reassign_order(conn, clock, ref.id, caregiver_id=None, actor="op1", config=config)
    reassign_order(conn, clock, ref.id, caregiver_id=None, actor="op1", config=config)
    reassign_order(conn, clock, ref.id, caregiver_id=None, actor="op1", config=config)
    offers = conn.execute(
        "SELECT caregiver_id, status, rank FROM offer WHERE order_id = %s ORDER BY id", (ref.id,)
    ).fetchall()
    assert offers == [(near, "cancelled", 1), (middle, "cancelled", 2), (far, "pending", 3)]
    with pytest.raises(OrderError, match="no other eligible caregiver"):
        reassign_order(conn, clock, ref.id, caregiver_id=None, actor="op1", config=config)


def test_reassign_to_a_named_caregiver_notes_broken_rules_and_refuses_opted_out(conn, clock, town, config) -> None:
    provider = town.provider()
    off_shift = town.caregiver(provider, offset(0.3, 0), shifts=[(7, time(8), time(9))])
    opted_out = town.caregiver(provider, offset(0.2, 0), opted_out=True)
    elder = town.elder()
    ref = create_order(conn, clock, elder_id=elder, service_type="meal", actor="op1", config=config)
    with pytest.raises(OrderError, match="opted out of SMS"):
        reassign_order(conn, clock, ref.id, caregiver_id=opted_out, actor="op1", config=config)
    with pytest.raises(OrderError, match="no caregiver with id 999"):
        reassign_order(conn, clock, ref.id, caregiver_id=999, actor="op1", config=config)
    reassign_order(conn, clock, ref.id, caregiver_id=off_shift, actor="op1", config=config)
    reasons = conn.execute("SELECT reasons FROM offer WHERE order_id = %s", (ref.id,)).fetchone()[0]
    assert reasons["chosen_by"] == "op1" and [w[:15] for w in reasons["warnings"]] == ["no weekly shift"]
    assert reasons["distance_km"] == pytest.approx(0.3, abs=0.01)


def test_reassign_takes_an_accepted_order_back(conn, clock, town, config) -> None:
    provider = town.provider()
    first = town.caregiver(provider, offset(0.3, 0))
    second = town.caregiver(provider, offset(0.6, 0))
    elder = town.elder()
    ref = create_order(conn, clock, elder_id=elder, service_type="meal", actor="op1", config=config)
    reassign_order(conn, clock, ref.id, caregiver_id=first, actor="op1", config=config)
    order = load_order(conn, ref.id, lock=True)
    transition(
        conn,
        clock,
        order,
        OrderStatus.ACCEPTED,
        actor_kind=Actor.CAREGIVER,
        actor="C1",
        caregiver_id=first,
        accepted_at=clock.now(),
        provider_id=provider,
    )
    reassign_order(conn, clock, ref.id, caregiver_id=second, actor="op1", config=config)
    order = load_order(conn, ref.id)
    assert order.status == "offered" and order.caregiver_id is None and order.accepted_at is None
    assert [t[:2] for t in _timeline(conn, ref.id)][-2:] == [("accepted", "offered"), ("offered", "offered")]


def test_the_caregiver_an_order_is_taken_from_hears_why_in_their_own_language(conn, clock, town, harness) -> None:
    """Reassigning an offered order tells the caregiver it was offered to, by SMS (twilio-python to the stand-in), in
    the caregiver's language: a Chinese caregiver reads no English."""
    provider = town.provider()
    chinese = town.caregiver(provider, offset(0.3, 0))
    english = town.caregiver(provider, offset(0.4, 0), language="en")
    other = town.caregiver(provider, offset(0.6, 0))
    codes = {}
    for previous in (chinese, english):
        ref = create_order(conn, clock, elder_id=town.elder(), service_type="meal", actor="op1", config=harness.config)
        reassign_order(conn, clock, ref.id, caregiver_id=previous, actor="op1", config=harness.config)
        reassign_order(conn, clock, ref.id, caregiver_id=other, actor="op1", config=harness.config)
        codes[previous] = ref.code
    conn.commit()
    harness.drive()

    told = harness.standin.wait_for(2, to=harness.phone(chinese), timeout=patience(10))[-1].body
    assert told == f"工单{codes[chinese]}已取消或改派，无需前往。原因：值班员已将工单改派他人"
    told = harness.standin.wait_for(2, to=harness.phone(english), timeout=patience(10))[-1].body
    assert told == f"Order {codes[english]} was cancelled or reassigned: reassigned by the operator"


def test_review_only_after_completion_and_within_range(conn, clock, town, config) -> None:
    provider = town.provider()
    caregiver = town.caregiver(provider, offset(0.3, 0))
    elder = town.elder()
    ref = create_order(conn, clock, elder_id=elder, service_type="meal", actor="op1", config=config)
    with pytest.raises(InvalidTransition, match="created and cannot be reviewed"):
        review_order(conn, clock, ref.id, satisfaction=5, note="", actor="op1")
    order = load_order(conn, ref.id, lock=True)
    for to, extra in [
        (OrderStatus.OFFERED, {}),
        (OrderStatus.ACCEPTED, {"caregiver_id": caregiver, "accepted_at": clock.now()}),
        (OrderStatus.ARRIVED, {"arrived_at": clock.now()}),
        (OrderStatus.COMPLETED, {"completed_at": clock.now()}),
    ]:
        order = transition(conn, clock, order, to, actor_kind=Actor.SYSTEM, actor="test", **extra)
    for bad in (0, 6, True, "5"):
        with pytest.raises(OrderError, match="whole number from 1 to 5"):
            review_order(conn, clock, ref.id, satisfaction=bad, note="", actor="op1")  # type: ignore[arg-type]
    review_order(conn, clock, ref.id, satisfaction=4, note="准时", actor="op3")
    row = conn.execute(
        "SELECT status, satisfaction, review_note, reviewed_by FROM service_order WHERE id = %s", (ref.id,)
    ).fetchone()
    assert row == ("reviewed", 4, "准时", "op3")
