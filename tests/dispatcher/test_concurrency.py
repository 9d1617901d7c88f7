"""Two dispatchers at once never make two orders for one alarm, nor more live offers for one order than it
should have; two caregivers saying yes to one raced emergency at once: exactly one wins."""

from __future__ import annotations

import threading

import psycopg

from dispatcher.caregiver_actions import Answer, caregiver_by_id
from dispatcher.caregiver_actions import accept as accept_offer
from dispatcher.orders import create_order
from dispatcher.sweep import sweep
from tests.dispatcher.town import offset


def _race(database_url: str, clock, config, rounds: int = 8) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def dispatcher() -> None:
        try:
            with psycopg.connect(database_url) as conn:
                barrier.wait()
                for _ in range(rounds):
                    sweep(conn, clock, config, limit=3)
                    conn.commit()
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return errors


def test_two_dispatchers_make_one_order_per_alarm_and_the_right_offers_per_order(
    conn, clock, town, config, database_url
) -> None:
    provider = town.provider(capacity=100)
    for i in range(12):
        town.caregiver(provider, offset(0.2 * i, 0.1 * i), max_load=5)
    for _ in range(10):
        elder = town.elder(contacts=1)
        town.sos(elder, clock.now())
    for _ in range(10):
        create_order(conn, clock, elder_id=town.elder(), service_type="meal", actor="op", config=config)
    conn.commit()

    assert _race(database_url, clock, config) == []

    assert conn.execute(
        "SELECT count(*), count(DISTINCT alarm_id) FROM service_order WHERE alarm_id IS NOT NULL"
    ).fetchone() == (10, 10)
    per_order = conn.execute(
        "SELECT so.service_type, so.offers_made, count(o.id), count(DISTINCT o.caregiver_id), "
        "count(o.id) FILTER (WHERE o.status IN ('pending', 'sent')) "
        "FROM service_order so LEFT JOIN offer o ON o.order_id = so.id GROUP BY so.id"
    ).fetchall()
    # a booked meal goes to one caregiver at a time, an emergency to three at once
    race = config.dispatch.emergency_race_size
    assert race == 3
    assert sorted(set(per_order)) == [("emergency", race, race, race, race), ("meal", 1, 1, 1, 1)]
    assert len(per_order) == 20
    # one timeline row per offer, one family SMS per alarm
    offered = conn.execute("SELECT count(*) FROM order_event WHERE to_status = 'offered'").fetchone()
    assert offered == (10 * race + 10,)
    assert conn.execute("SELECT count(*) FROM sms_message WHERE purpose = 'family'").fetchone() == (10,)


def test_two_caregivers_saying_yes_at_once_to_a_raced_emergency_one_wins_the_other_is_told(
    conn, clock, town, config, database_url
) -> None:
    provider = town.provider(capacity=100)
    caregivers = [town.caregiver(provider, offset(0.3 + 0.2 * i, 0), max_load=10) for i in range(3)]
    rounds = 6
    for _ in range(rounds):
        elder = town.elder(contacts=0)
        town.sos(elder, clock.now())
    conn.commit()
    sweep(conn, clock, config, limit=rounds)
    conn.commit()
    orders = [r[0] for r in conn.execute("SELECT id FROM service_order ORDER BY id").fetchall()]
    assert len(orders) == rounds
    racers = [caregiver_by_id(conn, c) for c in caregivers[:2]]

    for order_id in orders:
        answers: list[tuple[int, Answer] | BaseException] = []
        barrier = threading.Barrier(2)

        def say_yes(caregiver, order_id=order_id, answers=answers, barrier=barrier) -> None:
            try:
                with psycopg.connect(database_url) as own:
                    own.execute("SELECT 1")  # connected before the barrier, so both go at once
                    barrier.wait()
                    answers.append((caregiver.id, accept_offer(own, clock, config, caregiver, order_id, "sms")))
                    own.commit()
            except BaseException as err:
                answers.append(err)

        threads = [threading.Thread(target=say_yes, args=(c,)) for c in racers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        results = [a for a in answers if isinstance(a, tuple)]
        assert len(results) == 2, answers
        assert sorted(answer.key for _, answer in results) == ["accepted", "taken"], answers
        winner = next(c for c, answer in results if answer.key == "accepted")
        loser = next(c for c, answer in results if answer.key == "taken")
        assert conn.execute("SELECT status, caregiver_id FROM service_order WHERE id = %s", (order_id,)).fetchone() == (
            "accepted",
            winner,
        )
        statuses = dict(
            conn.execute("SELECT caregiver_id, status FROM offer WHERE order_id = %s", (order_id,)).fetchall()
        )
        assert statuses == {winner: "accepted", loser: "cancelled", caregivers[2]: "cancelled"}
        told = conn.execute(
            "SELECT caregiver_id FROM sms_message WHERE purpose = 'offer_taken' AND order_id = %s ORDER BY 1",
            (order_id,),
        ).fetchall()
        assert told == sorted([(loser,), (caregivers[2],)])
        conn.commit()
