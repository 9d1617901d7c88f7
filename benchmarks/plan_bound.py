"""The most booked visits of a day that any plan could place, whatever the solver: a bound for the planner's.

A relaxation of the planner's rules, solved exactly with OR-Tools' CP-SAT: each visit goes to at most one of the
caregivers who may take it (for a meal, the staff of any kitchen that may cook it), starts inside its window, no
earlier than its caregiver's shift start plus the ride from where the shift starts, ends in time for the ride home
before the shift ends, and no caregiver is in two places at once. Before each visit lies at least the shortest
ride to it its caregiver could make that day (from the shift's start, from any other visit they may take, from one
of the meal's kitchens). Left out, so the bound can only be higher than the truth: the rest of the travel,
collecting at the kitchen, the meal carrier's capacity, the balance of hours, the margin before a window's end. A
plan that places fewer visits than the bound leaves that many to the solver or to the rules left out; the visits
over the bound are no plan's to place on that roster.

OR-Tools is a development dependency (the ``dev`` extra, which ``make install`` installs), not the platform's:
``python -m benchmarks.bench_planner --bound``.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from dispatcher.planning.problem import Problem
from dispatcher.planning.solve import SolverSettings
from dispatcher.planning.travel import matrices


@dataclass(frozen=True, slots=True)
class Bound:
    visits: int  # the day's booked visits in the problem
    placeable: int  # at most this many can be placed by any plan
    proven: bool  # CP-SAT proved it optimal (else its best bound within the time limit: still a bound)
    seconds: float


def most_placeable(problem: Problem, settings: SolverSettings, *, seconds: float = 120.0) -> Bound:
    from ortools.sat.python import cp_model  # the dev extra's, not the platform's: imported only here

    homes = [w.home or (w.lat, w.lon) for w in problem.workers]  # where each caregiver's day ends
    places: dict[tuple[float, float], int] = {}
    for where in (
        [(w.lat, w.lon) for w in problem.workers]
        + homes
        + [(v.lat, v.lon) for v in problem.visits]
        + [(k.lat, k.lon) for choices in problem.kitchen_choices.values() for k, _ in choices]
        + [(v.kitchen.lat, v.kitchen.lon) for v in problem.visits if v.kitchen is not None]
    ):
        places.setdefault(where, len(places))
    rides = matrices(list(places), settings.travel).seconds  # the planner's own travel model

    def ride(mode: str, a: tuple[float, float], b: tuple[float, float]) -> int:
        return int(rides[mode][places[a], places[b]]) // 60  # rounded down: the bound stays a bound

    def minute(at: datetime) -> int:
        return problem.seconds(at) // 60

    staff = {i: problem.workers_who_may(i) for i in range(len(problem.visits)) if i not in problem.unservable}
    may_take: dict[int, list[int]] = defaultdict(list)
    for i, workers in staff.items():
        for w in workers:
            may_take[w].append(i)
    model = cp_model.CpModel()
    busy: dict[int, list[cp_model.IntervalVar]] = defaultdict(list)  # by caregiver (a caregiver may have 2 shifts)
    chosen: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    for i, workers in staff.items():
        visit = problem.visits[i]
        place = (visit.lat, visit.lon)
        on_site = settings.minutes_on_site.get(visit.service_type, visit.duration_min)
        kitchens = [k for k, _ in problem.kitchen_choices.get(i, [])] + ([visit.kitchen] if visit.kitchen else [])
        for w in workers:
            worker = problem.workers[w]
            from_start = ride(worker.travel_mode, (worker.lat, worker.lon), place)
            earliest = max(minute(visit.window_start), minute(worker.starts) + from_start)
            latest = min(
                minute(visit.window_end), minute(worker.ends) - on_site - ride(worker.travel_mode, place, homes[w])
            )
            if earliest > latest:
                continue
            before = min(
                [from_start]
                + [ride(worker.travel_mode, (k.lat, k.lon), place) for k in kitchens]
                + [
                    ride(worker.travel_mode, (problem.visits[j].lat, problem.visits[j].lon), place)
                    for j in may_take[w]
                    if j != i
                ]
            )
            taken = model.new_bool_var(f"visit {i} by worker {w}")
            start = model.new_int_var(earliest - before, latest - before, "")
            busy[worker.caregiver_id].append(
                model.new_optional_fixed_size_interval_var(start, before + on_site, taken, "")
            )
            chosen[i].append(taken)
    for options in chosen.values():
        model.add_at_most_one(options)
    for intervals in busy.values():
        model.add_no_overlap(intervals)
    model.maximize(sum(x for options in chosen.values() for x in options))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = 2
    started = time.perf_counter()
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise RuntimeError(f"CP-SAT found no bound on the day's visits ({solver.status_name(status)})")
    return Bound(
        len(problem.visits), int(solver.best_objective_bound), status == cp_model.OPTIMAL, time.perf_counter() - started
    )
