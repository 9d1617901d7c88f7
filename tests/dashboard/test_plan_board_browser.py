"""The plan board in a real headless Chromium: an operator opens tomorrow's plan, pins a visit to another
caregiver, plans the day now and sees the visit move to that caregiver's row."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from dashboard.i18n import COOKIE
from dashboard.server import DashboardServer
from tests.dashboard.conftest import City
from tests.dashboard.test_browser import DESKTOP, sign_in
from tests.dashboard.test_plans import (
    TODAY,
    a_move,
    area_account_for_busiest_township,
    faraway_visit,
    same_visit,
    small_hours_visit,
)
from tests.waiting import patience

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_pinning_a_visit_moves_it_at_the_next_plan(
    city: City,
    server: DashboardServer,
    client: httpx.Client,
    headers: dict[str, dict[str, str]],
    browser: Browser,
    artifacts_dir: Path,
) -> None:
    tomorrow = TODAY + timedelta(days=1)
    faraway = faraway_visit(city.url)
    small_hours = small_hours_visit(city.url)
    h = headers["operator"]
    plan = client.post("/api/v1/plans", json={"day": tomorrow.isoformat()}, headers=h).json()
    visit, other = a_move(city.url, client.get(f"/plans?day={tomorrow}", headers=h).text, plan, tomorrow)
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(patience(15) * 1000)
    sign_in(page, server.url)
    page.goto(f"{server.url}/plans")  # tomorrow's plan, once made, is the default
    box = page.locator(f'.plan-row[data-caregiver="{visit["caregiver_id"]}"] .plan-box[data-visit="{visit["id"]}"]')
    expect(box).to_be_visible()
    expect(box).to_have_css("position", "absolute")
    assert box.evaluate("el => el.style.left !== '' && parseFloat(el.style.left) === parseFloat(el.dataset.left)")
    lost = next(v for v in plan["visits"] if v["recurring_service_id"] == faraway)
    expect(page.locator(f'#unassigned tr[data-visit="{lost["id"]}"] td[data-reason="outside_area"]')).to_be_visible()
    form = page.locator(f'form.pin-form[data-visit="{visit["id"]}"]')
    form.locator("select").select_option(str(other))
    form.locator("button").click()
    expect(page.locator("#toast")).to_have_text("已固定：下次排班时生效。")
    with page.expect_response(lambda r: r.url.endswith("/api/v1/plans") and r.request.method == "POST") as made:
        page.click("#plan-now")
    assert made.value.status == 201  # the new plan is in force once answered
    moved = same_visit(client.get(f"/api/v1/plans/{tomorrow}", headers=h).json(), visit)
    moved_box = page.locator(f'.plan-row[data-caregiver="{other}"] .plan-box[data-visit="{moved["id"]}"]')
    expect(moved_box).to_be_visible()
    expect(moved_box).to_have_class("plan-box service-" + visit["service_type"] + " pinned")
    shots = artifacts_dir / "dashboard"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=shots / "plan-board.png")
    # the board kept to one service, by the filter above it
    page.select_option('#plan-filter select[name="service"]', "meal")
    page.click("#plan-filter button")
    expect(page.locator("#plan-shown")).to_be_visible()
    classes = page.locator(".plan-box").evaluate_all("boxes => boxes.map(b => b.className.split(' ')[1])")
    assert classes and set(classes) == {"service-meal"}
    page.screenshot(path=shots / "plan-board-meals.png")
    # why nobody, with the particulars the operator can act on, in the reader's language
    off = next(v for v in plan["visits"] if v["recurring_service_id"] == small_hours)
    context.add_cookies([{"name": COOKIE, "value": "en", "url": server.url}])
    page.goto(f"{server.url}/plans?day={tomorrow}")
    now = same_visit(client.get(f"/api/v1/plans/{tomorrow}", headers=h).json(), off)  # in the plan made since
    said = page.locator(f'#unassigned tr[data-visit="{now["id"]}"] .particulars')
    expect(said).to_have_text("nobody eligible works between 02:00 and 02:30 that day")
    page.locator("#unassigned").screenshot(path=shots / "plan-board-unassigned.png")
    context.close()


def test_a_township_operator_sees_their_elders_part_of_the_board(
    city: City,
    server: DashboardServer,
    client: httpx.Client,
    headers: dict[str, dict[str, str]],
    browser: Browser,
    artifacts_dir: Path,
) -> None:
    tomorrow = TODAY + timedelta(days=1)
    plan = client.post("/api/v1/plans", json={"day": tomorrow.isoformat()}, headers=headers["operator"]).json()
    area_account_for_busiest_township(city.url, plan["id"])
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(patience(15) * 1000)
    sign_in(page, server.url, "area")
    page.goto(f"{server.url}/plans?day={tomorrow}")
    expect(page.locator("#plan-area")).to_be_visible()
    boxes = page.locator(".plan-box")
    expect(boxes.first).to_be_visible()
    assert boxes.first.evaluate("el => parseFloat(el.style.left) === parseFloat(el.dataset.left)")
    assert 0 < boxes.count() < sum(1 for v in plan["visits"] if v["caregiver_id"] is not None)
    expect(page.locator("#plan-figures")).to_have_count(0)
    expect(page.locator("form.pin-form")).to_have_count(0)
    expect(page.locator("#plan-now")).to_have_count(0)
    shots = artifacts_dir / "dashboard"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=shots / "plan-board-township.png", full_page=True)
    context.close()
