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
    homes = _home_townships(city, count)
    seats = {row[0]: (row[3], row[4]) for row in city.rows["township"]}
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
        # Every provider answers emergencies and runs meal assistance (助餐, the service most elders book: a
        # kitchen and lunch at the door); the others it offers rotate so each service has several. (Meals are
        # added after the draw, so that the rest of the city stays as it was drawn before.)
        others = [s for s in SERVICES if s != ServiceType.EMERGENCY]
        services: list[str] = [ServiceType.EMERGENCY, *sorted(rng.sample(others, rng.randint(3, 5)))]
        if ServiceType.MEAL not in services:
            services.append(ServiceType.MEAL)
        for service in services:
            city.rows["provider_service"].append((provider_id, service))
        # A service area of its home township and the one to three townships whose seats are nearest.
        home = homes[provider_id - 1]
        neighbours = sorted((t for t in townships if t != home), key=lambda t: (_km(*seats[t], *seats[home]), t))
        area = {home, *neighbours[: rng.randint(1, 3)]}
        for township_id in sorted(area):
            for community_id in communities_of[township_id]:
                city.rows["provider_area"].append((provider_id, community_id))
        providers.append((provider_id, services))
    _cover_every_township(city, providers, communities_of, homes)
    _kitchens(city, providers, homes)
    return providers


def _kitchens(city: City, providers: list[tuple[int, list[str]]], homes: Sequence[int]) -> None:
    """Every provider selling meals cooks them in a kitchen in its home township, near the seat; the others have
    none. Each kitchen is drawn from its own generator, so that the rest of the city stays as it was."""
    seats = {row[0]: (row[3], row[4]) for row in city.rows["township"]}
    cooks = {pid for pid, services in providers if ServiceType.MEAL in services}
    rows = city.rows["provider"]
    for n, row in enumerate(rows):
        kitchen: tuple[float | None, float | None] = (None, None)
        if row[0] in cooks:
            home = homes[row[0] - 1]
            lat, lon = jitter(random.Random(f"kitchen {row[0]}"), *seats[home], _KITCHEN_KM)
            kitchen = (round(lat, 6), round(lon, 6))
        rows[n] = (*row, *kitchen)


def _elders_per_community(city: City) -> dict[int, int]:
    counts: dict[int, int] = {}
    for row in city.rows["elder"]:
        counts[row[7]] = counts.get(row[7], 0) + 1
    return counts


def _home_townships(city: City, count: int) -> list[int]:
    """Each provider's home township: every township has one (while there are enough providers), the others
    go where the elders are (largest remainders of the elders' shares), so that staff follow demand."""
    elders_in = _elders_per_community(city)
    township_of = {row[0]: row[1] for row in city.rows["community"]}
    elders: dict[int, int] = {row[0]: 0 for row in city.rows["township"]}
    for community_id, n in elders_in.items():
        elders[township_of[community_id]] += n
    townships = sorted(elders)
    seats = {t: 0 for t in townships}
    for t in townships[:count]:
        seats[t] = 1
    total = sum(elders.values()) or 1
    quota = {t: count * elders[t] / total for t in townships}
    while sum(seats.values()) < count:
        t = max(townships, key=lambda t: (quota[t] - seats[t], -t))
        seats[t] += 1
    # interleaved, so that the providers' other traits (drawn in order) do not cluster by township
    order: list[int] = []
    placed = dict.fromkeys(townships, 0)
    while len(order) < count:
        for t in townships:
            if seats[t] > placed[t]:
                order.append(t)
                placed[t] += 1
    return order


def _cover_every_township(
    city: City, providers: list[tuple[int, list[str]]], communities_of: dict[int, list[int]], homes: Sequence[int]
) -> None:
    """Extend services and areas so that each township has a provider in good standing for each service: a
    provider based in the township takes the service on, else the one based nearest extends its area there."""
    seats = {row[0]: (row[3], row[4]) for row in city.rows["township"]}
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
            local = [(pid, services) for pid, services in usable if homes[pid - 1] == township_id]
            if local:
                pid, services = local[0]
                services.append(service)
                city.rows["provider_service"].append((pid, service))
                offering.append((pid, services))
                continue
            pid = min(offering, key=lambda p: (_km(*seats[homes[p[0] - 1]], *seats[township_id]), p[0]))[0]
            areas.setdefault(pid, set()).add(township_id)
            city.rows["provider_area"].extend((pid, c) for c in communities)


def caregivers(
    city: City, rng: random.Random, names: Names, count: int, providers: Sequence[tuple[int, list[str]]]
) -> None:
    # caregivers live where the elders they serve live: a community of their provider's area, by its elders
    area_points: dict[int, list[tuple[float, float]]] = {}
    area_weights: dict[int, list[int]] = {}
    community_pos = {row[0]: (row[4], row[5]) for row in city.rows["community"]}
    elders_in = _elders_per_community(city)
    for provider_id, community_id in city.rows["provider_area"]:
        area_points.setdefault(provider_id, []).append(community_pos[community_id])
        area_weights.setdefault(provider_id, []).append(elders_in.get(community_id, 0) + 1)
    manifest: list[dict[str, Any]] = []
    for caregiver_id in range(1, count + 1):
        provider_id, services = providers[(caregiver_id - 1) % len(providers)]
        gender = rng.choices("FM", (75, 25))[0]
        lat, lon = jitter(rng, *rng.choices(area_points[provider_id], area_weights[provider_id])[0], 1.2)
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
        skills = set(rng.sample(services, min(len(services), rng.randint(3, 5))))
        if rng.random() < 0.5:
            skills.add("emergency")
        if ServiceType.MEAL in services:
            # anyone on a provider's staff can carry lunch from its kitchen to an elder's door
            skills.add(ServiceType.MEAL)
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
    # a provider's other caregivers between them cover every service it sells, two of them at least (one may be
    # off or away), and someone on shift with it every day of the week that any of them works
    days: dict[int, set[int]] = {}
    for _, caregiver_id, weekday, _, _ in city.rows["caregiver_shift"]:
        days.setdefault(caregiver_id, set()).add(weekday)

    def teach(person: dict[str, Any], service: str) -> None:
        person["skills"] = sorted({*person["skills"], service})
        city.rows["caregiver_skill"].append((person["id"], service))

    for provider_id, services in providers:
        ordinary = [p for p in staff.get(provider_id, []) if p["id"] not in responders]
        people = ordinary or staff.get(provider_id, [])
        for service in services:
            while people and sum(service in p["skills"] for p in people) < min(2, len(people)):
                teach(
                    min((p for p in people if service not in p["skills"]), key=lambda p: (len(p["skills"]), p["id"])),
                    service,
                )
            if not ordinary:
                continue  # a provider whose staff are all responders: kept for emergencies on their days
            for weekday in range(1, 8):
                working = [p for p in people if weekday in days.get(p["id"], ())]
                if working and not any(service in p["skills"] for p in working):
                    teach(min(working, key=lambda p: (len(p["skills"]), p["id"])), service)
    city.manifest["caregivers"] = manifest


def _township_responders(city: City, rng: random.Random, staff: dict[int, list[dict[str, Any]]]) -> set[int]:
    """Emergencies (助急) are answered around the clock in every township, by its responders: caregivers of
    providers that answer emergencies there, kept for emergencies alone, based among the township's elders
    (``_bases``: with two, each in the middle of the elders nearer to them) and on duty every day, on call from
    home at night. Two per township, or one in a city with fewer than eight caregivers per township. In rural
    townships they drive; in town they ride an e-bike at least.

    They are the providers' emergency-skilled caregivers living nearest each base; where none lives within
    ``_SEAT_KM`` of it, the nearest of the providers' caregivers is hired there instead (their home moves to the
    base). Returns their ids.
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
    homes_of: dict[int, list[tuple[float, float]]] = {}
    for elder in city.rows["elder"]:
        homes_of.setdefault(township_of[elder[7]], []).append((elder[9], elder[10]))
    index = {row[0]: n for n, row in enumerate(city.rows["caregiver"])}
    chosen: set[int] = set()
    for township_id, (_, code, _name, seat_lat, seat_lon) in sorted(townships.items()):
        rural = not next(t.urban for t in facts.TOWNSHIPS if t.code == code)
        bases = _bases(homes_of.get(township_id, []), (seat_lat, seat_lon), per_township)
        for base_lat, base_lon in bases:

            def km_from_base(entry: dict[str, Any], lat: float = base_lat, lon: float = base_lon) -> float:
                home_lat, home_lon = city.rows["caregiver"][index[entry["id"]]][7:9]
                return _km(home_lat, home_lon, lat, lon)

            pool = [e for pid in sorted(serving.get(township_id, ())) for e in staff[pid] if e["id"] not in chosen]
            if not pool:
                break
            entry = min(
                pool,
                key=lambda e: ("emergency" not in e["skills"] or km_from_base(e) > _SEAT_KM, km_from_base(e), e["id"]),
            )
            caregiver_id = entry["id"]
            chosen.add(caregiver_id)
            row = list(city.rows["caregiver"][index[caregiver_id]])
            if km_from_base(entry) > _SEAT_KM:
                row[7], row[8] = jitter(rng, base_lat, base_lon, 1.0)
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


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Kilometres between two nearby points (flat-earth; the seed's ruler)."""
    return math.hypot(lat1 - lat2, (lon1 - lon2) * math.cos(math.radians(lat2))) * 111.0


def _bases(homes: Sequence[tuple[float, float]], seat: tuple[float, float], count: int) -> list[tuple[float, float]]:
    """Where a township's ``count`` responders are based: the elders' homes nearest the centres of its elders'
    homes (k-means, started from the seat and the homes farthest from the bases so far), so that the farthest
    elder is as near as may be; the seat when the township has no elders."""
    if not homes:
        return [seat] * count
    bases = [seat]
    while len(bases) < count:
        bases.append(max(homes, key=lambda h: min(_km(h[0], h[1], b[0], b[1]) for b in bases)))
    for _ in range(20):
        groups: list[list[tuple[float, float]]] = [[] for _ in bases]
        for home in homes:
            groups[min(range(len(bases)), key=lambda n: _km(home[0], home[1], bases[n][0], bases[n][1]))].append(home)
        moved = [
            (sum(h[0] for h in group) / len(group), sum(h[1] for h in group) / len(group)) if group else base
            for group, base in zip(groups, bases, strict=True)
        ]
        if moved == bases:
            break
        bases = moved
    # a centre may fall between villages (across a lake): the base is the elder's home nearest it
    return [_nearest(homes, base) for base in bases]


def _nearest(homes: Sequence[tuple[float, float]], place: tuple[float, float]) -> tuple[float, float]:
    return min(homes, key=lambda h: (_km(h[0], h[1], place[0], place[1]), h))


def _shifts(rng: random.Random) -> Iterable[tuple[int, time, time]]:
    pattern = rng.choices(("day", "long", "early", "weekend"), (55, 20, 15, 10))[0]
    if pattern == "day":
        return [(d, time(8), time(18)) for d in range(1, 7)]
    if pattern == "long":
        return [(d, time(7), time(21)) for d in rng.sample(range(1, 8), 5)]
    if pattern == "early":
        return [(d, time(7), time(15)) for d in rng.sample(range(1, 8), 5)]
    return [(d, time(8), time(20)) for d in (5, 6, 7)]
