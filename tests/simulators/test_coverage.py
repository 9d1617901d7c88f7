"""The roster's bound on routine orders: whether some caregiver who may take an order reaches it inside its window
by travel alone, from home when their shift starts, by their kitchen for a meal."""

from __future__ import annotations

from datetime import time, timedelta

import psycopg

from dispatcher.planning.solve import most_in_turn
from dispatcher.settings import Config
from eldercare.clock import ManualClock
from simulators.citysim import coverage
from simulators.citysim import params as parameters
from tests.dispatcher.test_planning import DAY, TZ, booked, local
from tests.dispatcher.town import Town, offset


def test_an_order_is_within_the_rosters_reach_only_when_someone_who_may_take_it_gets_there_in_its_window(
    conn: psycopg.Connection, town: Town, clock: ManualClock, config: Config
) -> None:
    pid = town.provider()
    conn.execute("UPDATE provider SET kitchen_lat = %s, kitchen_lon = %s WHERE id = %s", (*offset(0, 9), pid))
    eight_to_six = [(DAY.isoweekday(), time(8), time(18))]
    town.caregiver(pid, offset(0, 0), skills=("cleaning", "meal"), shifts=eight_to_six)
    town.caregiver(pid, offset(0, 0), skills=("bathing",), shifts=[(DAY.isoweekday(), time(8), time(9))])
    near, far = town.elder(offset(0, 0.2)), town.elder(offset(0, 9))
    orders = {
        "next door at nine": booked(conn, clock, config, near, "cleaning", local(9), 30, 60),
        # about 48 minutes by e-bike from a shift that starts at eight
        "far at eight": booked(conn, clock, config, far, "cleaning", local(8), 30, 30),
        "far at nine": booked(conn, clock, config, far, "cleaning", local(9), 30, 30),
        # next door, but by the kitchen 9 km away and back
        "meal at eight": booked(conn, clock, config, near, "meal", local(8), 30, 30),
        "meal at eleven": booked(conn, clock, config, near, "meal", local(11), 30, 30),
        # nobody has the skill and a shift over the window
        "bath at ten": booked(conn, clock, config, near, "bathing", local(10), 60, 60),
        "medical": booked(conn, clock, config, near, "medical", local(10), 60, 60),
    }
    bound = coverage.routine_bound(conn, parameters.load(), TZ, DAY, local(0), local(0) + timedelta(days=1))
    found = bound.reachable
    assert {name: found[order] for name, order in orders.items()} == {
        "next door at nine": True,
        "far at eight": False,
        "far at nine": True,
        "meal at eight": False,
        "meal at eleven": True,
        "bath at ten": False,
        "medical": False,
    }
    # the cleaner alone reaches three of them, and serves two at most in turn: a clean takes 110 minutes (the median),
    # so after one at nine the other at nine is past its window, and the meal at eleven follows the one next door only
    assert bound.beyond_one_caregiver == 1


def test_the_most_one_caregiver_serves_in_turn_counts_the_rides_between_jobs() -> None:
    half_hour, twenty_minutes = 30 * 60, 20 * 60
    # three jobs twenty minutes apart, each to be started within half an hour and taking twenty minutes
    jobs = [(t, t + half_hour, twenty_minutes) for t in (0, 20 * 60, 40 * 60)]
    assert most_in_turn(jobs) == 3
    # the third an hour's ride from the other two: it fits only alone
    rides = [[0, 0, 3600], [0, 0, 3600], [3600, 3600, 0]]
    assert most_in_turn(jobs, rides) == 2
    assert most_in_turn(jobs[2:], [[0]]) == 1
    assert most_in_turn([]) == 0
