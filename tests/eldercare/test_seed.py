from __future__ import annotations

import json
import re
from datetime import time
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from eldercare import seed as seeding
from eldercare.passwords import verify_device_secret
from tests.services import on_both_backends


def _dump(url: str) -> dict[str, list[tuple]]:
    out = {}
    with psycopg.connect(url) as conn:
        for table in seeding.TABLES:
            query = sql.SQL("SELECT {} FROM {} ORDER BY 1, 2").format(
                sql.SQL(", ").join(map(sql.Identifier, seeding.COLUMNS[table])), sql.Identifier(table)
            )
            out[table] = conn.execute(query).fetchall()
    return out


def test_generation_is_deterministic_for_a_seed() -> None:
    a = seeding.generate(seeding.SeedPlan(elders=300, seed=7))
    b = seeding.generate(seeding.SeedPlan(elders=300, seed=7))
    c = seeding.generate(seeding.SeedPlan(elders=300, seed=8))
    assert a.rows == b.rows and a.manifest == b.manifest
    assert a.rows["elder"] != c.rows["elder"]


def test_seeded_databases_are_identical_for_a_seed(databases) -> None:
    urls = [databases.create(), databases.create()]
    try:
        for url in urls:
            with psycopg.connect(url) as conn:
                seeding.write(conn, seeding.generate(seeding.SeedPlan(elders=200, seed=3)))
        first, second = (_dump(u) for u in urls)
        assert first == second
        assert len(first["elder"]) == 200
    finally:
        for url in urls:
            databases.drop(url)


def test_city_is_plausible() -> None:
    city = seeding.generate(seeding.SeedPlan(elders=2000, seed=1))
    elders = city.rows["elder"]
    ages = [2026 - row[4].year for row in elders]
    assert min(ages) >= 59 and max(ages) <= 102
    lats = [row[9] for row in elders]
    lons = [row[10] for row in elders]
    assert 29.4 < min(lats) and max(lats) < 30.0 and 113.5 < min(lons) and max(lons) < 114.3
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in row[2]) for row in elders)  # Chinese names
    assert {row[11] for row in elders} == {0, 1, 2, 3, 4}
    assert 0.1 < sum(row[12] for row in elders) / len(elders) < 0.4  # living alone
    # every community has at least one provider for every service, so no order is impossible by design
    served = {(p, s) for p, s in city.rows["provider_service"]}
    black = {row[0] for row in city.rows["provider"] if row[6] == "black"}
    for community in city.rows["community"]:
        providers = {p for p, c in city.rows["provider_area"] if c == community[0] and p not in black}
        for service in seeding.SERVICES:
            assert any((p, service) in served for p in providers), (community[3], service)


def test_manifest_secrets_match_the_stored_hashes(tmp_path: Path) -> None:
    city = seeding.generate(seeding.SeedPlan(elders=50, seed=2))
    path = tmp_path / "m.json"
    seeding.write_manifest(path, city)
    manifest = json.loads(path.read_text(encoding="utf-8"))
    hashes = {row[0]: row[3] for row in city.rows["device"]}
    assert len(manifest["devices"]) == len(hashes)
    for device in manifest["devices"]:
        assert verify_device_secret(hashes[device["id"]], device["secret"])
        assert not verify_device_secret(hashes[device["id"]], device["secret"] + "x")
    phones = [c["phone"] for c in manifest["caregivers"]]
    assert len(phones) == len(set(phones)) == len(city.rows["caregiver"])


@on_both_backends
def test_reset_empties_the_city(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        seeding.write(conn, seeding.generate(seeding.SeedPlan(elders=20, seed=1)))
        assert seeding.count_elders(conn) == 20
        seeding.reset(conn)
        assert seeding.count_elders(conn) == 0
        seeding.write(conn, seeding.generate(seeding.SeedPlan(elders=20, seed=1)))
        assert conn.execute("SELECT min(id), max(id) FROM elder").fetchone() == (1, 20)


def test_zero_elders_is_refused() -> None:
    with pytest.raises(seeding.SeedError):
        seeding.generate(seeding.SeedPlan(elders=0))


@pytest.mark.parametrize("elders", [30, 500, 3000])
def test_every_community_can_be_served_for_every_service(elders: int) -> None:
    city = seeding.generate(seeding.SeedPlan(elders=elders, seed=elders))
    black = {row[0] for row in city.rows["provider"] if row[6] == "black"}
    provider_of = {row[0]: row[2] for row in city.rows["caregiver"]}
    skilled = {(provider_of[c], s) for c, s in city.rows["caregiver_skill"]}
    for community in city.rows["community"]:
        providers = {p for p, c in city.rows["provider_area"] if c == community[0] and p not in black}
        for service in seeding.SERVICES:
            assert any((p, service) in skilled for p in providers), (community[3], service)


def test_addresses_name_the_township_and_community() -> None:
    city = seeding.generate(seeding.SeedPlan(elders=200, seed=4))
    communities = {row[0]: row[3] for row in city.rows["community"]}
    for elder in city.rows["elder"]:
        address = elder[8]
        assert communities[elder[7]] in address, address
        assert not any(ch in address for ch in ".")  # no coordinates leaking into addresses


@pytest.mark.parametrize(("elders", "caregivers", "per_township"), [(500, 60, 1), (2000, 150, 2)])
def test_every_township_has_emergency_cover_around_the_clock(elders: int, caregivers: int, per_township: int) -> None:
    """At every hour of the week, each township has responders on duty among its elders who may be offered its
    emergencies, kept for emergencies alone."""
    city = seeding.generate(seeding.SeedPlan(elders=elders, seed=1, caregivers=caregivers))
    township_of = {row[0]: row[1] for row in city.rows["community"]}
    seats = {row[0]: (row[3], row[4]) for row in city.rows["township"]}
    good = {row[0] for row in city.rows["provider"] if row[6] != "black"}
    answering = {p for p, s in city.rows["provider_service"] if s == "emergency"} & good
    serves = {(p, township_of[c]) for p, c in city.rows["provider_area"] if p in answering}
    skills: dict[int, set[str]] = {}
    for c, s in city.rows["caregiver_skill"]:
        skills.setdefault(c, set()).add(s)
    shifts: dict[int, list[tuple[int, time, time]]] = {}
    for _, c, day, starts, ends in city.rows["caregiver_shift"]:
        shifts.setdefault(c, []).append((day, starts, ends))

    def on_duty(c: int, day: int, hour: int) -> bool:
        at = time(hour, 30)
        for d, starts, ends in shifts.get(c, []):
            if starts < ends and d == day and starts <= at < ends:
                return True
            if ends <= starts and ((d == day and at >= starts) or (d % 7 + 1 == day and at < ends)):
                return True
        return False

    homes: dict[int, list[tuple[float, float]]] = {}
    for row in city.rows["elder"]:
        homes.setdefault(township_of[row[7]], []).append((row[9], row[10]))
    for township_id in seats:
        responders = [
            row[0]
            for row in city.rows["caregiver"]
            if skills.get(row[0]) == {"emergency"}
            and (row[2], township_id) in serves
            and any(abs(row[7] - lat) < 0.03 and abs(row[8] - lon) < 0.035 for lat, lon in homes[township_id])
        ]
        for day in range(1, 8):
            for hour in range(24):
                on = [c for c in responders if on_duty(c, day, hour)]
                assert len(on) >= per_township, (township_id, day, hour)


def test_seed_enrols_through_the_registers(database_url: str) -> None:
    """Elders, devices, providers and caregivers are written by the registers, checked and audited as by hand."""
    with psycopg.connect(database_url) as conn:
        seeding.write(conn, seeding.generate(seeding.SeedPlan(elders=30, seed=2)))
        audited: dict[str, int] = dict(
            conn.execute("SELECT action, count(*) FROM audit_log WHERE actor = 'seed' GROUP BY 1").fetchall()
        )
        (devices,) = conn.execute("SELECT count(*) FROM device").fetchone() or (0,)
        assert audited == {
            "elder.create": 30,
            "device.enrol": devices,
            "provider.create": 6,
            "caregiver.create": 12,
        }
        # every elder has a valid resident ID number (checked by the register), an assessment and its level
        rows = conn.execute(
            "SELECT e.resident_id, e.ability_level, a.level FROM elder e JOIN assessment a ON a.elder_id = e.id"
        ).fetchall()
        assert len(rows) == 30 and all(rid and rid.startswith("421281") and lvl == alvl for rid, lvl, alvl in rows)
        bound = conn.execute("SELECT count(*) FROM device_binding WHERE unbound_at IS NULL").fetchone()
        assert bound == (devices,)


def test_every_provider_selling_meals_has_a_kitchen_near_a_township_seat_of_its_area() -> None:
    city = seeding.generate(seeding.SeedPlan(elders=300, seed=7))
    cooks = {pid for pid, service in city.rows["provider_service"] if service == "meal"}
    seats = {row[0]: (row[3], row[4]) for row in city.rows["township"]}
    township_of = {row[0]: row[1] for row in city.rows["community"]}
    area: dict[int, set[int]] = {}
    for pid, community_id in city.rows["provider_area"]:
        area.setdefault(pid, set()).add(township_of[community_id])
    assert cooks
    for row in city.rows["provider"]:
        lat, lon = row[8], row[9]
        if row[0] not in cooks:
            assert (lat, lon) == (None, None)
            continue
        near = [seats[t] for t in area[row[0]] if abs(lat - seats[t][0]) < 0.05 and abs(lon - seats[t][1]) < 0.05]
        assert near, row


def test_the_roster_follows_the_elders() -> None:
    """Providers are based where the elders are and serve the townships nearest their own; their caregivers live
    among the elders of that area; every provider runs meal assistance, and anyone on its staff can deliver
    meals."""
    city = seeding.generate(seeding.SeedPlan(elders=2000, seed=1, caregivers=150))
    township_of = {row[0]: row[1] for row in city.rows["community"]}
    seats = {row[0]: (row[3], row[4]) for row in city.rows["township"]}
    elders: dict[int, int] = {}
    for row in city.rows["elder"]:
        elders[township_of[row[7]]] = elders.get(township_of[row[7]], 0) + 1
    area: dict[int, set[int]] = {}
    for pid, community_id in city.rows["provider_area"]:
        area.setdefault(pid, set()).add(township_of[community_id])

    def km(a: int, b: int) -> float:
        return ((seats[a][0] - seats[b][0]) ** 2 + ((seats[a][1] - seats[b][1]) * 0.87) ** 2) ** 0.5 * 111

    # the most populous township is home to more providers than the least
    based = [min(townships, key=lambda t: sum(km(t, o) for o in townships)) for townships in area.values()]
    busiest, quietest = max(elders, key=elders.__getitem__), min(elders, key=elders.__getitem__)
    assert based.count(busiest) > based.count(quietest)
    # an area is a township and the ones nearest it (but for a township added to a provider so that every service
    # reaches it): most areas have no township farther than 25 km from the others
    together = [all(min((km(t, o) for o in ts if o != t), default=0.0) < 25 for t in ts) for ts in area.values()]
    assert sum(together) >= 0.75 * len(together)
    sells = {(p, s) for p, s in city.rows["provider_service"]}
    assert all((row[0], "meal") in sells for row in city.rows["provider"])  # every provider runs meal assistance
    provider_of = {row[0]: row[2] for row in city.rows["caregiver"]}
    skills: dict[int, set[str]] = {}
    for c, s in city.rows["caregiver_skill"]:
        skills.setdefault(c, set()).add(s)
    for c, has in skills.items():
        if has != {"emergency"} and (provider_of[c], "meal") in sells:
            assert "meal" in has, c


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_service_a_provider_sells_has_someone_on_shift_for_it_each_day_its_staff_work(seed: int) -> None:
    """A provider's caregivers (its township responders apart, kept for emergencies) between them can do every
    service it sells on every day of the week any of them works: no booked bath finds nobody eligible on shift."""
    city = seeding.generate(seeding.SeedPlan(elders=2000, seed=seed, caregivers=150))
    skills: dict[int, set[str]] = {}
    for c, s in city.rows["caregiver_skill"]:
        skills.setdefault(c, set()).add(s)
    days: dict[int, set[int]] = {}
    for _, c, weekday, _, _ in city.rows["caregiver_shift"]:
        days.setdefault(c, set()).add(weekday)
    staff: dict[int, list[int]] = {}
    for row in city.rows["caregiver"]:
        if skills.get(row[0]) != {"emergency"}:
            staff.setdefault(row[2], []).append(row[0])
    for pid, service in city.rows["provider_service"]:
        for weekday in range(1, 8):
            working = [c for c in staff.get(pid, []) if weekday in days.get(c, ())]
            assert not working or any(service in skills.get(c, ()) for c in working), (pid, service, weekday)


@pytest.mark.parametrize(
    ("plan", "said"),
    [
        (seeding.SeedPlan(elders=60, caregivers=1), "1 caregivers cannot staff 6 providers"),
        (seeding.SeedPlan(elders=20, caregivers=3), "3 caregivers cannot staff 6 providers"),
        (seeding.SeedPlan(elders=3, providers=100_000, caregivers=100_000), "100000 providers for 3 elders"),
        (seeding.SeedPlan(elders=100, providers=11, caregivers=20), "at most 10 (one for ten elders, or six)"),
    ],
)
def test_a_plan_no_city_can_be_drawn_for_is_refused_at_once(plan: seeding.SeedPlan, said: str) -> None:
    with pytest.raises(seeding.SeedError, match=re.escape(said)):
        seeding.generate(plan)


def test_the_smallest_plans_still_draw_a_city() -> None:
    for plan in (seeding.SeedPlan(elders=1), seeding.SeedPlan(elders=6, providers=6, caregivers=6)):
        assert len(seeding.generate(plan).rows["provider"]) == plan.provider_count
