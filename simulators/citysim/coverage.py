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
from psycopg import sql

from dispatcher.candidates import ON_SHIFT, shift_params
from simulators.citysim.params import Params
from simulators.citysim.world import km_between

_ELIGIBLE = sql.SQL("""
SELECT c.home_lat, c.home_lon, c.travel_mode
FROM caregiver c JOIN provider p ON p.id = c.provider_id JOIN elder e ON e.id = %(elder)s
WHERE c.active AND NOT c.sms_opt_out AND p.active AND p.standing <> 'black'
  AND EXISTS (SELECT 1 FROM caregiver_skill s WHERE s.caregiver_id = c.id AND s.service_type = 'emergency')
  AND EXISTS (SELECT 1 FROM provider_service ps WHERE ps.provider_id = p.id AND ps.service_type = 'emergency')
  AND EXISTS (SELECT 1 FROM provider_area pa WHERE pa.provider_id = p.id AND pa.community_id = e.community_id)
  AND {on_shift}
""").format(on_shift=sql.SQL(ON_SHIFT))


def quickest_minutes(
    conn: psycopg.Connection, params: Params, timezone: ZoneInfo, elder_id: int, lat: float, lon: float, at: datetime
) -> float | None:
    """Minutes of travel for the quickest eligible caregiver; None when nobody may be offered it at all."""
    rows = conn.execute(_ELIGIBLE, {"elder": elder_id, **shift_params(at, timezone)}).fetchall()
    travel = params.travel
    best = None
    for home_lat, home_lon, mode in rows:
        km = km_between(home_lat, home_lon, lat, lon) * travel.detour
        minutes = travel.setup_minutes[mode] + km / (travel.speed_kmh[mode] * travel.emergency_factor) * 60.0
        best = minutes if best is None else min(best, minutes)
    return best
