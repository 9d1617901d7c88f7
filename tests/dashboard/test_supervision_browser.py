"""A township supervisor in a real headless Chromium: the week's checks, a home visit with a finding, the
provider's rectification, and the circular that lists it."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from playwright.sync_api import Browser, expect

from dashboard.server import DashboardServer
from eldercare import users
from eldercare.supervision import checks
from eldercare.supervision.checks import PlanInput
from tests.dashboard.conftest import NOW, PASSWORD, City
from tests.dashboard.test_browser import DESKTOP, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def _township_plan(url: str) -> tuple[str, str, str]:
    """A township supervisor account and the week's township plan of home visits; the township's name, a drawn
    elder's code and the provider that served them."""
    with psycopg.connect(url) as conn:
        township_id, code, name = conn.execute(
            "SELECT t.id, t.code, t.name FROM service_order o JOIN elder e ON e.id = o.elder_id "
            "JOIN community c ON c.id = e.community_id JOIN township t ON t.id = c.township_id "
            "WHERE o.status IN ('completed', 'reviewed') GROUP BY t.id ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()  # type: ignore[misc]
        users.add_user(conn, "town", PASSWORD, users.Role.OPERATOR, display_name="乡镇督查员")
        users.set_area(conn, "town", code, None)
        plan = PlanInput(
            period="week", period_start=NOW.date(), level="township", township_id=township_id, home_visits=3, seed=11
        )
        plan_id = checks.create_plan(conn, plan, "admin", NOW, "Asia/Shanghai")
        elder, provider = conn.execute(
            "SELECT e.code, p.name FROM spot_check k JOIN elder e ON e.id = k.elder_id "
            "JOIN provider p ON p.id = k.provider_id WHERE k.plan_id = %s ORDER BY e.code LIMIT 1",
            (plan_id,),
        ).fetchone()  # type: ignore[misc]
    return name, elder, provider


def test_a_township_supervisor_records_a_home_visit_and_the_circular_lists_the_finding(
    city: City, server: DashboardServer, browser: Browser, artifacts_dir: Path, tmp_path: Path
) -> None:
    township, elder, provider = _township_plan(city.url)
    shots = artifacts_dir / "dashboard"
    shots.mkdir(parents=True, exist_ok=True)
    photo = tmp_path / "visit.png"
    photo.write_bytes(PNG)
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, server.url, "town")
        page.get_by_role("link", name="督查").click()
        checks_table = page.locator("#checks")
        expect(checks_table.locator("tbody tr")).to_have_count(3)
        expect(checks_table).to_contain_text(township)
        row = checks_table.locator("tr", has_text=elder)
        row.get_by_role("link", name="录入检查").click()

        form = page.locator("#check-form")
        form.locator("select[name=reached]").select_option("yes")
        form.locator("select[name=delivered]").select_option("partly")
        form.locator("select[name=punctual]").select_option("yes")
        form.locator("select[name=attitude]").select_option("rude")
        form.locator("select[name=satisfaction]").select_option("2")
        form.locator("textarea[name=note]").fill("护理员态度生硬")
        form.locator("input[name=photo]").set_input_files(str(photo))
        form.get_by_role("button", name="保存记录").click()
        expect(page.locator("#record")).to_contain_text("护理员态度生硬")
        expect(page.locator("#record")).to_contain_text("态度恶劣")
        page.screenshot(path=shots / "spot-check-recorded.png", full_page=True)

        page.goto(f"{server.url}/supervision")
        rectification = page.locator("#rectifications tbody tr", has_text=elder)
        expect(rectification).to_contain_text("态度恶劣")
        page.screenshot(path=shots / "supervision-checks.png", full_page=True)

        page.get_by_role("link", name="通报").click()
        circular = page.locator("#circular")
        expect(circular).to_contain_text(township)
        # the provider's row: its check done, one finding of rudeness, its rectification still open
        line = circular.locator("tbody tr", has_text=provider)
        expect(line.locator("td").nth(2)).to_contain_text("1 /")
        expect(line.locator("td").nth(6)).to_have_text("1")
        expect(line.locator("td").nth(8)).to_have_text("0 / 1")
        page.screenshot(path=shots / "circular.png", full_page=True)
    finally:
        context.close()
    with psycopg.connect(city.url) as conn:
        assert conn.execute("SELECT count(*) FROM spot_check_photo").fetchone() == (1,)
        assert conn.execute("SELECT finding FROM rectification").fetchall() == [("rude",)]
