"""The roster in the browser: a caregiver added through the form is told what they will be offered and then
offered an order; the weekly roster shows their shifts and leave; the reassign picker ranks and explains."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect

from dispatcher.orders import create_order
from tests.dispatcher.town import CENTER, offset
from tests.roster.conftest import PASSWORD
from tests.waiting import patience


def test_a_caregiver_added_in_the_form_is_offered_and_shown_on_the_roster(
    browser: Browser, dashboard, conn, clock, config, town, harness, artifacts_dir
) -> None:
    provider = town.provider(services=("meal",))
    far = town.caregiver(provider, offset(1.8, 0), skills=("meal",))
    elder = town.elder(at=CENTER)
    conn.commit()
    page = browser.new_page()
    page.goto(f"{dashboard.url}/login")
    page.fill("input[name=username]", "operator")  # operators enrol caregivers
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/alarms"))

    page.goto(f"{dashboard.url}/caregivers/new?provider_id={provider}")
    page.fill("input[name=code]", "UICG")
    page.fill("input[name=name]", "李娟")
    page.fill("input[name=phone]", "+86 139 7777 0101")
    page.fill("input[name=home_lat]", str(CENTER[0]))
    page.fill("input[name=home_lon]", str(CENTER[1]))
    page.check("input[name=skills][value=meal]")
    page.check("input[name=skills][value=bathing]")
    for day in range(1, 8):
        page.fill(f"input[name=starts_{day}_0]", "08:00")
        page.fill(f"input[name=ends_{day}_0]", "18:00")
    page.select_option("select[name=absence_kind_0]", "sick")
    page.fill("input[name=absence_first_0]", "2026-01-08")
    page.fill("input[name=absence_last_0]", "2026-01-09")
    page.click("#caregiver-form button[type=submit]")
    verdict = page.locator("#readiness")
    expect(verdict).to_have_class(re.compile("ok"))
    expect(verdict).to_contain_text("meal")
    expect(verdict.locator("li[data-reason=provider_service]")).to_contain_text("does not sell Bathing")
    page.screenshot(path=artifacts_dir / "roster-caregiver-form.png", full_page=True)
    new = conn.execute("SELECT id FROM caregiver WHERE code = 'UICG'").fetchone()[0]

    # editing: a second shift on Wednesday evening, the sick days lifted; the form shows what was saved
    page.goto(f"{dashboard.url}/caregivers/{new}/edit")
    expect(page.locator("input[name=starts_3_0]")).to_have_value("08:00")
    expect(page.locator("select[name=absence_kind_0]")).to_have_value("sick")
    page.fill("input[name=starts_3_1]", "19:00")
    page.fill("input[name=ends_3_1]", "22:00")
    page.select_option("select[name=absence_kind_0]", "")
    page.click("#caregiver-form button[type=submit]")
    expect(page.locator("#readiness")).to_have_class(re.compile("ok"))
    shifts = conn.execute("SELECT count(*) FROM caregiver_shift WHERE caregiver_id = %s", (new,)).fetchone()[0]
    assert shifts == 8
    town.absent(new, "2026-01-08", "2026-01-09")
    conn.commit()

    page.goto(f"{dashboard.url}/providers/{provider}/roster?week=2026-01-07")
    row = page.locator("table.roster tr", has_text="UICG")
    expect(row.locator("td.on")).to_have_count(5)
    expect(row.locator("td.absent")).to_have_count(2)
    page.screenshot(path=artifacts_dir / "roster-week.png")

    order = create_order(conn, clock, elder_id=elder, service_type="meal", actor="t", config=config)
    conn.commit()
    page.goto(f"{dashboard.url}/orders/{order.id}")
    picks = page.locator(".candidates li")
    expect(picks.first).to_have_attribute("data-caregiver", str(new))
    expect(page.locator(f".candidates li[data-caregiver='{far}']")).to_have_class("eligible")
    harness.drive()
    assert harness.offers(order.id)[0][0] == new
    # the offer reaches the new caregiver's phone through Twilio (the stand-in)
    offer = harness.standin.wait_for(to="+8613977770101", timeout=patience(10))[0]
    assert order.code in offer.body

    # reassign to the farther caregiver, picked from the ranked list
    page.reload()
    page.locator(f".candidates li[data-caregiver='{far}'] button").click()
    expect(page.locator(f".candidates li[data-caregiver='{far}']")).to_have_class(re.compile("picked"))
    page.screenshot(path=artifacts_dir / "roster-reassign.png", full_page=True)
    page.click("#reassign-form button[type=submit]")
    harness.wait_until(
        "SELECT caregiver_id FROM offer WHERE order_id = %s ORDER BY id DESC LIMIT 1", order.id, expect=far
    )


def test_the_new_order_form_picks_the_elder_by_name(browser: Browser, dashboard, conn, town) -> None:
    elder = town.elder()
    conn.commit()
    page = browser.new_page()
    page.goto(f"{dashboard.url}/login")
    page.fill("input[name=username]", "operator")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/alarms"))
    page.goto(f"{dashboard.url}/orders-new")
    page.fill(".picker input[type=search]", "王秀")
    page.locator(".picker li button").first.click()
    page.select_option("select[name=service_type]", "meal")
    page.click("#order-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/orders/\d+$"))
    order_id = int(page.url.rsplit("/", 1)[1])
    assert conn.execute("SELECT elder_id FROM service_order WHERE id = %s", (order_id,)).fetchone()[0] == elder


def test_a_provider_added_in_the_form_serves_its_area_and_its_caregiver_is_offered(
    browser: Browser, dashboard, api, conn, clock, config, town, harness
) -> None:
    other = town.community("C02")
    elder = town.elder(at=CENTER, community_id=other)
    conn.commit()
    page = browser.new_page()
    page.goto(f"{dashboard.url}/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/alarms"))

    page.goto(f"{dashboard.url}/providers/new")
    page.fill("input[name=code]", "UIP")
    page.fill("input[name=name]", "表单服务中心")
    page.fill("input[name=phone]", "+8671512345600")
    page.fill("input[name=manager_name]", "赵经理")
    page.fill("input[name=manager_phone]", "+8613912340000")
    page.check("input[name=services][value=meal]")
    page.fill("input[name=price_meal]", "1200")
    page.fill("input[name=communities]", "C01")
    page.fill("input[name=contract_starts]", "2026-01-01")
    page.click("#provider-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/providers\?provider_id=\d+$"))
    provider = int(page.url.rsplit("=", 1)[1])
    row = conn.execute(
        "SELECT price_fen, contract_starts::text FROM provider_service JOIN provider ON id = provider_id "
        "WHERE provider_id = %s AND service_type = 'meal'",
        (provider,),
    ).fetchone()
    assert row == (1200, "2026-01-01")

    # the elder lives in C02: add it to the area in the edit form, the C01 already there kept
    page.goto(f"{dashboard.url}/providers/{provider}/edit")
    expect(page.locator("input[name=communities]")).to_have_value("C01")
    page.fill("input[name=communities]", "C01, 社区C02")
    page.click("#provider-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/providers\?provider_id=\d+$"))
    served = {r[0] for r in conn.execute("SELECT community_id FROM provider_area WHERE provider_id = %s", (provider,))}
    assert served == {town.community_id, other}

    # the kitchen its meals are collected at: one coordinate alone is refused, both are saved, none clears it
    kitchen = "SELECT kitchen_lat, kitchen_lon FROM provider WHERE id = %s"
    page.goto(f"{dashboard.url}/providers/{provider}/edit")
    page.fill("input[name=kitchen_lat]", "29.7212")
    page.click("#provider-form button[type=submit]")
    expect(page.locator("#toast")).to_contain_text("lon")
    assert conn.execute(kitchen, (provider,)).fetchone() == (None, None)
    page.fill("input[name=kitchen_lon]", "113.9301")
    page.click("#provider-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/providers\?provider_id=\d+$"))
    assert conn.execute(kitchen, (provider,)).fetchone() == (29.7212, 113.9301)
    page.goto(f"{dashboard.url}/providers/{provider}/edit")
    expect(page.locator("input[name=kitchen_lat]")).to_have_value("29.7212")
    page.fill("input[name=kitchen_lat]", "")
    page.fill("input[name=kitchen_lon]", "")
    page.click("#provider-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/providers\?provider_id=\d+$"))
    assert conn.execute(kitchen, (provider,)).fetchone() == (None, None)

    body = {
        "code": "UIPCG",
        "provider_id": provider,
        "name": "王芳",
        "gender": "F",
        "phone": "+8613977770201",
        "home_lat": CENTER[0],
        "home_lon": CENTER[1],
        "skills": ["meal"],
        "shifts": [{"weekday": 3, "starts": "08:00", "ends": "18:00"}],
    }
    caregiver = api.post("/api/v1/caregivers", json=body).json()["id"]
    order = create_order(conn, clock, elder_id=elder, service_type="meal", actor="t", config=config)
    conn.commit()
    harness.drive()
    assert harness.offers(order.id)[0][0] == caregiver
    assert order.code in harness.standin.wait_for(to="+8613977770201", timeout=patience(10))[0].body
