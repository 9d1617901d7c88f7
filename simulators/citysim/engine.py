"""The simulated day: an event queue under a manual clock, driving the dispatcher's own functions.

Events (alarms, phoned-in orders, the recurring scheduler's ticks, caregivers' replies and movements, the
operators' desk) sit in a heap of ``(time, seq, action, args)``; each runs with the clock set to its time and
commits its transaction, as the real component does. The sweep runs on the dispatcher's own cadence
(``sweep_seconds``) and is woken at once by what would NOTIFY the real one (a new alarm, a new order); SMS go
out right after each step, as the sender thread would send them.

Two shortcuts keep a day within minutes, and neither changes a decision. A cadence tick at which nothing is
due is skipped: that sweep would find nothing. And a retry of an escalated order whose last search found no
caregiver is skipped while nothing that could add a candidate has happened (no order left a caregiver's
hands, no shift started): it would find no one again and only move its own retry time on, which the engine
writes instead (see ``retries``). Everything else is the dispatcher's code at work.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import astuple, dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from typing import Any

import psycopg
from psycopg import sql

import dispatcher
from dispatcher import planning
from eldercare.clock import ManualClock
from eldercare.vocabulary import AlarmType
from simulators.citysim import alarms, dispatch_state
from simulators.citysim.actors import People
from simulators.citysim.demand import DAY_SECONDS, AdHocOrder, Demand, Elder, Emergency
from simulators.citysim.params import Params
from simulators.citysim.retries import Retries
from simulators.citysim.world import Worker

log = logging.getLogger(__name__)

SCHEDULER_SECONDS = 30.0  # the elected scheduler's interval for recurring services
SWEEP_LIMIT = 20
MAX_SWEEPS_AT_ONCE = 200


@dataclass(frozen=True, slots=True)
class DayRun:
    """What the engine knows after the day that the database does not: the world's side of it."""

    name: str
    start: datetime
    workers: dict[int, Worker]
    answered: dict[str, float]  # elders' alarms: seconds to answer
    alarm_keys: dict[int, str]
    repeats: int
    escalation_calls: int
    given_up: int
    sms: dict[str, int]
    events: int
    sweeps: int
    plan: dict[str, object]


class Engine:
    """One simulated day of one dispatcher configuration, on one connection."""

    def __init__(
        self,
        conn: psycopg.Connection,
        config: dispatcher.Config,
        params: Params,
        seed: int,
        demand: Demand,
        elders: dict[int, Elder],
        name: str,
        progress: Callable[[str], None] | None = None,
        *,
        skip_futile_retries: bool = True,
        skip_idle_ticks: bool = True,
        hours: float | None = None,
        plan_ahead: bool = False,
    ) -> None:
        self.conn, self.config, self.params, self.seed = conn, config, params, seed
        self.name, self.elders, self.demand, self.progress = name, elders, demand, progress
        local_midnight = datetime.combine(params.day.date, clock_time(0), tzinfo=config.timezone)
        self.start = local_midnight.astimezone(UTC)
        # the day and its drain, or only its first `hours` (benchmarks)
        self.stop = DAY_SECONDS + params.day.drain_hours * 3600.0 if hours is None else hours * 3600.0
        self.clock = ManualClock(self.start)
        self.cadence = config.dispatch.sweep_seconds
        self.retry = timedelta(minutes=config.dispatch.retry_offer_minutes)
        self.heap: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self.seq = itertools.count()
        self.now = 0.0
        self.sweep_at: float | None = 0.0
        self.sender = dispatcher.NullSender()
        self.sms: Counter[str] = Counter()
        self.escalations_seen: dict[int, int] = {}
        self.checked = self.start - timedelta(days=1)
        self.repeats = self.events = self.sweeps = 0
        self.people = People(self, self._workers())
        self.retries = Retries(conn, self.start, self.cadence, self.retry, skip_futile_retries)
        self.skip_idle = skip_idle_ticks
        self.plan_ahead = plan_ahead
        self.plan: dict[str, object] = {}
        self.replans = 0
        # the real dispatcher's sender and desk learn of new SMS and escalations by NOTIFY; so does the engine
        self.sms_waiting = self.escalation_waiting = False
        conn.add_notify_handler(self._notified)
        for channel in ("eldercare_sms", "eldercare_alarm"):
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
        conn.commit()

    def _workers(self) -> dict[int, Worker]:
        rows = self.conn.execute(
            "SELECT id, travel_mode, home_lat, home_lon FROM caregiver WHERE active ORDER BY id"
        ).fetchall()
        return {cid: Worker(cid, mode, (lat, lon), lat, lon) for cid, mode, lat, lon in rows}

    # -- time and the diary --------------------------------------------------------------------------------
    def when(self, seconds: float) -> datetime:
        return self.start + timedelta(seconds=seconds)

    def seconds(self, moment: datetime) -> float:
        return (moment - self.start).total_seconds()

    def later(self, when: float, action: Callable[..., None], *args: Any) -> None:
        """Have ``action(when, *args)`` run at ``when`` (seconds after local midnight)."""
        if when < math.inf:
            heapq.heappush(self.heap, (max(when, self.now), next(self.seq), action, args))

    def wake(self) -> None:
        """What NOTIFY does for the real dispatcher: sweep now."""
        self.sweep_at = self.now

    def freed(self, caregiver_id: int) -> None:
        """A caregiver holds one order fewer: orders they might take get their skipped retries back."""
        self.retries.freed(self.clock.now(), caregiver_id)
        self.conn.commit()

    def _notified(self, notify: psycopg.Notify) -> None:
        if notify.channel == "eldercare_sms":
            self.sms_waiting = True
        elif '"order_escalated"' in notify.payload:
            self.escalation_waiting = True

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection]:
        """``send_due``'s connection factory: the one connection, committed when the block ends."""
        try:
            yield self.conn
        except BaseException:
            self.conn.rollback()
            raise
        self.conn.commit()

    # -- the day -------------------------------------------------------------------------------------------
    def run(self) -> DayRun:
        self._schedule()
        started, same_instant, last_sweep = time.perf_counter(), 0, -math.inf
        while True:
            next_event = self.heap[0][0] if self.heap else math.inf
            next_sweep = self.sweep_at if self.sweep_at is not None else math.inf
            moment = min(next_event, next_sweep)
            if moment > self.stop:
                break
            self.now = moment
            self.clock.set(self.when(moment))
            idle = False
            if next_event <= next_sweep:
                _, _, action, args = heapq.heappop(self.heap)
                action(moment, *args)
                self.events += 1
                same_instant = 0
            else:
                self.sweep_at = None
                idle = not self._sweep()
                same_instant = same_instant + 1 if moment == last_sweep else 1
                last_sweep = moment
                if same_instant == MAX_SWEEPS_AT_ONCE:
                    log.warning(
                        "%s: %d sweeps at one instant still find work; moving on a tick", self.name, same_instant
                    )
            self._after(idle or same_instant >= MAX_SWEEPS_AT_ONCE)
        people = self.people
        people.world.close(self.now)
        seconds = time.perf_counter() - started
        log.info("%s: %d events, %d sweeps in %.1f s", self.name, self.events, self.sweeps, seconds)
        return DayRun(
            self.name,
            self.start,
            people.world.workers,
            dict(people.desk.answered),
            dict(people.alarm_keys),
            self.repeats,
            people.desk.escalations,
            people.given_up,
            dict(sorted(self.sms.items())),
            self.events,
            self.sweeps,
            {**self.plan, "replans": self.replans} if self.plan_ahead else {},
        )

    def _plan_evening_before(self) -> None:
        """The elected scheduler's evening run, at ``plan_hour`` the day before, and its cutoff: nothing happens
        in the simulated city between then and midnight, so the plan is made on the data the day starts with."""
        local_midnight = self.start.astimezone(self.config.timezone)
        evening = local_midnight - timedelta(days=1) + timedelta(hours=self.config.dispatch.plan_hour)
        clock = ManualClock(evening)
        outcome = planning.plan_day(
            self.conn, clock, self.config, local_midnight.date(), made_by="scheduler", tell=True
        )
        # every caregiver confirms their day before the cutoff, which then has nothing to re-plan
        told = self.conn.execute(
            "SELECT caregiver_id FROM plan_route WHERE plan_id = %s AND told_at IS NOT NULL ORDER BY caregiver_id",
            (outcome.plan_id,),
        ).fetchall()
        for (caregiver_id,) in told:
            planning.confirm_day(self.conn, clock, self.config, caregiver_id)
        cutoff = local_midnight - timedelta(days=1) + timedelta(hours=self.config.dispatch.plan_cutoff_hour)
        if cutoff > evening:
            clock.set(cutoff)
            planning.replan_at_cutoff(self.conn, clock, self.config)
        self.conn.commit()
        # out of reach: no caregiver who may take it reaches it in its window even with an empty day (the roster's
        # limit, whatever the dispatcher)
        reasons = outcome.figures.get("unassigned_reasons")
        beyond = reasons.get("out_of_reach", 0) if isinstance(reasons, dict) else 0
        self.plan = {"timed_out": outcome.timed_out, **outcome.figures, "out_of_reach": beyond}
        if self.progress is not None:
            self.progress(f"{self.name}: planned {local_midnight.date()}: {outcome.figures}")

    def _planned_orders(self, now: float) -> None:
        """Orders the recurring scheduler or a re-plan just handed to their planned caregivers: the caregiver takes
        them; orders a re-plan took from their holders: the holder drops them (they were told by SMS)."""
        rows = self.conn.execute(
            "SELECT o.id, ev.to_status, o.caregiver_id FROM order_event ev JOIN service_order o ON o.id = ev.order_id "
            "WHERE ev.at = %s AND ev.actor = 'planner' AND (ev.to_status = 'accepted' OR ev.from_status = 'accepted') "
            "ORDER BY ev.id",
            (self.clock.now(),),
        ).fetchall()
        self.conn.commit()
        for order_id, to_status, caregiver_id in rows:
            if to_status == "accepted":
                self.people.assigned(now, order_id, caregiver_id)
            else:  # taken off its holder's day by a re-plan (to another, or back to the dispatch)
                self.people.taken_back(now, order_id)

    def _replan_on_change(self, now: float) -> None:
        """The elected scheduler's look for changes to today's plan; orders it hands over are taken, and
        occurrences the new plan has their caregiver leave for sooner are ordered (the scheduler's next tick)."""
        replanned = planning.replan_on_change(self.conn, self.clock, self.config) is not None
        self.conn.commit()
        self._recurring(now)
        if replanned:
            self.replans += 1
            self.people.replanned(now)

    def _schedule(self) -> None:
        if self.plan_ahead:
            self._plan_evening_before()
            every = self.config.dispatch.plan_check_minutes * 60.0
            for n in range(1, math.floor(DAY_SECONDS / every)):
                self.later(n * every, self._replan_on_change)
        for emergency in self.demand.emergencies:
            self.later(emergency.at, self._emergency, emergency)
        for order in self.demand.adhoc:
            self.later(order.at, self._adhoc, order)
        due = dispatcher.recurring_due_times(self.conn, self.config, self.start, self.when(DAY_SECONDS))
        ticks = {0.0} | {math.ceil(self.seconds(d) / SCHEDULER_SECONDS) * SCHEDULER_SECONDS for d in due}
        for tick in sorted(t for t in ticks if t < DAY_SECONDS):
            self.later(tick, self._recurring)
        for hour in range(1, math.ceil(self.stop / 3600.0) + 1):
            self.later(hour * 3600.0, self._hour, hour)
        review = self.params.operators.review_minutes * 60.0
        for n in range(1, math.floor(self.stop / review) + 1):
            self.later(n * review, self.people.review)
        # a shift starting is a new candidate for orders that found none
        weekdays = {self.when(day * DAY_SECONDS).astimezone(self.config.timezone).isoweekday(): day for day in (0, 1)}
        for weekday, at in dispatch_state.shift_starts(self.conn):
            if weekday in weekdays:
                self.later(weekdays[weekday] * DAY_SECONDS + at, self._shift_starts)
        self.later(DAY_SECONDS, self._shift_starts)

    def _sweep(self) -> bool:
        """The dispatcher's sweep until it has caught up; whether it did anything."""
        self.sweeps += 1
        self.retries.before_sweep(self.clock.now())
        did = False
        while True:
            report = dispatcher.sweep(self.conn, self.clock, self.config, SWEEP_LIMIT)
            self.conn.commit()
            did = did or report.total > 0
            if max(astuple(report)) < SWEEP_LIMIT:  # no step left things due
                return did

    def _after(self, not_now: bool) -> None:
        """After each step: send what waits, tell the desk of escalations, plan the next sweep."""
        while self.sms_waiting:
            self.sms_waiting = False
            self._send()
        if self.escalation_waiting:
            self.escalation_waiting = False
            self._escalations()
        due = dispatch_state.next_sweep(
            self.conn, self.retry, self.retries.enabled, self.config.dispatch.unfinished_minutes
        )
        self.conn.commit()
        tick = math.inf
        if due is not None:
            tick = math.ceil(self.seconds(due) / self.cadence - 1e-9) * self.cadence
            if tick <= self.now:
                # due already: at once, unless a sweep at this instant just found nothing to do
                tick = self.now + self.cadence if not_now else self.now
        if not self.skip_idle:
            # the real loop: a sweep on every tick, whether or not anything is due
            tick = min(tick, (math.floor(self.now / self.cadence + 1e-9) + 1) * self.cadence)
        if tick < math.inf and (self.sweep_at is None or tick < self.sweep_at):
            self.sweep_at = tick

    def _send(self) -> None:
        while dispatcher.send_due(self.transaction, self.clock, self.config, self.sender, limit=100):
            pass
        sent, self.sender.sent = self.sender.sent, []
        for sms in sent:
            self.sms[sms.purpose] += 1
            if sms.purpose == "offer" and sms.order_id is not None and sms.caregiver_id is not None:
                self.people.offered(self.now, sms.order_id, sms.caregiver_id)

    def _escalations(self) -> None:
        """Escalated orders raise ``order_escalated`` alarms: each raise or repeat is a call for the desk."""
        for alarm_id, repeats, order_id in alarms.escalations_since(self.conn, self.checked):
            seen = self.escalations_seen.get(alarm_id, -1)
            for n in range(seen + 1, repeats + 1):
                self.people.escalated(self.now, alarm_id, order_id, n)
            self.escalations_seen[alarm_id] = max(seen, repeats)
        self.checked = self.clock.now()

    # -- demand and the hours ------------------------------------------------------------------------------
    def _emergency(self, now: float, emergency: Emergency) -> None:
        alarm_id, new = alarms.raise_alarm(
            self.conn, self.clock.now(), emergency.elder_id, AlarmType(emergency.alarm_type), emergency.device_id
        )
        self.conn.commit()
        if not new:
            self.repeats += 1
            return
        self.people.alarm(now, emergency.key, alarm_id)
        self.wake()

    def _adhoc(self, now: float, order: AdHocOrder) -> None:
        ref = dispatcher.create_order(
            self.conn,
            self.clock,
            elder_id=order.elder_id,
            service_type=order.service_type,
            actor="sim-operator",
            window_start=self.when(order.window_start),
            window_end=self.when(order.window_end),
            source="simulation",
            config=self.config,
        )
        self.conn.commit()
        self.people.order_keys[ref.id] = order.key
        self.wake()

    def _recurring(self, now: float) -> None:
        """The recurring scheduler's tick; in a planned day, orders the planner hands over (made now, or moved
        by a re-plan just made) are taken by their caregivers."""
        if dispatcher.create_recurring_orders(self.conn, self.clock, self.config):
            self.wake()
        self.conn.commit()
        if self.plan_ahead:
            self._planned_orders(now)

    def _shift_starts(self, now: float) -> None:
        """A shift starting is a new candidate for any order that found none."""
        self.retries.everyone(self.clock.now())
        self.conn.commit()

    def _hour(self, now: float, hour: int) -> None:
        self.people.desk.shift_change(now)
        # what autovacuum does in the background of a real day, here an hour passes in seconds
        self.conn.autocommit = True
        try:
            self.conn.execute("VACUUM (ANALYZE) service_order, offer, sms_message, alarm, order_event")
        finally:
            self.conn.autocommit = False
        if self.progress is not None:
            self.progress(
                f"{self.name}: {hour:2d}:00 simulated, {self.events:,} events, {self.sweeps:,} sweeps, "
                f"{self.people.offers:,} offers"
            )
