"""The people of the simulated day acting on the platform: caregivers answering offers, setting off,
arriving and finishing through the dispatcher's own caregiver actions; operators answering alarms,
resolving them once help has been, and giving up booked visits nobody could make."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

import dispatcher
from dispatcher import planning
from eldercare.vocabulary import ServiceType
from simulators.citysim import alarms
from simulators.citysim.desk import Call, Desk
from simulators.citysim.dispatch_state import (
    OrderFacts,
    PlannedStop,
    carried,
    kitchen_of,
    order_facts,
    overdue_visits,
    planned_stop,
    told_now,
)
from simulators.citysim.world import Job, Worker, World

if TYPE_CHECKING:
    from simulators.citysim.engine import Engine

OPERATOR = "sim-operator"
VIA = "sms"


class People:
    """The caregivers (``World``) and the operators (``Desk``), wired to the dispatcher through ``engine``."""

    def __init__(self, engine: Engine, workers: dict[int, Worker]) -> None:
        self.engine = engine
        self.conn, self.config = engine.conn, engine.config
        self.world = World(workers, engine.params, engine.seed, self)
        self.desk = Desk(engine.params, engine.seed, engine.later, self.acknowledge)
        self.facts: dict[int, OrderFacts] = {}
        self.caregivers: dict[int, dispatcher.Caregiver] = {}
        self.kitchens: dict[int, tuple[float, float] | None] = {}
        self.holder: dict[int, Worker] = {}  # order id -> the caregiver the world has it with
        self.order_keys: dict[int, str] = {}
        self.alarm_keys: dict[int, str] = {}
        self.offers = 0
        self.given_up = 0

    # -- what orders are ---------------------------------------------------------------------------------
    def key(self, order_id: int) -> str:
        """The demand's name for an order, the same under every dispatcher."""
        facts = self.order(order_id)
        if facts.alarm_id is not None and facts.alarm_id in self.alarm_keys:
            return self.alarm_keys[facts.alarm_id]
        if facts.recurring_service_id is not None and facts.occurrence_at is not None:
            return f"R{facts.recurring_service_id}@{facts.occurrence_at:%Y%m%dT%H%M}"
        return self.order_keys.get(order_id, f"O{order_id}")

    def order(self, order_id: int) -> OrderFacts:
        if order_id not in self.facts:
            self.facts[order_id] = order_facts(self.conn, order_id)
        return self.facts[order_id]

    def job(self, order_id: int, caregiver_id: int) -> Job:
        """The order as ``caregiver_id`` sees it (taking it, or deciding whether to)."""
        facts = self.order(order_id)
        elder = self.engine.elders[facts.elder_id]
        job = Job(
            order_id,
            self.key(order_id),
            facts.service_type,
            elder.lat,
            elder.lon,
            self.engine.seconds(facts.window_start),
            self.engine.seconds(facts.window_end),
        )
        self._follow(job, planned_stop(self.conn, order_id), caregiver_id)
        return job

    def _follow(self, job: Job, stop: PlannedStop | None, caregiver_id: int) -> None:
        """The job as the caregiver's day has it: when to start it and, for a meal, where and when to collect it.
        A meal not collected by the plan is collected at the caregiver's own provider's kitchen on the way, when
        it has one, whichever dispatcher gave it to them: meals come from kitchens."""
        job.planned = None if stop is None else self.engine.seconds(stop.start)
        if stop is not None and stop.kitchen is not None and stop.pickup_at is not None:
            job.kitchen, job.pickup = stop.kitchen, self.engine.seconds(stop.pickup_at)
        else:
            job.kitchen, job.pickup = None, None
            if job.service_type == ServiceType.MEAL:
                if caregiver_id not in self.kitchens:
                    self.kitchens[caregiver_id] = kitchen_of(self.conn, caregiver_id)
                job.kitchen = self.kitchens[caregiver_id]

    def caregiver(self, caregiver_id: int) -> dispatcher.Caregiver:
        if caregiver_id not in self.caregivers:
            found = dispatcher.caregiver_by_id(self.conn, caregiver_id)
            if found is None:
                raise LookupError(f"caregiver {caregiver_id} was offered an order but is not in the database")
            self.caregivers[caregiver_id] = found
        return self.caregivers[caregiver_id]

    # -- caregivers ----------------------------------------------------------------------------------------
    def offered(self, now: float, order_id: int, caregiver_id: int) -> None:
        """An offer SMS reached the provider: the caregiver will answer it, or not."""
        self.offers += 1
        worker = self.world.workers[caregiver_id]
        emergency = self.order(order_id).service_type == ServiceType.EMERGENCY
        reply = self.world.offered(now, worker, self.key(order_id), emergency)
        if reply is not None:
            self.engine.later(reply.at, self._reply, worker, order_id, reply.chance)

    def _reply(self, now: float, worker: Worker, order_id: int, chance: float) -> None:
        job = self.job(order_id, worker.id)
        caregiver = self.caregiver(worker.id)
        if self.world.accepts(now, worker, job, chance):
            answer = dispatcher.accept_offer(self.conn, self.engine.clock, self.config, caregiver, order_id, VIA)
            self.conn.commit()
            if answer.changed and answer.accepted:
                self.holder[order_id] = worker
                self.world.take(now, worker, job)
        else:
            dispatcher.decline_offer(self.conn, self.engine.clock, self.config, caregiver, order_id, VIA)
            self.conn.commit()

    def assigned(self, now: float, order_id: int, caregiver_id: int) -> None:
        """The order is the caregiver's by the day's plan (they confirmed their day the evening before); told
        twice (two ticks at one instant), they take it once."""
        worker = self.world.workers[caregiver_id]
        if self.holder.get(order_id) is worker:
            return
        self.holder[order_id] = worker
        self.world.take(now, worker, self.job(order_id, caregiver_id))

    def taken_back(self, now: float, order_id: int) -> None:
        """A re-plan took the order off its holder's day (told by SMS): they drop it."""
        worker = self.holder.pop(order_id, None)
        if worker is not None:
            self.world.withdraw(now, worker, order_id)
            self.engine.freed(worker.id)

    def replanned(self, now: float) -> None:
        """Today's plan was made again: caregivers told that their route changed confirm it and follow it; the
        others keep to the day they know."""

        def planned(job: Job, caregiver_id: int) -> None:
            self._follow(job, planned_stop(self.conn, job.order_id), caregiver_id)

        for caregiver_id in told_now(self.conn, self.engine.clock.now()):
            planning.confirm_day(self.conn, self.engine.clock, self.config, caregiver_id)
            worker = self.world.workers[caregiver_id]
            if worker.queue or worker.phase == "planned":
                self.world.reschedule(now, worker, planned)
        self.conn.commit()

    def at(self, when: float, action: Any, worker: Worker) -> None:
        self.engine.later(when, _world_step, action, worker, worker.token)

    def set_off(self, worker: Worker, job: Job) -> Collection[int]:
        dispatcher.set_off(self.conn, self.engine.clock, self.config, self.caregiver(worker.id), job.order_id, VIA)
        self.conn.commit()
        return carried(self.conn, worker.id) if job.service_type == ServiceType.MEAL else ()

    def arrive(self, worker: Worker, job: Job) -> None:
        self._insisting(dispatcher.arrive, worker, job)
        self.conn.commit()

    def _insisting(self, step: Any, worker: Worker, job: Job) -> None:
        """Report arriving or finishing; one refused as too early or too late is sent again, as a caregiver who
        really is there does (the platform then takes it as an exception)."""
        caregiver, clock = self.caregiver(worker.id), self.engine.clock
        answer = step(self.conn, clock, self.config, caregiver, job.order_id, VIA, _at(job))
        if answer.key.startswith("too_"):
            step(self.conn, clock, self.config, caregiver, job.order_id, VIA, _at(job))

    def finish(self, worker: Worker, job: Job) -> None:
        clock = self.engine.clock
        self._insisting(dispatcher.finish, worker, job)
        alarm_id = self.order(job.order_id).alarm_id
        if alarm_id is not None:
            alarms.resolve(self.conn, clock.now(), alarm_id, OPERATOR)
        self.conn.commit()
        self.holder.pop(job.order_id, None)
        self.engine.freed(worker.id)  # someone may now be eligible for an order that found no one

    # -- operators -----------------------------------------------------------------------------------------
    def alarm(self, now: float, key: str, alarm_id: int) -> None:
        self.alarm_keys[alarm_id] = key
        self.desk.ring(now, Call(key, alarm_id, now, escalation=False))

    def escalated(self, now: float, alarm_id: int, order_id: int, repeat: int) -> None:
        self.desk.ring(now, Call(f"X{self.key(order_id)}#{repeat}", alarm_id, now, escalation=True))

    def acknowledge(self, call: Call, now: float) -> None:
        alarms.acknowledge(self.conn, self.engine.clock.now(), call.alarm_id, OPERATOR)
        self.conn.commit()

    def review(self, now: float) -> None:
        """The operators' look at the board: a booked visit nobody reached well after its window is given
        up (the elder is phoned and the visit rebooked), which also frees the caregiver who held it."""
        give_up = self.engine.params.operators.give_up_after_minutes * 60.0
        overdue = overdue_visits(self.conn, self.engine.when(now - give_up))
        for order_id in overdue:
            dispatcher.cancel_order(
                self.conn,
                self.engine.clock,
                order_id,
                reason="nobody could come within the window; the elder was phoned and the visit rebooked",
                actor=OPERATOR,
                config=self.config,
            )
            self.conn.commit()
            worker = self.holder.pop(order_id, None)
            if worker is not None:
                self.world.withdraw(now, worker, order_id)
                self.engine.freed(worker.id)
        self.given_up += len(overdue)


def _world_step(now: float, action: Any, worker: Worker, token: int) -> None:
    action(worker, token)


def _at(job: Job) -> dispatcher.Proof:
    """The simulated phone's location: at the job's place, as a phone outdoors would report it."""
    return dispatcher.Proof(lat=job.lat, lon=job.lon, accuracy_m=15.0)
