"""Two dispatchers at once never make two orders for one alarm, nor two live offers for one order."""

from __future__ import annotations

import threading

import psycopg

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


def test_two_dispatchers_make_one_order_per_alarm_and_one_offer_per_order(
    conn, clock, town, config, database_url
) -> None:
    provider = town.provider(capacity=100)
    for i in range(12):
        town.caregiver(provider, offset(0.2 * i, 0.1 * i), max_load=5)
    for _ in range(10):
        elder = town.elder(contacts=1)
        conn.execute(
            "INSERT INTO alarm (elder_id, type, severity, raised_at, last_raised_at) "
            "VALUES (%s, 'sos', 'critical', %s, %s)",
            (elder, clock.now(), clock.now()),
        )
    for _ in range(10):
        create_order(conn, clock, elder_id=town.elder(), service_type="meal", actor="op", config=config)
    conn.commit()

    assert _race(database_url, clock, config) == []

    assert conn.execute(
        "SELECT count(*), count(DISTINCT alarm_id) FROM service_order WHERE alarm_id IS NOT NULL"
    ).fetchone() == (10, 10)
    per_order = conn.execute(
        "SELECT so.offers_made, count(o.id), count(o.id) FILTER (WHERE o.status IN ('pending', 'sent')) "
        "FROM service_order so LEFT JOIN offer o ON o.order_id = so.id GROUP BY so.id"
    ).fetchall()
    assert len(per_order) == 20 and set(per_order) == {(1, 1, 1)}
    # one timeline row per offer, one family SMS per alarm
    assert conn.execute("SELECT count(*) FROM order_event WHERE to_status = 'offered'").fetchone() == (20,)
    assert conn.execute("SELECT count(*) FROM sms_message WHERE purpose = 'family'").fetchone() == (10,)
