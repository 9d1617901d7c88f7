"""The planned day as it runs: orders made in time for their caregivers to set off, booked orders given to the
planner before they are offered, offers that would break a planned route held back, and same-day re-plans that
start each caregiver where they are and keep confirmed visits at their times."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import psycopg
import pytest
from geopy.distance import geodesic

from dashboard.api import plans as plans_api
from dashboard.ui.plans import axis, board
from dispatcher import planning
from dispatcher.candidates import SqlCandidates, need_of
from dispatcher.eligibility import judge
from dispatcher.lifecycle import load_order
from dispatcher.offers import ranking_for
from dispatcher.planning import (
    PlanOutcome,
    confirm_day,
    pin_choices,
    plan_day,
    replan_day,
    replan_on_change,
    solver_settings,
)
from dispatcher.planning import problem as problems
from dispatcher.planning.solve import Passes, Solution, SolverSettings, solve, steps_of
from dispatcher.recurring import create_due_orders, due_times
from dispatcher.settings import Config
from eldercare.clock import ManualClock
from tests.dispatcher.test_meal_batches import kitchen
from tests.dispatcher.test_planning import DAY, TZ, booked, local
from tests.dispatcher.town import Town, offset

LONG_DAY = [(DAY.isoweekday(), time(7), time(20))]


def _arrived(conn: psycopg.Connection, order: int, caregiver: int, accepted: datetime, arrived: datetime) -> None:
    """The caregiver accepted the order and is at the elder's (a visit under way, for where they are)."""
    conn.execute(
        "UPDATE service_order SET status = 'arrived', caregiver_id = %s, accepted_at = %s, arrived_at = %s "
        "WHERE id = %s",
        (caregiver, accepted, arrived, order),
    )


def _meal_at_eleven(conn: psycopg.Connection, elder: int) -> int:
    row = conn.execute(
        "INSERT INTO recurring_service (elder_id, service_type, schedule, duration_min, lead_min, starts_on) "
        "VALUES (%s, 'meal', '0 11 * * *', 30, 60, %s) RETURNING id",
        (elder, DAY - timedelta(days=3)),
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_an_occurrence_planned_far_away_is_ordered_before_its_caregiver_must_set_off(
    conn: psycopg.Connection, town: Town, clock: ManualClock, config: Config
) -> None:
    pid = town.provider()
    # on foot, about 7.8 road km: 104 minutes on the way, so they leave near 09:15 for 11:00
    walker = town.caregiver(pid, offset(0, 6), mode="walk", shifts=LONG_DAY)
    far = _meal_at_eleven(conn, town.elder(offset(0, 0)))
    # and a next-door neighbour of another caregiver, whose meal is ordered at 10:00 as ever
    town.caregiver(pid, offset(5, 6), mode="walk", shifts=LONG_DAY)
    near = _meal_at_eleven(conn, town.elder(offset(5, 6.01)))
    outcome = plan_day(conn, clock, config, DAY, made_by="test", tell=True)
    assert outcome.figures["assigned"] == 2
    row = conn.execute(
        "SELECT planned_start, travel_km FROM plan_visit WHERE caregiver_id = %s AND recurring_service_id = %s",
        (walker, far),
    ).fetchone()
    assert row is not None
    start, km = row
    leaving = start - timedelta(minutes=km / 4.5 * 60)
    due = due_times(conn, config, local(0), local(23))
    assert due[0] == leaving - timedelta(minutes=60)  # lead_min before they leave, not before 11:00
    assert len(due) == 2 and local(9, 55) <= due[1] <= local(10)  # next door: about 10:00, as ever
    clock.set(leaving - timedelta(minutes=61))
    assert create_due_orders(conn, clock, config) == 0
    clock.set(leaving - timedelta(minutes=59))
    assert create_due_orders(conn, clock, config) == 1
    order = conn.execute("SELECT recurring_service_id, status, caregiver_id FROM service_order").fetchall()
    assert order == [(far, "accepted", walker)]
    clock.set(local(10))
    assert create_due_orders(conn, clock, config) == 1
    made = conn.execute("SELECT count(*) FROM service_order WHERE recurring_service_id = %s", (near,)).fetchone()
    assert made == (1,)


def test_a_meal_collected_far_from_home_is_ordered_before_its_caregiver_leaves_for_the_kitchen(
    conn: psycopg.Connection, town: Town, clock: ManualClock, config: Config
) -> None:
    """A walker lives 6 km from their provider's kitchen, the elder next to it: they leave home 104 minutes before
    collecting the meal, and its order is due ``lead_min`` before they leave, not before the collecting (when, on
    the simulated day of seed 3, a caregiver an hour from their kitchen got it as they had to be there already, and a
    re-plan then found the meal out of their reach)."""
    pid = town.provider()
    kitchen(conn, pid, offset(0, 0))
    walker = town.caregiver(pid, offset(0, 6), mode="walk", shifts=LONG_DAY)
    meal = _meal_at_eleven(conn, town.elder(offset(0, 0.05)))
    outcome = plan_day(conn, clock, config, DAY, made_by="test", tell=True)
    assert outcome.figures["assigned"] == 1
    row = conn.execute(
        "SELECT pickup_at FROM plan_visit WHERE caregiver_id = %s AND recurring_service_id = %s", (walker, meal)
    ).fetchone()
    assert row is not None and row[0] is not None
    travel = config.dispatch.travel
    to_kitchen = timedelta(minutes=travel.minutes("walk", geodesic(offset(0, 6), offset(0, 0)).km * travel.detour))
    assert to_kitchen > timedelta(minutes=100)
    leaving = row[0] - to_kitchen
    assert due_times(conn, config, local(0), local(23)) == [leaving - timedelta(minutes=60)]
    clock.set(leaving - timedelta(minutes=61))
    assert create_due_orders(conn, clock, config) == 0
    clock.set(leaving - timedelta(minutes=59))
    assert create_due_orders(conn, clock, config) == 1
    assert conn.execute("SELECT status, caregiver_id FROM service_order").fetchall() == [("accepted", walker)]


def test_a_booked_order_on_a_planned_day_goes_to_the_planner_before_any_offer(
    conn: psycopg.Connection, town: Town, clock: ManualClock, config: Config
) -> None:
    pid = town.provider()
    cid = town.caregiver(pid, offset(0, 1), shifts=LONG_DAY)
    plan_day(conn, clock, config, DAY, made_by="test", tell=True)
    confirm_day(conn, clock, config, cid)
    clock.set(local(8))
    later = booked(conn, clock, config, town.elder(offset(0, 0.5)), "cleaning", local(14), 60, 120)
    soon = booked(conn, clock, config, town.elder(offset(0, 0.6)), "cleaning", local(8, 10), 60, 120)
    waits = {
        order_id: offer_at
        for order_id, offer_at in conn.execute(
            "SELECT id, next_offer_at FROM service_order WHERE id = ANY(%s)", ([later, soon],)
        ).fetchall()
    }
    look = timedelta(minutes=config.dispatch.plan_check_minutes, seconds=30)
    assert waits == {later: local(8) + look, soon: local(8)}  # wanted sooner than the next look: offered at once
    # the scheduler's look for changes fits the later one into a route before it would be offered
    clock.set(local(8, 5))
    assert replan_on_change(conn, clock, config) is not None
    assert conn.execute("SELECT status, caregiver_id FROM service_order WHERE id = %s", (later,)).fetchone() == (
        "accepted",
        cid,
    )


def test_an_order_for_a_day_without_a_plan_is_offered_at_once(
    conn: psycopg.Connection, town: Town, clock: ManualClock, config: Config
) -> None:
    town.caregiver(town.provider(), offset(0, 1), shifts=LONG_DAY)
    clock.set(local(8))
    order = booked(conn, clock, config, town.elder(offset(0, 0.5)), "cleaning", local(14), 60, 120)
    assert conn.execute("SELECT next_offer_at FROM service_order WHERE id = %s", (order,)).fetchone() == (local(8),)


def test_a_caregiver_on_a_planned_route_is_not_offered_what_would_break_it_but_still_emergencies(
    conn: psycopg.Connection, town: Town, clock: ManualClock, config: Config
) -> None:
    pid = town.provider()
    busy = town.caregiver(pid, offset(0, 1), shifts=LONG_DAY, max_load=2)
    for km in (0.8, 1.2):
        _meal_at_eleven(conn, town.elder(offset(0, km)))
    assert plan_day(conn, clock, config, DAY, made_by="test").figures["assigned"] == 2
    clock.set(local(8))
    elder = town.elder(offset(0, 1.1))
    routine = load_order(conn, booked(conn, clock, config, elder, "cleaning", local(9), 60, 120))
    verdicts = judge(conn, need_of(conn, routine, clock.now()), ranking_for(config, routine), TZ, caregivers=[busy])
    assert [r.code for r in verdicts[0].reasons] == ["max_load"]  # two visits of their day still to come
    emergency = load_order(conn, booked(conn, clock, config, elder, "emergency", local(8), 60, 30))
    verdicts = judge(conn, need_of(conn, emergency, clock.now()), ranking_for(config, emergency), TZ, caregivers=[busy])
    assert verdicts[0].eligible


def test_a_same_day_replan_starts_a_caregiver_where_they_are_once_their_visit_ends(
    conn: psycopg.Connection, town: Town, clock: ManualClock, config: Config
) -> None:
    pid = town.provider()
    cid = town.caregiver(pid, offset(0, -5), shifts=LONG_DAY)
    there = offset(0, 3)
    order = booked(conn, clock, config, town.elder(there), "care", local(9), 60, 60)
    _arrived(conn, order, cid, local(8, 50), local(9, 5))
    problem = problems.load(conn, DAY, TZ, not_before=local(9, 20))
    worker = next(w for w in problem.workers if w.caregiver_id == cid)
    assert (worker.lat, worker.lon) == there
    assert worker.starts == local(10, 5)  # arrived 09:05, an hour of care
    evening = problems.load(conn, DAY, TZ, not_before=local(18) - timedelta(days=1))
    worker = next(w for w in evening.workers if w.caregiver_id == cid)
    assert (worker.lat, worker.lon) == offset(0, -5)  # the evening before: from home


def test_a_same_day_replan_starts_a_caregiver_who_finished_a_visit_on_their_way_home_or_waiting_for_the_next(
    conn: psycopg.Connection, town: Town, clock: ManualClock, config: Config
) -> None:
    """Caregivers answer by SMS: after a visit, one with nothing else held is reckoned on the way home at the travel
    model's speed (an e-bike at 15 km/h after a minute getting going, roads 1.3 times the straight line); one who
    holds another order waits where they finished."""
    pid = town.provider()
    home = offset(0, 0)
    going_home, waiting = (town.caregiver(pid, home, shifts=LONG_DAY) for _ in range(2))
    for cid in (going_home, waiting):
        done = booked(conn, clock, config, town.elder(offset(0, 20)), "care", local(9), 60, 60)
        _arrived(conn, done, cid, local(8), local(9))
        conn.execute(
            "UPDATE service_order SET status = 'completed', completed_at = %s WHERE id = %s", (local(10), done)
        )
    later = booked(conn, clock, config, town.elder(offset(0, 19)), "care", local(14), 60, 60)
    conn.execute(
        "UPDATE service_order SET status = 'accepted', caregiver_id = %s, accepted_at = %s WHERE id = %s",
        (waiting, local(8), later),
    )
    problem = problems.load(conn, DAY, TZ, not_before=local(11), travel=config.dispatch.travel)
    start = {w.caregiver_id: (w.lat, w.lon) for w in problem.workers}
    # 59 minutes riding of the 104 home: 11.35 km of the 20
    assert geodesic(start[going_home], offset(0, 20 - 59 / 60 * 15 / 1.3)).km < 0.05
    assert geodesic(start[waiting], offset(0, 20)).km < 0.01
    later_still = problems.load(conn, DAY, TZ, not_before=local(13), travel=config.dispatch.travel)
    start = {w.caregiver_id: (w.lat, w.lon) for w in later_still.workers}
    assert geodesic(start[going_home], home).km < 0.01  # home by 11:45


def test_a_same_day_replan_keeps_confirmed_visits_at_the_times_their_caregivers_were_given(
    conn: psycopg.Connection, town: Town, clock: ManualClock, config: Config
) -> None:
    pid = town.provider()
    cids = [town.caregiver(pid, offset(0, km), shifts=LONG_DAY) for km in (0, 4)]
    for km in (0.3, 0.6, 3.8, 4.3):
        _meal_at_eleven(conn, town.elder(offset(0, km)))
    first = plan_day(conn, clock, config, DAY, made_by="test", tell=True)
    for cid in cids:
        confirm_day(conn, clock, config, cid)
    starts = "SELECT recurring_service_id, caregiver_id, planned_start FROM plan_visit WHERE plan_id = %s ORDER BY 1"
    before = conn.execute(starts, (first.plan_id,)).fetchall()
    clock.set(local(8))
    booked(conn, clock, config, town.elder(offset(0, 2)), "cleaning", local(14), 60, 120)
    again = replan_day(conn, clock, config, DAY, made_by="change")
    kept = [row for row in conn.execute(starts, (again.plan_id,)).fetchall() if row[0] is not None]
    assert kept == before


def _holder(conn: psycopg.Connection, order: int) -> tuple[int | None, str]:
    row = conn.execute("SELECT caregiver_id, status FROM service_order WHERE id = %s", (order,)).fetchone()
    assert row is not None
    return row[0], row[1]


def _told_withdrawn(conn: psycopg.Connection, caregiver: int, order: int) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM sms_message WHERE caregiver_id = %s AND order_id = %s AND body LIKE %s",
        (caregiver, order, "%当日排班已重新安排%"),
    ).fetchone()
    return row is not None and row[0] == 1


def _taken_off_because(conn: psycopg.Connection, order: int) -> list[str]:
    """The timeline's reasons for taking the order off its caregiver's day."""
    rows = conn.execute(
        "SELECT reason FROM order_event WHERE order_id = %s AND reason LIKE 'taken off%%' ORDER BY id", (order,)
    )
    return [r[0] for r in rows]


def test_orders_held_by_a_caregiver_reporting_sick_move_with_their_visits_and_they_are_told(
    conn: psycopg.Connection, town: Town, clock: ManualClock, config: Config
) -> None:
    pid = town.provider()
    caregivers = [town.caregiver(pid, offset(0, km), shifts=LONG_DAY) for km in (0, 0.5)]
    orders = [booked(conn, clock, config, town.elder(offset(0, km)), "care", local(14), 60, 120) for km in (0.2, 0.4)]
    plan_day(conn, clock, config, DAY, made_by="test", tell=True)
    holders = {order: _holder(conn, order) for order in orders}
    assert {status for _, status in holders.values()} == {"accepted"}
    order, (sick, _) = next(iter(holders.items()))
    assert sick is not None
    town.absent(sick, DAY, DAY)
    clock.set(local(8))
    again = replan_on_change(conn, clock, config)
    assert again is not None and again.figures["assigned"] == 2
    other = next(c for c in caregivers if c != sick)
    assert [_holder(conn, o) for o in orders] == [(other, "accepted"), (other, "accepted")]
    assert _told_withdrawn(conn, sick, order)
    timeline = "SELECT from_status, to_status, actor FROM order_event WHERE order_id = %s ORDER BY id"
    events = conn.execute(timeline, (order,)).fetchall()
    assert events[-2:] == [("accepted", "offered", "planner"), ("offered", "accepted", "planner")]


def test_a_held_visit_its_caregiver_no_longer_has_room_for_goes_to_another_with_its_order(
    conn: psycopg.Connection, town: Town, clock: ManualClock, config: Config
) -> None:
    pid = town.provider()
    caregivers = [town.caregiver(pid, offset(0, km), shifts=LONG_DAY) for km in (0, 0.5)]
    order = booked(conn, clock, config, town.elder(offset(0, 0.25)), "care", local(11), 60, 30)
    plan_day(conn, clock, config, DAY, made_by="test", tell=True)
    holder, status = _holder(conn, order)
    assert status == "accepted" and holder is not None
    conn.execute("UPDATE service_order SET travel_km = 0.4 WHERE id = %s", (order,))  # the holder's way there
    # the holder is kept at another elder's until past the window (an urgent visit that ran long)
    clock.set(local(10, 30))
    urgent = booked(conn, clock, config, town.elder(offset(0, 3)), "care", local(10), 120, 30)
    _arrived(conn, urgent, holder, local(10), local(10, 10))
    again = replan_day(conn, clock, config, DAY, made_by="change")
    other = next(c for c in caregivers if c != holder)
    assert _holder(conn, order) == (other, "accepted")
    assert _told_withdrawn(conn, holder, order)
    km = conn.execute("SELECT travel_km FROM service_order WHERE id = %s", (order,)).fetchone()
    assert km == (None,)  # nothing of the old holder's acceptance is left on it
    planned = conn.execute(
        "SELECT caregiver_id FROM plan_visit WHERE plan_id = %s AND order_id = %s", (again.plan_id, order)
    )
    assert planned.fetchone() == (other,)


def test_a_plan_that_hands_a_held_visit_over_still_spreads_the_days_visits(
    conn: psycopg.Connection, town: Town, clock: ManualClock, config: Config
) -> None:
    """A caregiver holds two hour-long visits at 11:00 on a street where a colleague lives: they have room for one,
    and the plan hands the other over to a caregiver the problem allows only its holder (the colleague next door).
    The spreading pass starts from that plan: the afternoon's six visits on the same street, which VROOM chains on
    the one next door, still go in part to a second colleague 1.5 km away. It stood still before: the pass left the
    handed visit out of the solver's jobs while its route still named it, and the solver refused every pass."""
    pid = town.provider()
    next_door, colleague = (town.caregiver(pid, offset(km, 0), shifts=LONG_DAY) for km in (0, 1.5))
    holder = town.caregiver(pid, offset(0, 2.5), shifts=LONG_DAY)
    street = [
        booked(conn, clock, config, town.elder(offset(0, 0.1 * (k + 1))), "cleaning", local(13 + k), 30, 60)
        for k in range(6)
    ]
    held = [booked(conn, clock, config, town.elder(offset(0, km)), "care", local(11), 60, 30) for km in (0.7, 0.8)]
    conn.execute(
        "UPDATE service_order SET status = 'accepted', caregiver_id = %s, accepted_at = %s WHERE id = ANY(%s)",
        (holder, clock.now(), held),
    )
    plan = plan_day(conn, clock, config, DAY, made_by="test")
    assert sorted(_holder(conn, order) for order in held) == sorted([(holder, "accepted"), (next_door, "accepted")])
    planned = "SELECT caregiver_id, count(*) FROM plan_visit WHERE plan_id = %s AND order_id = ANY(%s) GROUP BY 1"
    counts: dict[int, int] = dict(conn.execute(planned, (plan.plan_id, street)).fetchall())
    assert sum(counts.values()) == 6 and counts.get(colleague, 0) >= 2


def _held_then_kept_away(
    conn: psycopg.Connection, town: Town, clock: ManualClock, config: Config, *, minutes: int
) -> tuple[int, int, PlanOutcome]:
    """One caregiver, on shift all day, holds a visit at 11:00-11:30 that nobody else may take; from 10:10 they are
    kept at another elder's, 3 km away, for ``minutes``; at 10:30 the day is re-planned. Returns the caregiver,
    the visit's order and the re-plan."""
    alone = town.caregiver(town.provider(), offset(0, 0), shifts=LONG_DAY)
    order = booked(conn, clock, config, town.elder(offset(0, 0.25)), "care", local(11), 60, 30)
    plan_day(conn, clock, config, DAY, made_by="test", tell=True)
    assert _holder(conn, order) == (alone, "accepted")
    clock.set(local(10, 30))
    urgent = booked(conn, clock, config, town.elder(offset(0, 3)), "care", local(10), minutes, 30)
    _arrived(conn, urgent, alone, local(10), local(10, 10))
    return alone, order, replan_day(conn, clock, config, DAY, made_by="change")


def test_a_held_visit_nobody_can_reach_in_its_window_any_more_stays_with_its_holder_and_says_so(
    conn: psycopg.Connection, town: Town, clock: ManualClock, config: Config
) -> None:
    # kept until 11:20: on shift within the window, with no room to reach the visit in it
    alone, order, again = _held_then_kept_away(conn, town, clock, config, minutes=70)
    row = conn.execute(
        "SELECT caregiver_id, unassigned_reason, unassigned_detail FROM plan_visit WHERE plan_id = %s "
        "AND order_id = %s",
        (again.plan_id, order),
    ).fetchone()
    assert row is not None and row[:2] == (None, "held_late")  # not "no room": someone holds it and will go, late
    assert f"caregiver {alone} holds it" in row[2]
    assert again.figures["unassigned_reasons"] == {"held_late": 1}
    assert _holder(conn, order) == (alone, "accepted") and not _told_withdrawn(conn, alone, order)
    # the plan board lists it with who holds it
    plan = plans_api.plan_in_force(conn, DAY)
    assert plan is not None
    shown = board(conn, plan, axis(plan, DAY, TZ))
    late = next(v for v in shown.unassigned if v.order_id == order)
    name = conn.execute("SELECT name FROM caregiver WHERE id = %s", (alone,)).fetchone()
    assert name is not None and shown.holder_of == {late.id: name[0]}


def test_a_held_visit_whose_caregivers_shift_ends_before_it_would_be_done_says_so_not_that_it_is_late(
    conn: psycopg.Connection, town: Town, clock: ManualClock, config: Config
) -> None:
    """The dispatch offers a booked order to a caregiver on shift when its window opens; the plan keeps their day
    inside the shift. An hour's visit at 11:00 taken by someone whose shift ends at 11:40 is in nobody's route:
    they reach it in its window, and are done only after their shift. Before, the board said they could not reach
    it in its window (``held_late``); a simulated day traced 14 such visits on seed 3, 12 served in their window."""
    short = [(DAY.isoweekday(), time(7), time(11, 40))]
    alone = town.caregiver(town.provider(), offset(0, 0), shifts=short)
    order = booked(conn, clock, config, town.elder(offset(0, 0.25)), "care", local(11), 60, 30)
    clock.set(local(10, 30))
    conn.execute(
        "UPDATE service_order SET status = 'accepted', caregiver_id = %s, accepted_at = %s WHERE id = %s",
        (alone, clock.now(), order),
    )  # taken from the dispatch's offer
    again = plan_day(conn, clock, config, DAY, made_by="test")
    row = conn.execute(
        "SELECT caregiver_id, unassigned_reason, unassigned_detail FROM plan_visit WHERE plan_id = %s "
        "AND order_id = %s",
        (again.plan_id, order),
    ).fetchone()
    assert row is not None and row[:2] == (None, "held_past_shift"), row
    assert f"caregiver {alone} holds it and can reach it inside its window" in row[2]
    assert _holder(conn, order) == (alone, "accepted")
    plan = plans_api.plan_in_force(conn, DAY)
    assert plan is not None
    shown = board(conn, plan, axis(plan, DAY, TZ))
    held = next(v for v in shown.unassigned if v.order_id == order)
    name = conn.execute("SELECT name FROM caregiver WHERE id = %s", (alone,)).fetchone()
    assert name is not None and shown.holder_of == {held.id: name[0]}


def test_a_visit_whose_only_caregiver_is_busy_past_its_window_says_so_not_that_nobody_works(
    conn: psycopg.Connection, town: Town, clock: ManualClock, config: Config
) -> None:
    _, order, again = _held_then_kept_away(conn, town, clock, config, minutes=120)  # until 12:10, past the window
    row = conn.execute(
        "SELECT unassigned_reason, unassigned_detail FROM plan_visit WHERE plan_id = %s AND order_id = %s",
        (again.plan_id, order),
    ).fetchone()
    assert row == ("busy", "nobody who could go is free before 11:30: they are busy with visits under way")
    # its order goes back to the dispatch, the timeline saying why: busy, not away; nobody else may take it, and
    # its caregiver is not offered it again while they are kept past its window: the operators' to arrange
    assert _holder(conn, order) == (None, "escalated")
    assert _taken_off_because(conn, order) == [
        "taken off its caregiver's day: they are busy with visits under way until its window ends"
    ]
    # a visit whose window ended before the re-plan, nobody having come: that, before any other reason
    booked_at_eight = ManualClock(local(8))  # booked in the morning for 09:00-09:30; it is noon now
    missed = booked(conn, booked_at_eight, config, town.elder(offset(0, 0.5)), "care", local(9), 60, 30)
    clock.set(local(12))
    later = replan_day(conn, clock, config, DAY, made_by="change")
    row = conn.execute(
        "SELECT unassigned_reason, unassigned_detail FROM plan_visit WHERE plan_id = %s AND order_id = %s",
        (later.plan_id, missed),
    ).fetchone()
    assert row == ("window_past", "its window ended at 09:30, before this plan")


def test_an_order_held_by_a_caregiver_away_that_nobody_else_may_take_goes_back_to_the_dispatch(
    conn: psycopg.Connection, town: Town, clock: ManualClock, config: Config
) -> None:
    pid = town.provider()
    alone = town.caregiver(pid, offset(0, 0), shifts=LONG_DAY)
    order = booked(conn, clock, config, town.elder(offset(0, 0.25)), "care", local(14), 60, 120)
    plan_day(conn, clock, config, DAY, made_by="test", tell=True)
    assert _holder(conn, order) == (alone, "accepted")
    town.absent(alone, DAY, DAY)
    clock.set(local(8))
    again = replan_on_change(conn, clock, config)
    assert again is not None and again.figures["orders_released"] == 1
    holder, status = _holder(conn, order)
    assert holder is None and status == "escalated"  # nobody else may take it: the operators' to arrange
    assert _told_withdrawn(conn, alone, order)
    assert _taken_off_because(conn, order) == ["taken off its caregiver's day: they are away that day"]
    reason = conn.execute(
        "SELECT unassigned_reason FROM plan_visit WHERE plan_id = %s AND order_id = %s", (again.plan_id, order)
    )
    assert reason.fetchone() is not None


def _released_by_a_replan(conn: psycopg.Connection, clock: ManualClock, config: Config, order: int) -> list[str]:
    """Re-plan the day at 08:00, which releases ``order`` (nobody holds it then); the timeline's reasons for taking
    it off its caregiver's day."""
    clock.set(local(8))
    again = replan_day(conn, clock, config, DAY, made_by="change")
    assert again.figures["orders_released"] == 1 and _holder(conn, order)[0] is None
    return _taken_off_because(conn, order)


def test_an_order_whose_caregivers_shift_no_longer_covers_it_is_released_saying_so(
    conn: psycopg.Connection, town: Town, clock: ManualClock, config: Config
) -> None:
    alone = town.caregiver(town.provider(), offset(0, 0), shifts=LONG_DAY)
    order = booked(conn, clock, config, town.elder(offset(0, 0.25)), "care", local(14), 60, 120)
    plan_day(conn, clock, config, DAY, made_by="test", tell=True)
    assert _holder(conn, order) == (alone, "accepted")
    conn.execute("UPDATE caregiver_shift SET ends = '12:00' WHERE caregiver_id = %s", (alone,))  # re-rostered
    assert _released_by_a_replan(conn, clock, config, order) == [
        "taken off its caregiver's day: they do not work during its window that day"
    ]


def test_an_order_an_operator_pinned_to_a_caregiver_with_no_room_for_it_is_released_saying_so(
    conn: psycopg.Connection, town: Town, clock: ManualClock, config: Config
) -> None:
    pid = town.provider()
    holder = town.caregiver(pid, offset(0, 0), shifts=LONG_DAY)
    late = town.caregiver(pid, offset(0, 2), shifts=[(DAY.isoweekday(), time(15, 55), time(20))])
    order = booked(conn, clock, config, town.elder(offset(0, 0.25)), "care", local(14), 60, 120)
    first = plan_day(conn, clock, config, DAY, made_by="test", tell=True)
    assert _holder(conn, order) == (holder, "accepted")
    # the operator pins it to a caregiver whose shift starts as its window closes: no room for it
    conn.execute(
        "UPDATE plan_visit SET pinned_to = %s WHERE plan_id = %s AND order_id = %s", (late, first.plan_id, order)
    )
    assert _released_by_a_replan(conn, clock, config, order) == [
        "taken off its caregiver's day: an operator pinned it to another caregiver"
    ]


def test_a_confirmed_visit_its_caregiver_has_no_room_for_goes_to_another_but_an_operators_pin_holds(
    conn: psycopg.Connection, town: Town, clock: ManualClock, config: Config
) -> None:
    pid = town.provider()
    caregivers = [town.caregiver(pid, offset(0, km), shifts=LONG_DAY) for km in (0, 0.5)]
    confirmed = _meal_at_eleven(conn, town.elder(offset(0, 0.25)))
    pinned = _meal_at_eleven(conn, town.elder(offset(0, 0.3)))
    first = plan_day(conn, clock, config, DAY, made_by="test", tell=True)
    for cid in caregivers:
        confirm_day(conn, clock, config, cid)
    of = "SELECT id, caregiver_id FROM plan_visit WHERE plan_id = %s AND recurring_service_id = %s"
    row = conn.execute(of, (first.plan_id, confirmed)).fetchone()
    assert row is not None
    busy = row[1]
    other = next(c for c in caregivers if c != busy)
    pin_row = conn.execute(of, (first.plan_id, pinned)).fetchone()
    assert pin_row is not None
    conn.execute("UPDATE plan_visit SET pinned_to = %s WHERE id = %s", (busy, pin_row[0]))  # the operator's pin
    # the caregiver is kept at another elder's, 3 km away, until 11:20 (an urgent visit): still on shift within the
    # meals' window, with no room to reach them in it
    clock.set(local(10, 30))
    urgent = booked(conn, clock, config, town.elder(offset(0, 3)), "care", local(10), 70, 30)
    _arrived(conn, urgent, busy, local(10), local(10, 10))
    again = replan_day(conn, clock, config, DAY, made_by="change")
    assert conn.execute(of, (again.plan_id, confirmed)).fetchone()[1] == other  # type: ignore[index]
    held = "SELECT caregiver_id, unassigned_reason FROM plan_visit WHERE plan_id = %s AND recurring_service_id = %s"
    # (its caregiver cannot reach it in its window from where they are kept, whatever else they do)
    assert conn.execute(held, (again.plan_id, pinned)).fetchone() == (None, "out_of_reach")


def test_a_booked_visit_is_offered_to_a_caregiver_on_a_planned_route_only_where_their_day_leaves_a_gap(
    conn: psycopg.Connection, town: Town, clock: ManualClock, config: Config
) -> None:
    pid = town.provider()
    busy = town.caregiver(pid, offset(0, 1), shifts=LONG_DAY, max_load=5)
    care = booked(conn, clock, config, town.elder(offset(0, 0.8)), "care", local(10), 60, 30)
    assert plan_day(conn, clock, config, DAY, made_by="test").figures["assigned"] == 1  # 10:00-11:00 or so
    conn.execute("UPDATE service_order SET status = 'created', caregiver_id = NULL, accepted_at = NULL WHERE id = %s",
                 (care,))  # fmt: skip  # (its order not held yet: the plan alone says they are taken)
    clock.set(local(8))
    elder = town.elder(offset(0, 1.1))
    clash = load_order(conn, booked(conn, clock, config, elder, "cleaning", local(10), 60, 20))
    after = load_order(conn, booked(conn, clock, config, elder, "cleaning", local(10), 60, 180))
    emergency = load_order(conn, booked(conn, clock, config, elder, "emergency", local(10), 60, 30))
    found = {}
    for order in (clash, after, emergency):
        need = need_of(conn, order, clock.now())
        (verdict,) = judge(conn, need, ranking_for(config, order), TZ, caregivers=[busy])
        eligible = {c.caregiver_id for c in SqlCandidates(conn, need, TZ).within(None)}
        found[order.id] = ([r.code for r in verdict.reasons], busy in eligible)
    assert found == {
        clash.id: (["plan_busy"], False),  # 10:00-11:20 for an hour: their visit is in the way whenever it starts
        after.id: ([], True),  # 10:00-13:00: after their visit ends
        emergency.id: ([], True),  # an emergency goes first whatever the plan
    }


def test_a_booked_visit_is_not_offered_to_a_caregiver_kept_at_another_elders_past_its_window(
    conn: psycopg.Connection, town: Town, clock: ManualClock, config: Config
) -> None:
    # no plan for the day: the visit they are at is their day
    pid = town.provider()
    there = town.caregiver(pid, offset(0, 1), shifts=LONG_DAY, max_load=5)
    clock.set(local(10))
    bath = booked(conn, clock, config, town.elder(offset(0, 1)), "bathing", local(9, 30), 90, 60)
    _arrived(conn, bath, there, local(9, 30), local(9, 50))  # there until 11:20 by its booked time
    elder = town.elder(offset(0, 1.1))
    found = {}
    for closes in (30, 90):  # 10:30-11:00, 10:30-12:00
        order = load_order(conn, booked(conn, clock, config, elder, "cleaning", local(10, 30), 30, closes))
        need = need_of(conn, order, clock.now())
        (verdict,) = judge(conn, need, ranking_for(config, order), TZ, caregivers=[there])
        eligible = {c.caregiver_id for c in SqlCandidates(conn, need, TZ).within(None)}
        found[closes] = ([r.code for r in verdict.reasons], there in eligible)
    assert found == {30: (["plan_busy"], False), 90: ([], True)}


def test_a_replan_never_drops_a_confirmed_visit_to_make_room_for_a_new_one(
    conn: psycopg.Connection, town: Town, clock: ManualClock, config: Config
) -> None:
    pid = town.provider()
    cid = town.caregiver(pid, offset(0, 0), shifts=LONG_DAY)
    row = conn.execute(
        "INSERT INTO recurring_service (elder_id, service_type, schedule, duration_min, lead_min, starts_on) "
        "VALUES (%s, 'care', '0 11 * * *', 60, 60, %s) RETURNING id",
        (town.elder(offset(0, 0.3)), DAY - timedelta(days=3)),
    ).fetchone()
    assert row is not None
    promised = row[0]  # an hour's care from 11:00 (to start by 12:00), on their confirmed route
    plan_day(conn, clock, config, DAY, made_by="test", tell=True)
    confirm_day(conn, clock, config, cid)
    # a same-day booking at the same time for an elder in every priority group: before, it took the confirmed
    # visit's place (the priority groups outweighed it)
    clock.set(local(8))
    poor = town.elder(offset(0, -0.3))
    for category in ("extreme_poverty", "disabled", "solitary", "very_old"):
        conn.execute(
            "INSERT INTO elder_eligibility (elder_id, category, decided_on, document_no) VALUES (%s, %s, %s, %s)",
            (poor, category, DAY - timedelta(days=30), f"MZ-{category}"),
        )
    new = booked(conn, clock, config, poor, "care", local(11), 60, 60)
    again = replan_day(conn, clock, config, DAY, made_by="change")
    rows = conn.execute(
        "SELECT recurring_service_id, order_id, caregiver_id, unassigned_reason FROM plan_visit WHERE plan_id = %s "
        "ORDER BY recurring_service_id NULLS LAST",
        (again.plan_id,),
    ).fetchall()
    assert rows == [(promised, None, cid, None), (None, new, None, "no_room")]


def test_a_meal_may_be_pinned_to_the_staff_of_any_kitchen_that_may_cook_it_and_comes_from_theirs(
    conn: psycopg.Connection, town: Town, clock: ManualClock, config: Config
) -> None:
    near, far = town.provider(), town.provider()
    kitchen(conn, near, offset(0, 0.2))
    kitchen(conn, far, offset(0, 2))
    near_cook = town.caregiver(near, offset(0, 0.2), shifts=LONG_DAY)
    far_cook = town.caregiver(far, offset(0, 2), shifts=LONG_DAY)
    lunch = _meal_at_eleven(conn, town.elder(offset(0, 0)))
    first = plan_day(conn, clock, config, DAY, made_by="test")
    of = "SELECT id, caregiver_id, kitchen_provider_id FROM plan_visit WHERE plan_id = %s AND recurring_service_id = %s"
    row = conn.execute(of, (first.plan_id, lunch)).fetchone()
    assert row is not None and row[1:] == (near_cook, near)  # the nearest kitchen first
    choices = next(c for key, c in pin_choices(conn, DAY, config).items() if key[0] == lunch)
    assert choices == sorted([near_cook, far_cook])  # the other kitchen's staff may bring it too
    conn.execute("UPDATE plan_visit SET pinned_to = %s WHERE id = %s", (far_cook, row[0]))  # the operator's pin
    again = plan_day(conn, clock, config, DAY, made_by="test")
    assert conn.execute(of, (again.plan_id, lunch)).fetchone()[1:] == (far_cook, far)  # type: ignore[index]


def test_a_same_day_replan_ends_a_caregivers_day_at_home_not_where_they_are(
    conn: psycopg.Connection, town: Town, clock: ManualClock, config: Config
) -> None:
    pid = town.provider()
    home = offset(0, 0)
    cid = town.caregiver(pid, home, shifts=[(DAY.isoweekday(), time(7), time(17))])
    # at an elder's 20 km away in the morning (about 105 minutes from home by e-bike)
    morning = booked(conn, clock, config, town.elder(offset(0, 20)), "care", local(9), 60, 60)
    _arrived(conn, morning, cid, local(8), local(9))
    # then an hour's care next door to home at 15:30-16:00: done by 16:30, home by 17:00, but not back at the
    # morning's elder by then
    afternoon = booked(conn, clock, config, town.elder(offset(0, 0.5)), "care", local(15, 30), 60, 30)
    problem = problems.load(conn, DAY, TZ, not_before=local(9, 30))
    worker = next(w for w in problem.workers if w.caregiver_id == cid)
    assert (worker.lat, worker.lon) == offset(0, 20) and worker.home == home
    solution = solve(problem, solver_settings(config))
    index = next(i for i, v in enumerate(problem.visits) if v.order_id == afternoon)
    assert index in solution.stops
    assert solution.home[solution.stops[index].worker][0] == pytest.approx(0.5 * 1.3, abs=0.05)  # road km home


def test_routes_to_start_from_that_the_solver_refuses_are_dropped_not_fatal(
    conn: psycopg.Connection, town: Town, clock: ManualClock, config: Config
) -> None:
    pid = town.provider()
    cleaner = town.caregiver(pid, offset(0, 0), shifts=LONG_DAY, skills=("cleaning",))
    nurse = town.caregiver(pid, offset(0, 0.2), shifts=LONG_DAY, skills=("care",))
    booked(conn, clock, config, town.elder(offset(0, 0.1)), "care", local(10), 60, 60)
    problem = problems.load(conn, DAY, TZ)
    workers = {w.caregiver_id: i for i, w in enumerate(problem.workers)}
    # a start that gives the care to the cleaner (a route found before the day changed): VROOM refuses it
    start = Passes(initial={workers[cleaner]: [("job", 0)]})
    solution = solve(problem, solver_settings(config), start)
    assert solution.stops[0].worker == workers[nurse]


def test_a_visit_handed_over_does_not_push_out_a_confirmed_visit_of_its_new_caregiver(
    conn: psycopg.Connection, town: Town, clock: ManualClock, config: Config
) -> None:
    """A caregiver reports sick; their confirmed visit is handed over to a colleague with room for one visit at that
    hour, who has their own confirmed visit then. The colleague keeps theirs (it moves only when needed, and they
    are not told again); the sick caregiver's visit is left with its reason. It went the other way when the handed
    visit was the shorter ride for the colleague: their own elder lost a confirmed visit for nothing gained."""
    pid = town.provider()
    stays, sick = (town.caregiver(pid, offset(0, km), shifts=LONG_DAY) for km in (0, 5))
    own, handed = town.elder(offset(0, 2)), town.elder(offset(0, 0.1))  # the handed visit is next door to `stays`
    for elder, regular in ((own, stays), (handed, sick)):
        conn.execute(
            "INSERT INTO recurring_service (elder_id, service_type, schedule, duration_min, lead_min, starts_on, "
            "preferred_caregiver_id) VALUES (%s, 'care', '0 14 * * *', 60, 60, %s, %s)",
            (elder, DAY - timedelta(days=3), regular),
        )
    first = plan_day(conn, clock, config, DAY, made_by="test", tell=True)
    routes = (
        "SELECT r.elder_id, v.caregiver_id FROM plan_visit v JOIN recurring_service r ON r.id = v.recurring_service_id"
        " WHERE v.plan_id = %s"
    )
    assert dict(conn.execute(routes, (first.plan_id,)).fetchall()) == {own: stays, handed: sick}
    for cid in (stays, sick):
        confirm_day(conn, clock, config, cid)
    town.absent(sick, DAY, DAY)
    clock.set(local(8))
    again = replan_on_change(conn, clock, config)
    assert again is not None
    assert dict(conn.execute(routes, (again.plan_id,)).fetchall()) == {own: stays, handed: None}
    confirmed = conn.execute(
        "SELECT confirmed_at IS NOT NULL FROM plan_route WHERE plan_id = %s AND caregiver_id = %s",
        (again.plan_id, stays),
    ).fetchone()
    assert confirmed == (True,)


def test_a_replan_that_moves_a_confirmed_visit_in_its_window_starts_from_the_routes_that_kept_the_others(
    conn: psycopg.Connection, town: Town, clock: ManualClock, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A re-plan first holds each confirmed visit near the time its caregiver was given; when one no longer fits
    there, a second pass gives it its whole window and must keep every promised visit the first pass placed. It
    starts from the first pass's routes: solved afresh, VROOM filled a caregiver's day with meals nobody had been
    promised before it reached their three confirmed meals, and dropped those (a simulated day lost three so)."""
    pid = town.provider()
    cid = town.caregiver(pid, offset(0, 0), shifts=LONG_DAY)
    morning = booked(conn, clock, config, town.elder(offset(0, 5)), "care", local(10), 60, 120)
    afternoon = booked(conn, clock, config, town.elder(offset(0, 0.5)), "care", local(15), 60, 60)
    plan_day(conn, clock, config, DAY, made_by="test", tell=True)
    confirm_day(conn, clock, config, cid)
    passes: list[tuple[Passes, Solution, problems.Problem]] = []

    def recording(problem: problems.Problem, settings: SolverSettings, given: Passes | None = None) -> Solution:
        solution = solve(problem, settings, given)
        passes.append((given or Passes(), solution, problem))
        return solution

    monkeypatch.setattr(planning, "solve", recording)
    clock.set(local(10, 20))  # still at home, 5 km from the morning's elder: not there by 10:10 any more
    again = replan_day(conn, clock, config, DAY, made_by="change")
    (first, found, problem), (second, _, _) = passes[:2]
    assert first.windows and not first.initial  # held near the given times
    assert [problem.visits[i].order_id for i in found.stops] == [afternoon]
    assert second.initial == steps_of(found.stops, found.pickups, problem)
    rows = conn.execute(
        "SELECT order_id, caregiver_id, planned_start FROM plan_visit WHERE plan_id = %s ORDER BY planned_start",
        (again.plan_id,),
    ).fetchall()
    assert [row[:2] for row in rows] == [(morning, cid), (afternoon, cid)]
    assert local(10, 20) < rows[0][2] < local(11) and rows[1][2] == local(15)
