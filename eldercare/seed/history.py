"""A realistic past for a seeded city: months of alarms and service orders with timelines and offers.

Used by the demo (its month of past, generated and labelled so), the KPI tests (figures checked against a direct
computation on the same rows) and the dashboard benchmark (a year for 10,000 elders). Deterministic for a seed;
written with COPY in the caller's transaction.
"""

from __future__ import annotations

import logging
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from eldercare.db import copy_rows
from eldercare.vocabulary import EMERGENCY_ALARMS, AlarmOutcome, AlarmType, Severity

log = logging.getLogger(__name__)

SERVICE_WEIGHTS = {"meal": 40, "cleaning": 15, "bathing": 8, "medical": 12, "mobility": 7, "care": 18}
ALARM_WEIGHTS = {
    "sos": 12,
    "fall": 8,
    "smoke": 1,
    "gas": 1,
    "hr_high": 18,
    "spo2_low": 8,
    "bp_high": 10,
    "no_motion": 8,
    "door_night": 6,
    "battery_low": 14,
    "device_offline": 14,
}
CRITICAL = frozenset(EMERGENCY_ALARMS)
SEVERITY: dict[str, Severity] = {
    **dict.fromkeys(EMERGENCY_ALARMS, Severity.CRITICAL),
    **dict.fromkeys((AlarmType.BATTERY_LOW, AlarmType.DEVICE_OFFLINE), Severity.INFO),
}
MINUTES = {"meal": 30, "cleaning": 120, "bathing": 60, "medical": 120, "mobility": 90, "emergency": 60, "care": 90}


@dataclass(frozen=True, slots=True)
class HistoryPlan:
    end: datetime  # history runs up to this instant (UTC)
    days: int = 30
    orders_per_elder_day: float = 0.08
    alarms_per_elder_day: float = 0.01
    seed: int = 1
    # orders of the last N days get their full timeline (order_event) and offers; older ones only their row
    timeline_days: int = 30
    # a past that is over by ``end``: nothing new in its last SETTLE, so every alarm is resolved and every order
    # has finished by then, and nothing is left for today's operators or dispatcher (the demo's past)
    settled: bool = False
    # who the operator is in the rows (acknowledged_by, created_by, ...), and a note on every order: how a
    # generated past says so
    actor: str = "operator"
    note: str = ""


SETTLE = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class HistoryStats:
    orders: int
    alarms: int
    order_events: int
    offers: int


@dataclass(frozen=True, slots=True)
class _Caregiver:
    id: int
    provider_id: int
    skills: frozenset[str]


def travel_time(rng: random.Random, emergency: bool) -> timedelta:
    return timedelta(minutes=rng.lognormvariate(math.log(18 if emergency else 12), 0.5))


class _Ids:
    def __init__(self, conn: psycopg.Connection, table: str) -> None:
        row = conn.execute(sql.SQL("SELECT coalesce(max(id), 0) FROM {}").format(sql.Identifier(table))).fetchone()
        self.next = int(row[0]) + 1 if row else 1

    def take(self) -> int:
        value = self.next
        self.next += 1
        return value


ORDER_COLUMNS = (
    "id", "code", "elder_id", "service_type", "status", "priority", "source", "alarm_id", "window_start", "window_end",
    "duration_min", "notes", "created_at", "created_by", "caregiver_id", "provider_id", "offers_made", "accepted_at",
    "en_route_at", "arrived_at", "completed_at", "cancelled_at", "cancel_reason", "escalation_level", "escalated_at",
    "travel_km", "satisfaction", "review_note", "reviewed_at", "reviewed_by", "updated_at",
)  # fmt: skip
ALARM_COLUMNS = (
    "id", "elder_id", "device_id", "type", "severity", "status", "raised_at", "received_at", "last_raised_at",
    "acknowledged_at", "acknowledged_by", "resolved_at", "resolved_by", "outcome",
)  # fmt: skip
EVENT_COLUMNS = ("order_id", "at", "from_status", "to_status", "actor_kind", "actor", "reason")
OFFER_COLUMNS = (
    "order_id", "caregiver_id", "rank", "score", "distance_km", "eta_min", "reasons", "status", "created_at",
    "sent_at", "expires_at", "answered_at",
)  # fmt: skip


class _Writer:
    """Builds the rows of one history; the lists are written at the end, one COPY per table."""

    def __init__(self, conn: psycopg.Connection, plan: HistoryPlan) -> None:
        self.plan = plan
        self.rng = random.Random(plan.seed)
        rows = conn.execute("SELECT id, community_id FROM elder WHERE active ORDER BY id").fetchall()
        self.elders = [r[0] for r in rows]
        self.community = {r[0]: r[1] for r in rows}
        self.area: dict[int, list[int]] = {}
        for provider_id, community_id in conn.execute(
            "SELECT provider_id, community_id FROM provider_area ORDER BY 1, 2"
        ):
            self.area.setdefault(community_id, []).append(provider_id)
        devices = conn.execute("SELECT DISTINCT ON (elder_id) elder_id, id FROM device ORDER BY elder_id, id")
        self.device: dict[int, str] = {int(row[0]): str(row[1]) for row in devices.fetchall()}
        skills: dict[int, set[str]] = {}
        for caregiver_id, skill in conn.execute("SELECT caregiver_id, service_type FROM caregiver_skill").fetchall():
            skills.setdefault(caregiver_id, set()).add(skill)
        caregivers = conn.execute("SELECT id, provider_id FROM caregiver WHERE active ORDER BY id").fetchall()
        self.by_skill: dict[str, list[_Caregiver]] = {}
        for caregiver_id, provider_id in caregivers:
            cg = _Caregiver(caregiver_id, provider_id, frozenset(skills.get(caregiver_id, ())))
            for skill in cg.skills:
                self.by_skill.setdefault(skill, []).append(cg)
        self.order_ids = _Ids(conn, "service_order")
        self.alarm_ids = _Ids(conn, "alarm")
        self.orders: list[tuple[Any, ...]] = []
        self.alarms: list[tuple[Any, ...]] = []
        self.events: list[tuple[Any, ...]] = []
        self.offers: list[tuple[Any, ...]] = []
        self.live_alarms: set[tuple[int, str]] = set()
        self.timeline_from = plan.end - timedelta(days=plan.timeline_days)
        # nothing happens after this; with a settled past, its consequences are all over by plan.end
        self.last = plan.end - SETTLE if plan.settled else plan.end

    def _count(self, mean: float) -> int:
        # normal approximation of Poisson: fine for the daily volumes of a city
        return max(0, round(self.rng.gauss(mean, math.sqrt(mean)))) if mean > 0 else 0

    def build(self) -> None:
        start = self.plan.end - timedelta(days=self.plan.days)
        if not self.elders:
            return
        for day in range(self.plan.days):
            day_start = start + timedelta(days=day)
            for _ in range(self._count(len(self.elders) * self.plan.alarms_per_elder_day)):
                self._alarm(day_start + timedelta(seconds=self.rng.uniform(0, 86400)))
            for _ in range(self._count(len(self.elders) * self.plan.orders_per_elder_day)):
                # orders are mostly made in the day time, local (UTC+8) 07:00-19:00
                created = day_start + timedelta(hours=self.rng.uniform(-1, 11))
                service = self.rng.choices(list(SERVICE_WEIGHTS), list(SERVICE_WEIGHTS.values()))[0]
                self._order(self.rng.choice(self.elders), service, created, None)

    def _alarm(self, received: datetime) -> None:
        if received >= self.last:
            return
        kind = self.rng.choices(list(ALARM_WEIGHTS), list(ALARM_WEIGHTS.values()))[0]
        elder = self.rng.choice(self.elders)
        severity = SEVERITY.get(kind, "warning")
        # most are answered within a minute; a long tail is not
        ack_secs = self.rng.lognormvariate(math.log(22), 0.8) if severity != "info" else self.rng.uniform(30, 7200)
        acked = received + timedelta(seconds=ack_secs)
        alarm_id = self.alarm_ids.take()
        resolved: datetime | None = acked + timedelta(minutes=self.rng.uniform(2, 90))
        status, outcome = "resolved", None
        if resolved is not None and resolved > self.plan.end:
            if (elder, kind) in self.live_alarms:
                return  # one live alarm per elder and type
            self.live_alarms.add((elder, kind))
            status, resolved = ("acknowledged", None) if acked <= self.plan.end else ("open", None)
        if status == "resolved":
            outcome = self.rng.choices(tuple(AlarmOutcome), (30, 55, 5, 10))[0].value
        raised = received - timedelta(seconds=self.rng.uniform(0.2, 3))
        self.alarms.append((
            alarm_id, elder, self.device.get(elder), kind, severity, status, raised, received, raised,
            acked if status != "open" else None, self.plan.actor if status != "open" else None,
            resolved, self.plan.actor if resolved else None, outcome,
        ))  # fmt: skip
        if kind in CRITICAL:
            self._order(elder, "emergency", received + timedelta(seconds=self.rng.uniform(1, 5)), alarm_id)

    def _order(self, elder: int, service: str, created: datetime, alarm_id: int | None) -> None:
        if created >= self.last:
            return
        rng, end = self.rng, self.plan.end
        order_id = self.order_ids.take()
        emergency = service == "emergency"
        window_start = created if emergency else created + timedelta(hours=rng.choice((1, 2, 3, 24)))
        minutes = MINUTES[service]
        caregiver = self._caregiver(elder, service)
        accept_secs = rng.lognormvariate(math.log(45 if emergency else 400), 0.9)
        accepted = created + timedelta(seconds=accept_secs)
        fate = rng.random()
        times: dict[str, datetime | None] = dict.fromkeys(("accepted", "en_route", "arrived", "completed"))
        status, cancel_reason, escalation, escalated_at = "offered", None, 0, None
        cancelled_at: datetime | None = None
        if caregiver is None or fate < 0.03 or accepted > end:
            status = "escalated" if caregiver is None or fate < 0.03 else "offered"
            if status == "escalated":
                escalation, escalated_at = 1, created + timedelta(minutes=5 if emergency else 60)
                if escalated_at + timedelta(hours=3) < end:  # operators dealt with older escalations by phone
                    status, cancelled_at = "cancelled", escalated_at + timedelta(minutes=rng.uniform(5, 120))
                    cancel_reason = "escalated: no caregiver accepted; arranged by phone"
        else:
            en_route = max(accepted, max(created, window_start) - travel_time(rng, emergency))
            en_route += timedelta(seconds=rng.uniform(0, 120))
            arrived = en_route + travel_time(rng, emergency)
            completed = arrived + timedelta(minutes=minutes * rng.uniform(0.8, 1.3))
            planned = {"accepted": accepted, "en_route": en_route, "arrived": arrived, "completed": completed}
            status = "completed"
            if fate < 0.07:
                status, planned = "cancelled", {"accepted": accepted}
                cancel_reason = "elder not at home"
                cancelled_at = min(accepted + timedelta(minutes=10), end)
            # what lies after the end of the history has not happened yet
            for stage in ("accepted", "en_route", "arrived", "completed"):
                if stage in planned and planned[stage] <= end:
                    times[stage] = planned[stage]
                    if status != "cancelled":
                        status = stage
        satisfaction: int | None = None
        review_note: str | None = None
        reviewed_at: datetime | None = None
        completed_at = times["completed"]
        if status == "completed" and completed_at is not None and rng.random() < 0.45:
            reviewed = completed_at + timedelta(days=rng.uniform(0.2, 3))
            if reviewed <= end:
                satisfaction = rng.choices((5, 4, 3, 2, 1), (55, 30, 9, 4, 2))[0]
                status, reviewed_at = "reviewed", reviewed
                review_note = "满意" if satisfaction >= 4 else "需改进"
        last = max(t for t in (created, *times.values(), cancelled_at, escalated_at, reviewed_at) if t is not None)
        assigned = caregiver if times["accepted"] else None
        self.orders.append((
            order_id, f"H{order_id:08d}", elder, service, status, 0 if emergency else 5,
            "alarm" if alarm_id else "operator", alarm_id, window_start, window_start + timedelta(minutes=minutes + 60),
            minutes, self.plan.note, created, "system" if alarm_id else self.plan.actor,
            assigned.id if assigned else None, assigned.provider_id if assigned else None, 1 if caregiver else 0,
            times["accepted"], times["en_route"], times["arrived"], times["completed"], cancelled_at, cancel_reason,
            escalation, escalated_at,
            round(rng.uniform(0.3, 6), 1) if assigned else None, satisfaction, review_note, reviewed_at,
            self.plan.actor if reviewed_at else None, last,
        ))  # fmt: skip
        if created >= self.timeline_from:
            self._timeline(order_id, created, status, times, caregiver, cancelled_at, escalated_at, reviewed_at)

    def _caregiver(self, elder: int, service: str) -> _Caregiver | None:
        """A caregiver with the skill from a provider contracted for the elder's community, else from anywhere."""
        skilled = self.by_skill.get(service) or [c for cs in self.by_skill.values() for c in cs]
        providers = set(self.area.get(self.community[elder], ()))
        local = [c for c in skilled if c.provider_id in providers]
        pool = local or skilled
        return self.rng.choice(pool) if pool else None

    def _timeline(
        self,
        order_id: int,
        created: datetime,
        status: str,
        times: dict[str, datetime | None],
        caregiver: _Caregiver | None,
        cancelled_at: datetime | None,
        escalated_at: datetime | None,
        reviewed_at: datetime | None,
    ) -> None:
        steps: list[tuple[datetime, str, str, str]] = [(created, "created", "system", "dispatcher")]
        if caregiver is not None:
            steps.append((created + timedelta(seconds=1), "offered", "system", "dispatcher"))
            accepted = times["accepted"]
            distance = round(self.rng.uniform(0.3, 6), 2)
            self.offers.append((
                order_id, caregiver.id, 1, round(self.rng.uniform(0.5, 1), 3), distance, round(distance * 4 + 3, 1),
                Jsonb({"distance_km": distance, "skill": True, "load": self.rng.randint(0, 2),
                       "rating": round(self.rng.uniform(3.8, 5), 1), "same_provider_area": True}),
                "accepted" if accepted else ("expired" if status == "escalated" else "sent"),
                created + timedelta(seconds=1), created + timedelta(seconds=2), created + timedelta(minutes=15),
                accepted,
            ))  # fmt: skip
        for stage in ("accepted", "en_route", "arrived", "completed"):
            when = times[stage]
            if when is not None:
                steps.append((when, stage, "caregiver", f"C{caregiver.id:05d}" if caregiver else "?"))
        if cancelled_at:
            steps.append((cancelled_at, "cancelled", "operator", self.plan.actor))
        if escalated_at:
            steps.append((escalated_at, "escalated", "system", "dispatcher"))
        if reviewed_at:
            steps.append((reviewed_at, "reviewed", "operator", self.plan.actor))
        previous = None
        for at, to_status, actor_kind, actor in steps:
            self.events.append((order_id, at, previous, to_status, actor_kind, actor, ""))
            previous = to_status

    def write(self, conn: psycopg.Connection) -> HistoryStats:
        alarms = copy_rows(conn, "alarm", ALARM_COLUMNS, iter(self.alarms))
        orders = copy_rows(conn, "service_order", ORDER_COLUMNS, iter(self.orders))
        events = copy_rows(conn, "order_event", EVENT_COLUMNS, iter(self.events))
        offers = copy_rows(conn, "offer", OFFER_COLUMNS, iter(self.offers))
        return HistoryStats(orders=orders, alarms=alarms, order_events=events, offers=offers)


def write_history(conn: psycopg.Connection, plan: HistoryPlan) -> HistoryStats:
    """Generate and COPY the history of ``plan`` for the city in the database, in the caller's transaction."""
    writer = _Writer(conn, plan)
    writer.build()
    stats = writer.write(conn)
    log.info("wrote %d orders, %d alarms, %d order events, %d offers", stats.orders, stats.alarms,
             stats.order_events, stats.offers)  # fmt: skip
    return stats
