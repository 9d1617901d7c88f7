"""Fixtures of the roster tests: the dispatcher harness on a small town, and the dashboard served beside it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from dashboard.app import create_app
from dashboard.server import DashboardServer
from dashboard.settings import DashboardSettings
from eldercare import users
from eldercare.clock import ManualClock
from eldercare.config import Settings
from eldercare.embedded import free_port
from tests.dispatcher.conftest import clock, config, conn, harness, town

__all__ = ["clock", "config", "conn", "harness", "town"]

PASSWORD = "correct-horse-1"


@pytest.fixture
def dashboard(database_url: str, clock: ManualClock) -> Iterator[DashboardServer]:
    """The dashboard on the same database and clock as the dispatcher harness, with admin/operator/viewer."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        for role in ("admin", "operator", "viewer"):
            users.add_user(conn, role, PASSWORD, users.Role(role), display_name=f"{role} user")
    app = create_app(
        Settings(timezone="Asia/Shanghai", _env_file=None),
        database_url,
        dashboard_settings=DashboardSettings(kpi_max_age_seconds=0),
        clock=clock,
    )
    running = DashboardServer(app, "127.0.0.1", free_port())
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def api(dashboard: DashboardServer) -> Iterator[httpx.Client]:
    """An HTTP client signed in as admin through a bearer token."""
    with httpx.Client(base_url=dashboard.url, timeout=30) as http:
        response = http.post("/api/v1/token", data={"username": "admin", "password": PASSWORD})
        assert response.status_code == 200, response.text
        http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        yield http
