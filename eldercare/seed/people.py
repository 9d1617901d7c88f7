"""Townships, communities, elders, their contacts, devices and recurring services."""

from __future__ import annotations

import random
from datetime import date

from devices.mosquitto import password_hash
from eldercare.register.identity import resident_id_check_char
from eldercare.seed import facts
from eldercare.seed.model import DEVICE_PREFIX, City, Names, jitter


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
            lat, lon = jitter(rng, town.lat, town.lon, 1.5 if town.urban else 4.0)
            name = stem + ("社区" if town.urban else "村")
            city.rows["community"].append((community_id, township_id, f"{town.code}{n:02d}", name, lat, lon))
            communities.append((community_id, town, lat, lon))
    return communities


def _resident_id(born: date, gender: str, elder_id: int, taken: set[str]) -> str:
    """A valid resident ID number of Chibi (GB 11643) for the birth date and gender, unique in the city; drawn
    without the random stream, so that adding ID numbers changed no other seeded value."""
    start = elder_id * 7
    for step in range(500):
        order = ((start + step) % 500) * 2 + (1 if gender == "M" else 0)  # odd for men
        first17 = f"{facts.REGION_CODE}{born:%Y%m%d}{order:03d}"
        number = first17 + resident_id_check_char(first17)
        if number not in taken:
            taken.add(number)
            return number
    raise ValueError(f"more than 500 elders of one gender born on {born}")


def elders(city: City, rng: random.Random, names: Names, count: int, today: date) -> None:
    communities = _places(city, rng)
    resident_ids: set[str] = set()
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
        lat, lon = jitter(rng, clat, clon, 0.4 if town.urban else 1.0)
        community_name = city.rows["community"][community_id - 1][3]
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
                "alone" if lives_alone else "left_behind" if left_behind else "with_family",
                _resident_id(birth, gender, elder_id, resident_ids),
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
            salt = rng.getrandbits(32).to_bytes(4, "big") * 3  # 12 bytes, as Mosquitto's hashes have
            city.rows["device"].append(
                (
                    device_id,
                    device_type,
                    elder_id,
                    password_hash(secret, salt),  # Mosquitto's format: the broker sync writes it out
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
                "address": address,
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
    # about one elder in ten has lunch delivered every day, as in the city's canteen-and-delivery programme
    if needy and rng.random() < 0.2:
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
