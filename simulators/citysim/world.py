"""Simulated caregivers: what they do with an offer, how they travel and how long they stay.

Each caregiver is a small state machine: ``idle`` (at rest), ``home`` (going back to base), ``planned``
(waiting to leave for an accepted visit), ``travel`` and ``serve``. Every phase ends with one scheduled
event; a change of plan (an emergency accepted on the way to a booked visit) bumps the caregiver's
``token`` so that the stale event is ignored. The platform's side of each step (set off, arrive, finish) is
the ``Platform`` the engine hands in, which calls the dispatcher's own functions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Protocol

from eldercare.vocabulary import ServiceType
from simulators.citysim.draws import Draws, lognormal
from simulators.citysim.params import Params

EARTH_KM = 6371.0088
BUSY = ("travel", "serve")
HOUR = 3600.0


def km_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine); the simulated world's own ruler, not the dispatcher's."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass(slots=True)
class Job:
    """An order a caregiver accepted, as they see it; times in seconds after local midnight."""

    order_id: int
    key: str  # the demand's key: the same order under every dispatcher
    service_type: str
    lat: float
    lon: float
    window_start: float
    window_end: float
    planned: float | None = None  # when the day's plan starts it, for a visit of the caregiver's confirmed day
    kitchen: tuple[float, float] | None = None  # a meal collected there first, at ``pickup``
    pickup: float | None = None
    collected: bool = False
    batched: bool = False  # the platform has it collected with the meal the caregiver set off for
    set_off: bool = False
    departures: int = 0

    @property
    def due(self) -> float:
        """When the caregiver means to start it: a caregiver keeps to the order of their confirmed day, and does
        other visits as they fall due."""
        return self.window_start if self.planned is None else self.planned

    @property
    def emergency(self) -> bool:
        return self.service_type == ServiceType.EMERGENCY


@dataclass(slots=True)
class Leg:
    lat0: float
    lon0: float
    lat1: float
    lon1: float
    t0: float
    t1: float
    km: float
    to_order: bool

    def where(self, now: float) -> tuple[float, float]:
        share = 1.0 if self.t1 <= self.t0 else min(1.0, max(0.0, (now - self.t0) / (self.t1 - self.t0)))
        return self.lat0 + (self.lat1 - self.lat0) * share, self.lon0 + (self.lon1 - self.lon0) * share


@dataclass(slots=True)
class Worker:
    """One caregiver in the simulated city."""

    id: int
    mode: str
    home: tuple[float, float]
    lat: float
    lon: float
    phase: str = "idle"
    until: float = 0.0
    job: Job | None = None
    leg: Leg | None = None
    queue: list[Job] = field(default_factory=list)
    token: int = 0
    busy_since: float | None = None
    busy: list[tuple[float, float]] = field(default_factory=list)
    km: float = 0.0
    km_to_orders: float = 0.0
    done: int = 0

    def where(self, now: float) -> tuple[float, float]:
        return self.leg.where(now) if self.leg is not None else (self.lat, self.lon)

    @property
    def is_busy(self) -> bool:
        return self.phase in BUSY


class Platform(Protocol):
    """What the world needs from the engine: a diary, and the dispatcher's side of each step."""

    def at(self, when: float, action: Callable[[Worker, int], None], worker: Worker) -> None: ...
    def set_off(self, worker: Worker, job: Job) -> Collection[int]:
        """Record that ``worker`` set off for ``job``; returns the orders the platform has them collect with it at
        its kitchen (a batch of the day's plan), if any."""
        ...

    def arrive(self, worker: Worker, job: Job) -> None: ...
    def finish(self, worker: Worker, job: Job) -> None: ...


@dataclass(frozen=True, slots=True)
class Reply:
    """A caregiver's answer to come: when, and the number their decision will be taken with."""

    at: float
    chance: float


class World:
    """Every caregiver of the city, acting on the platform through ``platform``."""

    def __init__(self, workers: dict[int, Worker], params: Params, seed: int, platform: Platform) -> None:
        self.workers = workers
        self.p = params
        self.platform = platform
        self.replies = Draws(seed, "replies")
        self.trips = Draws(seed, "travel")
        self.visits = Draws(seed, "service")

    # -- offers --------------------------------------------------------------------------------------------
    def offered(self, now: float, worker: Worker, key: str, emergency: bool) -> Reply | None:
        """Whether and when ``worker`` answers the offer of order ``key``; None: never."""
        c = self.p.caregivers
        rng = self.replies.keyed(key, worker.id)
        unanswered, sms, z, chance = rng.random(), rng.random(), rng.gauss(0.0, 1.0), rng.random()
        busy = worker.is_busy
        if unanswered < c.no_answer.of(emergency, busy):
            return None
        delay = c.sms_delay_seconds[0] + sms * (c.sms_delay_seconds[1] - c.sms_delay_seconds[0])
        delay += c.reply_median_seconds.of(emergency, busy) * math.exp(c.reply_sigma * z)
        return Reply(now + delay, chance)

    def accepts(self, now: float, worker: Worker, job: Job, chance: float) -> bool:
        """The caregiver's decision when they reply, by what they are doing then."""
        c = self.p.caregivers
        if job.emergency and self.on_emergency(worker):
            return chance >= c.decline_on_emergency
        if not job.emergency and self.free_at(now, worker, job) > job.window_end:
            return chance >= c.decline_unreachable
        return chance >= c.decline.of(job.emergency, worker.is_busy)

    @staticmethod
    def on_emergency(worker: Worker) -> bool:
        """Whether the caregiver holds an emergency already (on the way, or with the elder)."""
        return (worker.job is not None and worker.job.emergency) or any(j.emergency for j in worker.queue)

    def free_at(self, now: float, worker: Worker, job: Job) -> float:
        """When ``worker`` would reach ``job`` after everything they already hold, by their own reckoning."""
        t, (lat, lon) = now, worker.where(now)
        held = list(worker.queue)
        if worker.job is not None:
            if worker.phase in BUSY:
                t, lat, lon = worker.until, worker.job.lat, worker.job.lon
                if worker.phase == "travel":
                    t += self.p.service_minutes.median(worker.job.service_type) * 60
            else:
                held.append(worker.job)
        for other in sorted(held, key=_priority):
            t = max(t + self.expected_trip(worker, lat, lon, other), other.due)
            t += self.p.service_minutes.median(other.service_type) * 60
            lat, lon = other.lat, other.lon
        return t + self.expected_trip(worker, lat, lon, job)

    # -- travel --------------------------------------------------------------------------------------------
    def expected_trip(self, worker: Worker, lat: float, lon: float, job: Job) -> float:
        return self._expected(worker, lat, lon, job.lat, job.lon, job.emergency)

    def _expected(self, worker: Worker, lat: float, lon: float, lat1: float, lon1: float, hurry: bool) -> float:
        t = self.p.travel
        return t.minutes(worker.mode, km_between(lat, lon, lat1, lon1) * t.detour, hurry) * 60.0

    def _leg(self, now: float, worker: Worker, lat: float, lon: float, key: str, n: int, hurry: bool) -> Leg:
        t = self.p.travel
        here = worker.where(now)
        km = km_between(*here, lat, lon) * t.detour
        speed = t.speed_kmh[worker.mode] * (t.emergency_factor if hurry else 1.0)
        median = t.setup_minutes[worker.mode] * 60.0 + km / speed * 3600.0
        seconds = lognormal(self.trips.keyed(key, worker.id, n), median, t.sigma)
        return Leg(here[0], here[1], lat, lon, now, now + seconds, km, key != "home")

    def _stop_moving(self, now: float, worker: Worker) -> None:
        """Count the part of the current trip travelled so far, and stand where the caregiver is."""
        leg = worker.leg
        if leg is None:
            return
        share = 1.0 if leg.t1 <= leg.t0 else min(1.0, max(0.0, (now - leg.t0) / (leg.t1 - leg.t0)))
        worker.km += leg.km * share
        if leg.to_order:
            worker.km_to_orders += leg.km * share
        worker.lat, worker.lon = leg.where(now)
        worker.leg = None

    # -- phases --------------------------------------------------------------------------------------------
    def _enter(self, now: float, worker: Worker, phase: str, until: float, then: Callable[[Worker, int], None]) -> None:
        if phase in BUSY and worker.busy_since is None:
            worker.busy_since = now
        elif phase not in BUSY and worker.busy_since is not None:
            worker.busy.append((worker.busy_since, now))
            worker.busy_since = None
        worker.phase, worker.until = phase, until
        worker.token += 1
        self.platform.at(until, then, worker)

    def take(self, now: float, worker: Worker, job: Job) -> None:
        """``worker`` accepted ``job``: fit it into what they are doing."""
        current = worker.job
        if current is None or (worker.phase == "planned" and not current.emergency):
            if current is not None:
                worker.queue.append(current)
                worker.job = None
            worker.queue.append(job)
            self._next(now, worker)
        elif job.emergency and not current.emergency and worker.phase == "travel":
            # an emergency goes first: turn round on the way to a booked visit
            self._stop_moving(now, worker)
            worker.queue.append(current)
            worker.job = None
            self._depart(now, worker, job)
        elif job.emergency and not current.emergency and worker.phase == "serve":
            worker.queue.append(job)
            wrap_up = now + self.p.caregivers.wrap_up_minutes * 60.0
            if wrap_up < worker.until:
                self._enter(now, worker, "serve", wrap_up, self._finished)
        else:
            worker.queue.append(job)

    def reschedule(self, now: float, worker: Worker, planned: Callable[[Job, int], None]) -> None:
        """The caregiver's day was planned again: visits they hold not yet set off for take their new times
        (``planned`` sets them from the plan now in force), and one they were waiting to leave for may give way
        to another."""
        waiting = worker.phase == "planned" and worker.job is not None and not worker.job.emergency
        jobs = worker.queue + ([worker.job] if waiting and worker.job is not None else [])
        for job in jobs:
            if not job.emergency and not job.set_off:
                collected = job.collected
                planned(job, worker.id)
                job.collected = collected
        if waiting and worker.job is not None:
            worker.queue.append(worker.job)
            worker.job = None
            self._next(now, worker)

    def _next(self, now: float, worker: Worker) -> None:
        if not worker.queue:
            worker.job = None
            at_home = (worker.lat, worker.lon) == worker.home and worker.leg is None
            if self.p.caregivers.return_home and not at_home:
                self._stop_moving(now, worker)
                worker.leg = self._leg(now, worker, *worker.home, "home", worker.done, False)
                self._enter(now, worker, "home", worker.leg.t1, self._home)
            else:
                self._enter(now, worker, "idle", math.inf, _nothing)
            return
        job = min(worker.queue, key=_priority)
        worker.queue.remove(job)
        worker.job = job
        if job.emergency:
            lo, hi = self.p.caregivers.set_off_seconds
            rng = self.replies.keyed(job.key, worker.id, "set off")
            leave = now + lo + rng.random() * (hi - lo)
        elif job.kitchen is not None and not job.collected:
            # a meal: first to its kitchen, to collect it there with the others of the batch, at the time the
            # day's plan says, or (a meal offered on its own) in time to bring it from there by its start
            lat, lon = worker.where(now)
            early = self.p.caregivers.early_minutes * 60.0
            to_kitchen = self._expected(worker, lat, lon, *job.kitchen, False)
            if job.pickup is not None:
                leave = job.pickup - early - to_kitchen
            else:
                from_kitchen = self._expected(worker, *job.kitchen, job.lat, job.lon, False)
                collect = self.p.caregivers.kitchen_minutes * 60.0
                leave = job.due - early - from_kitchen - collect - to_kitchen
        else:
            lat, lon = worker.where(now)
            early = self.p.caregivers.early_minutes * 60.0
            leave = job.due - early - self.expected_trip(worker, lat, lon, job)
        if leave <= now:
            self._go(now, worker, job)
        else:
            self._enter(now, worker, "planned", leave, self._leave)

    def _leave(self, worker: Worker, token: int) -> None:
        if token == worker.token and worker.job is not None:
            self._go(worker.until, worker, worker.job)

    def _go(self, now: float, worker: Worker, job: Job) -> None:
        """Set out for ``job``: by its kitchen first for a meal still to collect, else straight there."""
        if job.kitchen is not None and not job.collected and not job.emergency:
            self._to_kitchen(now, worker, job)
        else:
            self._depart(now, worker, job)

    def _to_kitchen(self, now: float, worker: Worker, job: Job) -> None:
        assert job.kitchen is not None
        if not job.set_off:  # leaving for the meal, by its kitchen: the platform knows they are out
            job.set_off = True
            batch = self.platform.set_off(worker, job)
            for held in worker.queue:
                held.batched = held.batched or held.order_id in batch
        self._stop_moving(now, worker)
        job.departures += 1
        worker.leg = self._leg(now, worker, *job.kitchen, f"{job.key} kitchen", job.departures, False)
        self._enter(now, worker, "travel", worker.leg.t1, self._at_kitchen)

    def _at_kitchen(self, worker: Worker, token: int) -> None:
        """At the kitchen: the meals of the batch (those of the caregiver's day collected here now, or held meals
        from here wanted within the hour) are taken."""
        if token != worker.token or worker.job is None or worker.job.kitchen is None:
            return
        now, job = worker.until, worker.job
        self._stop_moving(now, worker)
        batch = self.p.caregivers.kitchen_minutes * 60.0
        job.collected = True
        for held in worker.queue:
            if held.batched or (held.kitchen == job.kitchen and (held.pickup or held.due - HOUR) <= now + batch):
                held.collected = True
        self._enter(now, worker, "serve", now + batch, self._collected)

    def _collected(self, worker: Worker, token: int) -> None:
        if token != worker.token or worker.job is None:
            return
        worker.queue.append(worker.job)
        worker.job = None
        self._next(worker.until, worker)

    def _depart(self, now: float, worker: Worker, job: Job) -> None:
        worker.job = job
        if not job.set_off:
            job.set_off = True
            self.platform.set_off(worker, job)
        self._stop_moving(now, worker)
        job.departures += 1
        worker.leg = self._leg(now, worker, job.lat, job.lon, job.key, job.departures, job.emergency)
        self._enter(now, worker, "travel", worker.leg.t1, self._arrived)

    def _arrived(self, worker: Worker, token: int) -> None:
        if token != worker.token or worker.job is None:
            return
        now, job = worker.until, worker.job
        self._stop_moving(now, worker)
        self.platform.arrive(worker, job)
        visits = self.p.service_minutes
        minutes = lognormal(self.visits.keyed(job.key), visits.median(job.service_type), visits.sigma)
        if any(q.emergency for q in worker.queue) and not job.emergency:
            minutes = min(minutes, self.p.caregivers.wrap_up_minutes)
        self._enter(now, worker, "serve", now + minutes * 60.0, self._finished)

    def _finished(self, worker: Worker, token: int) -> None:
        if token != worker.token or worker.job is None:
            return
        now, job = worker.until, worker.job
        self.platform.finish(worker, job)
        worker.done += 1
        worker.job = None
        self._next(now, worker)

    def _home(self, worker: Worker, token: int) -> None:
        if token != worker.token:
            return
        self._stop_moving(worker.until, worker)
        worker.lat, worker.lon = worker.home
        self._enter(worker.until, worker, "idle", math.inf, _nothing)

    def withdraw(self, now: float, worker: Worker, order_id: int) -> None:
        """The order was cancelled before the caregiver reached it: drop it from their plans."""
        if worker.job is not None and worker.job.order_id == order_id:
            worker.job = None
            self._stop_moving(now, worker)
            self._next(now, worker)
        else:
            worker.queue = [job for job in worker.queue if job.order_id != order_id]

    def close(self, now: float) -> None:
        """End the day: close busy spells still open and count trips under way."""
        for worker in self.workers.values():
            self._stop_moving(now, worker)
            if worker.busy_since is not None:
                worker.busy.append((worker.busy_since, now))
                worker.busy_since = None


def _priority(job: Job) -> tuple[bool, float, int]:
    """Emergencies first, then booked visits by the time the caregiver means to start them."""
    return (not job.emergency, job.due, job.order_id)


def _nothing(worker: Worker, token: int) -> None:
    """The end of an open-ended phase (idle), never scheduled for a finite time."""
