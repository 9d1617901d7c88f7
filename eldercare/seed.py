"""A deterministic demo city: townships, communities, elders and their devices, providers and caregivers."""

from __future__ import annotations

import json
import logging
import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from eldercare import seed_data as facts
from eldercare.passwords import hash_device_secret

log = logging.getLogger(__name__)

# Ages and dates are counted from a fixed day so that a seed gives the same city whenever it runs.
REFERENCE_DAY = date(2026, 1, 1)
SERVICES = ("meal", "cleaning", "bathing", "medical", "mobility", "emergency", "care")
DEVICE_PREFIX = {
    "button": "btn",
    "pendant": "pdt",
    "watch": "wch",
    "fall_detector": "fdt",
    "smoke": "smk",
    "gas": "gas",
    "door": "dor",
    "bed": "bed",
}
# The tables seed fills, in the order it fills them (and the reverse of the order --reset empties them).
TABLES = (
    "township",
    "community",
    "elder",
    "emergency_contact",
    "device",
    "provider",
    "provider_service",
    "provider_area",
    "caregiver",
    "caregiver_skill",
    "caregiver_shift",
    "recurring_service",
)
# What --reset empties besides, so that a reseeded city starts with no history.
HISTORY_TABLES = (
    "offer",
    "sms_message",
    "order_event",
    "service_order",
    "alarm",
    "device_event",
    "reading",
    "reading_hourly",
    "dead_letter",
    "audit_log",
)


class SeedError(Exception):
    """The city cannot be seeded as asked; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class SeedPlan:
    elders: int
    seed: int = 1
    providers: int | None = None
    caregivers: int | None = None

    @property
    def provider_count(self) -> int:
        return self.providers if self.providers is not None else max(6, round(self.elders / 85))

    @property
    def caregiver_count(self) -> int:
        return self.caregivers if self.caregivers is not None else max(12, round(self.elders * 0.12))


@dataclass(slots=True)
class City:
    """Rows per table, as tuples in the column order of ``COLUMNS``, plus the provisioning manifest."""

    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=lambda: {t: [] for t in TABLES})
    manifest: dict[str, Any] = field(default_factory=dict)


COLUMNS: dict[str, tuple[str, ...]] = {
    "township": ("id", "code", "name", "lat", "lon"),
    "community": ("id", "township_id", "code", "name", "lat", "lon"),
    "elder": (
        "id",
        "code",
        "name",
        "gender",
        "birth_date",
        "phone",
        "language",
        "community_id",
        "address",
        "lat",
        "lon",
        "ability_level",
        "lives_alone",
        "left_behind",
        "economic_status",
    ),
    "emergency_contact": ("id", "elder_id", "name", "relation", "phone", "language", "priority"),
    "device": ("id", "type", "elder_id", "secret_hash", "battery", "firmware"),
    "provider": ("id", "code", "name", "phone", "manager_name", "manager_phone", "standing", "capacity"),
    "provider_service": ("provider_id", "service_type"),
    "provider_area": ("provider_id", "community_id"),
    "caregiver": (
        "id",
        "code",
        "provider_id",
        "name",
        "gender",
        "phone",
        "language",
        "home_lat",
        "home_lon",
        "travel_mode",
        "max_load",
        "rating",
    ),
    "caregiver_skill": ("caregiver_id", "service_type"),
    "caregiver_shift": ("id", "caregiver_id", "weekday", "starts", "ends"),
    "recurring_service": (
        "id",
        "elder_id",
        "service_type",
        "schedule",
        "duration_min",
        "lead_min",
        "starts_on",
    ),
}


class _Names:
    """Chinese names and unique phone numbers drawn from one random stream."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._surnames = [s for s, _ in facts.SURNAMES]
        self._weights = [w for _, w in facts.SURNAMES]
        self._phones: set[str] = set()

    def person(self, gender: str, elder: bool) -> str:
        surname = self.rng.choices(self._surnames, self._weights)[0]
        given: tuple[str, ...]
        if elder:
            given = facts.ELDER_NAMES_F if gender == "F" else facts.ELDER_NAMES_M
        else:
            given = facts.YOUNG_NAMES_F if gender == "F" else facts.YOUNG_NAMES_M
        return surname + self.rng.choice(given)

    def phone(self) -> str:
        while True:
            number = f"+86{self.rng.choice(facts.MOBILE_PREFIXES)}{self.rng.randrange(10**8):08d}"
            if number not in self._phones:
                self._phones.add(number)
                return number


def _jitter(rng: random.Random, lat: float, lon: float, km: float) -> tuple[float, float]:
    """A point around (lat, lon), normally spread with ``km`` standard deviation."""
    dlat = rng.gauss(0, km) / 111.0
    dlon = rng.gauss(0, km) / (111.0 * math.cos(math.radians(lat)))
    return round(lat + dlat, 6), round(lon + dlon, 6)


def _age(rng: random.Random) -> int:
    band = rng.choices(((60, 69), (70, 79), (80, 89), (90, 101)), (45, 35, 16, 4))[0]
    return rng.randint(*band)


def _ability(rng: random.Random, age: int) -> int:
    frail = min(0.85, max(0.05, (age - 62) / 40))
    return rng.choices((0, 1, 2, 3, 4), (1 - frail, frail * 0.45, frail * 0.3, frail * 0.17, frail * 0.08))[0]


def _places(city: City, rng: random.Random) -> list[tuple[int, facts.TownshipFact, float, float]]:
    communities = []
    community_id = 0
    for township_id, town in enumerate(facts.TOWNSHIPS, start=1):
        city.rows["township"].append((township_id, town.code, town.name, town.lat, town.lon))
        stems = rng.sample(facts.COMMUNITY_STEMS, 6 if town.urban else 5)
        for n, stem in enumerate(stems, start=1):
            community_id += 1
            lat, lon = _jitter(rng, town.lat, town.lon, 1.5 if town.urban else 4.0)
            name = stem + ("社区" if town.urban else "村")
            city.rows["community"].append((community_id, township_id, f"{town.code}{n:02d}", name, lat, lon))
            communities.append((community_id, town, lat, lon))
    return communities


def _elders(city: City, rng: random.Random, names: _Names, count: int, today: date) -> None:
    communities = _places(city, rng)
    weights = [town.weight for _, town, _, _ in communities]
    manifest_elders, manifest_devices = [], []
    for elder_id in range(1, count + 1):
        community_id, town, clat, clon = rng.choices(communities, weights)[0]
        gender = rng.choice("FM")
        age = _age(rng)
        birth = date(today.year - age, rng.randint(1, 12), rng.randint(1, 28))
        ability = _ability(rng, age)
        lives_alone = rng.random() < (0.22 if town.urban else 0.28)
        left_behind = not town.urban and rng.random() < 0.3
        economic = rng.choices(("none", "min_allowance", "extreme_poverty"), (90, 8, 2))[0]
        lat, lon = _jitter(rng, clat, clon, 0.4 if town.urban else 1.0)
        community_name = city.rows["community"][community_id - 1][4]
        if town.urban:
            address = (
                f"{town.name}{community_name}{rng.choice(facts.STREETS)}{rng.randint(1, 300)}号"
                f"{rng.randint(1, 20)}栋{rng.randint(1, 4)}单元{rng.randint(1, 7)}0{rng.randint(1, 4)}室"
            )
        else:
            address = f"{town.name}{community_name}{rng.randint(1, 12)}组{rng.randint(1, 60)}号"
        code = f"E{elder_id:06d}"
        phone = names.phone() if rng.random() < 0.6 else None
        city.rows["elder"].append(
            (
                elder_id,
                code,
                names.person(gender, elder=True),
                gender,
                birth,
                phone,
                "zh",
                community_id,
                address,
                lat,
                lon,
                ability,
                lives_alone,
                left_behind,
                economic,
            )
        )
        for priority in range(1, rng.choice((1, 2, 2, 3)) + 1):
            relation, cgender = rng.choice(facts.CONTACT_RELATIONS)
            contact_id = len(city.rows["emergency_contact"]) + 1
            city.rows["emergency_contact"].append(
                (
                    contact_id,
                    elder_id,
                    names.person(cgender, elder=False),
                    relation,
                    names.phone(),
                    "zh",
                    priority,
                )
            )
        devices = _devices_for(rng, age, ability, lives_alone)
        for device_type in devices:
            device_id = f"{DEVICE_PREFIX[device_type]}{elder_id:06d}"
            secret = f"{rng.getrandbits(96):024x}"
            salt = f"{rng.getrandbits(32):08x}"
            city.rows["device"].append(
                (
                    device_id,
                    device_type,
                    elder_id,
                    hash_device_secret(secret, salt),
                    rng.randint(35, 100),
                    "1.4.2",
                )
            )
            manifest_devices.append({"id": device_id, "type": device_type, "elder_id": elder_id, "secret": secret})
        manifest_elders.append(
            {
                "id": elder_id,
                "code": code,
                "lat": lat,
                "lon": lon,
                "age": age,
                "ability_level": ability,
                "lives_alone": lives_alone,
                "devices": [f"{DEVICE_PREFIX[t]}{elder_id:06d}" for t in devices],
            }
        )
        _recurring_for(city, rng, elder_id, ability, lives_alone, economic, today)
    city.manifest["elders"] = manifest_elders
    city.manifest["devices"] = manifest_devices


def _devices_for(rng: random.Random, age: int, ability: int, lives_alone: bool) -> list[str]:
    devices = ["watch" if rng.random() < 0.6 else "pendant"]
    if rng.random() < 0.5:
        devices.append("button")
    if ability >= 2 or (age >= 80 and rng.random() < 0.5):
        devices.append("fall_detector")
    if rng.random() < 0.3:
        devices.append("smoke")
    if rng.random() < 0.25:
        devices.append("gas")
    if lives_alone and rng.random() < 0.6:
        devices.append("door")
    if ability >= 3 and rng.random() < 0.5:
        devices.append("bed")
    return devices


def _recurring_for(
    city: City, rng: random.Random, elder_id: int, ability: int, lives_alone: bool, economic: str, today: date
) -> None:
    rows = city.rows["recurring_service"]

    def add(service: str, schedule: str, minutes: int, lead: int) -> None:
        rows.append((len(rows) + 1, elder_id, service, schedule, minutes, lead, today))

    needy = economic != "none" or ability >= 2 or lives_alone
    if needy and rng.random() < 0.45:
        add("meal", f"{rng.choice((0, 15, 30))} 11 * * *", 30, 60)
    if ability >= 2 and rng.random() < 0.5:
        add(
            "bathing",
            f"0 {rng.choice((9, 10, 14, 15))} * * {rng.choice(('mon', 'wed', 'fri', 'sat'))}",
            60,
            120,
        )
    if needy and rng.random() < 0.2:
        add("cleaning", f"0 {rng.choice((9, 14))} * * {rng.choice(('tue', 'thu', 'sat'))}", 120, 120)
    if ability >= 3 and rng.random() < 0.4:
        add("care", f"0 {rng.choice((8, 16))} * * *", 60, 60)


def _providers(city: City, rng: random.Random, names: _Names, count: int) -> list[tuple[int, list[str]]]:
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
        services = ["emergency", *sorted(rng.sample([s for s in SERVICES if s != "emergency"], rng.randint(3, 5)))]
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
    return providers


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


def _caregivers(
    city: City, rng: random.Random, names: _Names, count: int, providers: Sequence[tuple[int, list[str]]]
) -> None:
    area_points: dict[int, list[tuple[float, float]]] = {}
    community_pos = {row[0]: (row[4], row[5]) for row in city.rows["community"]}
    for provider_id, community_id in city.rows["provider_area"]:
        area_points.setdefault(provider_id, []).append(community_pos[community_id])
    manifest: list[dict[str, Any]] = []
    for caregiver_id in range(1, count + 1):
        provider_id, services = providers[(caregiver_id - 1) % len(providers)]
        gender = rng.choices("FM", (75, 25))[0]
        lat, lon = _jitter(rng, *rng.choice(area_points[provider_id]), 1.2)
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
    # a provider's caregivers between them cover every service it sells
    staff: dict[int, list[dict[str, Any]]] = {}
    for entry in manifest:
        staff.setdefault(entry["provider_id"], []).append(entry)
    for provider_id, services in providers:
        for service in services:
            people = staff.get(provider_id, [])
            if people and not any(service in p["skills"] for p in people):
                least = min(people, key=lambda p: (len(p["skills"]), p["id"]))
                least["skills"] = sorted({*least["skills"], service})
                city.rows["caregiver_skill"].append((least["id"], service))
    city.manifest["caregivers"] = manifest


def _shifts(rng: random.Random) -> Iterable[tuple[int, time, time]]:
    pattern = rng.choices(("day", "long", "night", "weekend"), (55, 20, 15, 10))[0]
    if pattern == "day":
        return [(d, time(8), time(18)) for d in range(1, 7)]
    if pattern == "long":
        return [(d, time(7), time(21)) for d in rng.sample(range(1, 8), 5)]
    if pattern == "night":
        return [(d, time(20), time(8)) for d in rng.sample(range(1, 8), 5)]
    return [(d, time(8), time(20)) for d in (5, 6, 7)]


def generate(plan: SeedPlan, today: date = REFERENCE_DAY) -> City:
    """The whole city for ``plan``: the same plan gives the same rows and manifest."""
    if plan.elders < 1:
        raise SeedError("--elders must be at least 1")
    rng = random.Random(plan.seed)
    names = _Names(rng)
    city = City()
    _elders(city, rng, names, plan.elders, today)
    providers = _providers(city, rng, names, plan.provider_count)
    _caregivers(city, rng, names, plan.caregiver_count, providers)
    city.manifest = {"seed": plan.seed, "city": facts.CITY_NAME, **city.manifest}
    return city


def _copy(conn: psycopg.Connection, table: str, rows: list[tuple[Any, ...]]) -> None:
    columns = COLUMNS[table]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with conn.cursor().copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
    if "id" in columns and table != "device":
        # COPY writes identity values as given; move each sequence past them.
        conn.execute(
            sql.SQL("SELECT setval(pg_get_serial_sequence({t}, 'id'), (SELECT coalesce(max(id), 1) FROM {i}))").format(
                t=sql.Literal(table), i=sql.Identifier(table)
            )
        )


def count_elders(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT count(*) FROM elder").fetchone()
    return int(row[0]) if row else 0


def reset(conn: psycopg.Connection) -> None:
    """Delete every elder, device, provider and all history, keeping operators and the schema."""
    tables = ", ".join(HISTORY_TABLES + tuple(reversed(TABLES)))
    conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE".encode())


def write(conn: psycopg.Connection, city: City, progress: Callable[[str, int], None] | None = None) -> None:
    """Insert the city with COPY, in the caller's transaction."""
    for table in TABLES:
        _copy(conn, table, city.rows[table])
        if progress:
            progress(table, len(city.rows[table]))


def write_manifest(path: Path, city: City) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(city.manifest, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    tmp.replace(path)
