from __future__ import annotations

import itertools

import pytest

from dispatcher.lifecycle import TRANSITIONS, Actor, InvalidTransition, check, load_order, transition
from dispatcher.orders import create_order
from eldercare.vocabulary import FINAL, OrderStatus


def test_every_status_has_a_row_and_final_ones_lead_nowhere() -> None:
    assert set(TRANSITIONS) == set(OrderStatus)
    assert TRANSITIONS[OrderStatus.CANCELLED] == frozenset()
    assert TRANSITIONS[OrderStatus.REVIEWED] == frozenset()
    assert all(to in OrderStatus for targets in TRANSITIONS.values() for to in targets)
    # the happy path of DESIGN.md
    path = ["created", "offered", "accepted", "en_route", "arrived", "completed", "reviewed"]
    for a, b in itertools.pairwise(path):
        assert OrderStatus(b) in TRANSITIONS[OrderStatus(a)]
    # nothing comes back from an end
    for final in FINAL:
        assert OrderStatus.OFFERED not in TRANSITIONS[final]


def test_invalid_transition_says_what_is_possible(conn, clock, town, config) -> None:
    elder = town.elder()
    ref = create_order(conn, clock, elder_id=elder, service_type="meal", actor="op1", config=config)
    order = load_order(conn, ref.id, lock=True)
    with pytest.raises(InvalidTransition) as err:
        check(order, OrderStatus.COMPLETED, "finished")
    message = str(err.value)
    assert ref.code in message and "created" in message and "offered" in message


def test_transition_writes_exactly_one_timeline_row(conn, clock, town, config) -> None:
    elder = town.elder()
    ref = create_order(conn, clock, elder_id=elder, service_type="meal", actor="op1", config=config)
    order = load_order(conn, ref.id, lock=True)
    transition(
        conn,
        clock,
        order,
        OrderStatus.ESCALATED,
        actor_kind=Actor.SYSTEM,
        actor="dispatcher",
        reason="test",
        escalation_level=1,
    )
    rows = conn.execute(
        "SELECT from_status, to_status, actor_kind, actor, reason, at FROM order_event WHERE order_id = %s ORDER BY id",
        (ref.id,),
    ).fetchall()
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        (None, "created", "operator", "op1"),
        ("created", "escalated", "system", "dispatcher"),
    ]
    assert all(r[5] == clock.now() for r in rows)


def test_transition_refuses_a_stale_order(conn, clock, town, config) -> None:
    elder = town.elder()
    ref = create_order(conn, clock, elder_id=elder, service_type="meal", actor="op1", config=config)
    stale = load_order(conn, ref.id)
    transition(conn, clock, stale, OrderStatus.CANCELLED, actor_kind=Actor.OPERATOR, actor="op1", reason="x")
    with pytest.raises(Exception, match=r"changed while this action ran|cannot be"):
        transition(conn, clock, stale, OrderStatus.ESCALATED, actor_kind=Actor.SYSTEM, actor="dispatcher")
