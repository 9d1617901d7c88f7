"""How good a caregiver is for an order: estimated travel, load, continuity of care and rating, as one cost."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from geopy.distance import geodesic

from dispatcher.settings import MatchWeights, TravelModel


@dataclass(frozen=True, slots=True)
class Candidate:
    """An eligible caregiver, with what the ranking needs to know about them."""

    caregiver_id: int
    code: str
    provider_id: int
    lat: float
    lon: float
    travel_mode: str
    rating: float
    load: int
    max_load: int
    served_before: bool
    name: str = ""
    phone: str = ""
    language: str = "zh"
    # (lat, lon) is where they last checked in (an order they are at, on the way to, or just finished), not home
    away: bool = False
    # a stop on the way, when the need is collected somewhere first: a meal from their provider's kitchen
    via_lat: float | None = None
    via_lon: float | None = None
    # hours they were busy on orders in the last 24 hours (set off or arrived, to done or now)
    worked_hours: float = 0.0

    @property
    def via(self) -> tuple[float, float] | None:
        return None if self.via_lat is None or self.via_lon is None else (self.via_lat, self.via_lon)


@dataclass(frozen=True, slots=True)
class Ranked:
    """A candidate with their distance, travel estimate and cost (lower is better)."""

    candidate: Candidate
    distance_km: float
    eta_min: float
    cost: float

    @property
    def key(self) -> tuple[float, int]:
        """The sort key: cost, then caregiver id, so equal costs always resolve the same way."""
        return (self.cost, self.candidate.caregiver_id)


@dataclass(frozen=True, slots=True)
class Ranking:
    """The cost model for one order: its weights and travel speeds."""

    weights: MatchWeights
    travel: TravelModel
    emergency: bool
    # a booked service: minutes from now by which a caregiver must be there (the arrival deadline they would be
    # given on accepting it, and the lateness tolerated past it); those who cannot make it are not candidates
    arrive_within_min: float | None = None

    def speed_kmh(self, mode: str) -> float:
        return self.travel.speed_kmh[mode] * (self.travel.emergency_factor if self.emergency else 1.0)

    def eta_min(self, mode: str, km: float) -> float:
        return self.travel.setup_min[mode] + km * self.travel.detour / self.speed_kmh(mode) * 60.0

    def cost_at(self, candidate: Candidate, km: float) -> float:
        """The cost of ``candidate`` at ``km``; non-decreasing in ``km`` because every weight is >= 0."""
        w = self.weights
        return (
            w.eta * self.eta_min(candidate.travel_mode, km)
            + w.distance * km
            + w.load * candidate.load
            + w.rating * (5.0 - candidate.rating)
            - w.continuity * (1.0 if candidate.served_before else 0.0)
            + w.worked * candidate.worked_hours
        )

    def rank(self, candidate: Candidate, lat: float, lon: float) -> Ranked:
        """The exact ranking of one candidate, by geopy's geodesic distance on WGS-84: straight there, or by their
        stop on the way (``via``). A stop never shortens the way, so the straight distance stays a lower bound
        of it (what ``matching`` relies on)."""
        via = candidate.via
        if via is None:
            km = geodesic((lat, lon), (candidate.lat, candidate.lon)).km
        else:
            km = geodesic((candidate.lat, candidate.lon), via).km + geodesic(via, (lat, lon)).km
        return Ranked(candidate, km, self.eta_min(candidate.travel_mode, km), self.cost_at(candidate, km))

    def in_time(self, ranked: Ranked) -> bool:
        """Whether the candidate can be there by the order's arrival deadline (always, without one)."""
        return self.arrive_within_min is None or ranked.eta_min <= self.arrive_within_min

    def floor_beyond(self, km: float, *, regulars_apart: bool = False) -> float:
        """A cost no caregiver farther than ``km`` can reach or go below (best case of every other term).

        ``regulars_apart``: those who served the elder before are looked at separately (``CandidateSource.apart``),
        so no one else farther than ``km`` can have the continuity bonus.
        """
        w = self.weights
        fastest = max(self.speed_kmh(mode) for mode in self.travel.speed_kmh)
        quickest_setup = min(self.travel.setup_min.values())
        bonus = 0.0 if regulars_apart else w.continuity
        return w.eta * (quickest_setup + km * self.travel.detour / fastest * 60.0) + w.distance * km - bonus

    def slope_per_km(self) -> float:
        """How fast ``floor_beyond`` grows with distance; zero means distance does not matter."""
        fastest = max(self.speed_kmh(mode) for mode in self.travel.speed_kmh)
        return self.weights.eta * self.travel.detour / fastest * 60.0 + self.weights.distance

    def reasons(self, ranked: Ranked) -> dict[str, Any]:
        """Why this caregiver: every term of the cost, as stored on the offer for operators."""
        c, w = ranked.candidate, self.weights
        reasons: dict[str, Any] = {
            "distance_km": round(ranked.distance_km, 3),
            "eta_min": round(ranked.eta_min, 1),
            "travel_mode": c.travel_mode,
            "from": "last_order" if c.away else "home",
            "load": c.load,
            "max_load": c.max_load,
            "rating": c.rating,
            "served_before": c.served_before,
            "cost": round(ranked.cost, 3),
            "terms": {
                "travel": round(w.eta * ranked.eta_min + w.distance * ranked.distance_km, 3),
                "load": round(w.load * c.load, 3),
                "rating": round(w.rating * (5.0 - c.rating), 3),
                "continuity": round(-w.continuity * (1.0 if c.served_before else 0.0), 3),
                "worked": round(w.worked * c.worked_hours, 3),
            },
            "weights": w.model_dump(),
        }
        if c.via is not None:
            reasons["via"] = "kitchen"  # distance and travel time are by the kitchen
        return reasons
