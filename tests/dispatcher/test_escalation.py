"""Escalations link their order: each escalated order is its own alarm on the board, never merged with
another order of the same elder; a second escalation of the same order repeats its alarm."""

from __future__ import annotations

from dashboard.alarms import live_board
from dispatcher.escalation import NO_ARRIVAL, NO_CANDIDATE, escalate
from dispatcher.lifecycle import load_order
from dispatcher.orders import create_order


def test_two_escalated_orders_of_one_elder_are_two_alarms_each_linking_its_order(conn, clock, config, town) -> None:
    elder = town.elder()
    meal = create_order(conn, clock, elder_id=elder, service_type="meal", actor="op", config=config)
    cleaning = create_order(conn, clock, elder_id=elder, service_type="cleaning", actor="op", config=config)

    escalate(conn, clock, config, load_order(conn, meal.id, lock=True), NO_CANDIDATE)
    escalate(conn, clock, config, load_order(conn, cleaning.id, lock=True), NO_CANDIDATE)
    escalate(conn, clock, config, load_order(conn, meal.id, lock=True), NO_ARRIVAL)

    rows = conn.execute(
        "SELECT order_id, repeat_count, details->>'order_code' FROM alarm WHERE type = 'order_escalated' ORDER BY id"
    ).fetchall()
    assert rows == [(meal.id, 1, meal.code), (cleaning.id, 0, cleaning.code)]
    board = [(a.order_id, a.order_code) for a in live_board(conn) if a.type == "order_escalated"]
    assert sorted(board) == sorted([(meal.id, meal.code), (cleaning.id, cleaning.code)])


def test_an_emergency_alarm_links_the_order_it_raised(conn, clock, config, town) -> None:
    elder = town.elder()
    alarm = town.sos(elder, clock.now())
    order = create_order(
        conn, clock, elder_id=elder, service_type="emergency", actor="t", source="alarm", alarm_id=alarm, config=config
    )
    (shown,) = [a for a in live_board(conn) if a.id == alarm]
    assert (shown.order_id, shown.order_code) == (order.id, order.code)
