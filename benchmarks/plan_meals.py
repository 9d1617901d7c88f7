"""Where the meals a plan left without room could have come from: each such meal's kitchens, how many of the day's
meals their staff carry in the plan, and who among that staff carries nothing, how they travel and how far from
their kitchen they live; then everyone on shift who may deliver some meal and has no visit in the plan; and how
many of the day's meals the solver places when the caregivers have nothing else to do (every other visit left
out): the meals beyond that are the kitchens' and their carriers' limit, whatever else the day holds.

It tells the roster's limits (too few cooks at a kitchen, staff who live far from the kitchen they collect at) from
the solver's: ``python -m benchmarks.bench_planner --seed 3 --meals``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import psycopg
from geopy.distance import geodesic

from dispatcher.planning import problem as problems
from dispatcher.planning.problem import NO_ROOM, Kitchen, Problem, Worker
from dispatcher.planning.solve import SolverSettings, solve
from dispatcher.planning.store import visit_key


def _km(worker: Worker, kitchen: Kitchen) -> float:
    """From where the worker's day starts (home, the evening before) to the kitchen, as the crow flies."""
    return float(geodesic((worker.lat, worker.lon), (kitchen.lat, kitchen.lon)).km)


def report(conn: psycopg.Connection, problem: Problem, plan_id: int, settings: SolverSettings) -> Iterator[str]:
    """Lines on the meals of plan ``plan_id`` (made from ``problem``, the same day read again) left ``no_room``."""
    rows = conn.execute(
        "SELECT recurring_service_id, occurrence_at, order_id, caregiver_id, kitchen_provider_id, unassigned_reason "
        "FROM plan_visit WHERE plan_id = %s",
        (plan_id,),
    ).fetchall()
    planned = {visit_key(rs, at, order): row for rs, at, order, *row in rows}
    carried: Counter[int] = Counter()  # caregiver -> meals they carry in the plan
    visits: Counter[int] = Counter()  # caregiver -> their visits in the plan, meals among them
    for caregiver, kitchen, _ in planned.values():
        if caregiver is not None:
            visits[caregiver] += 1
            carried[caregiver] += kitchen is not None
    tz = problem.midnight.tzinfo
    left = [
        index
        for index, visit in enumerate(problem.visits)
        if index in problem.kitchen_choices and planned.get(visit.key, (None, None, None))[2] == NO_ROOM.code
    ]
    yield f"meals left without room: {len(left)}"
    seen: dict[int, list[str]] = {}  # kitchen (its provider) -> each of its staff who may deliver these meals
    hours: Counter[str] = Counter()
    for index in left:
        visit = problem.visits[index]
        hours[f"{visit.window_start.astimezone(tz):%H}:00"] += 1
        for kitchen, cooks in problem.kitchen_choices[index]:
            if kitchen.provider_id not in seen:
                staff = {problem.workers[w].caregiver_id: problem.workers[w] for w in cooks}
                seen[kitchen.provider_id] = [
                    f"{worker.code} {worker.travel_mode} {_km(worker, kitchen):.1f} km "
                    f"{carried[caregiver]}/{visits[caregiver]}"
                    for caregiver, worker in sorted(staff.items())
                ]
    yield "  by the hour their window opens: " + ", ".join(f"{hour} {n}" for hour, n in sorted(hours.items()))
    yield f"  the kitchens they may come from: {len(seen)}; per kitchen (its provider), each of its staff who may"
    yield "  deliver them: how they travel, km from home to the kitchen, meals / visits they have in the plan"
    for provider, staff_of in seen.items():
        yield f"    {provider}: {'; '.join(staff_of)}"
    # everyone on shift who may deliver some meal of the day and has nothing in the plan
    meal_staff = {w for choices in problem.kitchen_choices.values() for _, staff in choices for w in staff}
    idle_cooks = sorted({problem.workers[w].code for w in meal_staff if problem.workers[w].caregiver_id not in visits})
    yield f"on shift, may deliver some meal, nothing in the plan: {len(idle_cooks)} ({', '.join(idle_cooks)})"
    yield _meals_alone(conn, problem, settings, sum(carried.values()))


def _meals_alone(conn: psycopg.Connection, problem: Problem, settings: SolverSettings, in_plan: int) -> str:
    """How many of the day's meals the solver places with every other visit left out (the day read again: a solve
    moves meals between kitchens)."""
    tz = problem.midnight.tzinfo
    assert isinstance(tz, ZoneInfo)
    alone = problems.load(conn, problem.day, tz)
    meals = [index for index, visit in enumerate(alone.visits) if index in alone.kitchen_choices]
    for index in range(len(alone.visits)):
        if index not in alone.kitchen_choices:
            alone.allowed[index] = []
    placed = solve(alone, settings).stops
    return (
        f"meals placed with nothing else in anyone's day: {sum(1 for i in meals if i in placed)} of {len(meals)} "
        f"(the plan: {in_plan})"
    )
