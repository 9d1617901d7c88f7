"""Providers, their services and areas, and their caregivers with skills and shifts."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from datetime import time
from typing import Any

from eldercare.seed import facts
from eldercare.seed.model import SERVICES, City, Names, jitter
from eldercare.vocabulary import ServiceType

# A township's responder lives within this many kilometres of its seat.
_SEAT_KM = 3.0
# A provider's kitchen lies about this many kilometres from the seat of its home township.
_KITCHEN_KM = 0.8


def providers(city: City, rng: random.Random, names: Names, count: int) -> list[tuple[int, list[str]]]:
    townships = list(range(1, len(facts.TOWNSHIPS) + 1))
    communities_of: dict[int, list[int]] = {t: [] for t in townships}
    for community_id, township_id, *_ in city.rows["community"]:
        communities_of[township_id].append(community_id)
    providers = []
    for provider_id in range(1, count + 1):
        stem = facts.PROVIDER_STEMS[(provider_id - 1) % len(facts.PROVIDER_STEMS)]
        kind = rng.choice(facts.PROVIDER_KINDS)
        name = f"赤壁市{stem}{kind}" + (
            f"{provider_id // len(facts.PROVIDER_STEMS) + 1}分部" if provider_id > len(facts.PROVIDER_STEMS) else ""
        )
        standing = "red" if provider_id == 1 else ("black" if provider_id == count and count >= 6 else "normal")
        city.rows["provider"].append(
            (
                provider_id,
                f"P{provider_id:03d}",
                name,
                names.phone(),
                names.person(rng.choice("FM"), elder=False),
                names.phone(),
                standing,
                rng.choice((30, 50, 80)),
            )
        )
        # Every provider answers emergencies; the others it offers rotate so each service has several.
        others = [s for s in SERVICES if s != ServiceType.EMERGENCY]
        services: list[str] = [ServiceType.EMERGENCY, *sorted(rng.sample(others, rng.randint(3, 5)))]
        for service in services:
            city.rows["provider_service"].append((provider_id, service))
        # A service area of a few neighbouring townships, rotating so that the whole city is covered.
        home = (provider_id - 1) % len(townships) + 1
        area = {home} | set(rng.sample(townships, rng.randint(1, 3)))
        for township_id in sorted(area):
            for community_id in communities_of[township_id]:
                city.rows["provider_area"].append((provider_id, community_id))
        providers.append((provider_id, services))
    _cover_every_township(city, providers, communities_of)
    _kitchens(city, providers)
    return providers


def _kitchens(city: City, providers: list[tuple[int, list[str]]]) -> None:
    """Every provider selling meals cooks them in a kitchen in its home township, near the seat; the others have
    none. Each kitchen is drawn from its own generator, so that the rest of the city stays as it was."""
    seats = {row[0]: (row[3], row[4]) for row in city.rows["township"]}
    cooks = {pid for pid, services in providers if ServiceType.MEAL in services}
    rows = city.rows["provider"]
    for n, row in enumerate(rows):
        kitchen: tuple[float | None, float | None] = (None, None)
        if row[0] in cooks:
            home = (row[0] - 1) % len(seats) + 1
            lat, lon = jitter(random.Random(f"kitchen {row[0]}"), *seats[home], _KITCHEN_KM)
            kitchen = (round(lat, 6), round(lon, 6))
        rows[n] = (*row, *kitchen)


def _cover_every_township(
    city: City, providers: list[tuple[int, list[str]]], communities_of: dict[int, list[int]]
) -> None:
    """Extend services and areas so that each township has a provider in good standing for each service."""
    black = {row[0] for row in city.rows["provider"] if row[6] == "black"}
    usable = [(pid, services) for pid, services in providers if pid not in black]
    areas: dict[int, set[int]] = {}
    township_of = {row[0]: row[1] for row in city.rows["community"]}
    for pid, community_id in city.rows["provider_area"]:
        areas.setdefault(pid, set()).add(township_of[community_id])
    for n, service in enumerate(SERVICES):
        offering = [(pid, services) for pid, services in usable if service in services]
        if not offering:
            pid, services = usable[n % len(usable)]
            services.append(service)
            city.rows["provider_service"].append((pid, service))
            offering = [(pid, services)]
        for township_id, communities in communities_of.items():
            if any(township_id in areas.get(pid, ()) for pid, _ in offering):
                continue
            pid = offering[township_id % len(offering)][0]
            areas.setdefault(pid, set()).add(township_id)
            city.rows["provider_area"].extend((pid, c) for c in communities)


def caregivers(
    city: City, rng: random.Random, names: Names, count: int, providers: Sequence[tuple[int, list[str]]]
) -> None:
    area_points: dict[int, list[tuple[float, float]]] = {}
    community_pos = {row[0]: (row[4], row[5]) for row in city.rows["community"]}
    for provider_id, community_id in city.rows["provider_area"]:
        area_points.setdefault(provider_id, []).append(community_pos[community_id])
    manifest: list[dict[str, Any]] = []
    for caregiver_id in range(1, count + 1):
        provider_id, services = providers[(caregiver_id - 1) % len(providers)]
        gender = rng.choices("FM", (75, 25))[0]
        lat, lon = jitter(rng, *rng.choice(area_points[provider_id]), 1.2)
        language = "en" if rng.random() < 0.03 else "zh"
        phone = names.phone()
        code = f"C{caregiver_id:05d}"
        city.rows["caregiver"].append(
            (
                caregiver_id,
                code,
                provider_id,
                names.person(gender, elder=False),
                gender,
                phone,
                language,
                lat,
                lon,
                rng.choices(("walk", "ebike", "car"), (15, 65, 20))[0],
                rng.choice((2, 2, 3, 4)),
                round(rng.triangular(3.5, 5.0, 4.6), 1),
            )
        )
        skills = set(rng.sample(services, min(len(services), rng.randint(2, 4))))
        if rng.random() < 0.5:
            skills.add("emergency")
        for service in sorted(skills):
            city.rows["caregiver_skill"].append((caregiver_id, service))
        for weekday, starts, ends in _shifts(rng):
            shift_id = len(city.rows["caregiver_shift"]) + 1
            city.rows["caregiver_shift"].append((shift_id, caregiver_id, weekday, starts, ends))
        manifest.append(
            {
                "id": caregiver_id,
                "code": code,
                "phone": phone,
                "provider_id": provider_id,
                "language": language,
                "skills": sorted(skills),
            }
        )
    staff: dict[int, list[dict[str, Any]]] = {}
    for entry in manifest:
        staff.setdefault(entry["provider_id"], []).append(entry)
    responders = _township_responders(city, rng, staff)
    # a provider's other caregivers between them cover every service it sells
    for provider_id, services in providers:
        people = [p for p in staff.get(provider_id, []) if p["id"] not in responders] or staff.get(provider_id, [])
        for service in services:
            if people and not any(service in p["skills"] for p in people):
                least = min(people, key=lambda p: (len(p["skills"]), p["id"]))
                least["skills"] = sorted({*least["skills"], service})
                city.rows["caregiver_skill"].append((least["id"], service))
    city.manifest["caregivers"] = manifest


def _township_responders(city: City, rng: random.Random, staff: dict[int, list[dict[str, Any]]]) -> set[int]:
    """Emergencies (助急) are answered around the clock in every township, by its responders: caregivers of
    providers that answer emergencies there, kept for emergencies alone, based near the township's seat and on
    duty every day, on call from home at night. Two per township, or one in a city with fewer than eight
    caregivers per township. In rural townships they drive; in town they ride an e-bike at least.

    They are the providers' emergency-skilled caregivers living nearest the seat; where none lives within
    ``_SEAT_KM`` of it, the nearest of the providers' caregivers is hired there instead (their home moves to the
    seat). Returns their ids.
    """
    townships = {row[0]: row for row in city.rows["township"]}
    per_township = 2 if len(city.rows["caregiver"]) >= 8 * len(townships) else 1
    township_of = {row[0]: row[1] for row in city.rows["community"]}
    usable = {row[0] for row in city.rows["provider"] if row[6] != "black"}
    answering = {pid for pid, service in city.rows["provider_service"] if service == ServiceType.EMERGENCY} & usable
    serving: dict[int, set[int]] = {}
    for pid, community_id in city.rows["provider_area"]:
        if pid in answering:
            serving.setdefault(township_of[community_id], set()).add(pid)
    index = {row[0]: n for n, row in enumerate(city.rows["caregiver"])}
    chosen: set[int] = set()
    for township_id, (_, code, _name, seat_lat, seat_lon) in sorted(townships.items()):
        rural = not next(t.urban for t in facts.TOWNSHIPS if t.code == code)

        def km_from_seat(entry: dict[str, Any], lat: float = seat_lat, lon: float = seat_lon) -> float:
            home_lat, home_lon = city.rows["caregiver"][index[entry["id"]]][7:9]
            return math.hypot(home_lat - lat, (home_lon - lon) * math.cos(math.radians(lat))) * 111.0

        pool = [e for pid in sorted(serving.get(township_id, ())) for e in staff[pid] if e["id"] not in chosen]
        pool.sort(
            key=lambda e: ("emergency" not in e["skills"] or km_from_seat(e) > _SEAT_KM, km_from_seat(e), e["id"])
        )
        for entry in pool[:per_township]:
            caregiver_id = entry["id"]
            chosen.add(caregiver_id)
            row = list(city.rows["caregiver"][index[caregiver_id]])
            if km_from_seat(entry) > _SEAT_KM:
                row[7], row[8] = jitter(rng, seat_lat, seat_lon, 1.0)
            row[9] = "car" if rural else ("ebike" if row[9] == "walk" else row[9])
            city.rows["caregiver"][index[caregiver_id]] = tuple(row)
            entry["skills"] = ["emergency"]
            shifts = city.rows["caregiver_shift"]
            for weekday in range(1, 8):
                shifts.append((len(shifts) + 1, caregiver_id, weekday, time(8), time(20)))
                shifts.append((len(shifts) + 1, caregiver_id, weekday, time(20), time(8)))
    skills = city.rows["caregiver_skill"]
    skills[:] = [(c, service) for c, service in skills if c not in chosen or service == ServiceType.EMERGENCY]
    skills.extend((c, "emergency") for c in sorted(chosen) if (c, "emergency") not in skills)
    return chosen


def _shifts(rng: random.Random) -> Iterable[tuple[int, time, time]]:
    pattern = rng.choices(("day", "long", "night", "weekend"), (55, 20, 15, 10))[0]
    if pattern == "day":
        return [(d, time(8), time(18)) for d in range(1, 7)]
    if pattern == "long":
        return [(d, time(7), time(21)) for d in rng.sample(range(1, 8), 5)]
    if pattern == "night":
        return [(d, time(20), time(8)) for d in rng.sample(range(1, 8), 5)]
    return [(d, time(8), time(20)) for d in (5, 6, 7)]
