"""Keeping a plan: the plan in force for a day, each visit with its caregiver or its reason, each caregiver's
route; and turning planned visits into orders held by the planned caregiver (the ordinary order lifecycle)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

import psycopg
from psycopg.types.json import Jsonb

from dispatcher import texts
from dispatcher.lifecycle import Actor, OrderRow, load_order, transition
from dispatcher.offers import offer_next
from dispatcher.orders import take_back, tell_withdrawn
from dispatcher.planning.problem import Problem
from dispatcher.planning.solve import Solution, gini
from dispatcher.settings import Config
from eldercare import audit
from eldercare.clock import Clock
from eldercare.i18n import N_
from eldercare.vocabulary import LIVE_OFFER, OrderStatus

log = logging.getLogger(__name__)

PLAN_LOCK = 0x706C616E  # "plan": with the day's ordinal, the transaction lock of making that day's plan


@dataclass(frozen=True, slots=True)
class Route:
    """One caregiver's planned day."""

    caregiver_id: int
    visits: int
    km: float
    busy_minutes: float


def routes(problem: Problem, solution: Solution) -> list[Route]:
    """Per caregiver: visits, km (home and back) and busy minutes (travel, there, to kitchens and home, and time
    on site and at kitchens)."""
    found: dict[int, list[float]] = {}
    busy = solution.busy_minutes()
    for w, visits in solution.routes().items():
        km_home = solution.home.get(w, (0.0, 0))[0]
        stops = [solution.stops[v] for v in visits] + [solution.pickups[v] for v in visits if v in solution.pickups]
        totals = found.setdefault(problem.workers[w].caregiver_id, [0, 0.0, 0.0])
        totals[0] += len(visits)
        totals[1] += sum(s.km for s in stops) + km_home
        totals[2] += busy[w]
    return [Route(cid, int(t[0]), round(t[1], 3), round(t[2], 1)) for cid, t in sorted(found.items())]


def figures(problem: Problem, solution: Solution, load_seconds: float) -> dict[str, object]:
    """The plan's figures, as operators read them: visits served, km, hours per caregiver and their spread."""
    planned = routes(problem, solution)
    working = sorted({w.caregiver_id for w in problem.workers})
    minutes = {r.caregiver_id: r.busy_minutes for r in planned}
    km = sum(r.km for r in planned)
    assigned = len(solution.stops)
    reasons: dict[str, int] = {}
    for reason in solution.unassigned.values():
        reasons[reason.code] = reasons.get(reason.code, 0) + 1
    batches = len({(p.worker, p.start_s) for p in solution.pickups.values()})
    return {
        "visits": len(problem.visits),
        "assigned": assigned,
        "unassigned": len(solution.unassigned),
        "unassigned_reasons": reasons,
        "assigned_share": round(assigned / len(problem.visits), 4) if problem.visits else None,
        "km": round(km, 1),
        "km_per_visit": round(km / assigned, 3) if assigned else None,
        "caregivers_on_shift": len(working),
        "caregivers_used": len(planned),
        "busy_minutes_gini": round(gini([minutes.get(c, 0.0) for c in working]), 3),
        "with_regular": sum(
            1 for v, s in solution.stops.items() if problem.workers[s.worker].caregiver_id in problem.visits[v].regulars
        ),
        "batches": batches,
        "meals_per_batch": round(len(solution.pickups) / batches, 2) if batches else None,
        "solver_seconds": round(solution.seconds, 3),
        "spread_seconds": round(solution.spread_seconds, 3),
        "load_seconds": round(load_seconds, 3),
    }


_VISIT = """
INSERT INTO plan_visit (plan_id, elder_id, service_type, recurring_service_id, occurrence_at, order_id,
    window_start, window_end, duration_min, caregiver_id, sequence, planned_start, travel_km,
    unassigned_reason, unassigned_detail, unassigned_message, kitchen_provider_id, pickup_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
"""


def save(
    conn: psycopg.Connection,
    clock: Clock,
    problem: Problem,
    solution: Solution,
    *,
    made_by: str,
    load_seconds: float,
) -> int:
    """Store the plan as the day's plan in force (the one before is superseded); returns its id."""
    now = clock.now()
    # one plan of a day is made at a time: a second waits, then supersedes the first
    conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (PLAN_LOCK, problem.day.toordinal()))
    conn.execute("UPDATE plan SET superseded_at = %s WHERE day = %s AND superseded_at IS NULL", (now, problem.day))
    numbers = figures(problem, solution, load_seconds)
    row = conn.execute(
        "INSERT INTO plan (day, made_at, made_by, solver, timed_out, solver_seconds, load_seconds, figures) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (
            problem.day,
            now,
            made_by,
            solution.solver,
            solution.timed_out,
            solution.seconds,
            load_seconds,
            Jsonb(numbers),
        ),
    ).fetchone()
    assert row is not None
    plan_id = int(row[0])
    rows = []
    for index, visit in enumerate(problem.visits):
        stop = solution.stops.get(index)
        pickup = solution.pickups.get(index)
        reason = solution.unassigned.get(index)
        rows.append(
            (
                plan_id,
                visit.elder_id,
                visit.service_type,
                visit.recurring_service_id,
                visit.occurrence_at,
                visit.order_id,
                visit.window_start,
                visit.window_end,
                visit.duration_min,
                problem.workers[stop.worker].caregiver_id if stop else None,
                stop.sequence if stop else None,  # numbered through the caregiver's day below
                problem.at(stop.start_s) if stop else None,
                round(stop.km, 3) if stop else None,
                reason.code if reason else None,
                reason.detail if reason else None,
                Jsonb(reason.message.stored()) if reason else None,
                visit.kitchen.provider_id if visit.kitchen else None,
                problem.at(pickup.start_s) if pickup else None,
            )
        )
    with conn.cursor() as cur:
        cur.executemany(_VISIT, rows)
    conn.execute(
        "UPDATE plan_visit pv SET sequence = n.sequence FROM ("
        "  SELECT id, row_number() OVER (PARTITION BY caregiver_id ORDER BY planned_start, id) AS sequence"
        "  FROM plan_visit WHERE plan_id = %s AND caregiver_id IS NOT NULL) n WHERE pv.id = n.id",
        (plan_id,),
    )
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO plan_route (plan_id, caregiver_id, visits, km, busy_minutes) VALUES (%s, %s, %s, %s, %s)",
            [(plan_id, r.caregiver_id, r.visits, r.km, r.busy_minutes) for r in routes(problem, solution)],
        )
    audit.record(conn, made_by, "plan.make", "plan", plan_id, {"day": problem.day.isoformat(), **numbers})
    return plan_id


# why the plan moved an order, as its timeline says it: sentences of the catalogue (the order page reads them in
# the operator's language); the caregiver and the visit's place in their day are in the event's details
PLANNED = N_("planned for a caregiver by the day's plan")
PLANNED_AGAIN = N_("taken off its caregiver's day: the day was planned again, for another caregiver")
# why the plan gave a held order up, by the rule its caregiver breaks (``Problem.given_up``)
GIVEN_UP = {
    "absent": N_("taken off its caregiver's day: they are away that day"),
    "off_shift": N_("taken off its caregiver's day: they do not work during its window that day"),
    "busy": N_("taken off its caregiver's day: they are busy with visits under way until its window ends"),
    "inactive": N_("taken off its caregiver's day: they or their provider may not take orders now"),
    "provider_black": N_("taken off its caregiver's day: they or their provider may not take orders now"),
    "no_skill": N_("taken off its caregiver's day: they may no longer serve it (skill or area)"),
    "outside_area": N_("taken off its caregiver's day: they may no longer serve it (skill or area)"),
    "pinned": N_("taken off its caregiver's day: an operator pinned it to another caregiver"),
}
GIVEN_UP_OTHERWISE = N_("taken off its caregiver's day: they may not keep it that day")
RELEASED = N_("released by the plan: offered as any booked order")


def assign_planned(
    conn: psycopg.Connection,
    clock: Clock,
    config: Config,
    order_id: int,
    caregiver_id: int,
    sequence: int | None,
    start: datetime | None,
) -> bool:
    """Hand an order to its planned caregiver, as if they had accepted it: one nobody holds, or one the plan has
    moved from the caregiver who held it and had not set off (they are told it was taken off their day). False
    when it is under way, over, or on someone's phone as an offer (the plan then leaves it to the ordinary
    dispatch)."""
    order = load_order(conn, order_id, lock=True)
    if order.caregiver_id == caregiver_id:
        return False
    previous = order.caregiver_id if order.state is OrderStatus.ACCEPTED else None
    free = order.caregiver_id is None and order.state in (OrderStatus.CREATED, OrderStatus.ESCALATED)
    if previous is None and not free:
        return False
    live = conn.execute(
        "SELECT 1 FROM offer WHERE order_id = %s AND status = ANY(%s)", (order_id, [s.value for s in LIVE_OFFER])
    )
    if live.fetchone():
        return False  # someone has it on their phone now: their answer decides
    row = conn.execute(
        "SELECT c.provider_id, c.code FROM caregiver c WHERE c.id = %s AND c.active", (caregiver_id,)
    ).fetchone()
    if row is None:
        return False
    if previous is not None:
        order = _take_back(conn, clock, config, order, PLANNED_AGAIN, to=row[1])
    transition(
        conn,
        clock,
        order,
        OrderStatus.ACCEPTED,
        actor_kind=Actor.SCHEDULER,
        actor="planner",
        reason=PLANNED,
        details={
            "planned": True,
            "caregiver": row[1],
            "visit": sequence,
            "starts": start.isoformat() if start else None,
        },
        action="planned",
        caregiver_id=caregiver_id,
        provider_id=row[0],
        accepted_at=clock.now(),
        arrival_due_at=order.window_end,
        accept_due_at=None,
        next_offer_at=None,
    )
    return True


def _take_back(
    conn: psycopg.Connection, clock: Clock, config: Config, order: OrderRow, why: str, **details: object
) -> OrderRow:
    """Take a held order (accepted, not set off for) from its caregiver for the plan, telling them."""
    previous = order.caregiver_id
    assert previous is not None
    order = take_back(
        conn,
        clock,
        order,
        actor_kind=Actor.SCHEDULER,
        actor="planner",
        reason=why,
        action="replanned",
        details={"previous": previous, **details},
    )
    tell_withdrawn(conn, clock, config, order, previous, texts.REASONS["replanned"])
    return order


def release_to_dispatch(
    conn: psycopg.Connection, clock: Clock, config: Config, orders: Iterable[tuple[int | None, str]]
) -> int:
    """Orders held by caregivers who may not keep them (away, off, busy past the window: the code of the rule, as
    ``Problem.given_up`` has it), which the plan could give to nobody else: taken back (their caregivers told, the
    timeline saying why) and offered as any booked order, or escalated to the operators when nobody may take them.
    Returns how many were released."""
    released = 0
    for order_id, why in orders:
        if order_id is None:
            continue
        order = load_order(conn, order_id, lock=True)
        if order.state is not OrderStatus.ACCEPTED or order.caregiver_id is None:
            continue
        order = _take_back(conn, clock, config, order, GIVEN_UP.get(why, GIVEN_UP_OTHERWISE))
        offer_next(conn, clock, config, order, actor_kind=Actor.SCHEDULER, actor="planner", why=RELEASED)
        released += 1
    return released


def apply_to_orders(conn: psycopg.Connection, clock: Clock, config: Config, plan_id: int) -> int:
    """Assign the plan's visits that are orders already (made before the plan) to their planned caregivers."""
    rows = conn.execute(
        "SELECT order_id, caregiver_id, sequence, planned_start FROM plan_visit "
        "WHERE plan_id = %s AND order_id IS NOT NULL AND caregiver_id IS NOT NULL ORDER BY order_id",
        (plan_id,),
    ).fetchall()
    return sum(
        assign_planned(conn, clock, config, order_id, caregiver_id, sequence, start)
        for order_id, caregiver_id, sequence, start in rows
    )


_COLLECT = """
UPDATE service_order o SET collected_at = %(now)s
FROM plan p
JOIN plan_visit mine ON mine.plan_id = p.id
JOIN plan_visit other ON other.plan_id = p.id AND other.caregiver_id = mine.caregiver_id
                     AND other.kitchen_provider_id = mine.kitchen_provider_id AND other.pickup_at = mine.pickup_at
WHERE p.superseded_at IS NULL
  AND mine.pickup_at IS NOT NULL AND mine.caregiver_id = %(caregiver)s
  AND (mine.order_id = %(order)s OR (mine.recurring_service_id, mine.occurrence_at) =
       (SELECT recurring_service_id, occurrence_at FROM service_order WHERE id = %(order)s))
  AND (o.id = other.order_id
       OR (o.recurring_service_id, o.occurrence_at) = (other.recurring_service_id, other.occurrence_at))
  AND o.caregiver_id = %(caregiver)s AND o.collected_at IS NULL
  AND o.status IN ('accepted', 'en_route')
"""


def collect_batch(conn: psycopg.Connection, clock: Clock, order_id: int, caregiver_id: int) -> int:
    """The caregiver set off for a meal the plan in force has them collect at a kitchen: they take every meal of
    that batch there (theirs, collected at that kitchen at the same time), which are carried from now on (a
    re-plan delivers them from where the caregiver is). Returns how many meals were marked."""
    marked = conn.execute(_COLLECT, {"now": clock.now(), "caregiver": caregiver_id, "order": order_id}).rowcount
    return max(0, marked)


def planned_caregiver(
    conn: psycopg.Connection, recurring_service_id: int, occurrence_at: datetime
) -> tuple[int, int, datetime] | None:
    """The caregiver the plan in force gives an occurrence: (caregiver, sequence, planned start), or None."""
    row = conn.execute(
        "SELECT pv.caregiver_id, pv.sequence, pv.planned_start FROM plan_visit pv JOIN plan p ON p.id = pv.plan_id "
        "WHERE p.superseded_at IS NULL AND pv.recurring_service_id = %s AND pv.occurrence_at = %s "
        "AND pv.caregiver_id IS NOT NULL",
        (recurring_service_id, occurrence_at),
    ).fetchone()
    return (int(row[0]), int(row[1]), row[2]) if row else None


VisitKey = tuple[int | None, datetime | None, int | None]


def operator_pins(conn: psycopg.Connection, plan_id: int) -> dict[VisitKey, int]:
    """The visits of a plan an operator pinned to a caregiver."""
    return {
        visit_key(rs_id, occurrence, order_id): cid
        for rs_id, occurrence, order_id, cid in conn.execute(
            "SELECT recurring_service_id, occurrence_at, order_id, pinned_to FROM plan_visit "
            "WHERE plan_id = %s AND pinned_to IS NOT NULL",
            (plan_id,),
        ).fetchall()
    }


def keep_pins(conn: psycopg.Connection, old_plan_id: int, new_plan_id: int) -> None:
    """The new plan of a day keeps the operators' pins of the plan it supersedes, visit by visit."""
    conn.execute(
        "UPDATE plan_visit new SET pinned_to = old.pinned_to FROM plan_visit old "
        "WHERE old.plan_id = %s AND new.plan_id = %s AND old.pinned_to IS NOT NULL "
        "AND (old.recurring_service_id, old.occurrence_at) IS NOT DISTINCT FROM "
        "    (new.recurring_service_id, new.occurrence_at) "
        "AND (old.recurring_service_id IS NOT NULL OR old.order_id = new.order_id)",
        (old_plan_id, new_plan_id),
    )


def pin(conn: psycopg.Connection, plan_visit_id: int, caregiver_id: int | None, *, actor: str) -> None:
    """Pin a visit of the plan in force to a caregiver (None: unpin); the next plan of its day respects it."""
    conn.execute("UPDATE plan_visit SET pinned_to = %s WHERE id = %s", (caregiver_id, plan_visit_id))
    audit.record(conn, actor, "plan.pin", "plan_visit", plan_visit_id, {"caregiver_id": caregiver_id})


def plan_in_force(conn: psycopg.Connection, day: date) -> int | None:
    row = conn.execute("SELECT id FROM plan WHERE day = %s AND superseded_at IS NULL", (day,)).fetchone()
    return int(row[0]) if row else None


@dataclass(slots=True)
class Previous:
    """The routes of the plan in force, for a re-plan: who had which visits in which order, told and confirmed."""

    plan_id: int
    routes: dict[int, list[VisitKey]]
    told: dict[int, datetime | None]
    confirmed: dict[int, datetime | None]
    starts: dict[VisitKey, datetime] = field(default_factory=dict)

    def pins(self) -> dict[VisitKey, int]:
        """The visits of confirmed routes, to stay with their caregiver."""
        return {key: cid for cid, keys in self.routes.items() if self.confirmed.get(cid) for key in keys}

    def kept_starts(self) -> dict[VisitKey, datetime]:
        """The planned starts of the visits of confirmed routes: their caregivers keep to them where they can."""
        return {key: self.starts[key] for key in self.pins() if key in self.starts}

    def unconfirmed(self) -> set[int]:
        """Caregivers told of their day who have not confirmed it."""
        return {cid for cid in self.routes if self.told.get(cid) and not self.confirmed.get(cid)}

    def carry_over(self, conn: psycopg.Connection, plan_id: int) -> None:
        """A route the new plan leaves as it was keeps its told and confirmed times: its caregiver is not told
        again."""
        now = _routes_of(conn, plan_id)
        for cid, keys in now.items():
            if self.routes.get(cid) == keys and self.told.get(cid):
                conn.execute(
                    "UPDATE plan_route SET told_at = %s, confirmed_at = %s WHERE plan_id = %s AND caregiver_id = %s",
                    (self.told[cid], self.confirmed.get(cid), plan_id, cid),
                )


def visit_key(rs_id: int | None, occurrence: datetime | None, order_id: int | None) -> VisitKey:
    """What names a ``plan_visit`` row across plans, as ``Visit.key`` names a visit of the problem: its occurrence,
    or its order."""
    return (rs_id, occurrence, None) if rs_id is not None else (None, None, order_id)


def _routes_of(conn: psycopg.Connection, plan_id: int) -> dict[int, list[VisitKey]]:
    routes: dict[int, list[VisitKey]] = {}
    for cid, rs_id, occurrence, order_id in conn.execute(
        "SELECT caregiver_id, recurring_service_id, occurrence_at, order_id FROM plan_visit "
        "WHERE plan_id = %s AND caregiver_id IS NOT NULL ORDER BY caregiver_id, sequence",
        (plan_id,),
    ).fetchall():
        routes.setdefault(cid, []).append(visit_key(rs_id, occurrence, order_id))
    return routes


def previous_routes(conn: psycopg.Connection, day: date) -> Previous | None:
    """The routes of the day's plan in force, or None when there is none."""
    plan_id = plan_in_force(conn, day)
    if plan_id is None:
        return None
    marks = conn.execute(
        "SELECT caregiver_id, told_at, confirmed_at FROM plan_route WHERE plan_id = %s", (plan_id,)
    ).fetchall()
    starts = {
        visit_key(rs_id, occurrence, order_id): start
        for rs_id, occurrence, order_id, start in conn.execute(
            "SELECT recurring_service_id, occurrence_at, order_id, planned_start FROM plan_visit "
            "WHERE plan_id = %s AND planned_start IS NOT NULL",
            (plan_id,),
        ).fetchall()
    }
    return Previous(
        plan_id, _routes_of(conn, plan_id), {c: t for c, t, _ in marks}, {c: k for c, _, k in marks}, starts
    )
