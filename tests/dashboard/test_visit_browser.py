"""Verified visits in a real headless Chromium: a caregiver arrives and finishes on the phone page with the
phone's location near the elder's home (verified) and far from it (an exception), and an operator resolves the
far one in the exceptions queue."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from playwright.sync_api import Browser, expect

import dispatcher
from dashboard.server import DashboardServer
from dispatcher.links import token_for
from eldercare.embedded import free_port
from eldercare.register.identity import resident_id_check_char
from tests.dashboard.conftest import City, make_app
from tests.dashboard.test_browser import DESKTOP, sign_in
from tests.waiting import patience

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def served(city: City) -> Iterator[tuple[DashboardServer, dispatcher.Config]]:
    app = make_app(city)
    running = DashboardServer(app, "127.0.0.1", free_port())
    running.start()
    try:
        yield running, app.state.dispatcher_config
    finally:
        running.stop()


def _one(conn: psycopg.Connection, query: str, *params: object) -> Any:
    row = conn.execute(query.encode(), params).fetchone()
    assert row is not None
    return row[0]


def _held_order(conn: psycopg.Connection, city: City, config: dispatcher.Config, elder: int, caregiver: int) -> int:
    """A meal booked for now, already accepted by ``caregiver`` (as if offered and accepted by SMS)."""
    now = city.clock.now()
    ref = dispatcher.create_order(
        conn,
        city.clock,
        elder_id=elder,
        service_type="meal",
        actor="op1",
        window_start=now,
        window_end=now + timedelta(hours=1),
        config=config,
    )
    conn.execute(
        "UPDATE service_order so SET status = 'accepted', caregiver_id = c.id, provider_id = c.provider_id, "
        "accepted_at = %s, next_offer_at = NULL FROM caregiver c WHERE c.id = %s AND so.id = %s",
        (now, caregiver, ref.id),
    )
    return ref.id


def _visit_on_the_phone(browser: Browser, url: str, at: tuple[float, float], city: City, minutes: int) -> None:
    context = browser.new_context(
        viewport={"width": 360, "height": 640},
        is_mobile=True,
        permissions=["geolocation"],
        geolocation={"latitude": at[0], "longitude": at[1], "accuracy": 25},
        locale="zh-CN",
    )
    try:
        page = context.new_page()
        page.goto(url)
        expect(page.locator("#locate-prompt")).to_contain_text("允许")
        page.get_by_role("button", name="已到达").click()
        page.wait_for_selector('[data-status="arrived"]', timeout=patience(15) * 1000)
        city.clock.advance(timedelta(minutes=minutes))
        page.get_by_role("button", name="服务完成").click()
        page.wait_for_selector('[data-status="closed"]', timeout=patience(15) * 1000)
    finally:
        context.close()


def test_arrival_near_and_far_and_the_far_one_resolved(city: City, served, browser: Browser) -> None:
    server, config = served
    with psycopg.connect(city.url) as conn:
        near_elder, far_elder = (
            row for row in conn.execute("SELECT id, lat, lon FROM elder WHERE active ORDER BY id LIMIT 2").fetchall()
        )
        caregiver = _one(conn, "SELECT id FROM caregiver WHERE active ORDER BY id LIMIT 1")
        conn.execute("UPDATE caregiver SET language = 'zh' WHERE id = %s", (caregiver,))
        near = _held_order(conn, city, config, near_elder[0], caregiver)
        far = _held_order(conn, city, config, far_elder[0], caregiver)
        minutes = _one(conn, "SELECT duration_min FROM service_order WHERE id = %s", near)
        provider = _one(conn, "SELECT provider_id FROM caregiver WHERE id = %s", caregiver)

    _visit_on_the_phone(browser, f"{server.url}/m/{token_for(config, near, caregiver)}", near_elder[1:], city, minutes)
    two_km_north = (far_elder[1] + 2 / 111, far_elder[2])
    _visit_on_the_phone(browser, f"{server.url}/m/{token_for(config, far, caregiver)}", two_km_north, city, minutes)

    with psycopg.connect(city.url) as conn:
        statuses: dict[int, str] = dict(
            conn.execute("SELECT order_id, status FROM visit WHERE order_id IN (%s, %s)", (near, far))
        )
        assert statuses == {near: "verified", far: "exception"}
        kinds = [k for (k,) in conn.execute("SELECT kind FROM visit_exception WHERE order_id = %s", (far,))]
        assert kinds == ["far"]

    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, server.url)
        page.goto(f"{server.url}/visit-exceptions")
        row = page.locator("tr[data-kind=far]")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("离老人家太远")
        row.locator("input[name=reason]").fill("已电话与老人核实，护理员确实上门")
        row.get_by_role("button", name="确认有效").click()
        expect(page.locator("tr[data-kind=far]")).to_have_count(0)
        page.goto(f"{server.url}/visit-exceptions?state=resolved")
        expect(page.locator("tr[data-kind=far] [data-resolution=confirmed]")).to_have_count(1)
        # both visits are now in the provider's draft settlement of the month
        page.goto(f"{server.url}/reports?month=2026-03&provider_id={provider}")
        expect(page.locator("[data-settlement-status=draft]")).to_have_count(1)
        expect(page.locator("#settlement tbody a[href^='/orders/']")).to_have_count(2)
    finally:
        context.close()

    with psycopg.connect(city.url) as conn:
        assert conn.execute("SELECT status FROM visit WHERE order_id = %s", (far,)).fetchone() == ("confirmed",)
        audited = conn.execute(
            "SELECT actor, details->>'kind' FROM audit_log WHERE action = 'visit_exception.confirmed'"
        ).fetchone()
        assert audited == ("operator", "far")


def test_an_operator_checks_an_allowance_roll(city: City, served, browser: Browser, tmp_path) -> None:
    server, _ = served
    roll = tmp_path / "roll.csv"
    unknown = "42128119300101099" + resident_id_check_char("42128119300101099")
    roll.write_text(f"身份证号,姓名,金额\r\n{unknown},李四,100\r\n12345,王五,100\r\n", encoding="utf-8")
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, server.url)
        page.goto(f"{server.url}/allowance-check")
        page.locator("input[name=roll]").set_input_files(str(roll))
        page.get_by_role("button", name="比对").click()
        expect(page.locator("#allowance-rows tr")).to_have_count(2)
        expect(page.locator("tr[data-kind=unknown_id]")).to_contain_text("档案中无此身份证号")
        expect(page.locator("tr[data-kind=bad_row]")).to_contain_text("3")
    finally:
        context.close()
