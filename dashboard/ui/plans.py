"""The plan board: a day's plan per caregiver along the day, the visits nobody could take and why, pins to a
caregiver, and the plan's figures; operators and admins pin visits and plan the day again. An account limited to
an area sees its elders' visits and the caregivers who bring them, read only (``plan_in_force``)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import psycopg
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from dashboard.api.insights import local_today
from dashboard.api.plans import Plan, PlannedVisit, plan_in_force
from dashboard.auth import Permission, Reader
from dashboard.runtime import Pool, RuntimeDep
from dashboard.scope import area_filtered
from dashboard.ui.rendering import render
from dispatcher import planning
from eldercare.clock import FIRST_DAY, LAST_DAY
from eldercare.labels import Message
from eldercare.vocabulary import ServiceType

router = APIRouter()

# the board's time axis, local hours (even, for a tick every two hours); widened for a visit outside it
FIRST_HOUR, LAST_HOUR = 6, 22


@dataclass(frozen=True, slots=True)
class Axis:
    """The board's hours: from ``first`` to ``last`` o'clock, local time, on ``day``."""

    opening: datetime
    first: int
    last: int

    @property
    def minutes(self) -> int:
        return (self.last - self.first) * 60

    def place(self, start: datetime, minutes: int) -> tuple[float, float]:
        """Left edge and width of a visit on the axis, in percent, clipped to the axis."""
        begin = (start - self.opening).total_seconds() / 60
        left = min(max(begin, 0.0), self.minutes)
        right = min(max(begin + minutes, left), self.minutes)
        return round(100 * left / self.minutes, 2), round(100 * (right - left) / self.minutes, 2)

    @property
    def ticks(self) -> list[tuple[str, float]]:
        """Every other hour's label and its place in percent."""
        return [
            (f"{h:02d}:00", round(100 * (h - self.first) / (self.last - self.first), 3))
            for h in range(self.first, self.last + 1, 2)
        ]


def axis(plan: Plan | None, day: date, zone: ZoneInfo) -> Axis:
    """The day's axis: 06:00 to 22:00, or wider to hold every planned visit."""
    first, last = FIRST_HOUR, LAST_HOUR
    for v in plan.visits if plan else []:
        if v.planned_start is not None:
            start = v.planned_start.astimezone(zone)
            end = start + timedelta(minutes=v.duration_min)
            first = min(first, start.hour - start.hour % 2)
            ends = end.hour + (1 if end.minute or end.second else 0) if end.date() == start.date() else 24
            last = max(last, min(24, ends + ends % 2))
    return Axis(datetime.combine(day, time(first), tzinfo=zone), first, last)


@dataclass(frozen=True, slots=True)
class Box:
    """A planned visit on the board: where it starts and how long it lasts, in percent of the axis."""

    visit: PlannedVisit
    elder: str
    left: float
    width: float


@dataclass(slots=True)
class Row:
    """One caregiver's planned day: their visits, km and busy minutes, told and confirmed."""

    caregiver_id: int
    name: str
    code: str
    km: float
    busy_minutes: float
    told: datetime | None
    confirmed: datetime | None
    boxes: list[Box] = field(default_factory=list)


# why a plan leaves to nobody a visit whose order a caregiver holds: they serve it late, or past their shift
HELD = frozenset({"held_late", "held_past_shift"})

_NAMES = {
    "caregiver": "SELECT id, name, code FROM caregiver WHERE id = ANY(%s)",
    "elder": "SELECT id, name, '' FROM elder WHERE id = ANY(%s)",
}


def _names(conn: psycopg.Connection, table: str, ids: set[int]) -> dict[int, tuple[str, str]]:
    """Names (and codes) of caregivers or elders by id."""
    rows = conn.execute(_NAMES[table], (sorted(ids),)).fetchall()
    return {int(i): (name, c) for i, name, c in rows}


def hours(rows: list[Row]) -> dict[str, float] | None:
    """Hours per caregiver of the plan: fewest, median, most."""
    busy = sorted(r.busy_minutes / 60 for r in rows)
    if not busy:
        return None
    return {"min": busy[0], "median": statistics.median(busy), "max": busy[-1]}


# the reasons whose sentence the board shows under the label, for what the operator can act on: which caregiver
# is overbooked and with how many visits, the hours nobody works or is free, when a window ended (the others' label
# says it all; a held visit's holder is named beside it)
PARTICULAR = frozenset({"overbooked", "off_shift", "busy", "window_past"})


@dataclass(frozen=True, slots=True)
class Board:
    """A plan as the page shows it: rows per caregiver (in name order), the visits nobody could take (with who holds
    one late), and each visit's elder by name."""

    rows: list[Row]
    unassigned: list[PlannedVisit]
    elder_of: dict[int, str]
    # the caregiver who holds an unassigned visit's order and serves it late or past their shift (``HELD``), by visit
    holder_of: dict[int, str] = field(default_factory=dict)
    # why nobody, with its particulars, by visit (the reasons of ``PARTICULAR``)
    particulars: dict[int, Message] = field(default_factory=dict)


def board(conn: psycopg.Connection, plan: Plan, along: Axis) -> Board:
    routes = conn.execute(
        "SELECT caregiver_id, km, busy_minutes, told_at, confirmed_at FROM plan_route WHERE plan_id = %s",
        (plan.id,),
    ).fetchall()
    caregivers = _names(conn, "caregiver", {r[0] for r in routes} | {v.pinned_to for v in plan.visits if v.pinned_to})
    elders = _names(conn, "elder", {v.elder_id for v in plan.visits})
    rows = {
        cid: Row(cid, *caregivers[cid], float(km), float(busy), told, confirmed)
        for cid, km, busy, told, confirmed in routes
    }
    unassigned = []
    elder_of = {}
    for visit in plan.visits:
        elder = elder_of[visit.id] = elders[visit.elder_id][0]
        if visit.caregiver_id is None or visit.planned_start is None:
            unassigned.append(visit)
            continue
        row = rows.get(visit.caregiver_id)
        if row is None:  # a route the plan does not list: shown all the same
            row = rows[visit.caregiver_id] = Row(
                visit.caregiver_id, *caregivers.get(visit.caregiver_id, ("", "")), 0.0, 0.0, None, None
            )
        row.boxes.append(Box(visit, elder, *along.place(visit.planned_start, visit.duration_min)))
    late = {v.order_id: v.id for v in unassigned if v.unassigned_reason in HELD and v.order_id is not None}
    holders = (
        conn.execute(
            "SELECT o.id, c.name FROM service_order o JOIN caregiver c ON c.id = o.caregiver_id WHERE o.id = ANY(%s)",
            (sorted(late),),
        ).fetchall()
        if late
        else []
    )
    holder_of = {late[order_id]: name for order_id, name in holders}
    particulars = {
        int(visit_id): Message.from_stored(stored)
        for visit_id, stored in conn.execute(
            "SELECT id, unassigned_message FROM plan_visit WHERE plan_id = %s AND unassigned_reason = ANY(%s) "
            "AND unassigned_message IS NOT NULL",
            (plan.id, sorted(PARTICULAR)),
        )
    }
    rows_in_order = sorted(rows.values(), key=lambda r: (r.name, r.caregiver_id))
    return Board(rows_in_order, unassigned, elder_of, holder_of, particulars)


@dataclass(frozen=True, slots=True)
class Shown:
    """What part of a plan the page shows: one service, caregivers whose name or code has ``who`` (all when
    empty)."""

    service: ServiceType | None = None
    who: str = ""

    def theirs(self, row: Row) -> bool:
        who = self.who.strip().casefold()
        return not who or who in row.name.casefold() or who in row.code.casefold()

    def of_service(self, visit: PlannedVisit) -> bool:
        return self.service is None or visit.service_type == self.service

    def narrowed(self, whole: Board, visits: list[PlannedVisit]) -> tuple[Board, list[PlannedVisit]]:
        """The board and the plan's visits (for pins) kept to this part: a caregiver's row with their visits of
        the service (rows left empty by the service dropped); the visits nobody could take, of the service; the
        visits to pin, of the service and, when caregivers are named, on those caregivers' routes or pinned to
        them."""
        rows = []
        for row in filter(self.theirs, whole.rows):
            boxes = [b for b in row.boxes if self.of_service(b.visit)]
            if boxes or self.service is None:
                rows.append(replace(row, boxes=boxes))
        kept = {row.caregiver_id for row in rows}
        named = bool(self.who.strip())
        pins = [
            v for v in visits if self.of_service(v) and (not named or v.caregiver_id in kept or v.pinned_to in kept)
        ]
        unassigned = [v for v in whole.unassigned if self.of_service(v)]
        return Board(rows, unassigned, whole.elder_of, whole.holder_of, whole.particulars), pins


@router.get("/plans", response_class=HTMLResponse)
@area_filtered
def plan_page(
    request: Request,
    principal: Reader,
    pool: Pool,
    runtime: RuntimeDep,
    day: Annotated[
        date | None,
        Query(ge=FIRST_DAY, le=LAST_DAY, description="the local day whose plan to show; tomorrow's or today's"),
    ] = None,
    service: Annotated[ServiceType | None, Query(description="show only visits of this service")] = None,
    who: Annotated[str, Query(max_length=64, description="show only caregivers whose name or code has this")] = "",
) -> HTMLResponse:
    today = local_today(runtime)
    zone = runtime.dispatch.timezone
    area = principal.area
    can_pin = principal.may(Permission.ACT) and area is None  # pins and plans change the whole city's routes
    with pool.connection() as conn:
        if day is None:  # tomorrow's plan once made (the evening run), else today's
            tomorrow = today + timedelta(days=1)
            day = tomorrow if plan_in_force(conn, tomorrow) or not plan_in_force(conn, today) else today
        plan = plan_in_force(conn, day, area)
        along = axis(plan, day, zone)
        part = Shown(service, who)
        whole = board(conn, plan, along) if plan else Board([], [], {})
        if area is not None:  # the caregivers who bring the area's visits
            whole = replace(whole, rows=[row for row in whole.rows if row.boxes])
        shown, pins = part.narrowed(whole, plan.visits if plan else [])
        choices: dict[int, list[tuple[int, str, str]]] = {}
        if plan and can_pin:
            may = planning.pin_choices(conn, day, runtime.dispatch)
            everyone = _names(conn, "caregiver", {c for ids in may.values() for c in ids})
            for visit in plan.visits:
                choices[visit.id] = sorted(
                    ((c, *everyone[c]) for c in may.get(visit.key, [])), key=lambda choice: (choice[1], choice[0])
                )
    figures: dict[str, Any] = plan.figures if plan else {}
    return render(
        request,
        "plans.html",
        principal,
        day=day,
        today=today,
        previous=day - timedelta(days=1),
        following=day + timedelta(days=1),
        plan=plan,
        rows=shown.rows,
        unassigned=shown.unassigned,
        elder_of=shown.elder_of,
        holder_of=shown.holder_of,
        particulars=shown.particulars,
        choices=choices,
        figures=figures,
        hours=hours(whole.rows),
        part=part,
        kept=urlencode({k: v for k, v in (("service", service or ""), ("who", who.strip())) if v}),
        pins=pins,
        everyone=len(whole.rows),
        services=list(ServiceType),
        ticks=along.ticks,
        can_pin=can_pin,
        limited=area is not None,  # its elders' part of the plan, without the whole city's figures
        can_plan=can_pin and planning.plannable(day, today) is None,
    )
