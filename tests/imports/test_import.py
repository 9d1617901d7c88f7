"""Importing a city into an empty database: areas, providers, caregivers, elders, devices; dry run writes
nothing, commit writes all, re-importing updates and duplicates nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from eldercare import device_register, users
from tests.imports.conftest import count, load

KINDS = ("areas", "providers", "caregivers", "elders", "devices")
TABLES = (
    *("township", "community", "provider", "provider_area", "caregiver", "caregiver_shift", "elder"),
    *("emergency_contact", "elder_eligibility", "assessment", "device", "device_binding"),
)


def test_a_dry_run_writes_nothing_and_a_commit_writes_everything(
    conn: psycopg.Connection, tmp_path: Path, sheets: dict[str, list[dict[str, Any]]]
) -> None:
    dry = load(conn, tmp_path, "areas", sheets["areas"], dry_run=True)
    assert dry.ok and not dry.committed and dry.counts["created"] == len(sheets["areas"])
    assert count(conn, "community") == 0
    for kind in KINDS:
        report = load(conn, tmp_path, kind, sheets[kind])
        assert report.ok, [(p.row, p.column, p.text("en")) for p in report.problems]
        assert report.committed and report.counts["created"] == len(sheets[kind])
    assert count(conn, "elder") == 60
    assert count(conn, "caregiver") == 12
    assert count(conn, "device") == len(sheets["devices"])
    # every imported device is bound and has a credential the broker will take
    assert len(device_register.broker_accounts(conn)) == len(sheets["devices"])
    contacts = conn.execute(
        "SELECT k.name FROM emergency_contact k JOIN elder e ON e.id = k.elder_id WHERE e.resident_id = %s "
        "ORDER BY k.priority",
        (sheets["elders"][0]["resident_id"],),
    ).fetchall()
    assert [c[0] for c in contacts] == [
        sheets["elders"][0][f"contact{n}_name"] for n in (1, 2, 3) if sheets["elders"][0].get(f"contact{n}_name")
    ]
    audit = conn.execute(
        "SELECT actor, details->>'file', (details->'counts'->>'created')::int FROM audit_log "
        "WHERE action = 'import.commit' AND target_id = 'elders'"
    ).fetchone()
    assert audit == ("importer", "elders.xlsx", 60)

    before = {table: count(conn, table) for table in TABLES}
    for kind in KINDS:
        again = load(conn, tmp_path, kind, sheets[kind], suffix=".csv", language="en")
        assert again.ok and again.committed, [(p.row, p.column, p.text("en")) for p in again.problems]
        assert not again.counts["created"], kind
        if kind in ("areas", "elders", "devices"):
            assert set(again.counts) == {"unchanged"}, (kind, again.counts)
        assert not again.credentials
    assert {table: count(conn, table) for table in TABLES} == before


def test_re_importing_changes_what_changed(
    conn: psycopg.Connection, tmp_path: Path, sheets: dict[str, list[dict[str, Any]]]
) -> None:
    for kind in ("areas", "providers", "caregivers"):
        assert load(conn, tmp_path, kind, sheets[kind]).committed
    elders = sheets["elders"][:3]
    assert load(conn, tmp_path, "elders", elders).committed
    moved = [{**elders[0], "address": "新华路1号", "contact1_phone": "13900001111"}]
    report = load(conn, tmp_path, "elders", moved)
    assert report.committed and report.counts["updated"] == 1
    row = conn.execute(
        "SELECT e.address, k.phone FROM elder e JOIN emergency_contact k ON k.elder_id = e.id AND k.priority = 1 "
        "WHERE e.resident_id = %s",
        (elders[0]["resident_id"],),
    ).fetchone()
    assert row == ("新华路1号", "+8613900001111")
    # the same elder, their phone written without +86 as people write it: as the register holds it, nothing to do
    written = {**elders[1], "phone": "13812345678"}
    assert load(conn, tmp_path, "elders", [written]).counts == {"updated": 1}
    written["phone"] = "+8613812345678"
    assert load(conn, tmp_path, "elders", [written]).counts == {"unchanged": 1}
    written["phone"] = "13812345678"
    assert load(conn, tmp_path, "elders", [written]).counts == {"unchanged": 1}
    shifted = [{**sheets["caregivers"][0], "shifts": "周一至周五 09:00-17:00", "max_load": 3}]
    assert load(conn, tmp_path, "caregivers", shifted).committed
    shifts = conn.execute(
        "SELECT weekday, to_char(starts, 'HH24:MI'), c.max_load FROM caregiver_shift s "
        "JOIN caregiver c ON c.id = s.caregiver_id WHERE c.phone = %s ORDER BY weekday",
        (sheets["caregivers"][0]["phone"],),
    ).fetchall()
    assert shifts == [(d, "09:00", 3) for d in range(1, 6)]


def test_townships_past_the_smallint_range_import_and_scope_accounts(
    conn: psycopg.Connection, tmp_path: Path, sheets: dict[str, list[dict[str, Any]]]
) -> None:
    """Every dry run (and every refused import) draws township ids that no township keeps: as after some 33,000
    dry-run townships, the next ids are past 32,767 and a city is still imported and scoped by them."""
    conn.execute("SELECT setval(pg_get_serial_sequence('township', 'id'), 40000)")
    conn.commit()
    for kind in ("areas", "elders"):
        report = load(conn, tmp_path, kind, sheets[kind])
        assert report.ok and report.committed, [(p.row, p.column, p.text("en")) for p in report.problems]
    township_id, code = conn.execute("SELECT id, code FROM township ORDER BY id LIMIT 1").fetchone() or (0, "")
    assert township_id > 40000
    users.add_user(conn, "desk", "a long enough secret", users.Role.OPERATOR)
    assert users.set_area(conn, "desk", code, None).township_id == township_id
