"""The spatial prefilter chooses exactly what a brute-force geopy scan over every caregiver chooses."""

from __future__ import annotations

import math

from geopy.distance import geodesic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatcher.matching import ListCandidates, box_around, brute_force, choose, distance_floor_km
from dispatcher.ranking import Candidate, Ranking
from dispatcher.settings import MatchWeights, TravelModel

MODES = ("walk", "ebike", "car")
latitudes = st.floats(min_value=-70, max_value=70)
longitudes = st.floats(min_value=-170, max_value=170)


@st.composite
def caregivers(draw, lat: float, lon: float) -> list[Candidate]:
    n = draw(st.integers(min_value=0, max_value=40))
    spread = draw(st.sampled_from([0.01, 0.05, 0.3, 2.0]))
    out = []
    for i in range(n):
        # some go by a stop first (a meal's kitchen), anywhere around
        via = draw(st.none() | st.tuples(st.floats(-spread, spread), st.floats(-spread, spread)))
        out.append(
            Candidate(
                caregiver_id=draw(st.integers(min_value=1, max_value=10**6)) * 100 + i,
                code=f"C{i}",
                provider_id=1,
                lat=max(-89.0, min(89.0, lat + draw(st.floats(-spread, spread)))),
                lon=max(-179.9, min(179.9, lon + draw(st.floats(-spread, spread)))),
                travel_mode=draw(st.sampled_from(MODES)),
                rating=draw(st.integers(0, 50)) / 10,
                load=draw(st.integers(0, 4)),
                max_load=5,
                served_before=draw(st.booleans()),
                via_lat=None if via is None else max(-89.0, min(89.0, lat + via[0])),
                via_lon=None if via is None else max(-179.9, min(179.9, lon + via[1])),
            )
        )
    # exact ties and caregivers living together happen in real cities
    if out and draw(st.booleans()):
        twin = out[0]
        out.append(
            Candidate(
                twin.caregiver_id + 1,
                "twin",
                1,
                twin.lat,
                twin.lon,
                twin.travel_mode,
                twin.rating,
                twin.load,
                5,
                twin.served_before,
            )
        )
    return out


weights = st.builds(
    MatchWeights,
    eta=st.sampled_from([0.0, 0.5, 1.0, 3.0]),
    distance=st.sampled_from([0.0, 0.0, 1.0, 10.0]),
    load=st.sampled_from([0.0, 3.0, 8.0, 60.0]),
    rating=st.sampled_from([0.0, 2.0, 4.0, 30.0]),
    continuity=st.sampled_from([0.0, 2.0, 6.0, 90.0]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    lat=latitudes,
    lon=longitudes,
    w=weights,
    emergency=st.booleans(),
    radius=st.sampled_from([0.05, 0.5, 3.0, 20.0]),
    count=st.sampled_from([1, 1, 2, 3, 5]),
    arrive_within=st.sampled_from([None, None, 10.0, 45.0]),
)
def test_prefilter_agrees_with_brute_force(data, lat, lon, w, emergency, radius, count, arrive_within) -> None:
    """The same winner, and for a race (``count``) the same runners-up in the same order, among those who can be
    there by the deadline (``arrive_within``: those who served the elder before, looked at apart, as well)."""
    people = data.draw(caregivers(lat, lon))
    ranking = Ranking(w, TravelModel(), emergency, arrive_within)
    source = ListCandidates(people)
    fast = choose(source, lat, lon, ranking, start_radius_km=radius, count=count)
    slow = brute_force(source, lat, lon, ranking, count=count)
    if slow is None:
        assert fast is None
        return
    assert fast is not None
    assert [(r.candidate.caregiver_id, r.cost) for r in fast.ranked] == [
        (r.candidate.caregiver_id, r.cost) for r in slow.ranked
    ]


@settings(max_examples=500, deadline=None)
@given(lat1=latitudes, lon1=longitudes, dlat=st.floats(-3, 3), dlon=st.floats(-3, 3))
def test_distance_floor_never_exceeds_the_geodesic(lat1, lon1, dlat, dlon) -> None:
    lat2, lon2 = max(-89.0, min(89.0, lat1 + dlat)), lon1 + dlon
    assert distance_floor_km(lat1, lon1, lat2, lon2) <= geodesic((lat1, lon1), (lat2, lon2)).km


@settings(max_examples=300, deadline=None)
@given(lat=latitudes, lon=longitudes, radius=st.floats(0.01, 300), bearing=st.floats(0, 360), fraction=st.floats(0, 1))
def test_box_holds_every_point_within_the_radius(lat, lon, radius, bearing, fraction) -> None:
    box = box_around(lat, lon, radius)
    if box is None:
        return
    point = geodesic(kilometers=radius * fraction).destination((lat, lon), bearing)
    assert box.contains(point.latitude, point.longitude)


def test_box_refuses_poles_and_the_antimeridian() -> None:
    assert box_around(89.9, 0, 50) is None
    assert box_around(10, 179.99, 50) is None
    assert box_around(30, 114, 5) is not None


def test_prefilter_reads_few_caregivers_in_a_crowd() -> None:
    import random

    rng = random.Random(5)
    lat, lon = 29.72, 113.93
    crowd = [
        Candidate(
            i,
            f"C{i}",
            1,
            lat + rng.uniform(-0.3, 0.3),
            lon + rng.uniform(-0.3, 0.3),
            rng.choice(MODES),
            rng.randint(35, 50) / 10,
            rng.randint(0, 2),
            4,
            i in (7, 700, 4000),  # an elder has a few regulars
        )
        for i in range(1, 5001)
    ]
    ranking = Ranking(MatchWeights(), TravelModel(), False)
    fast = choose(ListCandidates(crowd), lat, lon, ranking)
    slow = brute_force(ListCandidates(crowd), lat, lon, ranking)
    assert fast is not None and slow is not None and fast.best == slow.best
    assert fast.evaluated < 50 and fast.radius_km is not None
    assert math.isfinite(fast.best.cost)
