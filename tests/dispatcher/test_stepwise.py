"""The dispatcher driven step by step through its public surface alone, as a simulated day would drive it:
no threads, no HTTP, a manual clock, and weights that change the outcome."""

from __future__ import annotations

from datetime import timedelta

import psycopg

import dispatcher
from eldercare import seed as seeding


def _city(conn: psycopg.Connection) -> None:
    seeding.write(conn, seeding.generate(seeding.SeedPlan(elders=150, seed=4, providers=6, caregivers=60)))


def _run_emergency(conn, clock, config, elder_id: int) -> tuple[int, int]:
    conn.execute(
        "INSERT INTO alarm (elder_id, type, severity, raised_at, last_raised_at) "
        "VALUES (%s, 'fall', 'critical', %s, %s)",
        (elder_id, clock.now(), clock.now()),
    )
    report = dispatcher.sweep(conn, clock, config)
    assert report.emergencies == 1
    conn.commit()
    sender = dispatcher.NullSender()
    assert dispatcher.send_due(lambda: _same(conn), clock, config, sender) >= 1
    order_id, caregiver_id = conn.execute(
        "SELECT o.order_id, o.caregiver_id FROM offer o JOIN service_order so ON so.id = o.order_id "
        "WHERE so.elder_id = %s AND o.status = 'sent'",
        (elder_id,),
    ).fetchone()
    return order_id, caregiver_id


class _same:
    """``send_due`` wants a connection factory; a simulation may hand it one connection over and over."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> psycopg.Connection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.conn.commit()


def test_an_emergency_from_alarm_to_completion_by_steps(conn, clock, config) -> None:
    _city(conn)
    elder = conn.execute("SELECT id FROM elder ORDER BY id LIMIT 1").fetchone()[0]
    order_id, caregiver_id = _run_emergency(conn, clock, config, elder)
    caregiver = dispatcher.caregiver_by_id(conn, caregiver_id)
    assert caregiver is not None
    clock.advance(timedelta(seconds=40))
    assert dispatcher.accept_offer(conn, clock, config, caregiver, order_id, "simulation").changed
    clock.advance(timedelta(minutes=12))
    assert dispatcher.arrive(conn, clock, config, caregiver, order_id, "simulation").changed
    clock.advance(timedelta(minutes=30))
    assert dispatcher.finish(conn, clock, config, caregiver, order_id, "simulation").changed
    row = conn.execute(
        "SELECT status, accepted_at - created_at, arrived_at - accepted_at FROM service_order WHERE id = %s",
        (order_id,),
    ).fetchone()
    assert row == ("completed", timedelta(seconds=40), timedelta(minutes=12))


def test_a_matching_weight_changes_who_is_asked(conn, clock, config) -> None:
    _city(conn)
    conn.commit()
    elders = [e for (e,) in conn.execute("SELECT id FROM elder ORDER BY id LIMIT 40").fetchall()]
    smart = dispatcher.Config(config.platform, dispatcher.DispatcherSettings(_env_file=None))
    nearest = dispatcher.Config(
        config.platform,
        dispatcher.DispatcherSettings(
            _env_file=None,
            weights_emergency=dispatcher.MatchWeights.nearest(),
            weights_routine=dispatcher.MatchWeights.nearest(),
        ),
    )
    chosen = {}
    for name, cfg in (("smart", smart), ("nearest", nearest)):
        picks = []
        for elder in elders:
            ref = dispatcher.create_order(conn, clock, elder_id=elder, service_type="meal", actor="sim", config=cfg)
            dispatcher.sweep(conn, clock, cfg)
            picks.append(conn.execute("SELECT caregiver_id FROM offer WHERE order_id = %s", (ref.id,)).fetchone())
        conn.rollback()
        chosen[name] = picks
    assert chosen["smart"] != chosen["nearest"]


def test_english_speaking_caregivers_get_english(conn, clock, town, config) -> None:
    from tests.dispatcher.town import offset

    provider = town.provider()
    caregiver = town.caregiver(provider, offset(0.2, 0), language="en")
    ref = dispatcher.create_order(conn, clock, elder_id=town.elder(), service_type="bathing", actor="op", config=config)
    dispatcher.sweep(conn, clock, config)
    body = conn.execute("SELECT body FROM sms_message WHERE caregiver_id = %s", (caregiver,)).fetchone()[0]
    assert body.startswith("[Bathing help] Order ") and f"Reply Y {ref.code} to accept" in body
    assert "0.2 km from you" in body and "within 15 min" in body
    found = dispatcher.caregiver_by_id(conn, caregiver)
    assert found is not None
    answer = dispatcher.accept_offer(conn, clock, config, found, ref.id, "t")
    assert answer.text("en").startswith(f"Order {ref.code} is yours")
