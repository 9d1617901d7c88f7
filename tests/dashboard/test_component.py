"""The dashboard as `eldercare dashboard` runs it: the component, health, metrics and the live event stream."""

from __future__ import annotations

import json
import threading
import time

import httpx
import psycopg

import dashboard
from dashboard.server import DashboardServer
from eldercare.component import Component, Context
from eldercare.config import Settings
from eldercare.embedded import free_port
from tests.dashboard.conftest import City, token
from tests.waiting import patience


def test_component_serves_and_stops(city: City) -> None:
    context = Context(Settings(), city.url, "mqtt://127.0.0.1:1", clock=city.clock)
    component: Component = dashboard.create(context, host="127.0.0.1", port=free_port(), kpi_max_age_seconds=5)
    assert component.name == "dashboard"
    component.start()
    try:
        assert isinstance(component, DashboardServer)
        health = httpx.get(f"{component.url}/healthz").json()
        assert health == {"status": "ok", "database": "ok", "live_updates": True}
        metrics = httpx.get(f"{component.url}/metrics").text
        assert 'eldercare_dashboard_request_seconds_count{method="GET",route="/healthz",status="200"}' in metrics
        assert httpx.get(f"{component.url}/openapi.json").json()["info"]["title"] == "Eldercare dashboard API"
    finally:
        component.stop()
    try:
        httpx.get(f"{component.url}/healthz", timeout=1)
        raise AssertionError("the server still answers after stop()")
    except httpx.TransportError:
        pass


def test_events_stream_alarm_and_order_changes(city: City, server: DashboardServer, client: httpx.Client) -> None:
    headers = token(client, "viewer")
    received: list[tuple[str, dict[str, object], float]] = []
    ready = threading.Event()

    def listen() -> None:
        with httpx.stream("GET", f"{server.url}/events", headers=headers, timeout=20) as stream:
            kind = None
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind:
                    if kind == "ready":
                        ready.set()
                    else:
                        received.append((kind, json.loads(line[6:]), time.monotonic()))
                        if len(received) == 2:
                            return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert ready.wait(patience(10))
    sent = time.monotonic()
    with psycopg.connect(city.url) as conn:
        alarm = conn.execute(
            "INSERT INTO alarm (elder_id, type, severity, raised_at, received_at, last_raised_at) "
            "VALUES (2, 'fall', 'critical', now(), now(), now()) RETURNING id"
        ).fetchone()
    with psycopg.connect(city.url) as conn:
        conn.execute("UPDATE service_order SET status = 'cancelled', cancelled_at = now(), cancel_reason = 'x' "
                     "WHERE id = (SELECT min(id) FROM service_order WHERE status = 'completed')")  # fmt: skip
    listener.join(15)
    assert [kind for kind, _, _ in received] == ["alarm", "order"]
    assert alarm is not None and received[0][1]["id"] == alarm[0] and received[0][1]["severity"] == "critical"
    print(f"alarm event reached the client {received[0][2] - sent:.3f} s after the insert")
    assert client.get("/events").status_code == 401
