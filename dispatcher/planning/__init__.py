"""Planning a day's booked visits ahead as routes over the rostered caregivers (VROOM through pyvroom).

``plan_day`` reads the day's visits and caregivers, solves, stores the plan in force and hands the visits that
are orders already to their planned caregivers; a recurring occurrence's order goes to its planned caregiver
when the recurring scheduler makes it (``planned_caregiver``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import psycopg

from dispatcher.planning import problem as problems
from dispatcher.planning.confirm import confirm_day, tell_caregivers
from dispatcher.planning.solve import Passes, Solution, SolverSettings, solve, spread, steps_of
from dispatcher.planning.store import (
    Previous,
    VisitKey,
    apply_to_orders,
    figures,
    gini,
    keep_pins,
    operator_pins,
    pin,
    plan_in_force,
    planned_caregiver,
    previous_routes,
    release_to_dispatch,
    save,
)
from dispatcher.settings import Config
from eldercare.clock import Clock
from eldercare.i18n import N_
from eldercare.labels import Message

log = logging.getLogger(__name__)

__all__ = [
    "DAYS_AHEAD",
    "PlanOutcome",
    "Solution",
    "SolverSettings",
    "confirm_day",
    "gini",
    "pin",
    "pin_choices",
    "plan_day",
    "plan_next_day",
    "plannable",
    "planned_caregiver",
    "replan_at_cutoff",
    "replan_day",
    "replan_on_change",
    "solver_settings",
]


# a plan is made for a day soon to come (or today, re-planned), not for the past or a season ahead: the days the
# dashboard and `eldercare plan` plan
DAYS_AHEAD = 14


def plannable(day: date, today: date) -> Message | None:
    """Why no plan is made for ``day`` when it is ``today`` (a day past, or more than ``DAYS_AHEAD`` ahead), in
    the words the dashboard and ``eldercare plan`` both say; None: it may be planned."""
    if today <= day <= today + timedelta(days=DAYS_AHEAD):
        return None
    return Message.of(
        N_("a plan is made for today (%(today)s) up to %(days)s days ahead, not for %(day)s"),
        today=today,
        days=DAYS_AHEAD,
        day=day,
    )


@dataclass(frozen=True, slots=True)
class PlanOutcome:
    """A plan made: its id, its figures, and whether the solver ran out of time."""

    plan_id: int
    day: date
    timed_out: bool
    figures: dict[str, object]


def solver_settings(config: Config) -> SolverSettings:
    d = config.dispatch
    return SolverSettings(
        seconds=d.plan_seconds,
        exploration=d.plan_exploration,
        margin_minutes=d.plan_margin_minutes,
        balance=d.plan_balance,
        kitchen_minutes=d.plan_kitchen_minutes,
        meal_capacity=d.plan_meal_capacity,
        meal_hold_minutes=d.plan_meal_hold_minutes,
        minutes_on_site=d.plan_minutes_on_site,
        travel=d.travel,
        spread_passes=d.plan_spread_passes,
    )


def plan_day(
    conn: psycopg.Connection,
    clock: Clock,
    config: Config,
    day: date,
    *,
    made_by: str,
    tell: bool = False,
    progress: Callable[[str], None] = lambda _: None,
) -> PlanOutcome:
    """Plan the local ``day``'s booked visits afresh and put the plan in force (the caller owns the
    transaction); with ``tell``, each caregiver of the plan gets the SMS of their day to confirm."""
    return _make(conn, clock, config, day, made_by=made_by, tell=tell, progress=progress, before=None)


def replan_day(
    conn: psycopg.Connection,
    clock: Clock,
    config: Config,
    day: date,
    *,
    made_by: str,
    drop_unconfirmed: bool = False,
    progress: Callable[[str], None] = lambda _: None,
) -> PlanOutcome:
    """Plan the day again over the plan in force (a same-day change, or the confirmation cutoff): confirmed
    routes keep their visits where they can still be served; with ``drop_unconfirmed``, caregivers told of their
    day who did not confirm it are left out and their visits planned over the others. Only caregivers whose
    route changed are told (again); an unchanged route keeps its confirmation."""
    before = previous_routes(conn, day)
    return _make(
        conn,
        clock,
        config,
        day,
        made_by=made_by,
        tell=True,
        progress=progress,
        before=before,
        drop_unconfirmed=drop_unconfirmed,
    )


def _make(
    conn: psycopg.Connection,
    clock: Clock,
    config: Config,
    day: date,
    *,
    made_by: str,
    tell: bool,
    progress: Callable[[str], None],
    before: Previous | None,
    drop_unconfirmed: bool = False,
) -> PlanOutcome:
    started = time.perf_counter()
    # an operator's pin holds in every plan of the day, made afresh or again; a confirmed route's only in a re-plan
    in_force = plan_in_force(conn, day)
    pinned = operator_pins(conn, in_force) if in_force is not None else {}
    pins = {**(before.pins() if before else {}), **pinned}
    leave_out = before.unconfirmed() if before and drop_unconfirmed else set()
    problem = problems.load(
        conn,
        day,
        config.timezone,
        pins=pins,
        firm=set(pinned),
        leave_out=leave_out,
        not_before=clock.now(),
        minutes_on_site=config.dispatch.plan_minutes_on_site,
        travel=config.dispatch.travel,
    )
    loaded = time.perf_counter() - started
    progress(
        f"{day}: {len(problem.visits)} booked visits, {len(problem.workers)} shifts of caregivers "
        f"(read in {loaded:.2f} s); {len(problem.unservable)} visits nobody may take"
        + (f"; {len(pins)} visits of confirmed routes kept, {len(leave_out)} caregivers left out" if before else "")
    )
    solution = _solve_keeping(problem, before.kept_starts() if before else {}, solver_settings(config))
    progress(
        f"solved in {solution.seconds:.2f} s{' (time limit reached: best plan found)' if solution.timed_out else ''}: "
        f"{len(solution.stops)} assigned, {len(solution.unassigned)} unassigned"
    )
    started = time.perf_counter()
    plan_id = save(conn, clock, problem, solution, made_by=made_by, load_seconds=loaded)
    if before is not None:
        before.carry_over(conn, plan_id)
    if in_force is not None:
        keep_pins(conn, in_force, plan_id)
    assigned = apply_to_orders(conn, clock, config, plan_id)
    released = release_to_dispatch(
        conn,
        clock,
        config,
        [(problem.visits[i].order_id, why) for i, why in problem.given_up.items() if i not in solution.stops],
    )
    told = tell_caregivers(conn, clock, config, plan_id) if tell else 0
    stored = time.perf_counter() - started
    numbers = {
        **figures(problem, solution, loaded),
        "store_seconds": round(stored, 3),
        "orders_assigned": assigned,
        "orders_released": released,
        "caregivers_told": told,
    }
    conn.execute("UPDATE plan SET figures = %s WHERE id = %s", (psycopg.types.json.Jsonb(numbers), plan_id))
    log.info("plan %d for %s: %s", plan_id, day, numbers)
    return PlanOutcome(plan_id, day, solution.timed_out, numbers)


# A confirmed visit is first planned to start at most this long after the time its caregiver was given.
KEEP_MINUTES = 10


def _solve_keeping(problem: problems.Problem, kept: Mapping[VisitKey, datetime], settings: SolverSettings) -> Solution:
    """Solve a plan, made afresh or a re-plan keeping confirmed visits at their times (``_kept_in_time``); held or
    confirmed visits their caregivers have no room for are then handed over (``_hand_over``), and the visits not
    yet promised spread over those hardly used (``spread``: promised visits stay with their caregivers, so a
    re-plan spreads only the visits new since, or not yet confirmed)."""
    solved, windows = _kept_in_time(problem, kept, settings) if kept else (solve(problem, settings), {})
    return spread(problem, _hand_over(problem, solved, settings), settings, windows)


def _kept_in_time(
    problem: problems.Problem, kept: Mapping[VisitKey, datetime], settings: SolverSettings
) -> tuple[Solution, dict[int, tuple[datetime, datetime]]]:
    """Solve a re-plan so that confirmed visits keep their times: first with each held to a start within
    ``KEEP_MINUTES`` of the one its caregiver was given; if some then find no room, again with their whole
    windows, from the first pass's routes, every promised visit placed by the first pass kept with its caregiver (so
    that only the times move) and the others free (those the first pass put where a promised visit could not go may
    make way for it). Also the windows narrowed for the solution found, for the passes after it."""
    margin = timedelta(minutes=settings.margin_minutes)
    narrowed = {}
    for index, visit in enumerate(problem.visits):
        start = kept.get(visit.key)
        if start is not None and visit.window_start <= start <= visit.window_end - margin:
            narrowed[index] = (start, min(visit.window_end, start + timedelta(minutes=KEEP_MINUTES) + margin))
    first = solve(problem, settings, Passes(windows=narrowed))
    missed = [i for i, v in enumerate(problem.visits) if v.key in kept and i not in first.stops]
    if not missed:
        return first, narrowed
    # from the first pass's routes, which the whole windows still allow: VROOM builds a plan afresh visit by visit
    # and can fill a caregiver's day with visits not yet promised before it reaches theirs (a confirmed meal
    # seen losing its place to two meals nobody had), and its search does not take them out again
    second = solve(
        problem,
        settings,
        Passes(keep=_promised_where_they_are(problem, first), initial=steps_of(first.stops, first.pickups, problem)),
    )
    second.seconds += first.seconds
    return second, {}


def _hand_over(problem: problems.Problem, solution: Solution, settings: SolverSettings) -> Solution:
    """Visits whose orders their caregivers hold, and visits of confirmed routes, stay with their caregivers; one
    its caregiver has no room for any more (a re-plan after a delay, an emergency in between) is planned again
    over the others who may take it, every promised visit placed so far kept with its caregiver (visits not yet
    promised make way: ``solve.PROMISED``). A held order then moves
    to its new caregiver (``apply_to_orders``). Before, such a visit was left unassigned: for a held order, off
    its holder's route while they still held it, and nobody came. An operator's pin stays firm."""
    moving = {i: others for i, others in problem.others.items() if i not in solution.stops and others}
    if not moving:
        return solution
    initial = steps_of(solution.stops, solution.pickups, problem)
    again = solve(
        problem, settings, Passes(keep=_promised_where_they_are(problem, solution), initial=initial, open_to=moving)
    )
    again.seconds += solution.seconds
    return again


def _promised_where_they_are(problem: problems.Problem, solution: Solution) -> dict[int, int]:
    """The promised visits a pass placed, each with the caregiver's shift it placed them in: a further pass keeps
    them there. Visits not yet promised stay free to move, so that none of them stands in a promised visit's way."""
    return {i: stop.worker for i, stop in solution.stops.items() if problem.visits[i].promised}


def pin_choices(conn: psycopg.Connection, day: date, config: Config) -> dict[VisitKey, list[int]]:
    """For each booked visit of the day, the caregivers it may be pinned to: those the planner would let serve it
    (skill, provider's area and standing, shift over its window, not away); for a meal, the staff of every kitchen
    that may cook it, not only of the nearest (the plan tries that one first; a pin takes the meal to its
    caregiver's kitchen)."""
    problem = problems.load(conn, day, config.timezone)
    return {visit.key: sorted(problem.caregivers_who_may(index)) for index, visit in enumerate(problem.visits)}


def plan_next_day(conn: psycopg.Connection, clock: Clock, config: Config) -> PlanOutcome:
    """The elected scheduler's evening run: plan tomorrow (local time)."""
    tomorrow = clock.now().astimezone(config.timezone).date() + timedelta(days=1)
    return plan_day(conn, clock, config, tomorrow, made_by="scheduler", tell=True)


def replan_at_cutoff(conn: psycopg.Connection, clock: Clock, config: Config) -> PlanOutcome | None:
    """The elected scheduler's run at the confirmation cutoff: tomorrow is planned again over the caregivers
    who confirmed (nothing to do without a plan in force, or when everyone told has confirmed)."""
    tomorrow = clock.now().astimezone(config.timezone).date() + timedelta(days=1)
    before = previous_routes(conn, tomorrow)
    if before is None or not before.unconfirmed():
        return None
    return replan_day(conn, clock, config, tomorrow, made_by="scheduler", drop_unconfirmed=True)


_CHANGED = """
SELECT (SELECT count(*) FROM service_order o
        WHERE o.created_at > p.made_at AND o.window_start >= %(start)s AND o.window_start < %(end)s
          AND o.alarm_id IS NULL AND o.recurring_service_id IS NULL AND o.service_type <> 'emergency'
          AND o.caregiver_id IS NULL AND o.status IN ('created', 'escalated'))
     + (SELECT count(*) FROM plan_visit pv JOIN service_order o
          ON o.id = pv.order_id OR (o.recurring_service_id = pv.recurring_service_id
                                    AND o.occurrence_at = pv.occurrence_at)
        WHERE pv.plan_id = p.id AND o.cancelled_at > p.made_at)
     + (SELECT count(*) FROM plan_route r JOIN caregiver_absence ab ON ab.caregiver_id = r.caregiver_id
        WHERE r.plan_id = p.id AND ab.first_day <= p.day AND ab.last_day >= p.day)
FROM plan p WHERE p.day = %(day)s AND p.superseded_at IS NULL
"""


def replan_on_change(conn: psycopg.Connection, clock: Clock, config: Config) -> PlanOutcome | None:
    """The elected scheduler's look during the day: when today's plan has met a change (an order with a window
    nobody holds made since, a planned visit cancelled, a caregiver of the plan away), plan the rest of today
    again over it; None when nothing changed or there is no plan."""
    today = clock.now().astimezone(config.timezone).date()
    start = datetime.combine(today, datetime.min.time(), tzinfo=config.timezone)
    row = conn.execute(_CHANGED, {"day": today, "start": start, "end": start + timedelta(days=1)}).fetchone()
    if row is None or not row[0]:
        return None
    return replan_day(conn, clock, config, today, made_by="scheduler")
