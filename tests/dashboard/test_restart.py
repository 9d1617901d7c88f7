"""The API across a PostgreSQL restart: pooled connections are checked before use, so no request fails."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from dashboard.server import DashboardServer
from eldercare.clock import ManualClock
from eldercare.db import ensure_database
from eldercare.embedded import free_port
from eldercare.migrate import migrate
from tests.dashboard.conftest import NOW, City, make_app, seed_city, token
from tests.dashboard.test_access import open_alarm
from tests.services import TestPostgres


def test_the_api_answers_after_postgresql_restarts(private_postgres: TestPostgres) -> None:
    url = ensure_database(private_postgres.url, "eldercare")
    migrate(url)
    seed_city(url, elders=20, history_days=2)
    server = DashboardServer(make_app(City(url, ManualClock(NOW)), pool_min=4), "127.0.0.1", free_port())
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            headers = token(client, "operator")
            # several requests at once, so the pool holds several connections that the restart will kill
            with ThreadPoolExecutor(4) as workers:
                warm = list(workers.map(lambda _: client.get("/api/v1/alarms", headers=headers), range(8)))
            assert all(r.status_code == 200 for r in warm)

            private_postgres.restart()
            alarm = open_alarm(url)

            answers = [
                client.post(f"/api/v1/alarms/{alarm}/acknowledge", json={}, headers=headers),
                client.post(f"/api/v1/alarms/{alarm}/resolve", json={"outcome": "test"}, headers=headers),
                *(client.get("/api/v1/alarms", headers=headers) for _ in range(6)),
            ]
            assert [r.status_code for r in answers] == [200] * len(answers), [r.text[:200] for r in answers]
    finally:
        server.stop()
