"""Spot-check plans and their checks: drawing a plan, recording a check, and the rectifications its findings open.

A finding opens a rectification for the provider with a deadline; one still open past its deadline raises a
``rectification_overdue`` alarm on the elder (eldercare.alarms), swept by ``raise_overdue``.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from typing import Literal

import psycopg
from psycopg.rows import class_row
from pydantic import BaseModel, Field, model_validator

from eldercare import audit
from eldercare.alarms import AlarmRaise, raise_alarm
from eldercare.clock import FIRST_DAY, LAST_DAY
from eldercare.db import INT_MAX
from eldercare.i18n import N_
from eldercare.labels import Coded, Message
from eldercare.supervision.sampling import Candidate, draw
from eldercare.vocabulary import AlarmType

Period = Literal["week", "month"]
Level = Literal["city", "township", "community"]
MAX_PHOTO_BYTES = 960 * 1024  # under the dashboard's 1 MiB request limit, with the form around it
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")


class CheckRefused(ValueError):
    """A plan, a record or a photo that cannot be taken as given; the message says why."""


class NoSuchRecord(LookupError):
    """The check or rectification named does not exist."""


class PlanInput(BaseModel):
    period: Period
    period_start: date = Field(
        ge=FIRST_DAY, le=LAST_DAY, description="any day of the period: a week starts on Monday, a month on the 1st"
    )
    level: Level
    township_id: int | None = Field(None, ge=1, le=INT_MAX)
    community_id: int | None = Field(None, ge=1, le=INT_MAX)
    elder_calls: int = Field(0, ge=0, le=10000)
    home_visits: int = Field(0, ge=0, le=10000)
    liaison_calls: int = Field(0, ge=0, le=10000)
    seed: int | None = Field(None, ge=0, le=2**62, description="omit for a fresh one; it is recorded either way")

    @model_validator(mode="after")
    def _place(self) -> PlanInput:
        given = (self.township_id is not None, self.community_id is not None)
        needed = {"city": (False, False), "township": (True, False), "community": (False, True)}[self.level]
        if given != needed:
            said = {
                "city": N_("level: a city plan names neither a township nor a community"),
                "township": N_("level: a township plan names its township_id and no community"),
                "community": N_("level: a community plan names its community_id and no township"),
            }
            raise ValueError(Message.of(said[self.level]))
        return self


def period_bounds(period: str, day: date) -> tuple[date, date]:
    """The first day of the period holding ``day``, and the first day after it."""
    if period == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7)
    start = day.replace(day=1)
    return start, (start + timedelta(days=32)).replace(day=1)


_CANDIDATES = """
WITH served AS (
    SELECT DISTINCT ON (o.elder_id) o.elder_id, o.provider_id, o.id AS order_id
    FROM service_order o
    WHERE o.status IN ('completed', 'reviewed') AND o.provider_id IS NOT NULL
      AND o.completed_at >= %(since)s::timestamp AT TIME ZONE %(tz)s
      AND o.completed_at < %(until)s::timestamp AT TIME ZONE %(tz)s
    ORDER BY o.elder_id, o.completed_at DESC, o.id DESC
)
SELECT s.elder_id, c.township_id, s.provider_id, s.order_id,
       EXISTS (SELECT 1 FROM complaint k WHERE k.elder_id = s.elder_id AND k.received_at >= %(flag_since)s)
       OR EXISTS (SELECT 1 FROM rectification r WHERE r.elder_id = s.elder_id AND r.opened_at >= %(flag_since)s)
       OR EXISTS (SELECT 1 FROM visit_exception x JOIN service_order xo ON xo.id = x.order_id
                  WHERE xo.elder_id = s.elder_id AND x.raised_at >= %(flag_since)s)
       AS flagged,
       EXISTS (SELECT 1 FROM emergency_contact ec WHERE ec.elder_id = s.elder_id AND ec.is_liaison) AS has_liaison
FROM served s JOIN elder e ON e.id = s.elder_id JOIN community c ON c.id = e.community_id
WHERE e.active AND (%(township)s::int IS NULL OR c.township_id = %(township)s)
  AND (%(community)s::int IS NULL OR c.id = %(community)s)
"""


def create_plan(conn: psycopg.Connection, plan: PlanInput, actor: str, now: datetime, timezone: str) -> int:
    """Record the plan and draw its checks; a second plan for the same period and place is refused."""
    start, end = period_bounds(plan.period, plan.period_start)
    previous, _ = period_bounds(plan.period, start - timedelta(days=1))
    seed = plan.seed if plan.seed is not None else secrets.randbelow(2**62)
    row = conn.execute(
        """
        INSERT INTO spot_check_plan (period, period_start, level, township_id, community_id, elder_calls,
                                     home_visits, liaison_calls, seed, created_by, created_at)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT DO NOTHING RETURNING id
        """,
        (
            plan.period,
            start,
            plan.level,
            plan.township_id,
            plan.community_id,
            plan.elder_calls,
            plan.home_visits,
            plan.liaison_calls,
            seed,
            actor,
            now,
        ),
    ).fetchone()
    if row is None:
        said = {
            "week": N_("there is a %(level)s plan for the week of %(start)s already"),
            "month": N_("there is a %(level)s plan for the month of %(start)s already"),
        }
        raise CheckRefused(Message.of(said[plan.period], level=Coded("check_level", plan.level), start=start))
    plan_id = int(row[0])
    with conn.cursor(row_factory=class_row(Candidate)) as cur:
        candidates = cur.execute(
            _CANDIDATES,
            {
                "since": previous,
                "until": end,
                "tz": timezone,
                "flag_since": now - timedelta(days=90),
                "township": plan.township_id,
                "community": plan.community_id,
            },
        ).fetchall()
    excluded = frozenset(
        int(e)
        for (e,) in conn.execute(
            "SELECT elder_id FROM spot_check WHERE period = %s AND period_start = %s", (plan.period, start)
        ).fetchall()
    )
    quotas = {"elder_call": plan.elder_calls, "home_visit": plan.home_visits, "liaison_call": plan.liaison_calls}
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO spot_check (plan_id, period, period_start, kind, elder_id, order_id, provider_id) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    plan_id,
                    plan.period,
                    start,
                    d.kind,
                    d.candidate.elder_id,
                    d.candidate.order_id,
                    d.candidate.provider_id,
                )
                for d in draw(candidates, quotas, seed, excluded)
            ],
        )
    audit.record(
        conn,
        actor,
        "spot_check.plan",
        "spot_check_plan",
        plan_id,
        {"seed": seed, "period": plan.period, "start": start.isoformat()},
    )
    return plan_id


class CheckRecord(BaseModel):
    """What the checker found; a finding is any of: not delivered, a fee asked, late, rude, unsafe."""

    reached: bool
    delivered: Literal["yes", "no", "partly"] | None = None
    punctual: bool | None = None
    attitude: Literal["good", "fair", "rude"] | None = None
    fee_asked_fen: int = Field(0, ge=0, le=100_000_000, description="money the elder was asked for, in fen")
    satisfaction: int | None = Field(None, ge=1, le=5)
    unsafe: bool = False
    note: str = Field("", max_length=2000)

    def findings(self) -> list[str]:
        if not self.reached:
            return []
        found = []
        if self.delivered == "no":
            found.append("not_delivered")
        if self.fee_asked_fen > 0:
            found.append("illegal_charge")
        if self.punctual is False:
            found.append("late")
        if self.attitude == "rude":
            found.append("rude")
        if self.unsafe:
            found.append("unsafe")
        return found


def record_check(
    conn: psycopg.Connection, check_id: int, record: CheckRecord, actor: str, now: datetime, deadline_days: int = 7
) -> list[int]:
    """Fill in a check once; each finding opens a rectification due in ``deadline_days``. Their ids."""
    row = conn.execute(
        """
        UPDATE spot_check SET checked_at = %s, checked_by = %s, reached = %s, delivered = %s, punctual = %s,
               attitude = %s, fee_asked_fen = %s, satisfaction = %s, unsafe = %s, note = %s
        WHERE id = %s AND checked_at IS NULL RETURNING provider_id, elder_id
        """,
        (
            now,
            actor,
            record.reached,
            record.delivered,
            record.punctual,
            record.attitude,
            record.fee_asked_fen,
            record.satisfaction,
            record.unsafe,
            record.note,
            check_id,
        ),
    ).fetchone()
    if row is None:
        exists = conn.execute("SELECT 1 FROM spot_check WHERE id = %s", (check_id,)).fetchone()
        if exists is None:
            raise NoSuchRecord(Message.of(N_("no spot check with id %(id)s"), id=check_id))
        raise CheckRefused(
            Message.of(N_("spot check %(id)s is recorded already; a record is not overwritten"), id=check_id)
        )
    provider_id, elder_id = row
    opened = []
    if provider_id is not None:
        for finding in record.findings():
            rect = conn.execute(
                "INSERT INTO rectification (provider_id, elder_id, check_id, finding, opened_at, deadline) "
                "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                (provider_id, elder_id, check_id, finding, now, now + timedelta(days=deadline_days)),
            ).fetchone()
            assert rect is not None
            opened.append(int(rect[0]))
    audit.record(conn, actor, "spot_check.record", "spot_check", check_id, {"findings": record.findings()})
    return opened


def add_photo(conn: psycopg.Connection, check_id: int, media_type: str, content: bytes) -> int:
    """Keep a photo of a home visit (JPEG, PNG or WebP, at most 960 KiB)."""
    if media_type not in PHOTO_TYPES:
        if not media_type:
            raise CheckRefused(Message.of(N_("a photo is JPEG, PNG or WebP; this file's type is not known")))
        raise CheckRefused(Message.of(N_("a photo is JPEG, PNG or WebP, not %(type)s"), type=media_type))
    if not 0 < len(content) <= MAX_PHOTO_BYTES:
        raise CheckRefused(
            Message.of(
                N_("a photo has 1 byte to %(most)s KiB, not %(size)s bytes"),
                most=MAX_PHOTO_BYTES // 1024,
                size=len(content),
            )
        )
    kind = conn.execute("SELECT kind FROM spot_check WHERE id = %s", (check_id,)).fetchone()
    if kind is None:
        raise NoSuchRecord(Message.of(N_("no spot check with id %(id)s"), id=check_id))
    if kind[0] != "home_visit":
        raise CheckRefused(Message.of(N_("photos go with home visits only")))
    row = conn.execute(
        "INSERT INTO spot_check_photo (check_id, media_type, content) VALUES (%s, %s, %s) RETURNING id",
        (check_id, media_type, content),
    ).fetchone()
    assert row is not None
    return int(row[0])


def answer_rectification(conn: psycopg.Connection, rect_id: int, answer: str, actor: str, now: datetime) -> None:
    """The provider's answer, which closes the rectification (late, if past its deadline: the circular says so)."""
    if not answer.strip():
        raise CheckRefused(Message.of(N_("the answer says what the provider did; it cannot be empty")))
    row = conn.execute(
        "UPDATE rectification SET answer = %s, closed_at = %s, closed_by = %s WHERE id = %s AND closed_at IS NULL "
        "RETURNING alarm_id",
        (answer.strip()[:2000], now, actor, rect_id),
    ).fetchone()
    if row is None:
        if conn.execute("SELECT 1 FROM rectification WHERE id = %s", (rect_id,)).fetchone() is None:
            raise NoSuchRecord(Message.of(N_("no rectification with id %(id)s"), id=rect_id))
        raise CheckRefused(Message.of(N_("rectification %(id)s is closed already"), id=rect_id))
    audit.record(conn, actor, "rectification.close", "rectification", rect_id, {"answer": answer.strip()[:200]})


def raise_overdue(conn: psycopg.Connection, now: datetime, limit: int = 100) -> int:
    """Raise an alarm for each rectification open past its deadline (once each); how many were raised."""
    due = conn.execute(
        "SELECT r.id, r.elder_id, r.deadline, r.finding, p.code FROM rectification r "
        "JOIN provider p ON p.id = r.provider_id "
        "WHERE r.closed_at IS NULL AND r.alarm_id IS NULL AND r.deadline <= %s ORDER BY r.deadline LIMIT %s "
        "FOR UPDATE OF r SKIP LOCKED",
        (now, limit),
    ).fetchall()
    for rect_id, elder_id, deadline, finding, provider in due:
        raised = raise_alarm(
            conn,
            AlarmRaise(
                elder_id,
                None,
                AlarmType.RECTIFICATION_OVERDUE,
                deadline,
                now,
                details={"rectification_id": rect_id, "finding": finding, "provider": provider},
            ),
        )
        if raised is not None:
            conn.execute("UPDATE rectification SET alarm_id = %s WHERE id = %s", (raised.id, rect_id))
    return len(due)
