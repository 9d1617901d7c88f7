"""What the city's roster allows at best: for each emergency, the travel time of the quickest caregiver who
could have been offered it, were every caregiver free, at home and answering at once.

No dispatcher can do better than this bound; what lies between the bound and a dispatcher's figure is
the dispatcher's choices and the caregivers' behaviour, and what lies between the bound and a target is the
roster's doing (too few people on shift, or living too far away). Eligibility is the dispatcher's, less
the load limits: active and reachable by SMS, with the emergency skill, of an active provider in good
standing that sells emergency response in the elder's community, on shift at that moment.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import psycopg

from dispatcher import homes_ignoring_load
from simulators.citysim.params import Params
from simulators.citysim.world import km_between


def quickest_minutes(
    conn: psycopg.Connection, params: Params, timezone: ZoneInfo, elder_id: int, lat: float, lon: float, at: datetime
) -> float | None:
    """Minutes of travel for the quickest eligible caregiver; None when nobody may be offered it at all."""
    travel = params.travel
    best = None
    for home in homes_ignoring_load(conn, elder_id, "emergency", at, timezone):
        km = km_between(home.lat, home.lon, lat, lon) * travel.detour
        minutes = (
            travel.setup_minutes[home.travel_mode]
            + km / (travel.speed_kmh[home.travel_mode] * travel.emergency_factor) * 60.0
        )
        best = minutes if best is None else min(best, minutes)
    return best
