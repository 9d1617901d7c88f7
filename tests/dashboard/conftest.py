"""Fixtures of the dashboard tests: a seeded city with history, three accounts, the app and a live server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg
import pytest
from fastapi import FastAPI

from dashboard.app import create_app
from dashboard.server import DashboardServer
from dashboard.settings import DashboardSettings
from eldercare import seed, users
from eldercare.clock import ManualClock
from eldercare.config import Settings
from eldercare.embedded import free_port
from eldercare.seed.history import HistoryPlan, write_history

PASSWORD = "correct-horse-1"
NOW = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)  # 14:00 in Asia/Shanghai
ROLES = ("admin", "operator", "viewer")


@dataclass(frozen=True, slots=True)
class City:
    url: str
    clock: ManualClock


def seed_city(url: str, *, elders: int = 80, history_days: int = 40) -> None:
    with psycopg.connect(url) as conn:
        seed.write(conn, seed.generate(seed.SeedPlan(elders=elders, seed=7, providers=6, caregivers=24)))
        write_history(
            conn,
            HistoryPlan(
                end=NOW,
                days=history_days,
                orders_per_elder_day=0.25,
                alarms_per_elder_day=0.08,
                seed=7,
                timeline_days=history_days,
            ),
        )
        for role in ROLES:
            users.add_user(conn, role, PASSWORD, users.Role(role), display_name=f"{role} user")


@pytest.fixture
def city(database_url: str) -> City:
    """A migrated database with 80 elders, 40 days of orders and alarms, and accounts admin/operator/viewer."""
    seed_city(database_url)
    return City(database_url, ManualClock(NOW))


def make_app(city: City, **options: Any) -> FastAPI:
    settings = Settings(timezone="Asia/Shanghai")
    return create_app(
        settings, city.url, dashboard_settings=DashboardSettings(kpi_max_age_seconds=0, **options), clock=city.clock
    )


@pytest.fixture
def server(city: City) -> Iterator[DashboardServer]:
    """The dashboard served by uvicorn on a free loopback port, as `eldercare dashboard` runs it."""
    running = DashboardServer(make_app(city), "127.0.0.1", free_port())
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def client(server: DashboardServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


def token(client: httpx.Client, username: str) -> dict[str, str]:
    response = client.post("/api/v1/token", data={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def headers(client: httpx.Client) -> dict[str, dict[str, str]]:
    """Bearer headers per role."""
    return {role: token(client, role) for role in ROLES}
