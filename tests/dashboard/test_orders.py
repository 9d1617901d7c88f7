"""Order actions from the dashboard go through the dispatcher's public functions and show in the order's story."""

from __future__ import annotations

from datetime import timedelta

import httpx
import psycopg
import pytest

import dispatcher
from dashboard.app import create_app
from dashboard.server import DashboardServer
from dashboard.settings import DashboardSettings
from eldercare.config import Settings
from eldercare.embedded import free_port
from tests.dashboard.conftest import City, token


def test_create_reassign_cancel_with_timeline_offers_and_audit(
    city: City, client: httpx.Client, headers: dict[str, dict[str, str]]
) -> None:
    h = headers["operator"]
    created = client.post("/api/v1/orders", json={"elder_id": 5, "service_type": "meal", "notes": "少盐"}, headers=h)
    assert created.status_code == 201, created.text
    order = created.json()
    assert order["status"] == "created" and order["source"] == "api" and order["created_by"] == "operator"
    assert [e["to_status"] for e in order["timeline"]] == ["created"]

    offered = client.post(f"/api/v1/orders/{order['id']}/reassign", json={"caregiver_id": None}, headers=h)
    assert offered.status_code == 200, offered.text
    detail = offered.json()
    assert detail["status"] == "offered"
    assert detail["offers"] and detail["offers"][0]["reasons"]  # why this caregiver was chosen
    assert detail["offers"][0]["reasons"].get("chosen_by") is None  # the ranking chose, not a person

    cancelled = client.post(f"/api/v1/orders/{order['id']}/cancel", json={"reason": "家属已到"}, headers=h)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = client.post(f"/api/v1/orders/{order['id']}/cancel", json={"reason": "again"}, headers=h)
    assert again.status_code == 409 and order["code"] in again.json()["detail"]

    with psycopg.connect(city.url) as conn:
        actions = [r[0] for r in conn.execute(
            "SELECT action FROM audit_log WHERE target_id = %s ORDER BY id", (str(order["id"]),)
        )]  # fmt: skip
    assert "order.reassign" in actions and any(a.startswith("order.cancel") for a in actions)


def test_return_visit_is_recorded_once(city: City, client: httpx.Client, headers: dict[str, dict[str, str]]) -> None:
    with psycopg.connect(city.url) as conn:
        row = conn.execute("SELECT id FROM service_order WHERE status = 'completed' ORDER BY id LIMIT 1").fetchone()
    assert row is not None
    first = client.post(f"/api/v1/orders/{row[0]}/review", json={"satisfaction": 5, "note": "很好"},
                        headers=headers["operator"])  # fmt: skip
    assert first.status_code == 200 and first.json()["status"] == "reviewed" and first.json()["satisfaction"] == 5
    second = client.post(f"/api/v1/orders/{row[0]}/review", json={"satisfaction": 1}, headers=headers["admin"])
    assert second.status_code == 409
    viewer = client.post(f"/api/v1/orders/{row[0]}/review", json={"satisfaction": 1}, headers=headers["viewer"])
    assert viewer.status_code == 403


def test_refusals_say_what_to_do(client: httpx.Client, headers: dict[str, dict[str, str]]) -> None:
    h = {**headers["operator"], "Accept-Language": "en"}  # the refusals in English, as this client asks
    missing = client.post("/api/v1/orders", json={"elder_id": 99999, "service_type": "meal"}, headers=h)
    assert missing.status_code == 422 and "no elder with id 99999" in missing.text
    assert client.post("/api/v1/orders/99999/cancel", json={"reason": "x"}, headers=h).status_code == 404
    naive = client.post("/api/v1/orders", json={"elder_id": 1, "service_type": "meal",
                                                "window_start": "2026-03-10T10:00:00"}, headers=h)  # fmt: skip
    assert naive.status_code == 422 and "window_start" in naive.text
    backwards = client.post(
        "/api/v1/orders",
        json={"elder_id": 1, "service_type": "meal", "window_start": "2026-03-10T10:00:00Z",
              "window_end": "2026-03-10T09:00:00Z"},
        headers=h,
    )  # fmt: skip
    assert backwards.status_code == 422 and "before it starts" in backwards.text


def test_orders_made_from_the_dashboard_run_with_the_apps_configuration(
    city: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not the environment's: the app was built with its own dispatcher configuration, as the webhooks are."""
    monkeypatch.setenv("ELDERCARE_DISPATCHER_ROUTINE_ACCEPT_MINUTES", "600")
    monkeypatch.setenv("ELDERCARE_DISPATCHER_ROUTINE_OFFER_MINUTES", "50")
    tuning = dispatcher.DispatcherSettings(routine_accept_minutes=7, routine_offer_minutes=3)
    app = create_app(
        Settings(timezone="Asia/Shanghai"),
        city.url,
        dashboard_settings=DashboardSettings(kpi_max_age_seconds=0),
        clock=city.clock,
        dispatch_config=dispatcher.Config(Settings(timezone="Asia/Shanghai"), tuning),
    )
    server = DashboardServer(app, "127.0.0.1", free_port())
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            h = token(client, "operator")
            created = client.post("/api/v1/orders", json={"elder_id": 5, "service_type": "meal"}, headers=h)
            assert created.status_code == 201, created.text
            order_id = created.json()["id"]
            offered = client.post(f"/api/v1/orders/{order_id}/reassign", json={"caregiver_id": None}, headers=h)
            assert offered.status_code == 200 and offered.json()["status"] == "offered", offered.text
        assert app.state.dispatcher.config.dispatch is tuning  # the webhooks' configuration is the same
    finally:
        server.stop()
    with psycopg.connect(city.url) as conn:
        accept_window, offer_window = conn.execute(
            "SELECT o.accept_due_at - o.created_at, f.expires_at - f.created_at FROM service_order o "
            "JOIN offer f ON f.order_id = o.id WHERE o.id = %s",
            (order_id,),
        ).fetchone() or (None, None)
    assert accept_window == timedelta(minutes=7) and offer_window == timedelta(minutes=3)
