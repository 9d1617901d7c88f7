"""Escalations link their order: each escalated order is its own alarm on the board, never merged with
another order of the same elder; a second escalation of the same order repeats its alarm."""

from __future__ import annotations

from datetime import timedelta

from psycopg import sql

from dashboard.alarms import live_board
from dispatcher.escalation import NO_ARRIVAL, NO_CANDIDATE, escalate
from dispatcher.lifecycle import load_order
from dispatcher.orders import create_order
from eldercare.alarms import ON_BOARD
from tests.plans import nodes, rows_read


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


def test_the_live_board_reads_the_alarms_under_way_not_every_alarm_ever_raised(conn, clock, config, town) -> None:
    """The board shows every alarm not resolved and every resolved one whose order is still under way (linked
    either way: an emergency's order names its alarm, an escalation's alarm names its order), and finds them by
    index: with 3,000 alarms of the past behind them, no scan of ``alarm`` reads more than a few dozen rows. Before,
    each refresh read every alarm ever raised (a year's 36,000: 52 ms, and over 900 ms where the server compiled the
    query; ``python -m benchmarks.bench_jit``)."""
    past = clock.now() - timedelta(days=30)
    conn.execute(
        "WITH a AS (INSERT INTO alarm (elder_id, type, severity, status, raised_at, last_raised_at, acknowledged_at, "
        "  resolved_at, outcome) SELECT %(elder)s, 'sos', 'critical', 'resolved', t, t, t, t, 'real_emergency' "
        "  FROM generate_series(1, 3000) g, LATERAL (SELECT %(past)s - g * interval '1 hour' AS t) s RETURNING id) "
        "INSERT INTO service_order (code, elder_id, service_type, status, source, alarm_id, window_start, window_end, "
        "  duration_min, created_at, created_by, cancelled_at, updated_at) "
        "SELECT 'PAST' || a.id, %(elder)s, 'emergency', 'cancelled', 'alarm', a.id, %(past)s, %(past)s, 30, "
        "  %(past)s, 't', %(past)s, %(past)s FROM a",
        {"elder": town.elder(), "past": past},
    )
    conn.execute("UPDATE alarm a SET order_id = o.id FROM service_order o WHERE o.alarm_id = a.id AND a.id % 3 = 0")

    def resolve(alarm: int) -> None:
        conn.execute(
            "UPDATE alarm SET status = 'resolved', acknowledged_at = %s, resolved_at = %s, outcome = 'real_emergency' "
            "WHERE id = %s",
            (clock.now(), clock.now(), alarm),
        )

    open_sos = town.sos(town.elder(), clock.now())
    helped = town.elder()
    answered = town.sos(helped, clock.now())
    create_order(
        conn,
        clock,
        elder_id=helped,
        service_type="emergency",
        actor="t",
        source="alarm",
        alarm_id=answered,
        config=config,
    )
    resolve(answered)  # the call is over, the caregiver not there yet
    meal = create_order(conn, clock, elder_id=town.elder(), service_type="meal", actor="op", config=config)
    escalate(conn, clock, config, load_order(conn, meal.id, lock=True), NO_CANDIDATE)
    (escalated,) = conn.execute("SELECT id FROM alarm WHERE order_id = %s", (meal.id,)).fetchone()
    resolve(escalated)  # taken up by an operator, the meal not yet served
    conn.execute("ANALYZE alarm")
    conn.execute("ANALYZE service_order")

    assert sorted(a.id for a in live_board(conn)) == sorted([open_sos, answered, escalated])
    ((plan,),) = conn.execute(
        sql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) SELECT a.id FROM alarm a WHERE {}").format(sql.SQL(ON_BOARD))
    )

    # rows read in all, kept and filtered out, every loop
    read = [
        (node["Node Type"], rows_read(node) * node["Actual Loops"])
        for node in nodes(plan[0]["Plan"])
        if node.get("Relation Name") == "alarm"
    ]
    assert read and max(rows for _, rows in read) < 50, read
