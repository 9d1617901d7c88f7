"""What the city's roster allows at best: for each emergency, the travel time of the quickest caregiver who
could have been offered it, were every caregiver free, at home and answering at once; for each routine order,
whether some caregiver who may take it reaches it inside its window with nothing else to do that day.

No dispatcher can do better than this bound; what lies between the bound and a dispatcher's figure is
the dispatcher's choices and the caregivers' behaviour, and what lies between the bound and a target is the
roster's doing (too few people on shift, or living too far away). Eligibility is the dispatcher's, less
the load limits: active and reachable by SMS, with the emergency skill, of an active provider in good
standing that sells emergency response in the elder's community, on shift at that moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg

from dispatcher import homes_ignoring_load
from dispatcher.planning.problem import Staff, load_staff
from dispatcher.planning.solve import most_in_turn, overlapping
from simulators.citysim.params import Params
from simulators.citysim.world import km_between


def quickest_minutes(
    conn: psycopg.Connection, params: Params, timezone: ZoneInfo, elder_id: int, lat: float, lon: float, at: datetime
) -> float | None:
    """Minutes of travel for the quickest eligible caregiver; None when nobody may be offered it at all."""
    travel = params.travel
    best = None
    for home in homes_ignoring_load(conn, elder_id, "emergency", at, timezone):
        minutes = travel.minutes(home.travel_mode, km_between(home.lat, home.lon, lat, lon) * travel.detour, True)
        best = minutes if best is None else min(best, minutes)
    return best


_ROUTINE = """
SELECT o.id, o.service_type, o.window_start, o.window_end, e.community_id, e.lat, e.lon
FROM service_order o JOIN elder e ON e.id = o.elder_id
WHERE o.service_type <> 'emergency' AND o.window_start >= %s AND o.window_start < %s
"""


@dataclass(frozen=True, slots=True)
class RoutineBound:
    """What the roster allows the day's routine orders at best."""

    reachable: dict[int, bool]  # order -> whether some caregiver who may take it reaches it inside its window
    # orders that only one caregiver reaches and that caregiver cannot fit in turn with the others only they reach
    beyond_one_caregiver: int


# The most orders of one caregiver weighed together in turn (every order of the set, each one last: 2**n * n states).
IN_TURN_AT_MOST = 12


def routine_bound(
    conn: psycopg.Connection, params: Params, timezone: ZoneInfo, day: date, start: datetime, end: datetime
) -> RoutineBound:
    """Routine orders wanted in [start, end): whether some caregiver who may take it (the planner's rules: the
    skill, a provider that sells it, serves the elder's community, is active, in good standing and under contract;
    a shift that day overlapping the window; no absence recorded for the day) reaches it inside its window by travel
    alone: leaving home when their shift starts at the earliest, by their provider's kitchen for a meal when it has
    one (as the simulated caregivers do), and arriving before their shift ends. Were everyone free all day, no
    dispatcher would serve more inside the window.

    Orders only one caregiver reaches are then weighed together: one person serves them one after another, at the
    median time on site and the median ride between elders (no kitchen on the way), and the most of them that fit
    in turn is all any dispatcher serves. The bound stays an upper one (each caregiver's other work is left out, and
    orders far apart in time are weighed apart), but for the luck of visits shorter than the median."""
    travel, kitchen_minutes = params.travel, params.caregivers.kitchen_minutes

    def minutes(mode: str, a: tuple[float, float], b: tuple[float, float]) -> float:
        return travel.minutes(mode, km_between(*a, *b) * travel.detour)

    def earliest(
        m: Staff, service: str, window: tuple[datetime, datetime], place: tuple[float, float]
    ) -> datetime | None:
        """When ``m`` arrives at the earliest inside the window from home at a shift's start; None: never."""
        kitchen = m.kitchen if service == "meal" else None
        if kitchen is None:
            trip = minutes(m.travel_mode, (m.lat, m.lon), place)
        else:
            at = (kitchen.lat, kitchen.lon)
            trip = minutes(m.travel_mode, (m.lat, m.lon), at) + kitchen_minutes + minutes(m.travel_mode, at, place)
        opens, closes = window
        arrivals = [max(opens, a + timedelta(minutes=trip)) for a, b in m.spans]
        return min((t for t, (_, b) in zip(arrivals, m.spans, strict=True) if t <= min(closes, b)), default=None)

    staff = [s for s in load_staff(conn, day, timezone) if s.usable and not s.absent and s.spans]
    reachable: dict[int, bool] = {}
    # per caregiver (and how they travel), the orders only they reach: earliest and latest arrival and the seconds
    # on site (as most_in_turn takes a job), and the place
    sole: dict[tuple[int, str], list[tuple[float, float, float, tuple[float, float]]]] = {}
    for order_id, service, opens, closes, community, lat, lon in conn.execute(_ROUTINE, (start, end)).fetchall():
        found = [
            (m, t)
            for m in staff
            if service in m.services and community in m.communities
            for t in [earliest(m, service, (opens, closes), (lat, lon))]
            if t is not None
        ]
        reachable[order_id] = bool(found)
        if len(found) == 1:
            m, first = found[0]
            latest = min(closes, max(b for _, b in m.spans))
            job = (first.timestamp(), latest.timestamp(), params.service_minutes.median(service) * 60, (lat, lon))
            sole.setdefault((m.id, m.travel_mode), []).append(job)
    beyond = 0
    for (_, mode), orders in sole.items():
        # weighed apart: orders whose spans do not overlap, and runs of at most IN_TURN_AT_MOST of a group (the most
        # of a group is at most the sum of its runs' most)
        for group in overlapping(sorted(orders)):
            for cut in range(0, len(group), IN_TURN_AT_MOST):
                run = group[cut : cut + IN_TURN_AT_MOST]
                rides = [[minutes(mode, a[3], b[3]) * 60 for b in run] for a in run]
                beyond += len(run) - most_in_turn([job[:3] for job in run], rides)
    return RoutineBound(reachable, beyond)
