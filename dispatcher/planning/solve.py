"""Solving a day's problem with VROOM (pyvroom): who takes which visit, in which order, starting when.

Rules become the solver's hard constraints: who may take a visit (skill, area, standing, contract, absence) is a
skill the visit asks for and only those caregivers have; the shift is the vehicle's time window; the visit's window
less a margin is the job's; balanced hours are a cap on visits per caregiver, by their fair share of the day's
visits (``_max_tasks``), and in every plan a last pass moving visits not yet promised from the busiest caregivers to
those busy less than half the average (``spread``). A visit pinned to a caregiver (a confirmed route, an operator's
pin) asks for a skill only that caregiver has. Continuity of care pins each visit to the elder's regulars first; a
visit that then finds no room is planned again free, starting from the routes found, so preferring a regular never
costs a visit.

A meal with a kitchen is a shipment: collected at the kitchen (the first meal collected there costs the kitchen
minutes, the ones collected with it nothing more: a batch) and delivered inside its window by the same caregiver,
who carries at most the meal capacity at once. Other visits carry nothing. A meal that finds no room with its
kitchen's staff is planned again from its next-nearest kitchen, from the routes found, while it has one (the
problem then records the kitchen it is planned from).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

import vroom
from vroom._vroom import VroomInputException  # pyvroom exports it only from its compiled module

from dispatcher.eligibility import Reason
from dispatcher.planning.problem import NO_ROOM, Problem, Visit
from dispatcher.planning.travel import Matrices, matrices
from dispatcher.settings import TravelModel
from eldercare.i18n import N_
from eldercare.priority import BOOKED

log = logging.getLogger(__name__)

# VROOM priorities run 0-100, and VROOM serves the highest sum of priorities it can first (then as many visits as
# it can, then the least travel). A visit promised already (its caregiver holds its order, or has it on a confirmed
# route or an operator's pin) counts 96: a re-plan drops one only if it cannot be served, never to make room for
# visits not yet promised (it would take 25 of those to outweigh it). A promise its caregiver cannot keep where it
# stood (they are away or no longer allowed, or have no room: the visit is handed over) counts one less, so that it
# does not push out a visit another caregiver confirmed (the two would otherwise weigh the same, and VROOM would
# take the shorter ride). Each priority group the elder is in (at most four) adds a step: the priority elders'
# visits come first among those not yet promised, and among the promised.
PROMISED = 96
PRIORITY_STEP = 1


def priority_of(visit: Visit, handed_over: bool = False) -> int:
    """The visit's VROOM priority (0-100); ``handed_over``: a pass moves it from a caregiver with no room for it."""
    kept_where_it_stood = not (visit.gives_way or handed_over)
    promise = (PROMISED if kept_where_it_stood else PROMISED - 1) if visit.promised else 0
    return promise + (BOOKED - visit.priority) * PRIORITY_STEP


OUT_OF_REACH = Reason.of(
    "out_of_reach",
    N_("no caregiver who may take it can reach it inside its window, even with nothing else to do that day"),
)


def held_late(caregiver_id: int) -> Reason:
    """Why a visit whose order a caregiver holds (a meal they carry, a visit no one else may take) is in nobody's
    route: its holder cannot reach it inside its window any more, and nobody else who may can either. The order
    stays with them: they serve it late unless an operator reassigns it."""
    return Reason.of(
        "held_late",
        N_(
            "caregiver %(caregiver)s holds it but cannot reach it inside its window, nor can anyone else: "
            "they serve it late unless it is reassigned"
        ),
        caregiver=caregiver_id,
    )


def held_past_shift(caregiver_id: int) -> Reason:
    """Why a visit whose order a caregiver holds is in nobody's route when its holder reaches it inside its window
    but would be done (and home) only after their shift ends: the plan keeps a caregiver's day inside their shift,
    the dispatch offered it to them while they were on shift. The order stays with them."""
    return Reason.of(
        "held_past_shift",
        N_(
            "caregiver %(caregiver)s holds it and can reach it inside its window, but their shift ends before it "
            "would be done: they serve it past their shift unless it is reassigned"
        ),
        caregiver=caregiver_id,
    )


@dataclass(frozen=True, slots=True)
class SolverSettings:
    """How hard the solver works and what it may plan."""

    seconds: float = 20.0  # time limit; past it the best plan found is kept and flagged
    exploration: int = 2  # VROOM's exploration level, 1-5
    threads: int = 2
    margin_minutes: int = 5  # a visit is planned to start at least this long before its window ends
    balance: float = 3.0  # a caregiver takes at most this many times the day's visits per caregiver
    kitchen_minutes: int = 5  # collecting a batch of meals at a kitchen
    meal_capacity: int = 12  # meals carried at once
    meal_hold_minutes: int = 60  # a meal is collected at most this long before its window opens
    minutes_on_site: Mapping[str, int] = field(default_factory=dict)  # by service type, else the booked duration
    travel: TravelModel = field(default_factory=TravelModel)
    spread_passes: int = 0  # solves the spreading pass may make (``spread``); 0: none


@dataclass(frozen=True, slots=True)
class Stop:
    """A visit in a route, or the collecting of a meal at its kitchen: which worker, its place in their day, when
    it starts, and the km to get there."""

    worker: int
    sequence: int
    start_s: int
    km: float
    travel_s: int
    service_s: int


@dataclass(slots=True)
class Solution:
    """The solver's answer: a stop per assigned visit (and per assigned meal with a kitchen, its pickup), a reason
    per unassigned one, and how it went."""

    stops: dict[int, Stop]
    unassigned: dict[int, Reason]
    solver: str
    seconds: float
    timed_out: bool
    home: dict[int, tuple[float, int]]  # worker -> km and seconds back home at the end of the day
    pickups: dict[int, Stop] = field(default_factory=dict)  # visit -> collecting its meal at the kitchen
    spread_seconds: float = 0.0  # of ``seconds``, the spreading pass's (``spread``)

    def routes(self) -> dict[int, list[int]]:
        """Worker -> their visits in order."""
        return _routes_of(self.stops)

    def busy_minutes(self) -> dict[int, float]:
        """Worker -> minutes busy on their route: travel (to visits, kitchens and home) and time on site and at
        kitchens."""
        busy: dict[int, float] = {}
        for w, visits in self.routes().items():
            stops = [self.stops[v] for v in visits] + [self.pickups[v] for v in visits if v in self.pickups]
            busy[w] = (sum(s.travel_s + s.service_s for s in stops) + self.home.get(w, (0.0, 0))[1]) / 60.0
        return busy


def gini(values: Sequence[float]) -> float:
    """The Gini coefficient: mean absolute difference over twice the mean; 0 for all equal or all zero."""
    n = len(values)
    total = sum(values)
    if n == 0 or total <= 0:
        return 0.0
    ordered = sorted(values)
    return sum((2 * i - n + 1) * x for i, x in enumerate(ordered)) / (n * total)


def on_site(visit: Visit, settings: SolverSettings) -> int:
    """Minutes the visit keeps the caregiver at the elder's."""
    return settings.minutes_on_site.get(visit.service_type, visit.duration_min)


def _collectable_from(problem: Problem, visit: Visit, settings: SolverSettings) -> int:
    """The earliest a meal may be collected at its kitchen, in seconds of the problem's day: the hold before its own
    window opens (it is cooked for that window), whatever window a further pass plans its delivery in."""
    return problem.seconds(visit.window_start) - settings.meal_hold_minutes * 60


def _max_tasks(problem: Problem, balance: float, allowed: Sequence[Sequence[int]]) -> list[int]:
    """Each worker's cap on tasks: ``balance`` times their fair share, the visits they may take each split evenly
    among all who may take it (a caregiver whose visits few others may take has a larger share than one in a crowd
    of colleagues), and at least 2. VROOM counts a shipment's pickup and delivery as two tasks."""
    share = [0.0] * len(problem.workers)
    for visit, may in zip(problem.visits, allowed, strict=True):
        for w in may:
            share[w] += (1 + (visit.kitchen is not None)) / len(may)
    return [max(2, math.ceil(balance * s)) for s in share]


@dataclass(frozen=True, slots=True)
class Places:
    """The places of the problem, as indices into its travel matrices: where each worker starts (index = worker),
    the elders' homes (workers + visit), then kitchens (by provider) and the homes of workers who start elsewhere
    (``ends``: where each worker's day ends)."""

    points: list[tuple[float, float]]
    kitchens: dict[int, int]
    ends: list[int]


def _places(problem: Problem) -> Places:
    points = [(w.lat, w.lon) for w in problem.workers] + [(v.lat, v.lon) for v in problem.visits]
    kitchens: dict[int, int] = {}
    for choices in problem.kitchen_choices.values():
        for kitchen, _ in choices:
            if kitchen.provider_id not in kitchens:
                kitchens[kitchen.provider_id] = len(points)
                points.append((kitchen.lat, kitchen.lon))
    ends = []
    for w, worker in enumerate(problem.workers):
        if worker.home is None or worker.home == (worker.lat, worker.lon):
            ends.append(w)
        else:
            ends.append(len(points))
            points.append(worker.home)
    return Places(points, kitchens, ends)


Steps = Mapping[int, list[tuple[str, int]]]  # worker -> (VROOM step type, visit) in order


@dataclass(frozen=True, slots=True)
class Passes:
    """What a further pass over the same problem changes, visit by visit, without touching the problem itself
    (whose visits keep their own windows and kitchens, as they are stored): the window to plan a visit in, and
    the worker a visit placed by an earlier pass stays with."""

    windows: Mapping[int, tuple[datetime, datetime]] = field(default_factory=dict)
    keep: Mapping[int, int] = field(default_factory=dict)
    initial: Steps = field(default_factory=dict)  # routes to start from (an earlier pass's)
    # the workers a visit may go to instead of those the problem allows (a visit its caregiver has no room for)
    open_to: Mapping[int, list[int]] = field(default_factory=dict)
    caps: Mapping[int, int] = field(default_factory=dict)  # worker -> tasks at most, instead of the balance cap

    def window(self, problem: Problem, index: int) -> tuple[datetime, datetime]:
        visit = problem.visits[index]
        return self.windows.get(index, (visit.window_start, visit.window_end))

    def allowed(self, problem: Problem, index: int) -> list[int]:
        # a visit kept where an earlier pass placed it may go there even if the problem does not allow it (a pass
        # that handed it over to someone open to it did)
        return [self.keep[index]] if index in self.keep else list(self.open_to.get(index, problem.allowed[index]))


def _vehicle_steps(steps: list[tuple[str, int]]) -> list[vroom.VehicleStep]:
    kinds = {"job": vroom.VehicleStepSingle, "pickup": vroom.VehicleStepPickup, "delivery": vroom.VehicleStepDelivery}
    return [vroom.VehicleStepStart(), *(kinds[kind](v) for kind, v in steps), vroom.VehicleStepEnd()]


def _input(
    problem: Problem,
    places: Places,
    paths: Matrices,
    settings: SolverSettings,
    regular_pins: Mapping[int, frozenset[int]],
    initial: Steps,
    passes: Passes,
) -> vroom.Input:
    n_workers = len(problem.workers)
    problem_input = vroom.Input()
    for mode, seconds in paths.seconds.items():
        problem_input.set_durations_matrix(profile=mode, matrix_input=seconds)
    skills: dict[object, int] = {}

    def skill(name: object) -> int:
        return skills.setdefault(name, len(skills) + 1)

    needs: list[set[int]] = []
    for index in range(len(problem.visits)):
        asks = {skill(("serves", index))}
        if index in regular_pins:
            asks.add(skill(("regular", index)))
        needs.append(asks)
    has: list[set[int]] = [set() for _ in problem.workers]
    allowed = [passes.allowed(problem, index) for index in range(len(problem.visits))]
    for index, may in enumerate(allowed):
        for w in may:
            has[w].add(skill(("serves", index)))
            if problem.workers[w].caregiver_id in regular_pins.get(index, frozenset()):
                has[w].add(skill(("regular", index)))
    caps = [passes.caps.get(w, cap) for w, cap in enumerate(_max_tasks(problem, settings.balance, allowed))]
    for w, worker in enumerate(problem.workers):
        steps = _vehicle_steps(initial[w]) if initial.get(w) else []
        problem_input.add_vehicle(
            vroom.Vehicle(
                id=w,
                start=vroom.Location(index=w),
                end=vroom.Location(index=places.ends[w]),
                profile=worker.travel_mode,
                skills=has[w],
                time_window=vroom.TimeWindow(
                    max(0, problem.seconds(worker.starts)), max(0, problem.seconds(worker.ends))
                ),
                max_tasks=caps[w],
                capacity=[settings.meal_capacity],
                steps=steps,
            )
        )
    margin = settings.margin_minutes * 60
    for index, visit in enumerate(problem.visits):
        if not allowed[index]:
            continue
        opens, closes = passes.window(problem, index)
        start = max(0, problem.seconds(opens))
        end = max(start, problem.seconds(closes) - margin)
        priority = priority_of(visit, index in passes.open_to)
        if visit.kitchen is None:
            problem_input.add_job(
                vroom.Job(
                    id=index,
                    location=vroom.Location(index=n_workers + index),
                    default_service=on_site(visit, settings) * 60,
                    delivery=vroom.Amount([0]),
                    skills=needs[index],
                    priority=priority,
                    time_windows=[vroom.TimeWindow(start, end)],
                )
            )
            continue
        problem_input.add_shipment(
            # setup is spent only when arriving from elsewhere: meals collected together cost it once
            vroom.ShipmentStep(
                index,
                vroom.Location(index=places.kitchens[visit.kitchen.provider_id]),
                default_setup=settings.kitchen_minutes * 60,
                time_windows=[vroom.TimeWindow(max(0, _collectable_from(problem, visit, settings)), end)],
            ),
            vroom.ShipmentStep(
                index,
                vroom.Location(index=n_workers + index),
                default_service=on_site(visit, settings) * 60,
                time_windows=[vroom.TimeWindow(start, end)],
            ),
            amount=vroom.Amount([1]),
            skills=needs[index],
            priority=priority,
        )
    return problem_input


def _run_from(
    problem: Problem,
    places: Places,
    paths: Matrices,
    settings: SolverSettings,
    regular_pins: Mapping[int, frozenset[int]],
    initial: Steps,
    passes: Passes,
) -> tuple[object, float, bool]:
    """Solve, starting from the ``initial`` routes when there are any. They are a head start, not a promise: VROOM
    refuses routes it finds out of reach (a step that cannot be reached in its window any more), and the pass then
    starts afresh."""
    if initial:
        try:
            return _run(_input(problem, places, paths, settings, regular_pins, initial, passes), settings)
        except VroomInputException as error:
            log.info("planning %s: starting afresh, the routes found before are refused (%s)", problem.day, error)
    return _run(_input(problem, places, paths, settings, regular_pins, {}, passes), settings)


def _run(problem_input: vroom.Input, settings: SolverSettings) -> tuple[object, float, bool]:
    limit = timedelta(seconds=settings.seconds)
    started = time.perf_counter()
    answer = problem_input.solve(exploration_level=settings.exploration, nb_threads=settings.threads, timeout=limit)
    elapsed = time.perf_counter() - started
    # VROOM stops at the limit with the best solution it has; it does not say so, the clock does
    return answer, elapsed, elapsed >= settings.seconds * 0.98


def _read(
    problem: Problem, paths: Matrices, answer: object, passes: Passes, settings: SolverSettings
) -> tuple[dict[int, Stop], dict[int, Stop], dict[int, tuple[float, int]]]:
    """Stops per visit, pickups per meal collected at a kitchen, and per worker the km and seconds of the way
    home."""
    routes = answer.routes  # type: ignore[attr-defined]
    stops: dict[int, Stop] = {}
    pickups: dict[int, Stop] = {}
    home: dict[int, tuple[float, int]] = {}
    if len(routes) == 0:  # no route at all: pyvroom's frame then has no columns either
        return stops, pickups, home
    sequence: dict[int, int] = {}
    here: dict[int, tuple[int, int]] = {}  # worker -> (location, cumulative travel seconds)
    free: dict[int, int] = {}  # worker -> when they are free to move on
    batch: dict[int, Stop] = {}  # worker -> the pickup that opened the batch they are collecting now
    columns = zip(
        routes["vehicle_id"],
        routes["type"],
        routes["id"],
        routes["location_index"],
        routes["arrival"],
        routes["waiting_time"],
        routes["duration"],
        routes["setup"],
        routes["service"],
        strict=True,
    )
    for vehicle, kind, job, place, arrival, waiting, travelled, setup, service in columns:
        w = int(vehicle)
        if kind == "start":
            here[w] = (w, 0)
            free[w] = max(0, problem.seconds(problem.workers[w].starts))
        elif kind == "end":
            home[w] = (float(paths.km[here[w][0], int(place)]), int(travelled) - here[w][1])
        elif kind in ("job", "pickup", "delivery"):
            v, place = int(job), int(place)
            sequence[w] = sequence.get(w, 0) + 1
            km = float(paths.km[here[w][0], place])
            travel = int(travelled) - here[w][1]
            opened = batch.get(w) if kind == "pickup" and here[w][0] == place else None
            if opened is not None:
                start = opened.start_s  # collected with the meals before it
            else:
                # VROOM may start a route late to wait less; the plan starts each step as early as it can
                if kind == "pickup":
                    opens = _collectable_from(problem, problem.visits[v], settings)
                else:
                    opens = problem.seconds(passes.window(problem, v)[0])
                start = min(max(free[w] + travel, opens), int(arrival) + int(waiting))
            stop = Stop(w, sequence[w], start, km, travel, int(setup) + int(service))
            if kind == "pickup":
                pickups[v] = stop
                batch[w] = opened or stop
            else:
                stops[v] = stop
                batch.pop(w, None)
            free[w] = max(free[w], start + int(setup) + int(service))
            here[w] = (place, int(travelled))
    return stops, pickups, home


def solve(problem: Problem, settings: SolverSettings, passes: Passes | None = None) -> Solution:
    """Plan the problem; every visit ends up with a stop or a reason. ``passes``: the windows and workers a
    further pass over the problem plans some visits with instead of their own (meals moved to another kitchen are
    recorded on the problem either way)."""
    passes = passes or Passes()
    places = _places(problem)
    paths = matrices(places.points, settings.travel)
    if not any(problem.allowed) or not problem.workers:
        return Solution({}, dict(problem.unservable), "vroom", 0.0, False, {})
    # a visit the routes to start from give to someone who is not a regular of the elder stays free of the pin
    started = {v: w for w, steps in passes.initial.items() for _, v in steps}
    regulars = {
        index: frozenset(problem.workers[w].caregiver_id for w in passes.allowed(problem, index)) & visit.regulars
        for index, visit in enumerate(problem.visits)
        if visit.pinned_to is None
        and (index not in started or problem.workers[started[index]].caregiver_id in visit.regulars)
    }
    regular_pins = {index: who for index, who in regulars.items() if who}
    answer, seconds, timed_out = _run_from(problem, places, paths, settings, regular_pins, passes.initial, passes)
    stops, pickups, home = _read(problem, paths, answer, passes, settings)
    missed_regular = [index for index in regular_pins if index not in stops]
    if missed_regular and not timed_out:
        # the elder's regulars had no room: plan those visits again with anyone, from the routes found
        kept = _with_regular(problem, stops, regular_pins)
        initial = steps_of(stops, pickups, problem)
        answer, more, timed_out = _run_from(problem, places, paths, settings, kept, initial, passes)
        seconds += more
        stops, pickups, home = _read(problem, paths, answer, passes, settings)
    tried = dict.fromkeys(problem.kitchen_choices, 0)
    while not timed_out:
        # meals with no room at their kitchen: from the next-nearest kitchen that may cook them, if any
        moved = [i for i, n in tried.items() if i not in stops and n + 1 < len(problem.kitchen_choices[i])]
        if not moved:
            break
        for index in moved:
            tried[index] += 1
            problem.move_to_kitchen(index, tried[index])
        kept = _with_regular(problem, stops, regular_pins)
        initial = steps_of(stops, pickups, problem)
        answer, more, timed_out = _run_from(problem, places, paths, settings, kept, initial, passes)
        seconds += more
        stops, pickups, home = _read(problem, paths, answer, passes, settings)
    unassigned = dict(problem.unservable)
    overbooked: dict[int, Reason] | None = None  # reckoned once, for the first visit left with no room
    for index, visit in enumerate(problem.visits):
        if index in stops or index in unassigned:
            continue
        if visit.held_by is not None and index not in problem.given_up:
            past_shift = not _reachable_alone(problem, places, paths, settings, passes, index) and _reachable_alone(
                problem, places, paths, settings, passes, index, within_shift=False
            )
            unassigned[index] = (held_past_shift if past_shift else held_late)(visit.held_by)
        else:
            reachable = _reachable_from_a_kitchen_tried(problem, places, paths, settings, passes, index, tried)
            if not reachable:
                unassigned[index] = OUT_OF_REACH
            else:
                overbooked = overbooked if overbooked is not None else overbooked_visits(problem, settings)
                fallback = meal_no_room(problem, index, tried[index], stops) if index in tried else NO_ROOM
                unassigned[index] = overbooked.get(index, fallback)
    return Solution(stops, unassigned, f"vroom (exploration {settings.exploration})", seconds, timed_out, home, pickups)


# The spreading pass gives visits to caregivers busy less than this share of the average: those hardly used, rather
# than the nearest of those just below the average (on the evening plans of seeds 1 / 2 / 3, with 60 passes, 10 / 5
# / 6 of those who may take some visit get none at half the average, 15 / 17 / 12 at the average).
LIGHT_SHARE = 0.5


def spread(
    problem: Problem,
    solution: Solution,
    settings: SolverSettings,
    windows: Mapping[int, tuple[datetime, datetime]] | None = None,
) -> Solution:
    """Balanced hours beyond the cap. VROOM minimises travel, so it chains a town's visits on a few caregivers while
    colleagues nearby who may take them stay idle. Each pass of this one takes a few visits off the busiest routes
    (of each, the last visit that someone busy less than half the average, ``LIGHT_SHARE``, may take; one served by
    a regular of the elder only if another regular may take it) and has VROOM place them again, from the routes
    found, every other visit staying with its caregiver and every caregiver at or above half the average capped at
    the tasks they are left with: the visits taken can go only to those below it. A pass is kept when it places
    every visit placed before and lowers the spread (the Gini of busy minutes among the caregivers who may take some
    visit); the next then takes twice as many visits, else half as many, and a single visit that could not move
    stays where it is. Promised visits (a confirmed route, a held order, an operator's pin) stay with their
    caregivers. At most ``settings.spread_passes`` passes, a count so that the same day gets the same plan on any
    machine that makes them within the solver's time limit (``settings.seconds``), where the pass stops in any case.
    ``windows``: those the solution was found in, where narrower than the visits' own (a re-plan keeping confirmed
    visits near their times), so that the passes keep them there too."""
    if settings.spread_passes <= 0 or solution.timed_out or not solution.stops:
        return solution
    started = time.perf_counter()
    deadline = started + settings.seconds
    places = _places(problem)
    paths = matrices(places.points, settings.travel)
    staff = sorted({w for may in problem.allowed for w in may})
    people = sorted({problem.workers[w].caregiver_id for w in staff})

    def spread_of(busy: Mapping[int, float]) -> tuple[dict[int, float], float]:
        """Busy minutes per caregiver (from those per worker) and their Gini among ``people``."""
        minutes: dict[int, float] = {}
        for w, worker_minutes in busy.items():
            caregiver = problem.workers[w].caregiver_id
            minutes[caregiver] = minutes.get(caregiver, 0.0) + worker_minutes
        return minutes, gini([minutes.get(c, 0.0) for c in people])

    best, busy = solution, solution.busy_minutes()
    minutes, best_gini = spread_of(busy)
    first_gini = best_gini
    stuck: set[int] = set()
    batch = 4
    passes_left = settings.spread_passes
    while passes_left > 0 and (left := deadline - time.perf_counter()) > 0:
        passes_left -= 1
        mean = sum(minutes.values()) / len(people)
        light = {w for w in staff if minutes.get(problem.workers[w].caregiver_id, 0.0) < LIGHT_SHARE * mean}
        regular = {
            i: frozenset(problem.workers[w].caregiver_id for w in problem.allowed[i]) & problem.visits[i].regulars
            for i, stop in best.stops.items()
            if problem.workers[stop.worker].caregiver_id in problem.visits[i].regulars
        }
        routes = steps_of(best.stops, best.pickups, problem)
        taken: list[int] = []
        for w in sorted(set(routes) - light, key=lambda w: -busy[w]):
            if len(taken) == batch:
                break
            for kind, v in reversed(routes[w]):
                if kind == "pickup" or v in stuck or problem.visits[v].promised:
                    continue
                takers = [o for o in problem.allowed[v] if o in light]
                if v in regular:
                    takers = [o for o in takers if problem.workers[o].caregiver_id in regular[v]]
                if takers:
                    routes[w] = [(k, x) for k, x in routes[w] if x != v]
                    taken.append(v)
                    break
        if not taken:
            break
        # only the visits taken move: re-solving every route would chain the light caregivers' visits again
        keep = {i: stop.worker for i, stop in best.stops.items() if i not in taken}
        caps = {w: len(routes.get(w, [])) for w in staff if w not in light}
        passes = Passes(windows=windows or {}, keep=keep, initial=routes, caps=caps)
        try:
            problem_input = _input(problem, places, paths, settings, regular, routes, passes)
            # from routes found, to move a few visits: VROOM's quickest search does as well as a wider one, 4x sooner
            answer, _, _ = _run(problem_input, replace(settings, seconds=left, exploration=1))
        except VroomInputException:  # routes refused (VROOM says so when solving): leave the visits where they were
            stuck.update(taken)
            continue
        stops, pickups, home = _read(problem, paths, answer, passes, settings)
        found = Solution(stops, {}, best.solver, best.seconds, False, home, pickups)
        found_busy = found.busy_minutes()
        found_minutes, found_gini = spread_of(found_busy)
        if best.stops.keys() <= stops.keys() and found_gini < best_gini:
            best, busy, minutes, best_gini = found, found_busy, found_minutes, found_gini
            batch = min(2 * batch, 8)
        else:
            if len(taken) == 1:
                stuck.update(taken)
            batch = max(1, batch // 2)
    unassigned = {i: why for i, why in solution.unassigned.items() if i not in best.stops}
    seconds = time.perf_counter() - started  # the passes' own work (building each input) as well as VROOM's
    log.info(
        "planning %s: spread %.3f -> %.3f in %d passes, %.1f s",
        problem.day,
        first_gini,
        best_gini,
        settings.spread_passes - passes_left,
        seconds,
    )
    return Solution(
        best.stops,
        unassigned,
        solution.solver,
        solution.seconds + seconds,
        solution.timed_out,
        best.home,
        best.pickups,
        spread_seconds=seconds,
    )


# The most visits of one caregiver weighed together for ``overbooked_visits`` (2**n subsets are tried).
OVERBOOKED_AT_MOST = 14


def overbooked_visits(problem: Problem, settings: SolverSettings) -> dict[int, Reason]:
    """Visits only one caregiver may take (from any kitchen, for a meal), not promised to anyone, that fall due
    together with more such visits than that caregiver's day can hold whatever the plan: even with no travel at
    all, in the visits' own windows and with their time on site, no order of them fits them all. Each such visit
    the plan leaves with no room gets this reason instead, naming the caregiver: the roster's doing, which no plan
    can put right (more staff allowed to serve those elders, or wider windows, can)."""
    sole: dict[int, list[int]] = {}
    for index, visit in enumerate(problem.visits):
        people = problem.caregivers_who_may(index)
        if len(people) == 1 and not visit.promised and index not in problem.others:
            sole.setdefault(people.pop(), []).append(index)
    codes = {worker.caregiver_id: worker.code for worker in problem.workers}
    margin = settings.margin_minutes * 60
    found: dict[int, Reason] = {}
    for caregiver, visits in sole.items():
        jobs = sorted(
            (
                problem.seconds(problem.visits[i].window_start),
                problem.seconds(problem.visits[i].window_end) - margin,
                on_site(problem.visits[i], settings) * 60,
                i,
            )
            for i in visits
        )
        for group in overlapping(jobs):
            if not 1 < len(group) <= OVERBOOKED_AT_MOST:
                continue
            most = most_in_turn([(opens, latest, takes) for opens, latest, takes, _ in group])
            if most < len(group):
                reason = Reason.of(
                    "overbooked",
                    N_(
                        "only caregiver %(caregiver)s may take it, and %(count)s visits only they may take are due "
                        "between %(opens)s and %(closes)s: at most %(most)s of them fit, whatever the plan"
                    ),
                    caregiver=codes[caregiver],
                    count=len(group),
                    opens=f"{problem.at(group[0][0]):%H:%M}",
                    closes=f"{problem.at(max(latest for _, latest, _, _ in group) + margin):%H:%M}",
                    most=most,
                )
                found.update((i, reason) for *_, i in group)
    return found


# The most caregivers a reason names; the count says how many there are (a kitchen may have 16 carriers).
NAMED_AT_MOST = 5


def named(codes: Sequence[str], at_most: int) -> str:
    """The first ``at_most`` of ``codes``, and an ellipsis for the rest: a reason the plan board can show whole."""
    return ", ".join(codes[:at_most]) + (", …" if len(codes) > at_most else "")


def meal_no_room(problem: Problem, index: int, tried: int, placed: Mapping[int, Any]) -> Reason:
    """Why a meal has no room, in the words an operator can act on: who may bring it from the kitchens it was tried
    at (its ``tried`` + 1 nearest), and how many of the meals due from those kitchens while its window is open the
    plan ``placed``: a kitchen whose carriers are too few or live too far for its meals shows as many meals left."""
    kitchens = problem.kitchen_choices[index][: tried + 1]
    cooks = {k.provider_id for k, _ in kitchens}
    carriers = sorted({problem.workers[w].code for _, staff in kitchens for w in staff})
    meal = problem.visits[index]
    due = [
        i
        for i, v in enumerate(problem.visits)
        if v.kitchen is not None
        and v.kitchen.provider_id in cooks
        and v.window_start < meal.window_end
        and v.window_end > meal.window_start
    ]
    tz = problem.midnight.tzinfo
    return Reason.of(
        NO_ROOM.code,
        N_(
            "no room in the days of the %(count)s caregivers who may bring it (%(caregivers)s): %(placed)s of the "
            "%(meals)s meals due from their kitchens between %(opens)s and %(closes)s are placed"
        ),
        count=len(carriers),
        caregivers=named(carriers, NAMED_AT_MOST),
        placed=sum(1 for i in due if i in placed),
        meals=len(due),
        opens=f"{min(problem.visits[i].window_start for i in due).astimezone(tz):%H:%M}",
        closes=f"{max(problem.visits[i].window_end for i in due).astimezone(tz):%H:%M}",
    )


Job = TypeVar("Job", bound=tuple[Any, ...])


def overlapping(jobs: Sequence[Job]) -> list[list[Job]]:
    """``jobs`` (opening, latest start, time taken, anything else; by opening) in groups whose spans, opening to
    latest end, overlap: a job of one group can never hold up one of the next, so each is weighed on its own."""
    groups: list[list[Job]] = []
    until = -math.inf
    for job in jobs:
        if job[0] >= until:
            groups.append([])
        groups[-1].append(job)
        until = max(until, job[1] + job[2])
    return groups


def most_in_turn(jobs: Sequence[tuple[float, float, float]], rides: Sequence[Sequence[float]] | None = None) -> int:
    """The most of ``jobs`` (opening, latest start, time taken, in seconds) one person can do one after another,
    ``rides[a][b]`` seconds from job a to job b, or no time between them when ``rides`` is None: the earliest each
    set of them can be done by, ending with each of them, over every set (exact; 2**n sets, each with n ends when
    the rides count)."""
    ends: Sequence[int] = range(-1, len(jobs)) if rides is not None else (-1,)
    done = {(0, -1): -math.inf}  # (set done, the last of it; -1: none or it does not matter) -> done by
    most = 0
    for chosen in range(1 << len(jobs)):  # a set is reached only from smaller ones, in increasing order
        for last in ends:
            t = done.get((chosen, last))
            if t is None:
                continue
            most = max(most, chosen.bit_count())
            for j, (opens, latest, takes) in enumerate(jobs):
                if chosen >> j & 1:
                    continue
                ride = rides[last][j] if rides is not None and last >= 0 else 0.0
                start = max(t + ride, opens)
                if start <= latest:
                    more = (chosen | 1 << j, j if rides is not None else -1)
                    done[more] = min(done.get(more, math.inf), start + takes)
    return most


def _reachable_from_a_kitchen_tried(
    problem: Problem,
    places: Places,
    paths: Matrices,
    settings: SolverSettings,
    passes: Passes,
    index: int,
    tried: Mapping[int, int],
) -> bool:
    """Whether someone who may take the visit reaches it alone (``_reachable_alone``); for a meal tried at several
    kitchens, the staff of any of them: a meal the nearest kitchen's staff could reach but had no room for has no
    room, whichever kitchen was tried last (where the meal stays, as further passes expect)."""
    if index not in tried:
        return _reachable_alone(problem, places, paths, settings, passes, index)
    reachable = False
    for choice in range(tried[index] + 1):
        problem.move_to_kitchen(index, choice)
        reachable = _reachable_alone(problem, places, paths, settings, passes, index)
        if reachable:
            break
    problem.move_to_kitchen(index, tried[index])
    return reachable


def _reachable_alone(
    problem: Problem,
    places: Places,
    paths: Matrices,
    settings: SolverSettings,
    passes: Passes,
    index: int,
    *,
    within_shift: bool = True,
) -> bool:
    """Whether someone who may take the visit reaches it inside its window with nothing else to do that day, by the
    solver's own rules: from where their day starts, by the kitchen for a meal (collected at most the hold before
    its window), and back home by the end of their shift (``within_shift``; else whenever). When nobody does, no
    plan can serve it: it is out of the roster's reach (too far, or a shift too short), not a matter of full
    routes."""
    visit = problem.visits[index]
    opens, closes = passes.window(problem, index)
    earliest = problem.seconds(opens)
    latest = problem.seconds(closes) - settings.margin_minutes * 60
    there = len(problem.workers) + index
    for w in passes.allowed(problem, index):
        worker = problem.workers[w]
        seconds = paths.seconds[worker.travel_mode]
        t = max(0, problem.seconds(worker.starts))
        if visit.kitchen is not None:
            kitchen = places.kitchens[visit.kitchen.provider_id]
            collected = max(t + int(seconds[w, kitchen]), _collectable_from(problem, visit, settings))
            t = collected + settings.kitchen_minutes * 60 + int(seconds[kitchen, there])
        else:
            t += int(seconds[w, there])
        start = max(t, earliest)
        home = start + on_site(visit, settings) * 60 + int(seconds[there, places.ends[w]])
        if start <= latest and (home <= problem.seconds(worker.ends) or not within_shift):
            return True
    return False


def _with_regular(
    problem: Problem, stops: Mapping[int, Stop], regular_pins: Mapping[int, frozenset[int]]
) -> dict[int, frozenset[int]]:
    """The regular pins of the visits planned with one of their regulars: a further pass keeps them there."""
    return {
        index: who
        for index, who in regular_pins.items()
        if index in stops and problem.workers[stops[index].worker].caregiver_id in who
    }


def _routes_of(stops: Mapping[int, Stop]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for visit, stop in sorted(stops.items(), key=lambda item: (item[1].worker, item[1].sequence)):
        found.setdefault(stop.worker, []).append(visit)
    return found


def steps_of(
    stops: Mapping[int, Stop], pickups: Mapping[int, Stop], problem: Problem
) -> dict[int, list[tuple[str, int]]]:
    """Worker -> the VROOM steps of their route, in order: to start a second pass from."""
    steps = [(stop, "pickup", v) for v, stop in pickups.items()]
    steps += [(stop, "job" if problem.visits[v].kitchen is None else "delivery", v) for v, stop in stops.items()]
    found: dict[int, list[tuple[str, int]]] = {}
    for stop, kind, v in sorted(steps, key=lambda step: (step[0].worker, step[0].sequence)):
        found.setdefault(stop.worker, []).append((kind, v))
    return found
