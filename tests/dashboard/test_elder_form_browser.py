"""The register's forms in a real headless Chromium: register an elder, see a refusal next to its field,
find the elder in the list by ID number, record an assessment and deactivate."""

from __future__ import annotations

import re

import psycopg
import pytest
from playwright.sync_api import Browser, expect

from dashboard.server import DashboardServer
from eldercare.register.identity import resident_id_check_char
from tests.dashboard.conftest import City
from tests.dashboard.test_browser import DESKTOP, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]
FIRST17 = "42128119400501002"
GOOD_ID = FIRST17 + resident_id_check_char(FIRST17)
BAD_ID = FIRST17 + ("0" if GOOD_ID[-1] != "0" else "1")


def test_an_operator_registers_an_elder_through_the_form(city: City, server: DashboardServer, browser: Browser) -> None:
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, server.url)
        page.goto(f"{server.url}/elders")
        page.get_by_role("link", name="新建老人档案").click()
        form = page.locator("#elder-form")
        form.locator("input[name=name]").fill("测试老人")
        form.locator("select[name=gender]").select_option("F")
        form.locator("input[name=birth_date]").fill("1940-05-01")
        form.locator("input[name=resident_id]").fill(BAD_ID)
        form.locator("input[name=phone]").fill("13812349876")
        form.locator("select[name=community_id]").select_option(index=1)
        form.locator("input[name=address]").fill("金桂路8号")
        # the location picked on the offline map, in the middle of the city
        page.locator("#pick-map").click()
        lat, lon = (float(form.locator(f"input[name={n}]").input_value()) for n in ("lat", "lon"))
        assert 29.5 < lat < 29.9 and 113.6 < lon < 114.2, (lat, lon)
        assert page.locator("#pick-marker").get_attribute("cx") != "-20"
        form.locator("select[name=living_situation]").select_option("alone")
        form.locator("input[name=elig_min_allowance]").check()
        form.locator("input[name=elig_min_allowance_date]").fill("2024-03-01")
        form.locator("input[name=elig_min_allowance_doc]").fill("赤民〔2024〕12号")
        form.locator("input[name=contact_0_name]").fill("王强")
        form.locator("input[name=contact_0_relation]").fill("儿子")
        form.locator("input[name=contact_0_phone]").fill("+8613900001111")
        form.locator("textarea[name=home_access_notes]").fill("钥匙盒密码 4821")
        form.locator("select[name=assess_level]").select_option("2")
        form.locator("input[name=assess_on]").fill("2026-01-05")
        form.locator("input[name=assess_assessors]").fill("张医生, 刘护士")
        form.locator("button[type=submit]").click()

        # refused: the problem is shown next to the ID number, what was typed is kept, nothing is written
        expect(page.locator(".error[data-field=resident_id]")).to_contain_text("校验位应为")
        expect(page.locator("input[name=name]")).to_have_value("测试老人")
        with psycopg.connect(city.url) as conn:
            assert conn.execute("SELECT count(*) FROM elder WHERE name = '测试老人'").fetchone() == (0,)
        page.locator("input[name=resident_id]").fill(GOOD_ID)
        page.locator("#elder-form button[type=submit]").click()
        page.wait_for_url(f"{server.url}/elders/*")
        expect(page.locator("h1")).to_contain_text("测试老人")
        expect(page.locator("#assessments")).to_contain_text("张医生")

        # the list finds the elder by the ID number
        page.goto(f"{server.url}/elders")
        page.fill("input[name=q]", GOOD_ID)
        page.get_by_role("button", name="搜索").click()
        expect(page.locator("tbody tr")).to_have_count(1)
        expect(page.locator("tbody")).to_contain_text("测试老人")
        page.get_by_role("link", name="测试老人").click()

        # edit: the operator sees the ID number masked and leaves it; a second contact is added
        page.get_by_role("link", name="编辑").click()
        expect(page.locator("input[name=resident_id]")).to_have_value("421281********" + GOOD_ID[-4:])
        expect(page.locator("input[name=contact_0_phone]")).to_have_value("+8613900001111")
        page.locator("input[name=contact_1_name]").fill("李梅")
        page.locator("input[name=contact_1_relation]").fill("邻居")
        page.locator("input[name=contact_1_phone]").fill("13900002222")
        page.locator("#elder-form button[type=submit]").click()
        page.wait_for_url(re.compile(r".*/elders/\d+$"))
        expect(page.locator(".card", has_text="李梅")).to_contain_text("+8613900002222")

        # the care plan: a daily meal, its time changed, then stopped
        adding = page.locator("#care-plan-add")
        adding.locator("select[name=service_type]").select_option("meal")
        adding.locator("input[name=schedule]").fill("0 11 * * *")
        adding.locator("button").click()
        planned = page.locator("#care-plan tr[data-recurring]")
        expect(planned).to_have_count(1)
        planned.locator("input[name=schedule]").fill("30 11 * * *")
        planned.locator("button", has_text="保存").click()
        expect(page.locator("#care-plan tr[data-recurring] input[name=schedule]")).to_have_value("30 11 * * *")
        page.locator("#care-plan tr[data-recurring] button", has_text="停止").click()
        expect(page.locator("#care-plan tr[data-recurring] button", has_text="恢复")).to_be_visible()

        # deactivate: in hospital since yesterday
        state = page.locator("#register-state")
        state.locator("select[name=reason]").select_option("in_hospital")
        state.locator("input[name=since]").fill("2026-03-09")
        state.locator("button").click()
        expect(page.locator("#inactive")).to_contain_text("住院")
        # off the list, unless asked for
        page.goto(f"{server.url}/elders?q={GOOD_ID}")
        expect(page.locator("tbody tr")).to_have_count(0)
        page.goto(f"{server.url}/elders?q={GOOD_ID}&inactive=true")
        expect(page.locator("tbody tr .tag.crit")).to_have_text("已停用")
    finally:
        context.close()
    with psycopg.connect(city.url) as conn:
        row = conn.execute(
            "SELECT resident_id, phone, living_situation, ability_level, active, inactive_reason, lat, lon FROM elder "
            "WHERE name = '测试老人'"
        ).fetchone()
        assert row is not None
        assert row[:6] == (GOOD_ID, "+8613812349876", "alone", 2, False, "in_hospital")
        assert (round(row[6], 6), round(row[7], 6)) == (round(lat, 6), round(lon, 6))
        actions = [
            r[0]
            for r in conn.execute(
                "SELECT action FROM audit_log WHERE target_kind = 'elder' AND actor <> 'seed' ORDER BY id"
            )
        ]
        assert actions == ["elder.create", "elder.update", "elder.deactivate"]
        plan = conn.execute(
            "SELECT r.service_type, r.schedule, r.active FROM recurring_service r JOIN elder e "
            "ON e.id = r.elder_id WHERE e.name = '测试老人'"
        ).fetchall()
        assert plan == [("meal", "30 11 * * *", False)]


def test_the_form_in_english(city: City, server: DashboardServer, browser: Browser) -> None:
    context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    page = context.new_page()
    try:
        sign_in(page, server.url)
        page.goto(f"{server.url}/elders-new")
        expect(page.locator("h1")).to_have_text("Register an elder")
        expect(page.locator("#elder-form")).to_contain_text("Resident ID number")
        expect(page.locator("#elder-form")).to_contain_text("Bereaved only-child family")
    finally:
        context.close()
