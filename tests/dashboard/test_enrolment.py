"""``/api/v1/devices`` enrolment: the secret once, bind, unbind, replace, rotate, revoke; roles and audit rows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from playwright.sync_api import Browser, expect

from dashboard.server import DashboardServer
from eldercare import seed, users
from eldercare.clock import ManualClock
from eldercare.embedded import free_port
from eldercare.passwords import verify_device_secret
from tests.dashboard.conftest import NOW, PASSWORD, ROLES, City, make_app, token
from tests.dashboard.test_browser import sign_in
from tests.waiting import eventually


@pytest.fixture
def small_server(database_url: str) -> Iterator[DashboardServer]:
    """The dashboard over a small seeded city (no history) with the accounts admin, operator and viewer."""
    with psycopg.connect(database_url) as conn:
        seed.write(conn, seed.generate(seed.SeedPlan(elders=6, seed=7, providers=1, caregivers=2)))
        for role in ROLES:
            users.add_user(conn, role, PASSWORD, users.Role(role), display_name=f"{role} user")
    server = DashboardServer(make_app(City(database_url, ManualClock(NOW))), "127.0.0.1", free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def api(
    small_server: DashboardServer, database_url: str
) -> Iterator[tuple[httpx.Client, dict[str, dict[str, str]], str]]:
    with httpx.Client(base_url=small_server.url, timeout=30) as client:
        yield client, {role: token(client, role) for role in ROLES}, database_url


@pytest.mark.browser
def test_the_devices_page_enrols_shows_the_credentials_once_and_revokes(
    small_server: DashboardServer, database_url: str, browser: Browser
) -> None:
    page = browser.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, small_server.url, "operator")
    page.goto(f"{small_server.url}/devices")
    page.select_option("#enrol-form select[name=type]", "pendant")
    page.fill("#enrol-form input[name=serial]", "PD-2026-0001")
    page.fill("#enrol-form input[name=elder_id]", "2")
    page.click("#enrol-form button[type=submit]")
    expect(page.locator("#credentials")).to_be_visible()
    expect(page.locator("#credential-username")).to_have_text("PD-2026-0001")
    secret = page.locator("#credential-secret").inner_text()
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT secret_hash, elder_id FROM device WHERE id = 'PD-2026-0001'").fetchone()
    assert row is not None and row[1] == 2 and verify_device_secret(row[0], secret) and secret not in row[0]

    page.reload()  # shown once: a new page load does not show it again
    assert secret not in page.content()
    page.fill("#manage-form input[name=device_id]", "PD-2026-0001")
    page.click("[data-device-action=revoke]")
    expect(page.locator("#toast")).to_contain_text("PD-2026-0001")
    page.click("[data-device-action=unbind]")

    def state() -> object:
        with psycopg.connect(database_url) as conn:
            return conn.execute(
                "SELECT credential_revoked_at IS NOT NULL, elder_id FROM device WHERE id = 'PD-2026-0001'"
            ).fetchone()

    eventually(lambda: state() == (True, None), lambda: f"the device revoked and unbound; it is {state()}")
    page.close()


def test_enrol_shows_the_secret_once_and_every_change_is_audited(
    api: tuple[httpx.Client, dict[str, dict[str, str]], str],
) -> None:
    client, headers, url = api
    operator, viewer = headers["operator"], headers["viewer"]

    refused = client.post("/api/v1/devices", json={"type": "watch", "serial": "860000000000009"}, headers=viewer)
    assert refused.status_code == 403

    enrolled = client.post(
        "/api/v1/devices", json={"type": "watch", "serial": "860000000000009", "elder_id": 1}, headers=operator
    )
    assert enrolled.status_code == 201, enrolled.text
    body = enrolled.json()
    device_id, secret = body["device"]["id"], body["credential"]["secret"]
    assert body["credential"]["username"] == device_id == "860000000000009" and body["device"]["may_connect"]
    record = client.get(f"/api/v1/devices/{device_id}/record", headers=viewer)
    assert record.status_code == 200 and secret not in record.text
    assert [b["elder_id"] for b in record.json()["bindings"]] == [1]

    spare = client.post("/api/v1/devices", json={"type": "watch", "serial": "W-SPARE"}, headers=operator).json()
    spare_id = spare["device"]["id"]
    replaced = client.post(f"/api/v1/devices/{device_id}/replace", json={"new_device_id": spare_id}, headers=operator)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["elder_id"] == 1 and replaced.json()["id"] == spare_id
    old = client.get(f"/api/v1/devices/{device_id}/record", headers=operator).json()
    assert old["elder_id"] is None and old["credential_revoked_at"] is not None
    assert old["bindings"][0]["end_reason"] == f"replaced by {spare_id}"

    rotated = client.post(f"/api/v1/devices/{device_id}/credential/rotate", headers=operator)
    assert rotated.status_code == 200 and rotated.json()["secret"] != secret
    bound = client.post(f"/api/v1/devices/{device_id}/bind", json={"elder_id": 2}, headers=operator)
    assert bound.status_code == 200 and bound.json()["may_connect"]
    unbound = client.post(f"/api/v1/devices/{device_id}/unbind", headers=operator)
    assert unbound.status_code == 200 and unbound.json()["elder_id"] is None
    revoked = client.post(f"/api/v1/devices/{device_id}/credential/revoke", headers=operator)
    assert revoked.status_code == 200 and not revoked.json()["may_connect"]

    with psycopg.connect(url) as conn:
        audit = conn.execute(
            "SELECT actor, action, details FROM audit_log WHERE target_kind = 'device' AND target_id = %s ORDER BY id",
            (device_id,),
        ).fetchall()
        stored = conn.execute("SELECT secret_hash FROM device WHERE id = %s", (spare_id,)).fetchone()
    assert [a for _, a, _ in audit] == [
        "device.enrol",
        "device.bind",
        "device.unbind",
        "device.revoke_credential",
        "device.rotate_credential",
        "device.bind",
        "device.unbind",
        "device.revoke_credential",
    ]
    assert {actor for actor, _, _ in audit} == {"operator"}
    unbind_details = audit[2][2]
    assert unbind_details["before"]["elder_id"] == 1 and unbind_details["after"]["elder_id"] is None
    assert stored is not None and spare["credential"]["secret"] not in stored[0]


def test_bad_requests_get_the_registers_reason(api: tuple[httpx.Client, dict[str, dict[str, str]], str]) -> None:
    client, headers, _ = api
    admin = headers["admin"]
    unknown_type = client.post("/api/v1/devices", json={"type": "toaster"}, headers=admin)
    assert unknown_type.status_code == 422 and "watch" in unknown_type.text
    # the register's reason in the reader's language: Chinese, or English when asked for
    said = unknown_type.json()["detail"][0]["msg"]
    assert said.startswith("未知的设备类型 'toaster'；应为以下之一：") and "watch" in said
    english = admin | {"Accept-Language": "en"}
    unknown_type = client.post("/api/v1/devices", json={"type": "toaster"}, headers=english)
    assert unknown_type.json()["detail"][0]["msg"].startswith("unknown device type 'toaster'; expected one of ")
    first = client.post("/api/v1/devices", json={"type": "door", "serial": "D-1", "elder_id": 1}, headers=admin)
    assert first.status_code == 201
    duplicate = client.post("/api/v1/devices", json={"type": "door", "serial": "D-1"}, headers=admin)
    assert duplicate.status_code == 409 and duplicate.json()["detail"].startswith("序列号 'D-1' 已登记为设备 ")
    no_elder = client.post("/api/v1/devices", json={"type": "door", "serial": "D-2", "elder_id": 9999}, headers=admin)
    assert no_elder.status_code == 404 and "9999" in no_elder.text
    device_id = first.json()["device"]["id"]
    again = client.post(f"/api/v1/devices/{device_id}/bind", json={"elder_id": 2}, headers=admin)
    assert (
        again.status_code == 409
        and again.json()["detail"] == f"设备 '{device_id}' 已绑定老人 1；请先解除绑定，或办理更换"
    )
    again = client.post(f"/api/v1/devices/{device_id}/bind", json={"elder_id": 2}, headers=english)
    assert again.json()["detail"] == f"device '{device_id}' is bound to elder 1 already; unbind it first, or replace it"
    missing = client.post("/api/v1/devices/nosuch/unbind", headers=admin)
    assert missing.status_code == 404
    # an enrolled, unbound device is counted nowhere it cannot be listed
    assert client.post("/api/v1/devices", json={"type": "door", "serial": "D-9"}, headers=admin).status_code == 201
    listed = client.get("/api/v1/devices", params={"limit": 200}, headers=admin).json()
    summary = client.get("/api/v1/devices/summary", headers=admin).json()
    assert listed["total"] == len(listed["items"]) == summary["total"]
    assert "D-9" not in {d["id"] for d in listed["items"]}
    schema = client.get("/openapi.json").json()
    for path in (
        "/api/v1/devices",
        "/api/v1/devices/{device_id}/bind",
        "/api/v1/devices/{device_id}/credential/rotate",
    ):
        assert path in schema["paths"], path
    assert "Enrolled" in schema["components"]["schemas"]


def test_each_change_brings_the_broker_in_step_when_configured(
    api: tuple[httpx.Client, dict[str, dict[str, str]], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, headers, _ = api
    passwd = tmp_path / "passwd"
    monkeypatch.setenv("ELDERCARE_MOSQUITTO_PASSWD", str(passwd))
    monkeypatch.setenv("ELDERCARE_MOSQUITTO_RELOAD_COMMAND", "true")
    enrolled = client.post(
        "/api/v1/devices", json={"type": "gas", "serial": "G-77", "elder_id": 3}, headers=headers["admin"]
    )
    assert enrolled.status_code == 201 and enrolled.json()["credential"]["broker_synced"]
    assert "\nG-77:$7$" in "\n" + passwd.read_text()
    assert client.post("/api/v1/devices/G-77/credential/revoke", headers=headers["admin"]).status_code == 200
    assert "G-77:" not in passwd.read_text()
