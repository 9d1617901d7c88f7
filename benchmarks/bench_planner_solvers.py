"""Planning a day's booked visits as routes: pyvroom, PyVRP and OR-Tools on the seeded city (a measurement).

The seeded city of the simulated day (2,000 elders, 150 caregivers, seed 1 by default); its booked visits of
the day are the occurrences of its recurring services, each to start inside [time, time + duration] (what the
simulated day counts as served inside the window) and lasting its duration. Caregivers on shift that day are
the vehicles: from home and back, inside their shift, only visits they have the skill for, of a provider that
sells the service in the elder's community and is not black-listed. Travel is the dispatcher's travel model
(straight line times the detour, at the speed of the caregiver's mode, plus the minutes to get going).

Each solver gets the same problem and a time limit; reported: solver seconds, visits unassigned, share of
visits served inside their window, km travelled. The solvers are not dependencies of the platform: install
them into the venv to run this (`pip install pyvroom pyvrp ortools`).

    .venv/bin/python -m benchmarks.bench_planner_solvers --seconds 10
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from dispatcher.recurring import occurrences, trigger_for
from dispatcher.settings import TravelModel
from eldercare import seed as seeding
from eldercare.db import connect
from simulators.citysim import params as parameters
from simulators.citysim.databases import Databases

TIMEZONE = "Asia/Shanghai"
BIG = 10**7


@dataclass
class Visit:
    elder_id: int
    service_type: str
    community_id: int
    lat: float
    lon: float
    start_s: int  # seconds after local midnight
    end_s: int
    duration_s: int


@dataclass
class Worker:
    id: int
    mode: str
    lat: float
    lon: float
    shift: tuple[int, int]
    serves: set[tuple[int, str]] = field(default_factory=set)  # (community, service) they may take


@dataclass
class Problem:
    visits: list[Visit]
    workers: list[Worker]
    km: np.ndarray  # road km between locations: workers' homes first, then visits
    minutes: dict[str, np.ndarray]  # travel minutes per mode
    allowed: list[list[int]]  # per visit: indexes of workers who may take it

    def location(self, visit: int) -> int:
        return len(self.workers) + visit


def load(url: str, day: datetime, meal_drop_min: int | None = None) -> Problem:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(TIMEZONE)
    midnight = datetime.combine(day.date(), datetime.min.time(), tzinfo=tz)
    with connect(url) as conn:
        services = conn.execute(
            "SELECT rs.schedule, rs.duration_min, rs.service_type, e.id, e.community_id, e.lat, e.lon "
            "FROM recurring_service rs JOIN elder e ON e.id = rs.elder_id WHERE rs.active AND e.active "
            "AND rs.starts_on <= %s AND (rs.ends_on IS NULL OR rs.ends_on >= %s) ORDER BY rs.id",
            (midnight.date(), midnight.date()),
        ).fetchall()
        visits = []
        for schedule, duration, service, elder, community, lat, lon in services:
            for when in occurrences(trigger_for(schedule, tz), midnight, midnight + timedelta(days=1)):
                start = int((when - midnight).total_seconds())
                stay = meal_drop_min if service == "meal" and meal_drop_min is not None else duration
                visits.append(Visit(elder, service, community, lat, lon, start, start + duration * 60, stay * 60))
        weekday = midnight.isoweekday()
        rows = conn.execute(
            "SELECT c.id, c.travel_mode, c.home_lat, c.home_lon, sh.starts, sh.ends FROM caregiver c "
            "JOIN caregiver_shift sh ON sh.caregiver_id = c.id AND sh.weekday = %s "
            "JOIN provider p ON p.id = c.provider_id WHERE c.active AND p.active AND p.standing <> 'black' "
            "ORDER BY c.id, sh.starts",
            (weekday,),
        ).fetchall()
        workers: dict[int, Worker] = {}
        for cid, mode, lat, lon, starts, ends in rows:
            s = starts.hour * 3600 + starts.minute * 60
            e = ends.hour * 3600 + ends.minute * 60 if ends > starts else 24 * 3600
            if cid in workers:  # a second shift that day: one span from the first start to the last end
                w = workers[cid]
                w.shift = (min(w.shift[0], s), max(w.shift[1], e))
            else:
                workers[cid] = Worker(cid, mode, lat, lon, (s, e))
        for cid, community, service in conn.execute(
            "SELECT c.id, pa.community_id, ps.service_type FROM caregiver c "
            "JOIN provider_area pa ON pa.provider_id = c.provider_id "
            "JOIN provider_service ps ON ps.provider_id = c.provider_id "
            "JOIN caregiver_skill s ON s.caregiver_id = c.id AND s.service_type = ps.service_type"
        ).fetchall():
            if cid in workers:
                workers[cid].serves.add((community, service))
    staff = list(workers.values())
    travel = TravelModel()
    points = np.array([(w.lat, w.lon) for w in staff] + [(v.lat, v.lon) for v in visits])
    lat, lon = np.radians(points[:, 0]), np.radians(points[:, 1])
    dlat, dlon = lat[:, None] - lat[None, :], lon[:, None] - lon[None, :]
    h = np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
    km = 2 * 6371.0088 * np.arcsin(np.sqrt(np.minimum(1.0, h))) * travel.detour
    minutes = {}
    for mode, speed in travel.speed_kmh.items():
        m = km / speed * 60.0 + travel.setup_min[mode]
        np.fill_diagonal(m, 0.0)
        minutes[mode] = m
    allowed = [[i for i, w in enumerate(staff) if (v.community_id, v.service_type) in w.serves] for v in visits]
    return Problem(visits, staff, km, minutes, allowed)


@dataclass
class Outcome:
    solver: str
    seconds: float
    routes: list[list[int]]  # per worker: visit indexes in order
    note: str = ""


def check(problem: Problem, outcome: Outcome) -> dict[str, Any]:
    """Replay the routes: arrival times, windows, shifts, eligibility, km. The solvers' own word is not taken."""
    served = in_window = 0
    km = 0.0
    broken: list[str] = []
    seen: set[int] = set()
    for wi, route in enumerate(outcome.routes):
        if not route:
            continue
        w = problem.workers[wi]
        travel = problem.minutes[w.mode]
        t, here = float(w.shift[0]), wi
        for v in route:
            visit = problem.visits[v]
            if wi not in problem.allowed[v]:
                broken.append(f"visit {v} given to worker {w.id} who may not take it")
            if v in seen:
                broken.append(f"visit {v} twice")
            seen.add(v)
            loc = problem.location(v)
            t = max(t + travel[here, loc] * 60, visit.start_s)
            km += problem.km[here, loc]
            served += 1
            in_window += t <= visit.end_s + 1
            t += visit.duration_s
            here = loc
        t += travel[here, wi] * 60
        km += problem.km[here, wi]
        if t > w.shift[1] + 60:
            broken.append(f"worker {w.id} home at {t / 3600:.2f} h after their shift ends {w.shift[1] / 3600:.2f} h")
    total = len(problem.visits)
    return {
        "solver": outcome.solver,
        "seconds": round(outcome.seconds, 2),
        "visits": total,
        "unassigned": total - served,
        "in_window": round(float(in_window) / total, 4),
        "km": round(float(km), 1),
        "caregivers_used": sum(1 for r in outcome.routes if r),
        "broken": broken[:5],
        "note": outcome.note,
    }


def solve_vroom(problem: Problem, seconds: float, exploration: int = 2) -> Outcome:
    import vroom

    n_workers = len(problem.workers)
    inst = vroom.Input()
    for mode, matrix in problem.minutes.items():
        inst.set_durations_matrix(profile=mode, matrix_input=np.rint(matrix * 60).astype(np.uint32))
        inst.set_costs_matrix(profile=mode, matrix_input=np.rint(matrix * 60).astype(np.uint32))
    # skills: one per (community, service) pair a visit needs
    pairs = {(v.community_id, v.service_type) for v in problem.visits}
    skill = {p: i + 1 for i, p in enumerate(sorted(pairs))}
    for wi, w in enumerate(problem.workers):
        inst.add_vehicle(
            vroom.Vehicle(
                id=wi,
                start=vroom.Location(index=wi),
                end=vroom.Location(index=wi),
                profile=w.mode,
                skills={skill[p] for p in w.serves if p in skill},
                time_window=vroom.TimeWindow(*w.shift),
            )
        )
    for vi, v in enumerate(problem.visits):
        inst.add_job(
            vroom.Job(
                id=vi,
                location=vroom.Location(index=n_workers + vi),
                default_service=v.duration_s,
                skills={skill[(v.community_id, v.service_type)]},
                time_windows=[vroom.TimeWindow(v.start_s, v.end_s)],
            )
        )
    started = time.perf_counter()
    solution = inst.solve(exploration_level=exploration, nb_threads=2)
    elapsed = time.perf_counter() - started
    routes: list[list[int]] = [[] for _ in problem.workers]
    df = solution.routes
    for vehicle, job, kind in zip(df["vehicle_id"], df["id"], df["type"], strict=True):
        if kind == "job":
            routes[int(vehicle)].append(int(job))
    return Outcome(f"pyvroom (exploration {exploration})", elapsed, routes, "no time limit; exploration level")


def solve_pyvrp(problem: Problem, seconds: float) -> Outcome:
    import pyvrp
    from pyvrp.stop import MaxRuntime

    n_workers, n_visits = len(problem.workers), len(problem.visits)
    # one profile per group of workers alike (mode and what they may take): arcs into visits they may not
    # take are made prohibitively long
    groups: dict[tuple[str, frozenset[int]], list[int]] = {}
    may: list[set[int]] = [set() for _ in problem.workers]
    for vi, ws in enumerate(problem.allowed):
        for wi in ws:
            may[wi].add(vi)
    for wi, w in enumerate(problem.workers):
        groups.setdefault((w.mode, frozenset(may[wi])), []).append(wi)
    locations = [pyvrp.Location(x=0, y=0) for _ in range(n_workers + n_visits)]  # travel comes from the matrices
    depots = [pyvrp.Depot(location=wi) for wi in range(n_workers)]
    clients = [
        pyvrp.Client(
            location=n_workers + vi,
            service_duration=v.duration_s,
            tw_early=v.start_s,
            tw_late=v.end_s,
            required=False,
            prize=BIG,
        )
        for vi, v in enumerate(problem.visits)
    ]
    vehicle_types = []
    distances, durations = [], []
    for profile, ((mode, can), members) in enumerate(groups.items()):
        dur = np.rint(problem.minutes[mode] * 60).astype(np.int64)
        dist = np.rint(problem.km * 1000).astype(np.int64)
        forbidden = [n_workers + vi for vi in range(n_visits) if vi not in can]
        dur[:, forbidden] = BIG
        dist[:, forbidden] = BIG
        np.fill_diagonal(dur, 0)
        np.fill_diagonal(dist, 0)
        durations.append(dur)
        distances.append(dist)
        for wi in members:
            w = problem.workers[wi]
            vehicle_types.append(
                pyvrp.VehicleType(
                    num_available=1,
                    start_depot=wi,
                    end_depot=wi,
                    tw_early=w.shift[0],
                    tw_late=w.shift[1],
                    profile=profile,
                    unit_distance_cost=1,
                    unit_duration_cost=0,
                )
            )
    # vehicle types in worker order do not matter: map back by start depot
    data = pyvrp.ProblemData(
        locations=locations,
        clients=clients,
        depots=depots,
        vehicle_types=vehicle_types,
        distance_matrices=distances,
        duration_matrices=durations,
    )
    started = time.perf_counter()
    result = pyvrp.solve(data, stop=MaxRuntime(seconds), display=False)
    elapsed = time.perf_counter() - started
    routes: list[list[int]] = [[] for _ in problem.workers]
    for route in result.best.routes():
        routes[route.start_depot()] = [a.idx for a in route.schedule() if a.is_client()]
    return Outcome("PyVRP", elapsed, routes, f"{len(groups)} profiles; feasible={result.best.is_feasible()}")


def solve_ortools(problem: Problem, seconds: float) -> Outcome:
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    n_workers, n_visits = len(problem.workers), len(problem.visits)
    n = n_workers + n_visits
    manager = pywrapcp.RoutingIndexManager(n, n_workers, list(range(n_workers)), list(range(n_workers)))
    routing = pywrapcp.RoutingModel(manager)
    service = [0] * n_workers + [v.duration_s for v in problem.visits]
    callbacks = {}
    for mode, matrix in problem.minutes.items():
        secs = np.rint(matrix * 60).astype(np.int64)
        with_service = (secs + np.array(service)[:, None]).tolist()

        def transit(i: int, j: int, table: list[list[int]] = with_service) -> int:
            return table[manager.IndexToNode(i)][manager.IndexToNode(j)]

        callbacks[mode] = routing.RegisterTransitCallback(transit)
    meters = np.rint(problem.km * 1000).astype(np.int64).tolist()

    def distance(i: int, j: int) -> int:
        return meters[manager.IndexToNode(i)][manager.IndexToNode(j)]

    dist_cb = routing.RegisterTransitCallback(distance)
    routing.SetArcCostEvaluatorOfAllVehicles(dist_cb)
    routing.AddDimensionWithVehicleTransits(
        [callbacks[w.mode] for w in problem.workers], 24 * 3600, 24 * 3600, False, "time"
    )
    time_dim = routing.GetDimensionOrDie("time")
    for wi, w in enumerate(problem.workers):
        time_dim.CumulVar(routing.Start(wi)).SetRange(*w.shift)
        time_dim.CumulVar(routing.End(wi)).SetRange(*w.shift)
    for vi, v in enumerate(problem.visits):
        index = manager.NodeToIndex(n_workers + vi)
        time_dim.CumulVar(index).SetRange(v.start_s, v.end_s)
        routing.VehicleVar(index).SetValues([-1, *problem.allowed[vi]])
        routing.AddDisjunction([index], BIG)
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(int(seconds * 1000))
    started = time.perf_counter()
    solution = routing.SolveWithParameters(params)
    elapsed = time.perf_counter() - started
    routes: list[list[int]] = [[] for _ in problem.workers]
    if solution is None:
        return Outcome("OR-Tools", elapsed, routes, "no solution")
    for wi in range(n_workers):
        index = solution.Value(routing.NextVar(routing.Start(wi)))
        while not routing.IsEnd(index):
            routes[wi].append(manager.IndexToNode(index) - n_workers)
            index = solution.Value(routing.NextVar(index))
    return Outcome("OR-Tools", elapsed, routes, "guided local search")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elders", type=int, default=2000)
    parser.add_argument("--caregivers", type=int, default=150)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10.0, help="time limit of PyVRP and OR-Tools")
    parser.add_argument("--solvers", default="vroom,pyvrp,ortools")
    parser.add_argument("--exploration", type=int, default=2, help="pyvroom's exploration level (0-5)")
    parser.add_argument(
        "--meal-drop-min",
        type=int,
        default=None,
        help="minutes a meal delivery takes at the door (default: the booked duration, as the dispatcher has it)",
    )
    args = parser.parse_args()
    params = parameters.load()
    day = datetime.combine(params.day.date, datetime.min.time(), tzinfo=UTC)
    plan = seeding.SeedPlan(elders=args.elders, seed=args.seed, caregivers=args.caregivers)
    with Databases() as databases:
        url = databases.copy_of(databases.seed_city(plan), "planner")
        started = time.perf_counter()
        problem = load(url, day, args.meal_drop_min)
        loaded = time.perf_counter() - started
    print(
        f"{len(problem.visits)} booked visits, {len(problem.workers)} caregivers on shift "
        f"(loaded and matrices built in {loaded:.1f} s); "
        f"visits nobody may take: {sum(1 for a in problem.allowed if not a)}"
    )
    solvers = {
        "vroom": lambda p, s: solve_vroom(p, s, args.exploration),
        "pyvrp": solve_pyvrp,
        "ortools": solve_ortools,
    }
    for name in args.solvers.split(","):
        try:
            outcome = solvers[name](problem, args.seconds)
        except ImportError as err:
            print(f"{name}: not installed ({err.name}); pip install pyvroom pyvrp ortools into the venv to measure it")
            continue
        print(check(problem, outcome))


if __name__ == "__main__":
    main()
