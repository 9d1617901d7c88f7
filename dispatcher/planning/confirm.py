"""Caregivers confirm their planned day: one SMS the evening before with their visits in order and times, and
one reply (Y, 确认 or CONFIRM) that confirms it. Meals collected at a kitchen show the kitchen stop before them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

import psycopg

from dispatcher import outbox, texts
from dispatcher.links import day_url
from dispatcher.settings import Config
from eldercare.clock import Clock
from eldercare.i18n import translations

log = logging.getLogger(__name__)

# an SMS of more than 10 segments is refused by Twilio: the visits are cut short and counted instead
MAX_BODY = 1400

_ROUTES = """
SELECT r.caregiver_id, c.phone, c.language, p.day
FROM plan_route r JOIN plan p ON p.id = r.plan_id JOIN caregiver c ON c.id = r.caregiver_id
WHERE r.plan_id = %s AND r.told_at IS NULL AND r.visits > 0 AND c.active AND NOT c.sms_opt_out
ORDER BY r.caregiver_id
"""

_VISITS = """
SELECT pv.planned_start, pv.service_type, e.name, e.address, pv.window_start, pv.window_end, pv.pickup_at, k.name
FROM plan_visit pv JOIN elder e ON e.id = pv.elder_id LEFT JOIN provider k ON k.id = pv.kitchen_provider_id
WHERE pv.plan_id = %s AND pv.caregiver_id = %s ORDER BY pv.sequence
"""


@dataclass(frozen=True, slots=True)
class PlannedVisit:
    """A visit of a caregiver's planned day."""

    start: datetime
    service: str
    elder: str
    address: str
    window_start: datetime
    window_end: datetime


@dataclass(frozen=True, slots=True)
class KitchenStop:
    """Collecting a batch of meals at a provider's kitchen, on the way to delivering them."""

    start: datetime
    provider: str
    meals: int


def day_route(conn: psycopg.Connection, plan_id: int, caregiver_id: int) -> list[PlannedVisit | KitchenStop]:
    """A caregiver's planned day in order: the visits, each batch of meals preceded by its kitchen stop."""
    visits: list[tuple[datetime, int, PlannedVisit | KitchenStop]] = []
    batches: dict[tuple[datetime, str], int] = {}
    for start, service, elder, address, w_start, w_end, pickup_at, kitchen in conn.execute(
        _VISITS, (plan_id, caregiver_id)
    ).fetchall():
        visits.append((start, 1, PlannedVisit(start, service, elder, address, w_start, w_end)))
        if pickup_at is not None:
            batches[(pickup_at, kitchen)] = batches.get((pickup_at, kitchen), 0) + 1
    # a kitchen stop comes before the meals it collects: its time is earlier, or the same at worst
    visits.extend((at, 0, KitchenStop(at, kitchen, meals)) for (at, kitchen), meals in batches.items())
    return [step for _, _, step in sorted(visits, key=lambda item: item[:2])]


def step_line(config: Config, language: str, step: PlannedVisit | KitchenStop, n: int) -> str:
    """One step of the day in words: a kitchen stop, or the ``n``-th visit."""
    at = f"{step.start.astimezone(config.timezone):%H:%M}"
    if isinstance(step, KitchenStop):
        return texts.text("plan_kitchen", language, time=at, count=step.meals, provider=step.provider)
    service = texts.service_name(step.service, language)
    return texts.text("plan_visit", language, n=n, time=at, service=service, elder=step.elder, address=step.address)


def day_text(config: Config, language: str, day: date, route: list[PlannedVisit | KitchenStop]) -> str:
    """The SMS of a caregiver's day: each visit with its time, service, elder and address, in order, and the
    kitchen stops where meals are collected."""
    lines: list[tuple[str, int]] = []  # (line, visits it shows)
    n = 0
    for step in route:
        visit = isinstance(step, PlannedVisit)
        n += visit
        lines.append((step_line(config, language, step, n), int(visit)))
    separator = translations(language).gettext("; ")  # the reader's way of listing: "；" in Chinese
    shown = separator.join(line for line, _ in lines)
    while len(shown) > MAX_BODY and len(lines) > 1:
        lines.pop()
        hidden = n - sum(count for _, count in lines)
        shown = separator.join(line for line, _ in lines) + f"{separator}(+{hidden})"
    return texts.text("plan_day", language, day=day.isoformat(), count=n, visits=shown)


def tell_caregivers(conn: psycopg.Connection, clock: Clock, config: Config, plan_id: int) -> int:
    """Queue one SMS per caregiver of the plan not told yet; returns how many."""
    told = 0
    for caregiver_id, phone, language, day in conn.execute(_ROUTES, (plan_id,)).fetchall():
        route = day_route(conn, plan_id, caregiver_id)
        outbox.enqueue(
            conn,
            clock,
            to_phone=phone,
            from_phone=config.platform.twilio_from,
            body=day_text(config, language, day, route) + " " + day_url(config, plan_id, caregiver_id),
            purpose=outbox.Purpose.PLAN,
            caregiver_id=caregiver_id,
        )
        conn.execute(
            "UPDATE plan_route SET told_at = %s WHERE plan_id = %s AND caregiver_id = %s",
            (clock.now(), plan_id, caregiver_id),
        )
        told += 1
    return told


def confirm_day(conn: psycopg.Connection, clock: Clock, config: Config, caregiver_id: int) -> date | None:
    """Confirm the caregiver's told, unconfirmed day in the plan in force (the soonest from today); None when
    there is none."""
    today = clock.now().astimezone(config.timezone).date()
    row = conn.execute(
        "UPDATE plan_route r SET confirmed_at = %s FROM ("
        "  SELECT r2.plan_id FROM plan_route r2 JOIN plan p ON p.id = r2.plan_id"
        "  WHERE r2.caregiver_id = %s AND r2.told_at IS NOT NULL AND r2.confirmed_at IS NULL"
        "    AND p.superseded_at IS NULL AND p.day >= %s ORDER BY p.day LIMIT 1) soonest"
        " WHERE r.plan_id = soonest.plan_id AND r.caregiver_id = %s"
        " RETURNING (SELECT day FROM plan WHERE id = r.plan_id)",
        (clock.now(), caregiver_id, today, caregiver_id),
    ).fetchone()
    return row[0] if row else None
