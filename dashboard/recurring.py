"""Recurring services (a meal every day at 11:00, cleaning every Friday): the plans the scheduler turns into orders."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row
from pydantic import BaseModel, Field, StringConstraints, field_validator

import dispatcher
from dashboard.errors import Invalid, NotFound
from eldercare import audit
from eldercare.clock import FIRST_DAY, LAST_DAY
from eldercare.i18n import N_
from eldercare.labels import Listed, Message
from eldercare.roster import Strict

# minute hour day-of-month month day-of-week, as APScheduler's CronTrigger.from_crontab reads them
CRON_FIELD = r"[0-9A-Za-z*/,-]+"
Schedule = Annotated[
    str, StringConstraints(pattern=rf"^{CRON_FIELD} {CRON_FIELD} {CRON_FIELD} {CRON_FIELD} {CRON_FIELD}$")
]


# A service's visits at least this far apart: three meals a day fit; a visit every minute (which the planner would
# have to route by the thousand) does not.
SHORTEST_GAP = timedelta(hours=2)


def checked_schedule(value: str) -> str:
    """The schedule if APScheduler can read it (as the dispatcher's scheduler will), it comes round at all, and its
    visits are ``SHORTEST_GAP`` apart or more; else a clear error."""
    from apscheduler.triggers.cron import CronTrigger

    try:
        trigger = CronTrigger.from_crontab(value, timezone=UTC)
    except ValueError as err:
        raise ValueError(
            Message.of(N_("not a crontab schedule (%(error)s); write e.g. '0 11 * * *'"), error=err)
        ) from None
    start = datetime.now(UTC)
    previous = trigger.get_next_fire_time(None, start)
    if previous is None:
        raise ValueError(Message.of(N_("the schedule %(schedule)r never comes round (a 31 February?)"), schedule=value))
    while previous < start + timedelta(days=8):  # a week and a day: every weekday's visits, and the gap between weeks
        following = trigger.get_next_fire_time(previous, previous)
        if following is None:
            break
        if following - previous < SHORTEST_GAP:
            raise ValueError(
                Message.of(
                    N_("the schedule %(schedule)r has visits under %(hours)s hours apart; no service comes so often"),
                    schedule=value,
                    hours=int(SHORTEST_GAP.total_seconds() // 3600),
                )
            )
        previous = following
    return value


class RecurringService(BaseModel):
    id: int
    elder_id: int
    elder_name: str
    service_type: str
    schedule: str
    duration_min: int
    lead_min: int
    preferred_caregiver_id: int | None
    notes: str
    starts_on: date
    ends_on: date | None
    active: bool
    created_at: datetime


class RecurringCreate(Strict):
    elder_id: int = Field(ge=1)
    service_type: Annotated[str, StringConstraints(pattern=r"^(meal|cleaning|bathing|medical|mobility|care)$")]
    schedule: Schedule = Field(description="crontab fields in local time, e.g. '0 11 * * *' or '0 9 * * fri'")
    duration_min: int = Field(60, ge=5, le=720)
    lead_min: int = Field(60, ge=0, le=1440)
    preferred_caregiver_id: int | None = Field(None, ge=1)
    notes: str = Field("", max_length=500)
    starts_on: date | None = Field(None, ge=FIRST_DAY, le=LAST_DAY)
    ends_on: date | None = Field(None, ge=FIRST_DAY, le=LAST_DAY)

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        return checked_schedule(value)


class RecurringUpdate(Strict):
    schedule: Schedule | None = None
    duration_min: int | None = Field(None, ge=5, le=720)
    lead_min: int | None = Field(None, ge=0, le=1440)
    notes: str | None = Field(None, max_length=500)
    ends_on: date | None = Field(None, ge=FIRST_DAY, le=LAST_DAY)
    active: bool | None = None

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        return None if value is None else checked_schedule(value)


SELECT = """
SELECT r.id, r.elder_id, e.name AS elder_name, r.service_type, r.schedule, r.duration_min, r.lead_min,
       r.preferred_caregiver_id, r.notes, r.starts_on, r.ends_on, r.active, r.created_at
FROM recurring_service r JOIN elder e ON e.id = r.elder_id
"""


def list_recurring(
    conn: psycopg.Connection, elder_id: int | None, limit: int, offset: int
) -> tuple[list[RecurringService], int]:
    where, params = (" WHERE r.elder_id = %s", [elder_id]) if elder_id is not None else ("", [])
    total = conn.execute(f"SELECT count(*) FROM recurring_service r{where}", params).fetchone()  # noqa: S608
    with conn.cursor(row_factory=class_row(RecurringService)) as cur:
        rows = cur.execute(f"{SELECT}{where} ORDER BY r.id LIMIT %s OFFSET %s", [*params, limit, offset]).fetchall()
    return rows, int(total[0]) if total else 0


def get_recurring(conn: psycopg.Connection, recurring_id: int) -> RecurringService:
    with conn.cursor(row_factory=class_row(RecurringService)) as cur:
        row = cur.execute(f"{SELECT} WHERE r.id = %s", (recurring_id,)).fetchone()
    if row is None:
        raise NotFound(Message.of(N_("no recurring service with id %(id)s"), id=recurring_id))
    return row


def _check_preferred(conn: psycopg.Connection, caregiver_id: int, elder_id: int, service: str) -> None:
    """A preferred caregiver the dispatcher could never give the service to (inactive, of a provider inactive or
    black-listed, without the skill, or whose provider does not sell it or serve the elder's community) is refused
    with what rules them out: the preference would stand on the record and never be met."""
    found = dispatcher.lasting_reasons(conn, caregiver_id, elder_id, service)
    if found is None:
        raise NotFound(Message.of(N_("no caregiver with id %(id)s"), id=caregiver_id))
    code, reasons = found
    if reasons:
        raise Invalid(
            Message.of(
                N_("caregiver %(caregiver)s cannot be preferred for this service: %(reasons)s"),
                caregiver=code,
                reasons=Listed(tuple(r.message for r in reasons), N_("; ")),
            )
        )


def create_recurring(conn: psycopg.Connection, data: RecurringCreate, actor: str, today: date) -> RecurringService:
    elder = conn.execute("SELECT active FROM elder WHERE id = %s", (data.elder_id,)).fetchone()
    if elder is None:
        raise NotFound(Message.of(N_("no elder with id %(id)s"), id=data.elder_id))
    if not elder[0]:  # its orders would be refused, each time it came round
        raise Invalid(
            Message.of(N_("elder %(id)s is inactive; reactivate the elder before ordering services"), id=data.elder_id)
        )
    if data.preferred_caregiver_id is not None:
        _check_preferred(conn, data.preferred_caregiver_id, data.elder_id, data.service_type)
    starts_on = data.starts_on or today
    if data.ends_on is not None and data.ends_on < starts_on:
        raise Invalid(Message.of(N_("ends_on must not be before starts_on")))
    row = conn.execute(
        "INSERT INTO recurring_service (elder_id, service_type, schedule, duration_min, lead_min, "
        "preferred_caregiver_id, notes, starts_on, ends_on) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (
            data.elder_id,
            data.service_type,
            data.schedule,
            data.duration_min,
            data.lead_min,
            data.preferred_caregiver_id,
            data.notes,
            starts_on,
            data.ends_on,
        ),
    ).fetchone()
    assert row is not None
    audit.record(conn, actor, "recurring.create", "recurring_service", row[0], data.model_dump(mode="json"))
    return get_recurring(conn, row[0])


def update_recurring(
    conn: psycopg.Connection, recurring_id: int, data: RecurringUpdate, actor: str
) -> RecurringService:
    current = get_recurring(conn, recurring_id)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True, exclude_none=True)
    if data.ends_on is not None and data.ends_on < current.starts_on:
        raise Invalid(Message.of(N_("ends_on must not be before starts_on")))
    if changes:
        assignments = sql.SQL(", ").join(
            sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder()) for k in changes
        )
        conn.execute(
            sql.SQL("UPDATE recurring_service SET {} WHERE id = %s").format(assignments),
            [*changes.values(), recurring_id],
        )
    audit.record(
        conn,
        actor,
        "recurring.update",
        "recurring_service",
        recurring_id,
        data.model_dump(mode="json", exclude_unset=True),
    )
    return get_recurring(conn, recurring_id)
