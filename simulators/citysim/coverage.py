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

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg

from dispatcher import homes_ignoring_load
from dispatcher.planning.problem import Kitchen, load_staff
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


def reachable_in_window(
    conn: psycopg.Connection, params: Params, timezone: ZoneInfo, day: date, start: datetime, end: datetime
) -> dict[int, bool]:
    """Routine order wanted in [start, end) -> whether some caregiver who may take it (the planner's rules:
    the skill, a provider that sells it, serves the elder's community, is active, in good standing and under
    contract; a shift that day overlapping the window; no absence recorded for the day) reaches it inside its
    window by travel alone: leaving home when their shift starts at the earliest, by their provider's kitchen
    for a meal when it has one (as the simulated caregivers do), and arriving before their shift ends. Were
    everyone free all day, no dispatcher would serve more inside the window."""
    travel, kitchen_minutes = params.travel, params.caregivers.kitchen_minutes

    def minutes(mode: str, a: tuple[float, float], b: tuple[float, float]) -> float:
        return travel.minutes(mode, km_between(*a, *b) * travel.detour)

    def reaches(
        mode: str,
        home: tuple[float, float],
        kitchen: Kitchen | None,
        spans: list[tuple[datetime, datetime]],
        window: tuple[datetime, datetime],
        place: tuple[float, float],
    ) -> bool:
        if kitchen is None:
            trip = minutes(mode, home, place)
        else:
            at = (kitchen.lat, kitchen.lon)
            trip = minutes(mode, home, at) + kitchen_minutes + minutes(mode, at, place)
        opens, closes = window
        return any(max(opens, a + timedelta(minutes=trip)) <= min(closes, b) for a, b in spans)

    staff = [s for s in load_staff(conn, day, timezone) if s.usable and not s.absent and s.spans]
    return {
        order_id: any(
            reaches(
                m.travel_mode,
                (m.lat, m.lon),
                m.kitchen if service == "meal" else None,
                m.spans,
                (opens, closes),
                (lat, lon),
            )
            for m in staff
            if service in m.services and community in m.communities
        )
        for order_id, service, opens, closes, community, lat, lon in conn.execute(_ROUTINE, (start, end)).fetchall()
    }
