"""The simulated day's report: the figures of each dispatcher side by side with the published targets, as a
JSON document and as a table for the terminal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulators.citysim.figures import TARGETS

# (label, section, key, target key or None, how to show a value)
Row = tuple[str, str, str, str | None, Callable[[Any], str]]


def _pct(value: Any) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _num(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:,.2f}" if isinstance(value, float) else f"{value:,}"


def _index(value: Any) -> str:
    """An index between 0 and 1 to three places: the two dispatchers often differ in the third."""
    return "-" if value is None else f"{value:.3f}"


ROWS: tuple[Row, ...] = (
    ("Emergencies (critical alarms)", "emergencies", "count", None, _num),
    ("Accepted within 90 s", "emergencies", "accepted_90s", None, _pct),
    ("Attended within 30 min", "emergencies", "attended_30", None, _pct),
    ("  best the roster allows, 30 min", "emergencies", "roster_bound_attended_30", None, _pct),
    ("Attended within 45 min", "emergencies", "attended_45", "attended_45", _pct),
    ("Attended within 60 min", "emergencies", "attended_60", "attended_60", _pct),
    ("  best the roster allows, 45 min", "emergencies", "roster_bound_attended_45", None, _pct),
    ("  best the roster allows, 60 min", "emergencies", "roster_bound_attended_60", None, _pct),
    ("Attendance, median (min)", "emergencies", "attendance_median_min", None, _num),
    ("Attendance, 90th percentile (min)", "emergencies", "attendance_p90_min", None, _num),
    ("Attendance, longest (min)", "emergencies", "attendance_max_min", None, _num),
    ("Alarms answered within 60 s", "emergencies", "answered_60", "answered_60", _pct),
    ("Alarms answered within 180 s", "emergencies", "answered_180", "answered_180", _pct),
    ("Routine orders wanted that day", "routine", "count", None, _num),
    ("Routine served inside window", "routine", "served_in_window", None, _pct),
    ("  best the roster allows (loose)", "routine", "roster_bound_in_window", None, _pct),
    ("  best the roster allows, in turn", "routine", "roster_bound_in_turn", None, _pct),
    ("  missed, planned the evening before", "routine", "missed_planned", None, _num),
    ("  missed, no room in the evening plan", "routine", "missed_no_room", None, _num),
    ("  missed, nobody may or can take it", "routine", "missed_unplannable", None, _num),
    ("  missed, not in the evening plan", "routine", "missed_not_in_plan", None, _num),
    ("Routine completed", "routine", "completed", None, _pct),
    ("Escalations (events)", "escalations", "total", None, _num),
    ("Emergency orders escalated", "escalations", "emergency_orders", None, _num),
    ("Routine orders escalated", "escalations", "routine_orders", None, _num),
    ("Workload spread, Gini of busy minutes", "workload", "gini_busy_minutes", None, _index),
    ("  rostered but barred from orders", "workload", "barred_caregivers", None, _num),
    ("  those not barred", "workload", "gini_busy_minutes_may_work", None, _index),
    ("  booked-service staff not barred", "workload", "gini_busy_minutes_booked_staff", None, _index),
    ("Workload spread, Gini of orders", "workload", "gini_orders", None, _index),
    ("Utilisation of rostered time", "workload", "utilisation", None, _pct),
    ("Km travelled (all)", "travel", "km_total", None, _num),
    ("Km travelled to orders", "travel", "km_to_orders", None, _num),
    ("Km per completed order", "travel", "km_per_order", None, _num),
    ("Offers made", "offers", "made", None, _num),
    ("Booked visits planned ahead", "plan", "assigned", None, _num),
    ("  left to offers on the day", "plan", "unassigned", None, _num),
    ("    out of every caregiver's reach", "plan", "out_of_reach", None, _num),
    ("  planning solver seconds", "plan", "solver_seconds", None, _num),
)


def meets(figures: dict[str, Any]) -> dict[str, bool]:
    """Which published targets one dispatcher's day meets."""
    found = figures["emergencies"]
    return {name: found[name] is not None and found[name] >= target - 1e-12 for name, target in TARGETS.items()}


def verdict(dispatchers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The goal: smart meets every target and beats nearest on 30-minute attendance and workload spread."""
    result: dict[str, Any] = {name: {"meets": meets(f)} for name, f in dispatchers.items()}
    if "smart" in dispatchers and "nearest" in dispatchers:
        smart, nearest = dispatchers["smart"], dispatchers["nearest"]
        result["goal"] = {
            "smart_meets_every_target": all(result["smart"]["meets"].values()),
            "smart_beats_nearest_attended_30": (smart["emergencies"]["attended_30"] or 0)
            > (nearest["emergencies"]["attended_30"] or 0),
            "smart_beats_nearest_spread": smart["workload"]["gini_busy_minutes"]
            < nearest["workload"]["gini_busy_minutes"],
        }
    return result


def table(report: dict[str, Any]) -> str:
    """The report as a fixed-width table: one column per dispatcher, targets beside, a mark per target."""
    names = list(report["dispatchers"])
    width = max(len(r[0]) for r in ROWS) + 2
    lines = [
        f"Simulated day {report['day']} · {report['elders']:,} elders · {report['caregivers']:,} caregivers · "
        f"seed {report['seed']}",
        "",
        f"{'':<{width}}{'target':>10}" + "".join(f"{n:>14}" for n in names),
    ]
    for label, section, key, target, show in ROWS:
        line = f"{label:<{width}}{('>= ' + _pct(TARGETS[target])) if target else '':>10}"
        for name in names:
            value = report["dispatchers"][name].get(section, {}).get(key)  # "plan": the planned dispatcher only
            mark = ""
            if target:
                mark = " ok" if report["verdict"][name]["meets"][target] else " !!"
            line += f"{show(value) + mark:>14}"
        lines.append(line)
    goal = report["verdict"].get("goal")
    if goal:
        lines.append("")
        lines.append(
            "Goal: smart meets every target: {}; beats nearest on attendance within 30 min: {}; "
            "on workload spread: {}".format(
                *("yes" if goal[k] else "NO" for k in goal),
            )
        )
    return "\n".join(lines)
