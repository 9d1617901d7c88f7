"""Going live from an empty, migrated database, never seeded, in Chromium: an admin downloads the template,
imports the areas, a provider with its area, 50 elders with contacts (the dry run flags a bad ID number; the
row is fixed) and 6 caregivers with shifts; enrols a device for one elder and puts the credentials shown into
a device simulator; the device presses SOS over Mosquitto; an imported caregiver gets the SMS offer through
the Twilio stand-in and accepts it."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect

from dashboard.app import create_app
from dashboard.server import DashboardServer
from dashboard.settings import DashboardSettings
from devices import Presence, ProvisionedDevice, topic
from devices.payloads import encode
from eldercare import seed, users
from eldercare.clock import SYSTEM_CLOCK
from eldercare.commands import component_factory
from eldercare.component import Component, Context
from eldercare.config import Settings
from eldercare.embedded import free_port
from eldercare.mqtt import BrokerAddress
from eldercare.seed.sheets import city_sheets, write_sheet
from simulators.device import SimulatedDevice
from simulators.twilio_standin import TwilioStandin
from tests.dashboard.conftest import PASSWORD
from tests.dashboard.test_browser import sign_in
from tests.services import ConfiguredMosquitto, production_mosquitto
from tests.waiting import eventually

pytestmark = [pytest.mark.browser, pytest.mark.mosquitto]
SID, TOKEN = "AC" + "5" * 32, "go-live-auth-token"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[ConfiguredMosquitto]:
    """Mosquitto as deployed (devices' passwords and ACL), knowing no device yet."""
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"devices": [], "caregivers": []}), encoding="utf-8")
    running = production_mosquitto(tmp_path / "mosquitto", manifest)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def platform(
    database_url: str, broker: ConfiguredMosquitto, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, TwilioStandin]]:
    """Dashboard (with the Twilio webhooks), gateway and dispatcher on the wall clock, Twilio stand-in, the broker
    sync of the dashboard pointed at Mosquitto; one admin account and nothing else in the database."""
    with psycopg.connect(database_url) as conn:
        users.add_user(conn, "admin", PASSWORD, users.Role.ADMIN, display_name="admin user")
    assert broker.process is not None
    monkeypatch.setenv("ELDERCARE_MOSQUITTO_PASSWD", str(broker.workdir / "passwd"))
    monkeypatch.setenv("ELDERCARE_MOSQUITTO_PID", str(broker.process.pid))
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    standin = TwilioStandin(SID, TOKEN, webhook_url=f"{public}/sms/inbound", callback_delay=0.01).serve()
    settings = Settings(
        public_url=public,
        twilio_account_sid=SID,
        twilio_auth_token=TOKEN,
        twilio_api_base=standin.url,
        secret_key="go-live-secret-key",
        _env_file=None,
    )
    server = DashboardServer(
        create_app(settings, database_url, dashboard_settings=DashboardSettings(), clock=SYSTEM_CLOCK),
        "127.0.0.1",
        port,
    )
    context = Context(settings, database_url, broker.platform_url, clock=SYSTEM_CLOCK)
    components: list[Component] = [
        component_factory("gateway")(context, client_id=f"gw.golive-{uuid.uuid4().hex[:8]}"),
        component_factory("dispatcher")(context),
    ]
    server.start()
    for component in components:
        component.start()
    try:
        yield public, standin
    finally:
        for component in reversed(components):
            component.stop()
        server.stop()
        standin.stop()


def _sheets() -> dict[str, list[dict[str, Any]]]:
    """The bureau's files: its places, one provider serving all of them, 50 elders, 6 caregivers on duty round
    the clock near the first elder, who can answer emergencies."""
    sheets = city_sheets(seed.generate(seed.SeedPlan(elders=50, seed=11, providers=1, caregivers=6)))
    towns = list(dict.fromkeys(row["township"] for row in sheets["areas"]))
    provider = {**sheets["providers"][0], "services": "助急、助餐:1500、护理:4000", "townships": "、".join(towns)}
    sheets["providers"] = [{**provider, "communities": ""}]
    first = sheets["elders"][0]
    sheets["caregivers"] = [
        {
            **carer,
            "provider": provider["code"],
            "skills": "助急、助餐",
            "shifts": "每天 00:00-23:59",
            "lat": first["lat"] + 0.002 * (n + 1),
            "lon": first["lon"],
        }
        for n, carer in enumerate(sheets["caregivers"])
    ]
    return sheets


def _upload(page: Page, kind: str, path: Path) -> None:
    page.select_option("#import-form select[name=kind]", kind)
    page.set_input_files("#import-form input[name=file]", str(path))


def _check_and_import(page: Page, kind: str, path: Path, rows: int) -> None:
    _upload(page, kind, path)
    page.click("#import-form [data-mode=check]")
    expect(page.locator("#import-summary")).to_contain_text(f"已检查 {rows} 行")
    page.click("#import-form [data-mode=commit]")
    expect(page.locator("#import-summary")).to_contain_text(f"已导入 {rows} 行")


def test_a_bureau_goes_live_from_its_spreadsheets(
    platform: tuple[str, TwilioStandin],
    database_url: str,
    broker: ConfiguredMosquitto,
    browser: Browser,
    tmp_path: Path,
) -> None:
    base, standin = platform
    sheets = _sheets()
    page = browser.new_page(accept_downloads=True, locale="zh-CN")
    sign_in(page, base, "admin")
    page.click("nav a[href='/imports']")

    with page.expect_download() as download:
        page.click("#template-elders")
    template = tmp_path / "elders-template.xlsx"
    download.value.save_as(template)
    header = [c.value for c in next(load_workbook(template).worksheets[0].iter_rows(max_row=1))]
    assert header[:2] == ["身份证号*", "姓名*"]

    for kind in ("areas", "providers", "caregivers"):
        _check_and_import(page, kind, write_sheet(tmp_path / f"{kind}.xlsx", kind, sheets[kind]), len(sheets[kind]))

    elders = [dict(row) for row in sheets["elders"]]
    good = elders[7]["resident_id"]
    elders[7]["resident_id"] = good[:17] + ("1" if good[17] != "1" else "2")  # one digit mistyped
    _upload(page, "elders", write_sheet(tmp_path / "elders.xlsx", "elders", elders))
    page.click("#import-form [data-mode=check]")
    problems = page.locator("#import-problems tbody tr")
    expect(problems).to_have_count(1)
    expect(problems.first.locator("td").nth(0)).to_have_text("9")  # the eighth elder, under the header
    expect(problems.first.locator("td").nth(1)).to_have_text("身份证号")
    expect(problems.first.locator("td").nth(2)).to_contain_text("校验位应为")
    expect(page.locator("#import-form [data-mode=commit]")).to_be_disabled()
    elders[7]["resident_id"] = good
    _check_and_import(page, "elders", write_sheet(tmp_path / "elders-fixed.xlsx", "elders", elders), 50)
    with psycopg.connect(database_url) as conn:
        elder_id = conn.execute("SELECT id FROM elder WHERE resident_id = %s", (elders[0]["resident_id"],)).fetchone()
        assert conn.execute("SELECT count(*) FROM elder").fetchone() == (50,)
        assert conn.execute("SELECT count(*) FROM caregiver_shift").fetchone() == (42,)
    assert elder_id is not None

    page.click("nav a[href='/devices']")
    page.select_option("#enrol-form select[name=type]", "button")
    page.fill("#enrol-form input[name=serial]", "BTN-GOLIVE-0001")
    page.fill("#enrol-form input[name=elder_id]", str(elder_id[0]))
    page.click("#enrol-form button[type=submit]")
    expect(page.locator("#credentials")).to_be_visible()
    username = page.locator("#credential-username").inner_text()
    secret = page.locator("#credential-secret").inner_text()

    device = SimulatedDevice(ProvisionedDevice(username, "button", elder_id[0], secret), random.Random(1), None, 0)
    address = BrokerAddress.parse(f"mqtt://{username}:{secret}@127.0.0.1:{broker.port}")
    client = address.client(username)
    connected: list[Any] = []
    client.on_connect = lambda c, u, f, reason, p: connected.append(reason)
    client.connect(address.host, address.port)
    client.loop_start()
    try:
        eventually(lambda: connected, "Mosquitto's answer to the enrolled device")
        assert not connected[0].is_failure, connected
        now = datetime.now(UTC)
        client.publish(topic(username, "status"), encode(device.status(now, Presence.ONLINE)), qos=1, retain=True)
        with psycopg.connect(database_url, autocommit=True) as conn:
            eventually(
                lambda: conn.execute("SELECT online FROM device WHERE id = %s", (username,)).fetchone() == (True,)
            )
        client.publish(
            topic(username, "event"), encode(device.event(datetime.now(UTC), "sos")), qos=1
        ).wait_for_publish(5)
    finally:
        client.loop_stop()
        client.disconnect()

    phones = {row["phone"] for row in sheets["caregivers"]}
    phones = {"+86" + p if not p.startswith("+") else p for p in phones}
    offers = eventually(
        lambda: [m for m in standin.sent() if m.to in phones and "Y " in m.body],
        "an SMS offer to an imported caregiver",
        30,
    )
    offer = offers[0]
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT so.code FROM service_order so JOIN alarm a ON a.id = so.alarm_id "
            "WHERE a.elder_id = %s AND a.type = 'sos'",
            elder_id,
        ).fetchone()
    assert row is not None and f"Y {row[0]}" in offer.body
    assert "已接单" in standin.reply(offer.to, f"Y {row[0]}").text
    with psycopg.connect(database_url) as conn:
        status = conn.execute("SELECT status FROM service_order WHERE code = %s", row).fetchone()
    assert status == ("accepted",)
