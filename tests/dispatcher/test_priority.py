"""Priority when capacity is short: 特困, 失能, 孤寡 and 高龄 elders' booked orders are offered first."""

from __future__ import annotations

from datetime import timedelta

from dispatcher import create_order, sweep
from eldercare.priority import BOOKED, EMERGENCY, booked_priority, priorities
from tests.dispatcher.town import offset


def test_one_step_ahead_per_priority_group() -> None:
    assert booked_priority([]) == BOOKED == 5
    assert booked_priority(["min_allowance", "low_income", "partly_disabled"]) == 5  # not priority groups
    assert booked_priority(["extreme_poverty"]) == 4
    assert booked_priority(["extreme_poverty", "disabled", "solitary", "very_old"]) == 1
    assert EMERGENCY < booked_priority(["extreme_poverty", "disabled", "solitary", "very_old"])


def test_derived_groups_count_too(conn, clock, town) -> None:
    young, old, disabled = town.elder(), town.elder(), town.elder()
    conn.execute("UPDATE elder SET birth_date = '1960-01-01' WHERE id IN (%s, %s)", (young, disabled))
    conn.execute("UPDATE elder SET ability_level = 4 WHERE id = %s", (disabled,))
    today = clock.now().date()
    assert priorities(conn, [young, old, disabled], today) == {young: 5, old: 4, disabled: 4}


def test_the_poor_elders_order_is_offered_first_when_one_caregiver_is_left(conn, clock, town, config) -> None:
    provider = town.provider()
    town.caregiver(provider, offset(0.5, 0), max_load=1)
    plain, poor = town.elder(), town.elder()
    conn.execute("UPDATE elder SET birth_date = '1960-01-01' WHERE id IN (%s, %s)", (plain, poor))
    conn.execute(
        "INSERT INTO elder_eligibility VALUES (%s, 'extreme_poverty', '2025-01-01', '赤民〔2025〕1号')", (poor,)
    )
    start = clock.now()
    orders = {
        name: create_order(
            conn,
            clock,
            elder_id=elder,
            service_type="cleaning",
            actor="op1",
            window_start=start,
            window_end=start + timedelta(hours=2),
            config=config,
        ).id
        for name, elder in (("plain", plain), ("poor", poor))  # the plain elder's order is older
    }
    sweep(conn, clock, config)
    first = conn.execute("SELECT order_id FROM offer ORDER BY id LIMIT 1").fetchone()
    assert first == (orders["poor"],)
