"""Recurring services: each occurrence of a crontab schedule (local time) becomes one order, ``lead_min``
before it is due, or ``lead_min`` before its caregiver must set off for it when the day's plan has them come
from far. ``service_order_occurrence_uq`` makes a second order for an occurrence impossible, however
many schedulers run; an occurrence missed while no scheduler ran is still made up to ``grace`` late."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
from apscheduler.triggers.cron import CronTrigger
from psycopg.rows import class_row

from dispatcher.candidates import need_of, to_kitchen
from dispatcher.eligibility import judge
from dispatcher.lifecycle import Actor, load_order
from dispatcher.offers import make_offer, ranking_now
from dispatcher.orders import insert_order
from dispatcher.settings import Config
from eldercare.clock import Clock
from eldercare.i18n import N_

log = logging.getLogger(__name__)

# why the scheduler offered a recurring order to the caregiver the elder prefers (its timeline, read on the order page)
USUAL_CAREGIVER = N_("offered to the elder's usual caregiver")

_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_warned: set[tuple[int, str]] = set()


def trigger_for(schedule: str, timezone: ZoneInfo) -> CronTrigger:
    """APScheduler's trigger for a standard crontab line.

    APScheduler 3 numbers weekdays from Monday = 0, standard crontab from Sunday = 0 (7 too); numeric
    weekdays are turned into names so that '0 9 * * 5' means Friday, as in crontab.
    """
    fields = schedule.split()
    if len(fields) != 5:
        raise ValueError(f"a crontab schedule has 5 fields (minute hour day month weekday), not {len(fields)}")

    def name(match: re.Match[str]) -> str:
        number = int(match.group(0))
        if number > 7:
            raise ValueError(f"weekday {number} is out of range 0-7")
        return _DAY_NAMES[number % 7]

    parts: list[str] = []
    for part in fields[4].split(","):
        days, _, step = part.partition("/")
        if step and re.fullmatch(r"\*|\d+(-\d+)?", days):
            # a step counts from crontab's Sunday = 0: spell the days out rather than let APScheduler count
            low, _, high = days.replace("*", "0-6").partition("-")
            first, last = int(low), int(high or 6)
            if not step.isdigit() or int(step) < 1 or last > 7 or first > last:
                raise ValueError(f"weekday field {part!r} is not a valid crontab step")
            parts.extend(_DAY_NAMES[d % 7] for d in range(first, last + 1, int(step)))
        else:
            parts.append(re.sub(r"\d+", name, part))
    fields[4] = ",".join(dict.fromkeys(parts))
    return CronTrigger.from_crontab(" ".join(fields), timezone=timezone)


def occurrences(trigger: CronTrigger, start: datetime, end: datetime) -> Iterator[datetime]:
    """Fire times in [start, end)."""
    when = trigger.get_next_fire_time(None, start)
    while when is not None and when < end:
        yield when
        when = trigger.get_next_fire_time(when, when + timedelta(seconds=1))


@dataclass(frozen=True, slots=True)
class RecurringService:
    id: int
    elder_id: int
    service_type: str
    schedule: str
    duration_min: int
    lead_min: int
    starts_on: date
    ends_on: date | None
    notes: str
    preferred_caregiver_id: int | None


_ACTIVE = """
SELECT rs.id, rs.elder_id, rs.service_type, rs.schedule, rs.duration_min, rs.lead_min, rs.starts_on, rs.ends_on,
       rs.notes, rs.preferred_caregiver_id
FROM recurring_service rs JOIN elder e ON e.id = rs.elder_id
WHERE rs.active AND e.active AND rs.starts_on <= %(today)s AND (rs.ends_on IS NULL OR rs.ends_on >= %(yesterday)s)
ORDER BY rs.id
"""


# Occurrences of the plans in force from a day on: the planned start and the way there, and for a meal collected
# at its kitchen first, when and where (and where the caregiver is before: the elder of their visit before, else
# home), to know when the caregiver sets off
_PLANNED = """
SELECT pv.recurring_service_id, pv.occurrence_at, pv.planned_start, pv.travel_km, c.travel_mode, pv.pickup_at,
       k.kitchen_lat, k.kitchen_lon, coalesce(before.lat, c.home_lat), coalesce(before.lon, c.home_lon)
FROM plan_visit pv JOIN plan p ON p.id = pv.plan_id JOIN caregiver c ON c.id = pv.caregiver_id
LEFT JOIN provider k ON k.id = pv.kitchen_provider_id AND pv.pickup_at IS NOT NULL
LEFT JOIN LATERAL (
    SELECT e.lat, e.lon FROM plan_visit b JOIN elder e ON e.id = b.elder_id
    WHERE pv.pickup_at IS NOT NULL AND b.plan_id = pv.plan_id AND b.caregiver_id = pv.caregiver_id
      AND b.planned_start < pv.pickup_at
    ORDER BY b.planned_start DESC
    LIMIT 1
) before ON true
WHERE p.superseded_at IS NULL AND p.day >= %s AND pv.recurring_service_id IS NOT NULL
"""


def _set_off_times(conn: psycopg.Connection, config: Config, since: date) -> dict[tuple[int, datetime], datetime]:
    """(recurring service, occurrence) -> when its planned caregiver sets off for it, by the plans in force: the way
    there before its planned start, or for a meal collected at its kitchen first, the way to the kitchen (from
    their visit before, or home) before the collecting. Reckoned from the collecting itself, a caregiver who lives
    an hour from their kitchen got the order of their first meal as they had to be there already."""
    travel = config.dispatch.travel
    found = {}
    for service_id, occurrence, start, km, mode, pickup, *places in conn.execute(_PLANNED, (since,)).fetchall():
        leaving = start - timedelta(minutes=travel.minutes(mode, float(km or 0.0)))
        if pickup is not None:
            kitchen_lat, kitchen_lon, lat, lon = places
            way = timedelta(minutes=travel.minutes(mode, 0.0))  # getting going, were the kitchen not on record
            if kitchen_lat is not None:
                way = to_kitchen(travel, mode, (lat, lon), (kitchen_lat, kitchen_lon))
            leaving = min(leaving, pickup - way)
        found[(service_id, occurrence)] = leaving
    return found


def _due_at(service: RecurringService, when: datetime, set_off: dict[tuple[int, datetime], datetime]) -> datetime:
    """When an occurrence's order is made: ``lead_min`` before the occurrence, or before its planned caregiver
    sets off for it if that is earlier, so that the order is on their phone before they leave."""
    lead = timedelta(minutes=service.lead_min)
    leaving = set_off.get((service.id, when))
    return when - lead if leaving is None else min(when, leaving) - lead


def create_due_orders(conn: psycopg.Connection, clock: Clock, config: Config) -> int:
    """Create the orders of every occurrence due by now (``_due_at``) and not yet ordered."""
    now = clock.now()
    tz = config.timezone
    grace = timedelta(minutes=config.dispatch.recurring_grace_minutes)
    local_today = now.astimezone(tz).date()
    with conn.cursor(row_factory=class_row(RecurringService)) as cur:
        services = cur.execute(
            _ACTIVE, {"today": local_today + timedelta(days=2), "yesterday": local_today - timedelta(days=1)}
        ).fetchall()
    if not services:
        return 0
    set_off = _set_off_times(conn, config, local_today - timedelta(days=1))
    # occurrences as far ahead as the longest way a planned caregiver sets off before one may be due now
    longest_way = max((when - leaving for (_, when), leaving in set_off.items()), default=timedelta(0))
    longest_lead = timedelta(minutes=max(s.lead_min for s in services)) + max(timedelta(0), longest_way)
    existing = set(
        conn.execute(
            "SELECT recurring_service_id, occurrence_at FROM service_order WHERE recurring_service_id IS NOT NULL "
            "AND occurrence_at >= %s AND occurrence_at <= %s",
            (now - grace, now + longest_lead),
        ).fetchall()
    )
    created = 0
    for service in services:
        try:
            trigger = trigger_for(service.schedule, tz)
        except ValueError as err:
            if (service.id, service.schedule) not in _warned:
                _warned.add((service.id, service.schedule))
                log.warning("recurring service %d: schedule %r is not usable: %s", service.id, service.schedule, err)
            continue
        for when in occurrences(trigger, now - grace, now + longest_lead + timedelta(seconds=1)):
            day = when.astimezone(tz).date()
            if day < service.starts_on or (service.ends_on and day > service.ends_on):
                continue
            if (service.id, when) in existing or _due_at(service, when, set_off) > now:
                continue
            if _order(conn, clock, config, service, when):
                created += 1
    return created


def due_times(conn: psycopg.Connection, config: Config, start: datetime, end: datetime) -> list[datetime]:
    """The moments in [start, end) at which an occurrence falls due (``_due_at``, by the plans in force now),
    sorted and distinct: when ``create_due_orders`` has something to create. For a simulated day, which calls it
    then instead of every 30 seconds (and again whenever it re-plans)."""
    tz = config.timezone
    first, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    with conn.cursor(row_factory=class_row(RecurringService)) as cur:
        services = cur.execute(
            _ACTIVE, {"today": last + timedelta(days=2), "yesterday": first - timedelta(days=1)}
        ).fetchall()
    set_off = _set_off_times(conn, config, first - timedelta(days=1))
    due: set[datetime] = set()
    for service in services:
        try:
            trigger = trigger_for(service.schedule, tz)
        except ValueError:
            continue  # create_due_orders warns about it
        lead = timedelta(minutes=service.lead_min)
        for when in occurrences(trigger, start, end + lead + timedelta(days=1)):
            day = when.astimezone(tz).date()
            at = _due_at(service, when, set_off)
            if start <= at < end and day >= service.starts_on and not (service.ends_on and day > service.ends_on):
                due.add(at.astimezone(UTC))
    return sorted(due)


def _order(conn: psycopg.Connection, clock: Clock, config: Config, service: RecurringService, when: datetime) -> bool:
    ref = insert_order(
        conn,
        clock,
        config,
        elder_id=service.elder_id,
        service_type=service.service_type,
        source="recurring",
        actor="scheduler",
        window_start=when,
        window_end=when + timedelta(minutes=service.duration_min),
        duration_min=service.duration_min,
        notes=service.notes,
        recurring_service_id=service.id,
        occurrence_at=when,
    )
    if ref is None:
        return False  # another scheduler made it first
    # imported here: the planner reads occurrences from this module
    from dispatcher.planning.store import assign_planned, planned_caregiver

    planned = planned_caregiver(conn, service.id, when)
    if planned is not None:
        caregiver_id, sequence, start = planned
        if assign_planned(conn, clock, config, ref.id, caregiver_id, sequence, start):
            return True
    if service.preferred_caregiver_id is not None:
        _offer_to_preferred(conn, clock, config, ref.id, service.preferred_caregiver_id)
    return True


def _offer_to_preferred(
    conn: psycopg.Connection, clock: Clock, config: Config, order_id: int, caregiver_id: int
) -> None:
    """The elder's usual caregiver is asked first when every matching rule allows it."""
    order = load_order(conn, order_id, lock=True)
    now = clock.now()
    need = need_of(conn, order, now)
    ranking = ranking_now(config, order, now)
    verdicts = judge(conn, need, ranking, config.timezone, caregivers=[caregiver_id])
    if not verdicts or not verdicts[0].eligible:
        return  # the ordinary matching will find someone
    ranked = verdicts[0].ranked
    reasons = {**ranking.reasons(ranked), "preferred": True}
    make_offer(
        conn,
        clock,
        config,
        order,
        ranked,
        reasons,
        actor_kind=Actor.SCHEDULER,
        actor="scheduler",
        why=USUAL_CAREGIVER,
    )
