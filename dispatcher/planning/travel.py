"""Travel between every pair of places of a plan, by the dispatcher's travel model: the straight line (haversine)
times the detour, at the speed of each travel mode, plus the minutes to get going."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dispatcher.settings import TravelModel

EARTH_KM = 6371.0088


@dataclass(frozen=True, slots=True)
class Matrices:
    """Road km between places, and travel seconds between them per travel mode."""

    km: np.ndarray
    seconds: dict[str, np.ndarray]


def matrices(points: Sequence[tuple[float, float]], travel: TravelModel) -> Matrices:
    """The matrices of ``points`` (lat, lon); staying put takes no time."""
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
        s = np.rint(travel.minutes(mode, km) * 60.0)
        np.fill_diagonal(s, 0.0)
        seconds[mode] = s.astype(np.uint32)
    return Matrices(km, seconds)
