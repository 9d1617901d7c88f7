"""Planning a day of the seeded city (2,000 elders, 150 caregivers by default) with the platform's planner.

``dispatcher.planning.plan_day`` end to end on PostgreSQL: reading the day (visits, caregivers, rules), the
solver, storing the plan. Reported apart: database seconds (read and store) and the solver's own seconds, the
plan's figures, and the ratio of the whole to a baseline measured in the same run: VROOM at exploration level
1 on the same problem (the quickest plan the solver makes of it), so that the figure travels between machines.
The goal is under 30 s for 2,000 elders on this machine.

    .venv/bin/python -m benchmarks.bench_planner [--elders 2000 --caregivers 150 --seed 1] [--settings k=v ...]

``--bound`` adds the most visits any plan could place on that roster (benchmarks/plan_bound.py, OR-Tools);
``--meals`` where the meals the plan left without room could have come from (benchmarks/plan_meals.py).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from datetime import datetime, timedelta
from datetime import time as clock_time

from dispatcher import planning
from dispatcher.planning import problem as problems
from dispatcher.planning.solve import solve
from dispatcher.settings import Config, DispatcherSettings
from eldercare import seed as seeding
from eldercare.clock import ManualClock
from eldercare.config import Settings
from eldercare.db import connect
from simulators.citysim import params as parameters
from simulators.citysim.databases import Databases

GOAL_SECONDS = 30.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elders", type=int, default=2000)
    parser.add_argument("--caregivers", type=int, default=150)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--settings", nargs="*", default=[], help="dispatcher settings as name=JSON, e.g. plan_exploration=3"
    )
    parser.add_argument(
        "--bound",
        action="store_true",
        help="also the most visits any plan could place on that roster (benchmarks/plan_bound.py, OR-Tools CP-SAT)",
    )
    parser.add_argument(
        "--meals",
        action="store_true",
        help="also where the meals the plan left without room could have come from: their kitchens' staff, the "
        "meals those carry, who carries none (benchmarks/plan_meals.py)",
    )
    args = parser.parse_args([] if __name__ != "__main__" else None)
    tuning = {name: json.loads(value) for name, value in (item.split("=", 1) for item in args.settings)}
    config = Config(Settings(_env_file=None), DispatcherSettings(_env_file=None, **tuning))
    day = parameters.load().day.date
    plan = seeding.SeedPlan(elders=args.elders, seed=args.seed, caregivers=args.caregivers)
    with Databases() as databases:
        url = databases.copy_of(databases.seed_city(plan), "planner")
        with connect(url) as conn:
            # as the elected scheduler runs it: at plan_hour the evening before
            evening = datetime.combine(day, clock_time(0), tzinfo=config.timezone) - timedelta(days=1)
            clock = ManualClock(evening + timedelta(hours=config.dispatch.plan_hour))
            started = time.perf_counter()
            outcome = planning.plan_day(conn, clock, config, day, made_by="bench")
            conn.commit()
            whole = time.perf_counter() - started
            # the baseline: the same problem at the solver's quickest setting
            problem = problems.load(conn, day, config.timezone)
            quick = replace(planning.solver_settings(config), exploration=1)
            baseline = solve(problem, quick).seconds
            if args.bound:
                from benchmarks.plan_bound import most_placeable

                bound = most_placeable(problem, planning.solver_settings(config))
            if args.meals:
                from benchmarks.plan_meals import report

                meals = list(report(conn, problem, outcome.plan_id, planning.solver_settings(config)))
    numbers = outcome.figures
    database = float(numbers["load_seconds"]) + float(numbers["store_seconds"])  # type: ignore[arg-type]
    print(
        f"planned {day} for {args.elders:,} elders and {args.caregivers} caregivers in {whole:.2f} s "
        f"(goal < {GOAL_SECONDS:.0f} s): solver {numbers['solver_seconds']} s (of which spreading the hours "
        f"{numbers['spread_seconds']} s), database {database:.2f} s "
        f"(read {numbers['load_seconds']} s, store {numbers['store_seconds']} s)"
    )
    print(f"baseline (VROOM at exploration 1, same problem): {baseline:.2f} s; ratio {whole / baseline:.1f}")
    print(json.dumps(numbers, ensure_ascii=False))
    if args.bound:
        print(
            f"placed {numbers['assigned']} of {bound.visits} booked visits; no plan can place more than "
            f"{bound.placeable} ({bound.placeable / bound.visits:.1%}; CP-SAT {bound.seconds:.1f} s"
            f"{', optimal' if bound.proven else ', its best bound at the time limit'})"
        )
    if args.meals:
        print("\n".join(meals))
    if whole >= GOAL_SECONDS:
        raise SystemExit(f"planning took {whole:.1f} s, over the goal of {GOAL_SECONDS:.0f} s")


if __name__ == "__main__":
    main()
