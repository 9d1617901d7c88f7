"""Security headers on every response, Secure cookies over HTTPS, and a UI that runs under its own CSP."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest
from playwright.sync_api import Browser, ConsoleMessage

from dashboard.app import create_app
from dashboard.server import DashboardServer
from dashboard.settings import DashboardSettings
from dispatcher.links import token_for
from eldercare.config import Settings
from eldercare.embedded import free_port
from tests.dashboard.conftest import City, make_app
from tests.dashboard.test_browser import DESKTOP, add_readings, sign_in

EXPECTED = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


@pytest.mark.parametrize("path", ["/login", "/api/v1/alarms", "/static/app.js", "/healthz", "/no-such-page"])
def test_every_response_carries_the_security_headers(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (path, name)
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert "strict-transport-security" not in response.headers  # served over plain http, public URL http


def test_over_https_cookies_are_secure_and_hsts_is_sent(city: City) -> None:
    settings = Settings(timezone="Asia/Shanghai", public_url="https://eldercare.example.gov.cn")
    app = create_app(settings, city.url, dashboard_settings=DashboardSettings(), clock=city.clock)
    server = DashboardServer(app, "127.0.0.1", free_port())
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            login = client.get("/login")
            assert login.headers["strict-transport-security"].startswith("max-age=")
            cookies = login.headers.get_list("set-cookie")
            assert cookies and all("secure" in c.lower() for c in cookies), cookies
            language = client.get("/lang/en", follow_redirects=False)
            assert all("secure" in c.lower() for c in language.headers.get_list("set-cookie"))
    finally:
        server.stop()


@pytest.mark.browser
@pytest.mark.slow
def test_every_page_runs_under_the_content_security_policy(
    city: City, server: DashboardServer, browser: Browser
) -> None:
    add_readings(city.url, 5)
    with psycopg.connect(city.url) as conn:
        order = conn.execute("SELECT min(id) FROM service_order").fetchone()
    assert order is not None
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    context.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    page = context.new_page()
    refused: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Refused to" in message.text or "Content Security Policy" in message.text:
            refused.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    sign_in(page, server.url, "admin")
    pages: list[tuple[str, str]] = [
        ("/alarms", "#live"),
        ("/orders", "#live"),
        (f"/orders/{order[0]}", "h1"),
        ("/orders-new", "form"),
        ("/elders", "table"),
        ("/elders/5", "#chart-day .uplot"),  # drawn by app.js with the page's JSON data: the scripts ran
        ("/devices", "table"),
        ("/kpis", "#chart-rates .uplot"),
        ("/map", "#city-map"),
        ("/visits", "h1"),
        ("/reports", "h1"),
        ("/providers", "h1"),
    ]
    for path, marker in pages:
        page.goto(f"{server.url}{path}")
        page.wait_for_selector(marker)
        page.wait_for_load_state("load")
        violations: Any = page.evaluate("window.__violations")
        assert violations == [], (path, violations)
    assert refused == []
    context.close()


@pytest.mark.browser
def test_the_caregivers_page_is_styled_under_the_content_security_policy(city: City, browser: Browser) -> None:
    """The caregiver's page comes from the same app: its style is a file beside it, not an inline block."""
    app = make_app(city)
    with psycopg.connect(city.url) as conn:
        row = conn.execute(
            "SELECT id, caregiver_id FROM service_order WHERE caregiver_id IS NOT NULL LIMIT 1"
        ).fetchone()
    assert row is not None
    running = DashboardServer(app, "127.0.0.1", free_port())
    running.start()
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective));"
    )
    try:
        page = context.new_page()
        page.goto(f"{running.url}/m/{token_for(app.state.dispatcher_config, row[0], row[1])}")
        page.wait_for_load_state("load")
        assert page.evaluate("window.__violations") == []
        assert page.evaluate("getComputedStyle(document.querySelector('main')).maxWidth") != "none"
        assert httpx.get(f"{running.url}/m/_/nothing.css").status_code == 404
    finally:
        context.close()
        running.stop()
