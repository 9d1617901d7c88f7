"""A simulated city day: how long `eldercare simulate day` takes, and what the engine's shortcuts save.

Two measurements in one run:

* the day the issue sets (2,000 elders, 150 caregivers, both dispatchers), against its goal of two minutes;
* the baseline: the first 12 hours of a small city's day (through the lunchtime rush) driven as the real
  dispatcher loop runs (a sweep on every one-second tick, every retry of an order nobody can take), against
  the same hours with the engine's shortcuts (idle ticks and futile retries skipped). The two timelines
  must be identical, or the shortcuts would be changing decisions; the benchmark fails if they are not.
"""

from __future__ import annotations

import argparse
import logging
import time
from typing import Any

from eldercare import seed as seeding
from eldercare.config import Settings
from eldercare.db import connect
from simulators.citysim import demand as demands
from simulators.citysim import params as parameters
from simulators.citysim.databases import Databases
from simulators.citysim.engine import Engine
from simulators.citysim.run import Request, dispatcher_config, simulate

TIMELINE = "SELECT order_id, at, from_status, to_status, actor, reason FROM order_event ORDER BY id"


BASELINE_HOURS = 12.0


def _small_day(url: str, shortcuts: bool) -> tuple[float, int, list[Any]]:
    params = parameters.load()
    config = dispatcher_config("smart", params, Settings(_env_file=None))
    with connect(url) as conn:
        conn.execute("SET synchronous_commit = off")
        elders = demands.load_elders(conn)
        demand = demands.draw(elders, params, 1)
        engine = Engine(
            conn,
            config,
            params,
            1,
            demand,
            elders,
            "smart",
            skip_futile_retries=shortcuts,
            skip_idle_ticks=shortcuts,
            hours=BASELINE_HOURS,
        )
        started = time.perf_counter()
        run = engine.run()
        seconds = time.perf_counter() - started
        return seconds, run.sweeps, conn.execute(TIMELINE).fetchall()


def baseline(elders: int, caregivers: int) -> float:
    with Databases() as databases:
        city = databases.seed_city(seeding.SeedPlan(elders=elders, seed=1, caregivers=caregivers))
        fast, fast_sweeps, fast_timeline = _small_day(databases.copy_of(city, "shortcuts"), True)
        slow, slow_sweeps, slow_timeline = _small_day(databases.copy_of(city, "loop"), False)
    if fast_timeline != slow_timeline:
        raise AssertionError("the engine's shortcuts changed the day's timeline: they must change no decision")
    print(
        f"first {BASELINE_HOURS:.0f} hours of a small city ({elders} elders, {caregivers} caregivers), smart, "
        f"the same {len(fast_timeline)} order events:"
    )
    print(f"  real loop (every tick, every retry): {slow:7.1f} s  {slow_sweeps:7,} sweeps")
    print(f"  engine (shortcuts):                  {fast:7.1f} s  {fast_sweeps:7,} sweeps")
    print(f"  ratio loop/engine: {slow / fast:5.1f}x")
    return slow / fast


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--elders", type=int, default=2000)
    parser.add_argument("--caregivers", type=int, default=150)
    parser.add_argument("--baseline-elders", type=int, default=240)
    parser.add_argument("--baseline-caregivers", type=int, default=24)
    args = parser.parse_args(argv or [])
    logging.getLogger("dispatcher").setLevel(logging.ERROR)
    baseline(args.baseline_elders, args.baseline_caregivers)
    started = time.perf_counter()
    request = Request(args.elders, args.caregivers, 1, ("smart", "nearest"))
    report, timings = simulate(request, parameters.load(), Settings(_env_file=None))
    wall = time.perf_counter() - started
    events = sum(d["events"] for d in report["dispatchers"].values())
    stages = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items())
    print(f"day of {args.elders} elders and {args.caregivers} caregivers, smart and nearest: {wall:.1f} s ({stages})")
    print(f"  {events:,} events; {2 * 86_400 / wall:,.0f} simulated seconds per second   goal: under 120 s")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
