"""``/api/v1/imports`` over HTTP on an empty database: admins only, template, dry run report, commit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from dashboard.server import DashboardServer
from eldercare import users
from eldercare.clock import ManualClock
from eldercare.embedded import free_port
from eldercare.seed.sheets import write_sheet
from tests.dashboard.conftest import NOW, PASSWORD, ROLES, City, make_app, token
from tests.imports.conftest import count


@pytest.fixture
def api(database_url: str) -> Iterator[tuple[httpx.Client, dict[str, dict[str, str]]]]:
    """The dashboard over an empty database with the accounts admin, operator and viewer."""
    with psycopg.connect(database_url) as conn:
        for role in ROLES:
            users.add_user(conn, role, PASSWORD, users.Role(role), display_name=f"{role} user")
    server = DashboardServer(make_app(City(database_url, ManualClock(NOW))), "127.0.0.1", free_port())
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            yield client, {role: token(client, role) for role in ROLES}
    finally:
        server.stop()


def test_only_admins_import(api: tuple[httpx.Client, dict[str, dict[str, str]]]) -> None:
    client, headers = api
    for role in ("operator", "viewer"):
        assert client.get("/api/v1/imports/elders/template", headers=headers[role]).status_code == 403
        files = {"file": ("a.csv", "乡镇街道,社区村\n".encode())}
        assert client.post("/api/v1/imports/areas", headers=headers[role], files=files).status_code == 403
    assert client.get("/api/v1/imports/kinds").status_code == 401


def test_template_dry_run_and_commit(
    api: tuple[httpx.Client, dict[str, dict[str, str]]],
    database_url: str,
    tmp_path: Path,
    sheets: dict[str, list[dict[str, Any]]],
) -> None:
    client, headers = api
    admin = headers["admin"]
    got = client.get("/api/v1/imports/caregivers/template", params={"format": "csv"}, headers=admin)
    assert got.status_code == 200 and got.content.decode("utf-8-sig").startswith("手机号*,姓名*,性别*,服务商*")
    assert got.headers["content-disposition"] == 'attachment; filename="caregivers-template.csv"'
    kinds = client.get("/api/v1/imports/kinds", headers=admin).json()
    assert [k["kind"] for k in kinds] == ["areas", "providers", "caregivers", "elders", "devices"]

    bad = [dict(row) for row in sheets["areas"]]
    bad[0]["lat"], bad[0]["lon"] = 39.9, 116.4  # Beijing
    path = write_sheet(tmp_path / "areas.xlsx", "areas", bad)
    report = client.post(
        "/api/v1/imports/areas",
        headers=admin,
        files={"file": (path.name, path.read_bytes())},
        params={"language": "zh"},
    ).json()
    assert not report["committed"] and report["rows"] == len(bad)
    assert [(p["row"], p["header"], p["code"]) for p in report["problems"]] == [(2, "纬度", "outside_city")]
    path = write_sheet(tmp_path / "areas.xlsx", "areas", sheets["areas"])
    dry = client.post("/api/v1/imports/areas", headers=admin, files={"file": (path.name, path.read_bytes())}).json()
    assert dry["dry_run"] and not dry["committed"] and dry["counts"] == {"created": len(sheets["areas"])}
    done = client.post(
        "/api/v1/imports/areas",
        headers=admin,
        params={"dry_run": "false"},
        files={"file": (path.name, path.read_bytes())},
    ).json()
    assert done["committed"] and not done["problems"]
    with psycopg.connect(database_url) as conn:
        assert count(conn, "community") == len(sheets["areas"])
        audit = conn.execute("SELECT actor, details->>'file' FROM audit_log WHERE action = 'import.commit'").fetchall()
        assert audit == [("admin", "areas.xlsx")]


def test_a_spreadsheet_may_be_larger_than_other_requests(api: tuple[httpx.Client, dict[str, dict[str, str]]]) -> None:
    client, headers = api
    big = ("乡镇街道,社区村\n" + "蒲圻街道,社区\n" * 200_000).encode()  # 3 MB, over the 1 MB of other requests
    answer = client.post("/api/v1/imports/areas", headers=headers["admin"], files={"file": ("big.csv", big)})
    assert answer.status_code == 200 and answer.json()["problems"][0]["code"] == "too_many_rows"
    assert client.post("/api/v1/orders", headers=headers["admin"], content=big).status_code == 413
