"""Enrolling a seeded city's people through the registers, as an operator's form or an import does.

Elders go through ``eldercare.register``, devices through ``eldercare.device_register``, providers and
caregivers through ``eldercare.roster``: the same checks, rows and audit entries (actor ``seed``). The city's
rows say what to enrol; each register gives the next id, so seeding an empty database must give each record
the id its rows carry, or the seed stops (the manifest names those ids).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time
from typing import Any

import psycopg

from eldercare import device_register, roster
from eldercare.register import elders as register
from eldercare.seed import facts
from eldercare.seed.model import COLUMNS, City, SeedError

ACTOR = "seed"


def _expect(kind: str, planned: int, given: int) -> None:
    if planned != given:
        raise SeedError(
            f"the register gave {kind} {planned} the id {given}: seed fills an empty database only; "
            "use --reset to delete all platform data first"
        )


def _grouped(rows: list[tuple[Any, ...]]) -> dict[Any, list[tuple[Any, ...]]]:
    """Rows by their first column."""
    groups: dict[Any, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        groups[row[0]].append(row)
    return groups


def _elder_input(
    row: tuple[Any, ...], places: dict[int, tuple[str, str]], contacts: list[tuple[Any, ...]], today: date
) -> dict[str, Any]:
    (elder_id, _code, name, gender, birth, phone, language, community_id, address, lat, lon, ability) = row[:12]
    economic, situation, resident_id = row[14:17]
    township, community = places[community_id]
    decided = date(min(birth.year + 60, today.year - 1), 1 + elder_id % 12, 1 + elder_id % 28)
    eligibility = (
        [{"category": economic, "decided_on": decided, "document_no": f"赤民救〔{decided.year}〕{elder_id:05d}号"}]
        if economic != "none"
        else []
    )
    return {
        "name": name,
        "gender": gender,
        "birth_date": birth,
        "resident_id": resident_id,
        "phone": phone,
        "language": language,
        "township": township,
        "community": community,
        "address": address,
        "lat": lat,
        "lon": lon,
        "living_situation": situation,
        "eligibility": eligibility,
        "contacts": [
            {"name": c_name, "relation": relation, "phone": c_phone, "language": c_language}
            for _id, _elder, c_name, relation, c_phone, c_language, _priority in sorted(contacts, key=lambda c: c[6])
        ],
        "assessment": {
            "assessed_on": date(today.year - 1, 1 + elder_id % 12, 1 + elder_id % 28),
            "level": ability,
            "assessors": list(facts.ASSESSORS[elder_id % len(facts.ASSESSORS)]),
        },
    }


def elders(conn: psycopg.Connection, city: City, today: date) -> None:
    townships = {row[0]: row[2] for row in city.rows["township"]}
    places = {row[0]: (townships[row[1]], row[3]) for row in city.rows["community"]}
    contacts = defaultdict(list)
    for contact in city.rows["emergency_contact"]:
        contacts[contact[1]].append(contact)
    for row in city.rows["elder"]:
        saved = register.create_elder(conn, _elder_input(row, places, contacts[row[0]], today), ACTOR, today)
        _expect("elder", row[0], saved.elder_id)


def devices(conn: psycopg.Connection, city: City) -> None:
    secrets = {entry["id"]: entry["secret"] for entry in city.manifest["devices"]}
    enrolments = [
        (device_register.Enrolment(kind, device_id=device_id, elder_id=elder_id), (secrets[device_id], secret_hash))
        for device_id, kind, elder_id, secret_hash, _battery, _firmware in city.rows["device"]
    ]
    device_register.enrol_bound(conn, enrolments, ACTOR, datetime.now(UTC))
    # the state each device last reported, as if it had been in use
    with conn.cursor() as cur:
        cur.executemany(
            "UPDATE device SET battery = %s, firmware = %s WHERE id = %s",
            [(battery, firmware, device_id) for device_id, _k, _e, _h, battery, firmware in city.rows["device"]],
        )


def _clock(value: time) -> str:
    return f"{value:%H:%M}"


def providers(conn: psycopg.Connection, city: City) -> None:
    community_code = {row[0]: row[2] for row in city.rows["community"]}
    services = _grouped(city.rows["provider_service"])
    areas = _grouped(city.rows["provider_area"])
    for row in city.rows["provider"]:
        provider_id = row[0]
        # the seed's columns are named as the roster's fields (the id is the register's to give)
        fields = dict(zip(COLUMNS["provider"], row, strict=True))
        del fields["id"]
        lat, lon = fields.pop("kitchen_lat"), fields.pop("kitchen_lon")
        data = roster.ProviderCreate(
            **fields,
            kitchen=roster.KitchenPlace(lat=lat, lon=lon) if lat is not None else None,
            services=[service for _p, service in services[provider_id]],
            area=roster.Area(communities=sorted({community_code[c] for _p, c in areas[provider_id]})),
        )
        _expect("provider", provider_id, roster.create_provider(conn, data, ACTOR))


def caregivers(conn: psycopg.Connection, city: City) -> None:
    skills = _grouped(city.rows["caregiver_skill"])
    shifts: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for shift in city.rows["caregiver_shift"]:
        shifts[shift[1]].append(shift)
    ratings = []
    for row in city.rows["caregiver"]:
        caregiver_id, rating = row[0], row[-1]
        fields = dict(zip(COLUMNS["caregiver"], row, strict=True))
        del fields["id"], fields["rating"]  # the register's to give, and set below
        data = roster.CaregiverCreate(
            **fields,
            skills=[service for _c, service in skills[caregiver_id]],
            shifts=[
                roster.Shift(weekday=weekday, starts=_clock(starts), ends=_clock(ends))
                for _id, _c, weekday, starts, ends in shifts[caregiver_id]
            ],
        )
        _expect("caregiver", caregiver_id, roster.create_caregiver(conn, data, ACTOR))
        ratings.append((rating, caregiver_id))
    # ratings come from return visits; the seeded ones stand for visits before the platform
    with conn.cursor() as cur:
        cur.executemany("UPDATE caregiver SET rating = %s WHERE id = %s", ratings)
