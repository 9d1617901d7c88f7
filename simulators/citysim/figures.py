"""The figures of one simulated day, from the database the dispatcher wrote and the world's own log.

Definitions (they are the report's contract; the docs repeat them):

- an emergency is a critical alarm (SOS, fall, smoke, gas) raised during the day, repeats excluded; it is
  accepted within 90 s when its order's ``accepted_at`` is at most 90 s after the alarm was raised, and
  attended within N minutes when its ``arrived_at`` is at most N minutes after; never attended counts
  as not within any limit;
- the roster's bound is the share of emergencies some caregiver could have reached within N minutes by
  travel alone, were everyone free, at home and answering at once (``coverage``): no dispatcher does better;
  for routine orders, the share some caregiver who may take them reaches inside their window by travel alone,
  from home when their shift starts, were they free all day;
- an alarm is answered within N s when an operator picked it up at most N s after it was raised;
- a routine order is one wanted (``window_start``) during the day; it is served inside its window when a
  caregiver arrived no later than ``window_end`` and completed it;
  the orders not so served are counted by where the day's first plan (the evening's) had them: given to a
  caregiver, left unassigned for want of room (``no_room``) or for any other reason (out of reach, overbooked,
  nobody may take it), or not in it at all (ordered on the day, or no plan made: every miss of a dispatcher that
  does not plan);
- escalations are the dispatcher's own escalation events, by reason;
- workload covers the caregivers rostered that day: busy time is travel to an order and time on site,
  within the day; utilisation is busy time over rostered time, summed over them; spread is the Gini
  coefficient (0 even, 1 all on one person) of busy minutes and of completed orders per caregiver; apart, the
  rostered whom the dispatcher may not give orders that day (a provider on the black list or out of contract, a
  caregiver inactive or opted out of SMS: *barred*), the spread of busy minutes among the others, and among those
  of them who may take a booked service (the others are responders kept for emergencies);
- kilometres are road kilometres travelled, to orders and in all (with the way back to base).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql

from dispatcher.candidates import MAY_WORK
from dispatcher.planning import gini
from simulators.citysim import coverage
from simulators.citysim.demand import DAY_SECONDS
from simulators.citysim.engine import DayRun
from simulators.citysim.params import Params

TARGETS = {
    "attended_45": 0.90,
    "attended_60": 1.0,
    "answered_60": 0.975,
    "answered_180": 0.99,
}


def _share(hits: int, count: int) -> float | None:
    return round(hits / count, 4) if count else None


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60.0, 2)


def _quantile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def emergencies(conn: psycopg.Connection, run: DayRun, params: Params, timezone: ZoneInfo) -> dict[str, Any]:
    rows = conn.execute(
        "SELECT a.id, a.raised_at, so.accepted_at, so.arrived_at, e.id, e.lat, e.lon FROM alarm a "
        "JOIN elder e ON e.id = a.elder_id LEFT JOIN service_order so ON so.alarm_id = a.id "
        "WHERE a.type IN ('sos', 'fall', 'smoke', 'gas') AND a.raised_at >= %s AND a.raised_at < %s ORDER BY a.id",
        (run.start, run.start + timedelta(seconds=DAY_SECONDS)),
    ).fetchall()
    accepted, attended, bound = [], [], []
    for _, raised, accepted_at, arrived_at, elder_id, lat, lon in rows:
        accepted.append(None if accepted_at is None else (accepted_at - raised).total_seconds())
        attended.append(None if arrived_at is None else (arrived_at - raised).total_seconds())
        quickest = coverage.quickest_minutes(conn, params, timezone, elder_id, lat, lon, raised)
        bound.append(None if quickest is None else quickest * 60.0)
    n = len(rows)
    reached = [s for s in attended if s is not None]

    def within(values: list[float | None], limit: float) -> float | None:
        return _share(sum(1 for s in values if s is not None and s <= limit), n)

    answered = [run.answered.get(run.alarm_keys.get(alarm_id, ""), None) for alarm_id, *_ in rows]
    return {
        "count": n,
        "repeats": run.repeats,
        "accepted_90s": within(accepted, 90),
        "attended_30": within(attended, 30 * 60),
        "attended_45": within(attended, 45 * 60),
        "attended_60": within(attended, 60 * 60),
        "never_attended": n - len(reached),
        "attendance_median_min": _minutes(statistics.median(reached)) if reached else None,
        "attendance_p90_min": _minutes(_quantile(reached, 0.9)),
        "attendance_max_min": _minutes(max(reached)) if reached else None,
        "attendance_minutes": sorted(_minutes(s) or 0.0 for s in reached),
        "roster_bound_attended_30": within(bound, 30 * 60),
        "roster_bound_attended_45": within(bound, 45 * 60),
        "roster_bound_attended_60": within(bound, 60 * 60),
        "nobody_on_shift": sum(1 for b in bound if b is None),
        "roster_bound_minutes": sorted(_minutes(b) or 0.0 for b in bound if b is not None),
        "answered_60": within(answered, 60),
        "answered_180": within(answered, 180),
        "answer_median_s": round(statistics.median(a for a in answered if a is not None), 1)
        if any(a is not None for a in answered)
        else None,
    }


# Each routine order wanted in [start, end) with where the day's first plan (the evening's, made the day before)
# had it: ``planned`` (given to a caregiver), its unassigned reason, or NULL when that plan did not have it (ordered
# on the day, or no plan made).
_ROUTINE_ORDERS = """
SELECT so.source, so.window_end, so.arrived_at, so.completed_at,
       CASE WHEN pv.id IS NULL THEN NULL WHEN pv.caregiver_id IS NOT NULL THEN 'planned' ELSE pv.unassigned_reason END
FROM service_order so
LEFT JOIN plan_visit pv ON pv.plan_id = (SELECT min(id) FROM plan WHERE day = %(day)s)
    AND (pv.order_id = so.id
         OR pv.recurring_service_id = so.recurring_service_id AND pv.occurrence_at = so.occurrence_at)
WHERE so.service_type <> 'emergency' AND so.window_start >= %(start)s AND so.window_start < %(end)s
"""


def routine(conn: psycopg.Connection, run: DayRun, params: Params, timezone: ZoneInfo) -> dict[str, Any]:
    end = run.start + timedelta(seconds=DAY_SECONDS)
    day = run.start.astimezone(timezone).date()
    rows = conn.execute(_ROUTINE_ORDERS, {"day": day, "start": run.start, "end": end}).fetchall()
    bound = coverage.routine_bound(conn, params, timezone, day, run.start, end)
    reachable = bound.reachable.values()
    inside = [r[2] is not None and r[3] is not None and r[2] <= r[1] for r in rows]
    served = [r for r, ok in zip(rows, inside, strict=True) if ok]
    missed = [r[4] for r, ok in zip(rows, inside, strict=True) if not ok]
    late = [(r[2] - r[1]).total_seconds() for r in rows if r[2] is not None and r[2] > r[1]]
    by_source: dict[str, int] = {}
    for source, *_ in rows:
        by_source[source] = by_source.get(source, 0) + 1
    return {
        "count": len(rows),
        "by_source": dict(sorted(by_source.items())),
        "served_in_window": _share(len(served), len(rows)),
        # where the orders not served inside their window stood in the evening plan
        "missed_planned": missed.count("planned"),
        "missed_no_room": missed.count("no_room"),
        "missed_unplannable": sum(1 for m in missed if m not in (None, "planned", "no_room")),
        "missed_not_in_plan": missed.count(None),
        "roster_bound_in_window": _share(sum(reachable), len(rows)),
        "out_of_roster_reach": sum(1 for r in reachable if not r),
        "roster_bound_in_turn": _share(sum(reachable) - bound.beyond_one_caregiver, len(rows)),
        "beyond_one_caregiver": bound.beyond_one_caregiver,
        "completed": _share(sum(1 for r in rows if r[3] is not None), len(rows)),
        "never_reached": sum(1 for r in rows if r[2] is None),
        "given_up": run.given_up,
        "late_median_min": _minutes(statistics.median(late)) if late else None,
    }


def escalations(conn: psycopg.Connection) -> dict[str, Any]:
    rows = conn.execute(
        "SELECT so.service_type = 'emergency', e.details->>'why', count(*), count(DISTINCT e.order_id) "
        "FROM order_event e JOIN service_order so ON so.id = e.order_id "
        "WHERE e.to_status = 'escalated' AND e.details ? 'why' GROUP BY 1, 2 ORDER BY 1, 2"
    ).fetchall()
    by_reason: dict[str, int] = {}
    for emergency, why, count, _ in rows:
        key = f"{'emergency' if emergency else 'routine'}_{why}"
        by_reason[key] = by_reason.get(key, 0) + int(count)
    orders = conn.execute(
        "SELECT count(DISTINCT e.order_id) FILTER (WHERE so.service_type = 'emergency'), "
        "count(DISTINCT e.order_id) FILTER (WHERE so.service_type <> 'emergency') "
        "FROM order_event e JOIN service_order so ON so.id = e.order_id "
        "WHERE e.to_status = 'escalated' AND e.details ? 'why'"
    ).fetchone()
    assert orders is not None
    return {
        "total": sum(by_reason.values()),
        "emergency_orders": int(orders[0]),
        "routine_orders": int(orders[1]),
        "by_reason": by_reason,
    }


def rostered_seconds(conn: psycopg.Connection, day: datetime) -> dict[int, float]:
    """Seconds each caregiver is on shift during the local day ``day`` (midnight, local time zone)."""
    weekday = day.isoweekday()
    yesterday = (day - timedelta(days=1)).isoweekday()
    seconds: dict[int, float] = {}

    def of(t: time) -> float:
        return t.hour * 3600.0 + t.minute * 60.0 + t.second

    for caregiver_id, shift_day, starts, ends in conn.execute(
        "SELECT sh.caregiver_id, sh.weekday, sh.starts, sh.ends FROM caregiver_shift sh "
        "JOIN caregiver c ON c.id = sh.caregiver_id WHERE c.active"
    ).fetchall():
        span = 0.0
        if shift_day == weekday:
            span += (of(ends) if starts < ends else DAY_SECONDS) - of(starts)
        if shift_day == yesterday and ends <= starts:
            span += of(ends)
        if span > 0:
            seconds[caregiver_id] = seconds.get(caregiver_id, 0.0) + span
    return seconds


def workload(conn: psycopg.Connection, run: DayRun, local_midnight: datetime) -> dict[str, Any]:
    rostered = rostered_seconds(conn, local_midnight)
    done: dict[int, int] = dict(
        conn.execute(
            "SELECT caregiver_id, count(*) FROM service_order WHERE completed_at IS NOT NULL GROUP BY 1"
        ).fetchall()
    )
    busy: dict[int, float] = {}
    for worker in run.workers.values():
        busy[worker.id] = sum(max(0.0, min(b, DAY_SECONDS) - max(a, 0.0)) for a, b in worker.busy)
    people = sorted(rostered)
    minutes = {c: busy.get(c, 0.0) / 60.0 for c in people}
    busy_minutes = list(minutes.values())
    # those the dispatcher may give orders that day (not the staff of a provider on the black list or out of
    # contract, say), and among them those who may take a booked service (a skill besides emergencies): the
    # planner's people; the others are responders kept for emergencies, busy only when one comes
    may_work = {
        c
        for (c,) in conn.execute(
            sql.SQL("SELECT c.id FROM caregiver c JOIN provider p ON p.id = c.provider_id WHERE {}").format(
                sql.SQL(MAY_WORK)
            ),
            {"day": local_midnight.date()},
        ).fetchall()
    }
    booked_staff = {
        c
        for (c,) in conn.execute(
            "SELECT DISTINCT caregiver_id FROM caregiver_skill WHERE service_type <> 'emergency'"
        ).fetchall()
    }
    working = [c for c in people if c in may_work]
    working_minutes = [minutes[c] for c in working]
    staff_minutes = [minutes[c] for c in working if c in booked_staff]
    orders = [float(done.get(c, 0)) for c in people]
    total_rostered = sum(rostered.values())
    return {
        "caregivers_rostered": len(people),
        "gini_busy_minutes": round(gini(busy_minutes), 4),
        "gini_orders": round(gini(orders), 4),
        "utilisation": round(sum(busy.get(c, 0.0) for c in people) / total_rostered, 4) if total_rostered else None,
        "busiest_hours": round(max(busy_minutes, default=0.0) / 60.0, 2),
        "idle_caregivers": sum(1 for m in busy_minutes if m == 0),
        "barred_caregivers": len(people) - len(working),
        "gini_busy_minutes_may_work": round(gini(working_minutes), 4),
        "responders_only": len(working) - len(staff_minutes),
        "gini_busy_minutes_booked_staff": round(gini(staff_minutes), 4),
        "idle_booked_staff": sum(1 for m in staff_minutes if m == 0),
    }


def travel(conn: psycopg.Connection, run: DayRun) -> dict[str, Any]:
    row = conn.execute("SELECT count(*) FROM service_order WHERE completed_at IS NOT NULL").fetchone()
    completed = int(row[0]) if row else 0
    to_orders = sum(w.km_to_orders for w in run.workers.values())
    total = sum(w.km for w in run.workers.values())
    return {
        "km_total": round(total, 1),
        "km_to_orders": round(to_orders, 1),
        "km_per_order": round(to_orders / completed, 2) if completed else None,
        "orders_completed": completed,
    }


def offers(conn: psycopg.Connection, run: DayRun) -> dict[str, Any]:
    statuses: dict[str, int] = dict(conn.execute("SELECT status, count(*) FROM offer GROUP BY 1 ORDER BY 1").fetchall())
    return {"made": sum(statuses.values()), "by_status": statuses, "sms_by_purpose": run.sms}


def figures(conn: psycopg.Connection, run: DayRun, params: Params, local_midnight: datetime) -> dict[str, Any]:
    """Every figure of the report for one dispatcher's day."""
    assert isinstance(local_midnight.tzinfo, ZoneInfo)
    return {
        "emergencies": emergencies(conn, run, params, local_midnight.tzinfo),
        "routine": routine(conn, run, params, local_midnight.tzinfo),
        "escalations": {**escalations(conn), "operator_calls": run.escalation_calls},
        "workload": workload(conn, run, local_midnight),
        "travel": travel(conn, run),
        "offers": offers(conn, run),
        "events": run.events,
        "sweeps": run.sweeps,
        **({"plan": run.plan} if run.plan else {}),
    }
