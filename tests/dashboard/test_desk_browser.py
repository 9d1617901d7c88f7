"""The alarm desk in a real headless Chromium: a new critical alarm rings, changes the tab title and shows in
the list with what raised it and its live order; a false alarm stands the order down; every page in both
languages photographed at 1366x768."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect
from psycopg.types.json import Jsonb

import dispatcher
from dashboard.server import DashboardServer
from dispatcher.settings import Config, DispatcherSettings
from eldercare.config import Settings
from tests.dashboard.conftest import City
from tests.dashboard.test_browser import DESKTOP, add_readings, sign_in
from tests.dashboard.test_language import pages
from tests.waiting import patience

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# every call to play() on an audio element is counted (headless Chromium has no speaker to listen to), and
# notifications are permitted and recorded (headless Chromium shows none)
SPY_ON_PLAY = """
window.__plays = 0;
HTMLMediaElement.prototype.play = function () { window.__plays += 1; return Promise.resolve(); };
window.__notes = [];
window.Notification = function (title, options) { window.__notes.push(title + " " + (options || {}).body); };
window.Notification.permission = "granted";
window.Notification.requestPermission = async () => "granted";
"""


def _free_elder(conn: psycopg.Connection) -> tuple[int, str]:
    row = conn.execute(
        "SELECT e.id, d.id FROM elder e JOIN device d ON d.elder_id = e.id WHERE e.active "
        "AND NOT EXISTS (SELECT 1 FROM alarm a WHERE a.elder_id = e.id AND a.status <> 'resolved') "
        "AND EXISTS (SELECT 1 FROM emergency_contact c WHERE c.elder_id = e.id) ORDER BY e.id LIMIT 1"
    ).fetchone()
    assert row is not None
    return int(row[0]), str(row[1])


def _alarm(conn: psycopg.Connection, city: City, kind: str, severity: str, details: dict[str, object]) -> int:
    elder, device = _free_elder(conn)
    now = city.clock.now()
    row = conn.execute(
        "INSERT INTO alarm (elder_id, device_id, type, severity, raised_at, received_at, last_raised_at, details) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (elder, device, kind, severity, now, now, now, Jsonb(details)),
    ).fetchone()
    assert row is not None
    conn.execute(
        "UPDATE elder SET medical_notes = '高血压，服用氨氯地平', home_access_notes = '钥匙盒密码 2580' WHERE id = %s",
        (elder,),
    )
    return int(row[0])


def _dispatch_and_accept(city: City, alarm_id: int) -> tuple[str, str]:
    """The dispatcher makes the alarm's emergency order and offers it; the first caregiver offered accepts."""
    config = Config(Settings(public_url="http://testserver", _env_file=None), DispatcherSettings(_env_file=None))
    with psycopg.connect(city.url) as conn:
        dispatcher.sweep(conn, city.clock, config)
        made = conn.execute("SELECT id, code FROM service_order WHERE alarm_id = %s", (alarm_id,)).fetchone()
        assert made is not None, "the dispatcher made no emergency order"
        order_id, code = made
        offered = conn.execute(
            "SELECT caregiver_id FROM offer WHERE order_id = %s ORDER BY rank LIMIT 1", (order_id,)
        ).fetchone()
        assert offered is not None, "the emergency was offered to nobody"
        caregiver = dispatcher.caregiver_by_id(conn, offered[0])
        assert caregiver is not None
        dispatcher.accept_offer(conn, city.clock, config, caregiver, order_id, "web")
    return str(code), caregiver.name


def _open_critical(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM alarm WHERE severity = 'critical' AND status = 'open'").fetchone()
    return int(row[0]) if row else 0


def _desk(browser: Browser, server: DashboardServer) -> Page:
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    context.add_init_script(SPY_ON_PLAY)
    page = context.new_page()
    page.set_default_timeout(patience(15) * 1000)
    sign_in(page, server.url)
    expect(page.locator("#live")).to_have_text("实时")
    return page


def test_a_new_critical_alarm_rings_and_shows_its_reading_and_live_order(
    city: City, server: DashboardServer, browser: Browser, artifacts_dir: Path
) -> None:
    page = _desk(browser, server)
    plays = page.evaluate("window.__plays")
    with psycopg.connect(city.url) as conn:
        alarm_id = _alarm(conn, city, "fall", "critical", {})
    row = page.locator(f"tbody[data-alarm-id='{alarm_id}']")
    expect(row).to_be_visible()
    page.wait_for_function(f"window.__plays > {plays}")
    notes = page.evaluate("window.__notes")
    assert any(n.startswith("新的紧急告警") and "跌倒" in n for n in notes), notes
    expect(page).to_have_title(f"({_open_critical(city.url)}) ⚠ 实时告警")
    expect(row.locator(".reading")).to_contain_text("由设备")
    expect(row.locator("tr.detail")).to_contain_text("高血压")
    expect(row.locator("tr.detail")).to_contain_text("按顺序呼叫")

    # the order appears and moves on in place: its code, caregiver, state and expected arrival
    code, caregiver = _dispatch_and_accept(city, alarm_id)
    order = row.locator(".order-cell")
    expect(order).to_contain_text(code)
    expect(order).to_contain_text(caregiver)
    expect(order).to_contain_text("已接单")
    expect(order).to_contain_text(re.compile(r"预计 \d\d:\d\d 到达"))
    expect(order).not_to_contain_text("#")

    # a heart-rate alarm says which reading raised it
    with psycopg.connect(city.url) as conn:
        heart = _alarm(
            conn, city, "hr_high", "warning", {"metric": "hr", "value": 138, "threshold": 120, "consecutive": 3}
        )
    expect(page.locator(f"tbody[data-alarm-id='{heart}'] .reading")).to_have_text(
        "心率 138 次/分（阈值 120），连续 3 次"
    )

    # counts and filters
    expect(page.locator("[data-count-severity=critical] b")).to_have_text(str(_critical_live(city.url)))
    page.select_option("#alarm-filters select[name=severity]", "warning")
    expect(row).to_be_hidden()
    expect(page.locator(f"tbody[data-alarm-id='{heart}']")).to_be_visible()
    page.select_option("#alarm-filters select[name=severity]", "")
    page.screenshot(path=artifacts_dir / "dashboard" / "desk-list.png")

    # taking it, a note, then resolving it as a false alarm stands the order down and tells caregiver and family
    row.locator("button[data-take]").click()
    expect(row.locator("tr.main")).to_contain_text("operator")  # the owner
    expect(row.locator("button[data-take]")).to_have_count(0)
    row.locator("button[data-note]").click()
    row.locator("form.add-note input[name=text]").fill("已电话联系儿子，老人说是误按")
    row.locator("form.add-note button").click()
    expect(row.locator(".alarm-note")).to_contain_text("误按")
    row.locator("button[data-resolve]").click()
    row.locator("select[name=outcome]").select_option("false_alarm")
    expect(row.locator(".stop-order")).to_be_visible()
    row.locator("form.resolve button").click()
    expect(row).to_have_count(0)
    with psycopg.connect(city.url) as conn:
        status = conn.execute("SELECT status FROM service_order WHERE code = %s", (code,)).fetchone()
        told = conn.execute(
            "SELECT purpose FROM sms_message m JOIN service_order o ON o.id = m.order_id "
            "WHERE o.code = %s AND m.body LIKE '%%误报%%'",
            (code,),
        ).fetchall()
    assert status == ("cancelled",)
    assert {"operator", "family"} <= {p for (p,) in told}
    page.context.close()


def _critical_live(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM alarm WHERE severity = 'critical' AND status <> 'resolved'").fetchone()
    return int(row[0]) if row else 0


def test_every_page_photographed_in_both_languages(
    city: City, server: DashboardServer, browser: Browser, artifacts_dir: Path
) -> None:
    shots = artifacts_dir / "dashboard" / "pages"
    shots.mkdir(parents=True, exist_ok=True)
    for language, locale in (("zh", "zh-CN"), ("en", "en-US")):
        context = browser.new_context(viewport=DESKTOP, locale=locale)
        page = context.new_page()
        page.set_default_timeout(patience(15) * 1000)
        sign_in(page, server.url, "admin")
        for path in pages(city.url):
            page.goto(f"{server.url}{path}")
            name = re.sub(r"[^a-z0-9]+", "-", path.strip("/")) or "root"
            page.screenshot(path=shots / f"{language}-{name}.png")
        context.close()


def test_vital_signs_chart_an_axis_per_measure_in_the_readers_words(
    city: City, server: DashboardServer, browser: Browser, artifacts_dir: Path
) -> None:
    add_readings(city.url, 1)
    page = _desk(browser, server)
    page.goto(f"{server.url}/elders/1")
    chart = page.locator("#chart-day")
    expect(chart.locator("canvas").first).to_be_visible()
    chart.scroll_into_view_if_needed()
    # the axes (heart rate left, SpO2 and blood pressure right, each with its unit) are drawn on the canvas:
    # test-artifacts/dashboard/elder-vitals-chart.png shows them; the legend names the measures in Chinese
    legend = chart.locator(".u-legend")
    for word in ("时间", "心率", "血氧", "收缩压", "舒张压"):
        expect(legend).to_contain_text(word)
    expect(legend).not_to_contain_text("HR")
    chart.screenshot(path=artifacts_dir / "dashboard" / "elder-vitals-chart.png")
    page.context.close()


def test_the_list_shows_ten_alarms_or_more_on_a_laptop_screen(
    city: City, server: DashboardServer, browser: Browser, artifacts_dir: Path
) -> None:
    with psycopg.connect(city.url) as conn:
        for value in range(121, 135):
            _alarm(conn, city, "hr_high", "warning", {"metric": "hr", "value": value, "threshold": 120})
    page = _desk(browser, server)
    rows = page.locator("tbody.alarm-row")
    expect(rows.nth(13)).to_be_attached()
    boxes = [rows.nth(i).bounding_box() for i in range(rows.count())]
    on_screen = sum(1 for box in boxes if box is not None and box["y"] + box["height"] <= DESKTOP["height"])
    print(f"alarms fully on a 1366x768 screen in the list: {on_screen}")
    page.screenshot(path=artifacts_dir / "dashboard" / "desk-list-dense.png")
    assert on_screen >= 10
    page.click(".view-switch [data-view=cards]")
    expect(page.locator("ul.alarms li").first).to_be_visible()
    expect(rows.first).to_be_hidden()
    page.context.close()
