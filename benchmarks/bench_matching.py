"""Choosing a caregiver among 10,000: the spatial prefilter against a brute-force geopy scan, same orders.

Two measurements, each on the same orders in the same run, every choice checked to be identical:

* ranking: 10,000 caregivers held in memory, every one a candidate; ``choose`` (prefilter, cost bounds)
  against ``brute_force`` (a geodesic distance and a cost for each of the 10,000);
* end to end: a seeded city with 10,000 caregivers in PostgreSQL, eligibility in SQL; ``choose`` reading
  only the boxes it needs (GiST index) against ``brute_force`` reading every eligible caregiver.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import psycopg

from benchmarks._support import scratch_database
from dispatcher.candidates import Need, SqlCandidates
from dispatcher.matching import Choice, ListCandidates, brute_force, choose
from dispatcher.ranking import Candidate, Ranking
from dispatcher.settings import DispatcherSettings
from eldercare import seed as seeding
from eldercare.clock import ManualClock
from eldercare.vocabulary import ServiceType

WEDNESDAY_10AM = datetime(2026, 1, 7, 2, 0, tzinfo=UTC)  # 10:00 in Chibi: most shifts are on
S = ServiceType
SERVICES = (S.EMERGENCY, S.MEAL, S.CARE, S.BATHING, S.CLEANING, S.MEDICAL, S.MOBILITY)  # the draws' order


def _timed(run: Callable[[], Choice | None]) -> tuple[float, Choice | None]:
    started = time.perf_counter()
    choice = run()
    return time.perf_counter() - started, choice


def _compare(label: str, cases: Sequence[tuple[Callable[..., Choice | None], Callable[..., Choice | None]]]) -> float:
    fast_times, slow_times, fetched, evaluated = [], [], [], []
    for fast, slow in cases:
        t_fast, a = _timed(fast)
        t_slow, b = _timed(slow)
        if (a and a.best) != (b and b.best):
            raise AssertionError(f"{label}: the prefilter chose {a and a.best} but the full scan {b and b.best}")
        fast_times.append(t_fast)
        slow_times.append(t_slow)
        if a is not None:
            fetched.append(a.fetched)
            evaluated.append(a.evaluated)
    fast_ms, slow_ms = statistics.mean(fast_times) * 1000, statistics.mean(slow_times) * 1000
    ratio = slow_ms / fast_ms
    print(f"{label}: {len(cases)} orders, the same choice every time")
    print(
        f"  prefilter:   {fast_ms:8.2f} ms per order (p50 {statistics.median(fast_times) * 1000:.2f} ms; "
        f"read {statistics.mean(fetched or [0]):.0f} caregivers, {statistics.mean(evaluated or [0]):.1f} geodesics)"
    )
    print(f"  brute force: {slow_ms:8.2f} ms per order (p50 {statistics.median(slow_times) * 1000:.2f} ms)")
    print(f"  ratio brute/prefilter: {ratio:6.1f}x   goal: at least 50x")
    return ratio


def in_memory(orders: int, caregivers: int, seed: int) -> float:
    rng = random.Random(seed)
    center = (29.72, 113.93)
    crowd = [
        Candidate(
            i,
            f"C{i:05d}",
            1,
            center[0] + rng.gauss(0, 0.12),
            center[1] + rng.gauss(0, 0.14),
            rng.choice(("walk", "ebike", "ebike", "car")),
            rng.randint(35, 50) / 10,
            rng.randint(0, 2),
            4,
            i % 2000 == 7,
        )
        for i in range(1, caregivers + 1)
    ]
    source = ListCandidates(crowd)
    settings = DispatcherSettings(_env_file=None)
    cases = []
    for _ in range(orders):
        lat, lon = center[0] + rng.gauss(0, 0.1), center[1] + rng.gauss(0, 0.12)
        emergency = rng.random() < 0.3
        ranking = Ranking(settings.weights(emergency), settings.travel, emergency)
        cases.append(
            (
                lambda lat=lat, lon=lon, r=ranking: choose(
                    source, lat, lon, r, start_radius_km=settings.search_radius_km
                ),
                lambda lat=lat, lon=lon, r=ranking: brute_force(source, lat, lon, r),
            )
        )
    return _compare(f"ranking among {caregivers} caregivers in memory", cases)


def in_postgres(orders: int, caregivers: int, elders: int, seed: int) -> float:
    settings = DispatcherSettings(_env_file=None)
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    clock = ManualClock(WEDNESDAY_10AM)
    city = seeding.generate(seeding.SeedPlan(elders=elders, seed=seed, caregivers=caregivers))
    rng = random.Random(seed)
    with scratch_database("bench_matching") as url, psycopg.connect(url) as conn:
        seeding.write(conn, city)
        conn.commit()
        conn.execute("ANALYZE")
        elder_rows = conn.execute("SELECT id, community_id, lat, lon FROM elder ORDER BY id").fetchall()
        cases = []
        for n in range(orders):
            elder_id, community, lat, lon = rng.choice(elder_rows)
            service = rng.choice(SERVICES)
            need = Need(-(n + 1), elder_id, community, service, lat, lon, clock.now())
            source = SqlCandidates(conn, need, tz)
            ranking = Ranking(settings.weights(need.emergency), settings.travel, need.emergency)
            cases.append(
                (
                    lambda s=source, n=need, r=ranking: choose(
                        s, n.lat, n.lon, r, start_radius_km=settings.search_radius_km
                    ),
                    lambda s=source, n=need, r=ranking: brute_force(s, n.lat, n.lon, r),
                )
            )
        eligible = statistics.mean(
            len(SqlCandidates(conn, n, tz).within(None))
            for n in [
                Need(-1, e, c, s, la, lo, clock.now())
                for (e, c, la, lo), s in zip(rng.sample(elder_rows, 20), SERVICES * 3, strict=False)
            ]
        )
        print(f"city: {elders} elders, {caregivers} caregivers; on average {eligible:.0f} eligible per order")
        return _compare(f"end to end on PostgreSQL, {caregivers} caregivers", cases)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=100, help="orders matched in PostgreSQL")
    parser.add_argument("--memory-orders", type=int, default=30, help="orders ranked in memory (1-2 s each)")
    parser.add_argument("--caregivers", type=int, default=10_000)
    parser.add_argument("--elders", type=int, default=3_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv or [])
    in_memory(args.memory_orders, args.caregivers, args.seed)
    print()
    in_postgres(args.orders, args.caregivers, args.elders, args.seed)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
