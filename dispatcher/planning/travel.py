"""Travel between every pair of places of a plan, by the dispatcher's travel model: the straight line (haversine)
times the detour, at the speed of each travel mode, plus the minutes to get going."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dispatcher.settings import TravelModel

EARTH_KM = 6371.0088

# A ride longer than this fits in no one's working stretch (a shift, joined to last night's, is shorter than two
# days), so every longer ride is the same to a plan: out of reach. The matrices hold it at this, which keeps VROOM's
# bound on a day's cost (a ride per visit and two per caregiver, in uint32 seconds) from overflowing up to some
# 24,000 visits, where a home or a kitchen at the far side of the world (0, 0 left in a form) made it refuse the day,
# and keeps a ride past 2^32 seconds from wrapping round to a short one.
LONGEST_RIDE_S = 2 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Matrices:
    """Road km between places, and travel seconds between them per travel mode."""

    km: np.ndarray
    seconds: dict[str, np.ndarray]


def matrices(points: Sequence[tuple[float, float]], travel: TravelModel) -> Matrices:
    """The matrices of ``points`` (lat, lon); staying put takes no time, and no ride more than ``LONGEST_RIDE_S``."""
    if not points:
        empty = np.zeros((0, 0))
        return Matrices(empty, {mode: empty.astype(np.uint32) for mode in travel.speed_kmh})
    where = np.radians(np.array(points, dtype=float))
    lat, lon = where[:, 0], where[:, 1]
    dlat, dlon = lat[:, None] - lat[None, :], lon[:, None] - lon[None, :]
    h = np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
    km = 2 * EARTH_KM * np.arcsin(np.sqrt(np.minimum(1.0, h))) * travel.detour
    seconds = {}
    for mode in travel.speed_kmh:
        s = np.minimum(np.rint(travel.minutes(mode, km) * 60.0), LONGEST_RIDE_S)
        np.fill_diagonal(s, 0.0)
        seconds[mode] = s.astype(np.uint32)
    return Matrices(km, seconds)
