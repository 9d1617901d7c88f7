"""A seeded city written as the bureau's spreadsheets, one table per import kind, with the templates' columns:
what the import benchmark and the acceptance tests feed to ``eldercare import``."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from eldercare.imports import kind_of
from eldercare.imports.sheet import Sheet, write_csv, write_workbook, write_xlsx
from eldercare.register.identity import resident_id_check_char
from eldercare.seed.model import City

WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
SERVICE_NAMES = {"meal": "助餐", "cleaning": "助洁", "bathing": "助浴", "medical": "助医"}
SERVICE_NAMES.update({"mobility": "助行", "emergency": "助急", "care": "护理"})


def resident_id(elder_id: int, birth_date: Any, gender: str) -> str:
    """A well-formed, unique ID number for a seeded elder (its area code counts the elders by the 500)."""
    sequence = (elder_id % 500) * 2 + (1 if gender == "M" else 0)
    first17 = f"{420000 + elder_id // 500 % 10_000:06d}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + resident_id_check_char(first17)


def city_sheets(city: City, elders: int | None = None) -> dict[str, list[dict[str, Any]]]:
    """Rows per import kind (column key -> cell), for the first ``elders`` elders (all when None)."""
    rows = city.rows
    towns = {r[0]: r for r in rows["township"]}
    places = {r[0]: r for r in rows["community"]}
    kept = rows["elder"][:elders] if elders is not None else rows["elder"]
    ids: dict[int, str] = {}
    contacts: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for contact in rows["emergency_contact"]:
        contacts[contact[1]].append(contact)
    sheets: dict[str, list[dict[str, Any]]] = {
        "areas": [
            {
                "township": towns[c[1]][2],
                "township_code": towns[c[1]][1],
                "community": c[3],
                "community_code": c[2],
                "lat": c[4],
                "lon": c[5],
            }
            for c in rows["community"]
        ],
        "elders": [],
        "devices": [],
    }
    for e in kept:
        elder_id, _code, name, gender, born, phone, _lang, community_id = e[:8]
        ids[elder_id] = resident_id(elder_id, born, gender)
        place = places[community_id]
        row: dict[str, Any] = {
            "resident_id": ids[elder_id],
            "name": name,
            "phone": phone or "",
            "township": towns[place[1]][2],
            "community": place[3],
            "address": e[8],
            "lat": e[9],
            "lon": e[10],
            "living_situation": e[15],
            "eligibility": f"{e[14]}:2024-01-01:SEED-{elder_id}" if e[14] != "none" else "",
            "ability_level": e[11],
            "assessed_on": "2025-06-01",
            "assessors": "评估员甲、评估员乙",
        }
        for n, contact in enumerate(sorted(contacts[elder_id], key=lambda c: c[6])[:3], start=1):
            row.update(
                {f"contact{n}_name": contact[2], f"contact{n}_relation": contact[3], f"contact{n}_phone": contact[4]}
            )
        sheets["elders"].append(row)
    sheets["devices"] = [
        {"type": d[1], "serial": d[0], "elder_resident_id": ids[d[2]]} for d in rows["device"] if d[2] in ids
    ]
    sheets["providers"] = _providers(city, towns, places)
    sheets["caregivers"] = _caregivers(city)
    return sheets


def _providers(city: City, towns: dict[int, Any], places: dict[int, Any]) -> list[dict[str, Any]]:
    services: dict[int, list[str]] = defaultdict(list)
    for pid, service in city.rows["provider_service"]:
        services[pid].append(SERVICE_NAMES[service])
    areas: dict[int, list[str]] = defaultdict(list)
    for pid, community_id in city.rows["provider_area"]:
        areas[pid].append(places[community_id][2])
    return [
        {
            "code": p[1],
            "name": p[2],
            "phone": p[3],
            "manager_name": p[4],
            "manager_phone": p[5],
            "services": "、".join(services[p[0]]),
            "communities": "、".join(areas[p[0]]),
            "capacity": p[7],
            "kitchen_lat": p[8],
            "kitchen_lon": p[9],
        }
        for p in city.rows["provider"]
    ]


def _caregivers(city: City) -> list[dict[str, Any]]:
    providers = {p[0]: p[1] for p in city.rows["provider"]}
    skills: dict[int, list[str]] = defaultdict(list)
    for cid, service in city.rows["caregiver_skill"]:
        skills[cid].append(SERVICE_NAMES[service])
    shifts: dict[int, list[str]] = defaultdict(list)
    for _sid, cid, weekday, starts, ends in city.rows["caregiver_shift"]:
        shifts[cid].append(f"{WEEKDAY_NAMES[weekday - 1]} {starts:%H:%M}-{ends:%H:%M}")
    return [
        {
            "phone": c[5],
            "name": c[3],
            "gender": "男" if c[4] == "M" else "女",
            "provider": providers[c[2]],
            "skills": "、".join(skills[c[0]]),
            "shifts": "；".join(shifts[c[0]]),
            "lat": c[7],
            "lon": c[8],
            "travel_mode": c[9],
            "max_load": c[10],
            "code": c[1],
        }
        for c in city.rows["caregiver"]
    ]


def write_sheet(path: Path, kind: str, rows: list[dict[str, Any]], language: str = "zh") -> Path:
    """``rows`` as a file of ``kind`` with the template's header (.xlsx or .csv by the path's suffix)."""
    columns = kind_of(kind).columns
    header = [c.header(language) for c in columns]
    body = [[row.get(c.key, "") for c in columns] for row in rows]
    if path.suffix.lower() == ".csv":
        path.write_bytes(write_csv(header, body))
    else:
        path.write_bytes(write_xlsx(header, [""] * len(columns), body))
    return path


def write_workbook_of(path: Path, sheets: dict[str, list[dict[str, Any]]], language: str = "zh") -> Path:
    """Several kinds in one .xlsx, one sheet each, titled by kind (what ``eldercare import KIND`` picks)."""
    specs = []
    for kind, rows in sheets.items():
        columns = kind_of(kind).columns
        body = [[row.get(c.key, "") for c in columns] for row in rows]
        specs.append(Sheet(kind, [c.header(language) for c in columns], [""] * len(columns), body))
    path.write_bytes(write_workbook(specs))
    return path
