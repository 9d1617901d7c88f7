"""Choosing the best caregiver fast, with a spatial prefilter that provably picks what a full scan would.

A full scan computes the geodesic distance to every eligible caregiver and takes the lowest cost. The
prefilter asks only for caregivers inside a box around the elder that contains every point within ``R`` km,
and stops once the best cost found is below what anyone beyond ``R`` could reach (``Ranking.floor_beyond``:
the fastest mode, the quickest start, no load, full rating, the continuity bonus). Otherwise it widens ``R``
to exactly the radius that would settle it, and as a last resort scans everyone. Inside the box, a cheap
lower bound of each distance orders the geodesic computations, which stop as soon as no one left can win.

Why the bounds hold: the WGS-84 ellipsoid encloses the sphere of its polar radius ``b``; projecting a path
on the ellipsoid radially onto that sphere never lengthens it (the projection onto a convex set is
1-Lipschitz). So the geodesic distance is at least ``b`` times the angle between the two points' geocentric
directions, and a box that holds the spherical cap of angle ``R / b`` holds every caregiver within ``R``.
A caregiver who goes by a stop first (a meal's kitchen) travels the two legs' sum, which the triangle
inequality keeps at or above the straight distance: the same bounds hold for them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from dispatcher.ranking import Candidate, Ranked, Ranking

WGS84_A_KM = 6378.137
WGS84_B_KM = 6356.752314245
_FLATTENING_SQ = (WGS84_B_KM / WGS84_A_KM) ** 2
# Relative slack against floating-point rounding; the bounds themselves are far from tight (up to 0.3%).
_SLACK = 1e-9
MAX_RADIUS_KM = 2000.0


@dataclass(frozen=True, slots=True)
class Box:
    """A latitude/longitude box, in degrees."""

    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float

    def contains(self, lat: float, lon: float) -> bool:
        return self.lat_min <= lat <= self.lat_max and self.lon_min <= lon <= self.lon_max


class CandidateSource(Protocol):
    """Eligible caregivers for one order: those inside a box, or all of them (box None)."""

    def within(self, box: Box | None) -> Sequence[Candidate]: ...

    def apart(self) -> Sequence[Candidate]:
        """Every eligible caregiver to rank apart from the box search, wherever they are: those who served this
        elder before (``served_before``: the continuity bonus) and those ``away`` from home (the box search finds
        people by their home)."""
        ...


class ListCandidates:
    """Candidates held in memory, in a grid of ``cell``-degree squares; for tests, benchmarks and simulations
    that already have them."""

    def __init__(self, candidates: Sequence[Candidate], cell: float = 0.02) -> None:
        self.candidates = list(candidates)
        self.cell = cell
        self.grid: dict[tuple[int, int], list[Candidate]] = {}
        for c in self.candidates:
            self.grid.setdefault(self._key(c.lat, c.lon), []).append(c)

    def _key(self, lat: float, lon: float) -> tuple[int, int]:
        return math.floor(lat / self.cell), math.floor(lon / self.cell)

    def within(self, box: Box | None) -> Sequence[Candidate]:
        if box is None:
            return self.candidates
        (lat_lo, lon_lo), (lat_hi, lon_hi) = self._key(box.lat_min, box.lon_min), self._key(box.lat_max, box.lon_max)
        if (lat_hi - lat_lo + 1) * (lon_hi - lon_lo + 1) > len(self.grid):
            cells = [c for key, c in self.grid.items() if lat_lo <= key[0] <= lat_hi and lon_lo <= key[1] <= lon_hi]
        else:
            cells = [self.grid.get((i, j), []) for i in range(lat_lo, lat_hi + 1) for j in range(lon_lo, lon_hi + 1)]
        return [c for cell in cells for c in cell if box.contains(c.lat, c.lon)]

    def apart(self) -> Sequence[Candidate]:
        return [c for c in self.candidates if c.served_before or c.away]


@dataclass(frozen=True, slots=True)
class Choice:
    """The winner (and, when more were asked for, those next in line) and how much work finding them took."""

    best: Ranked
    radius_km: float | None  # None: everyone was scanned
    fetched: int  # candidates read from the source
    evaluated: int  # geodesic distances computed
    runners_up: tuple[Ranked, ...] = ()  # the next best, in order, up to the count asked for less one

    @property
    def ranked(self) -> tuple[Ranked, ...]:
        """The winner and the runners-up, best first."""
        return (self.best, *self.runners_up)


def _geocentric(lat_deg: float) -> float:
    return math.atan(_FLATTENING_SQ * math.tan(math.radians(lat_deg)))


def _geodetic_deg(lat_geocentric: float) -> float:
    return math.degrees(math.atan(math.tan(lat_geocentric) / _FLATTENING_SQ))


def distance_floor_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """A lower bound of the WGS-84 geodesic distance: the polar-radius sphere between geocentric directions."""
    p1, p2 = _geocentric(lat1), _geocentric(lat2)
    dlon = math.radians(lon2 - lon1)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlon / 2) ** 2
    angle = 2 * math.asin(min(1.0, math.sqrt(h)))
    # less a micrometre: geodesic distances are computed to about 15 nm, and tiny ones round to zero
    return max(0.0, WGS84_B_KM * angle * (1 - _SLACK) - 1e-9)


def box_around(lat: float, lon: float, radius_km: float) -> Box | None:
    """A box holding every point within ``radius_km`` of (lat, lon); None when it would wrap a pole or ±180°."""
    angle = radius_km / WGS84_B_KM * (1 + _SLACK) + 1e-12
    center = _geocentric(lat)
    if abs(center) + angle >= math.pi / 2 - 1e-6:
        return None
    # the widest longitude a spherical cap of this angle reaches, seen from its centre's latitude
    half_width = math.degrees(math.asin(min(1.0, math.sin(angle) / math.cos(center))))
    box = Box(_geodetic_deg(center - angle), _geodetic_deg(center + angle), lon - half_width, lon + half_width)
    if box.lon_min < -180 or box.lon_max > 180:
        return None
    return box


def _way_floor_km(candidate: Candidate, lat: float, lon: float) -> float:
    """A lower bound of the candidate's way to (lat, lon): the straight one's, or each leg's by their stop."""
    via = candidate.via
    if via is None:
        return distance_floor_km(lat, lon, candidate.lat, candidate.lon)
    return distance_floor_km(candidate.lat, candidate.lon, *via) + distance_floor_km(*via, lat, lon)


def _best(
    ranking: Ranking, candidates: Sequence[Candidate], lat: float, lon: float, count: int = 1
) -> tuple[list[Ranked], int]:
    """The ``count`` lowest-cost candidates who can be there in time, best first, computing geodesics in order of
    their cost floors until none of the rest can be among them."""
    floors = sorted(
        ((ranking.cost_at(c, _way_floor_km(c, lat, lon)), c.caregiver_id, c) for c in candidates),
        key=lambda item: (item[0], item[1]),
    )
    best: list[Ranked] = []
    evaluated = 0
    for floor, _, candidate in floors:
        if len(best) == count and floor > best[-1].cost:
            break
        ranked = ranking.rank(candidate, lat, lon)
        evaluated += 1
        if ranking.in_time(ranked):
            best = _first(count, best, [ranked])
    return best, evaluated


def _first(count: int, *lists: Sequence[Ranked]) -> list[Ranked]:
    """The ``count`` lowest of the lists together, by cost and then caregiver id."""
    return sorted((r for ranked in lists for r in ranked), key=lambda r: r.key)[:count]


def choose(
    source: CandidateSource,
    lat: float,
    lon: float,
    ranking: Ranking,
    *,
    start_radius_km: float = 3.0,
    count: int = 1,
) -> Choice | None:
    """The same caregiver ``brute_force`` would choose, reading only the caregivers near (lat, lon); with ``count``
    above one, the same ``count`` best too (an emergency's race), from the one search."""
    slope = ranking.slope_per_km()
    radius = start_radius_km
    apart = list(source.apart()) if slope > 0 else []
    fetched = evaluated = len(apart)
    known = {c.caregiver_id for c in apart}
    best_apart = _first(count, [r for r in (ranking.rank(c, lat, lon) for c in apart) if ranking.in_time(r)])
    while slope > 0 and radius <= MAX_RADIUS_KM:
        box = box_around(lat, lon, radius)
        if box is None:
            break
        candidates = [c for c in source.within(box) if c.caregiver_id not in known]
        fetched += len(candidates)
        found, n = _best(ranking, candidates, lat, lon, count)
        evaluated += n
        best = _first(count, found, best_apart)
        # everyone outside the box is at home (farther than the radius) and no regular: no continuity bonus
        floor = ranking.floor_beyond(radius * (1 - _SLACK), regulars_apart=True)
        if len(best) == count and best[-1].cost < floor - _SLACK * (1 + abs(floor)):
            return Choice(best[0], radius, fetched, evaluated, tuple(best[1:]))
        if len(best) < count:
            radius *= 4
        else:
            # the radius beyond which no one could match the last of those found so far, plus a little
            needed = radius + (best[-1].cost - floor) / slope
            radius = max(radius * 1.5, needed * 1.01)
    everyone = source.within(None)
    best, n = _best(ranking, everyone, lat, lon, count)
    if not best:
        return None
    return Choice(best[0], None, fetched + len(everyone), evaluated + n, tuple(best[1:]))


def brute_force(source: CandidateSource, lat: float, lon: float, ranking: Ranking, *, count: int = 1) -> Choice | None:
    """The reference: every eligible caregiver's geodesic distance and cost, lowest (cost, id) wins (and the
    ``count`` lowest, best first)."""
    candidates = source.within(None)
    ranked = _first(count, [r for r in (ranking.rank(c, lat, lon) for c in candidates) if ranking.in_time(r)])
    if not ranked:
        return None
    return Choice(ranked[0], None, len(candidates), len(candidates), tuple(ranked[1:]))
