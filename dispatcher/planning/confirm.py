"""Caregivers confirm their planned day: one SMS the evening before with their visits in order and times, and
one reply (Y, 确认 or CONFIRM) that confirms it."""

from __future__ import annotations

import logging
from datetime import date

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
SELECT pv.planned_start, pv.service_type, e.name, e.address
FROM plan_visit pv JOIN elder e ON e.id = pv.elder_id
WHERE pv.plan_id = %s AND pv.caregiver_id = %s ORDER BY pv.sequence
"""


def day_text(config: Config, language: str, day: date, visits: list[tuple[object, ...]]) -> str:
    """The SMS of a caregiver's day: each visit with its time, service, elder and address, in order."""
    lines = [
        texts.text(
            "plan_visit",
            language,
            n=n,
            time=f"{start.astimezone(config.timezone):%H:%M}",  # type: ignore[attr-defined]
            service=texts.service_name(str(service), language),
            elder=name,
            address=address,
        )
        for n, (start, service, name, address) in enumerate(visits, start=1)
    ]
    separator = translations(language).gettext("; ")  # the reader's way of listing: "；" in Chinese
    shown = separator.join(lines)
    while len(shown) > MAX_BODY and len(lines) > 1:
        lines.pop()
        shown = separator.join(lines) + f"{separator}(+{len(visits) - len(lines)})"
    return texts.text("plan_day", language, day=day.isoformat(), count=len(visits), visits=shown)


def tell_caregivers(conn: psycopg.Connection, clock: Clock, config: Config, plan_id: int) -> int:
    """Queue one SMS per caregiver of the plan not told yet; returns how many."""
    told = 0
    for caregiver_id, phone, language, day in conn.execute(_ROUTES, (plan_id,)).fetchall():
        visits = conn.execute(_VISITS, (plan_id, caregiver_id)).fetchall()
        outbox.enqueue(
            conn,
            clock,
            to_phone=phone,
            from_phone=config.platform.twilio_from,
            body=day_text(config, language, day, visits) + " " + day_url(config, plan_id, caregiver_id),
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
