"""The whole platform (`eldercare run`) behind the production Mosquitto, under a steady QoS 1 stream, while in turn
the platform is SIGKILLed, Mosquitto restarts and PostgreSQL restarts; then an SOS."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from eldercare import users
from eldercare.db import ensure_database
from eldercare.embedded import free_port
from eldercare.migrate import migrate
from simulators.fleet import Fleet
from tests.gateway.running import City, GatewayProcess, rows, scalar, seed_city
from tests.services import ConfiguredMosquitto, TestPostgres, production_mosquitto
from tests.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.mosquitto]

RATE = 100  # telemetry messages a second
HOLDING = "holding the broker session"


@pytest.fixture
def city(private_postgres: TestPostgres, tmp_path: Path) -> City:
    url = ensure_database(private_postgres.url, "eldercare")
    migrate(url)
    return seed_city(url, tmp_path)


@pytest.fixture
def broker(city: City, tmp_path: Path) -> Iterator[ConfiguredMosquitto]:
    broker = production_mosquitto(tmp_path / "mosquitto", city.manifest)
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def platform(city: City, broker: ConfiguredMosquitto, tmp_path: Path) -> Iterator[tuple[GatewayProcess, str]]:
    """`eldercare run` and the base URL of its dashboard."""
    port = free_port()
    process = GatewayProcess(
        city.database_url,
        broker.platform_url,
        tmp_path,
        ("run", "--port", str(port)),
        ELDERCARE_TWILIO_API_BASE=f"http://127.0.0.1:{free_port()}",  # SMS are not what this test is about
    )
    process.start()
    try:
        yield process, f"http://127.0.0.1:{port}"
    finally:
        process.kill(signal.SIGTERM)


def _readings(city: City) -> int:
    return int(scalar(city.database_url, "SELECT count(*) FROM reading"))


def _more_readings(city: City, timeout: float = 20) -> None:
    before = _readings(city)
    assert wait_until(lambda: _readings(city) > before + RATE // 2, timeout=timeout), "the stream is not stored"


def test_nothing_acknowledged_is_lost_over_kills_and_restarts(
    city: City,
    broker: ConfiguredMosquitto,
    private_postgres: TestPostgres,
    platform: tuple[GatewayProcess, str],
    fleets: Callable[..., Fleet],
) -> None:
    process, base = platform
    with psycopg.connect(city.database_url) as conn:
        users.add_user(conn, "desk", "fault-test-password-1", users.Role.OPERATOR, "Desk", "en")
    assert wait_until(lambda: process.logged(HOLDING), timeout=60), process.log.read_text()
    fleet = fleets(city, broker.url)

    # 1. the platform is SIGKILLed mid-stream and started again
    fleet.stream(RATE, duration=4)
    _more_readings(city)
    process.kill(signal.SIGKILL)
    process.start()
    assert wait_until(lambda: process.logged(HOLDING, times=2), timeout=60), process.log.read_text()
    assert fleet.wait(30)

    # 2. Mosquitto restarts mid-stream
    fleet.stream(RATE, duration=4)
    _more_readings(city)
    broker.restart()
    _more_readings(city)
    assert fleet.wait(30)

    # 3. PostgreSQL restarts mid-stream; the API answers again within seconds of its return
    http = httpx.Client(base_url=base, timeout=5)
    assert wait_until(lambda: _answers(http, "/healthz") == 200, timeout=30), "the dashboard did not start"
    token = http.post("/api/v1/token", data={"username": "desk", "password": "fault-test-password-1"})
    assert token.status_code == 200, token.text
    http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    assert http.get("/api/v1/alarms").status_code == 200
    fleet.stream(RATE, duration=4)
    _more_readings(city)
    private_postgres.stop()
    time.sleep(1.0)  # away for a moment, as in a restart (the stream goes on meanwhile)
    private_postgres.start()
    back = time.monotonic()
    statuses = [_answers(http, "/api/v1/alarms")]
    while statuses[-1] != 200 and time.monotonic() - back < 10:
        time.sleep(0.2)
        statuses.append(_answers(http, "/api/v1/alarms"))
    answered_after = time.monotonic() - back
    statuses += [_answers(http, "/api/v1/alarms") for _ in range(10)]
    # a pooled connection that PostgreSQL closed must be replaced, not answered with a 500
    assert statuses[-10:] == [200] * 10 and answered_after < 5, f"after PostgreSQL's return: {statuses}"
    assert not [s for s in statuses if s >= 500], f"server errors after PostgreSQL's return: {statuses}"
    assert fleet.wait(30)

    # 4. an SOS: stored, an alarm, and the button told
    button = city.device("button")
    sos = fleet.send_event(button.id, "sos")
    assert wait_until(
        lambda: scalar(city.database_url, "SELECT count(*) FROM alarm WHERE device_id = %s AND type = 'sos'", button.id)
    ), "the SOS raised no alarm"
    assert fleet.wait_for_command(button.id, "alarm_received", timeout=15) is not None
    assert rows(city.database_url, "SELECT seq FROM device_event WHERE device_id = %s", button.id) == [(sos,)]

    # every message the broker acknowledged is stored once, with all its readings
    assert fleet.wait_acknowledged(30)
    expected = {(s.device_id, s.seq): s.readings for s in fleet.acknowledged() if s.channel == "telemetry"}
    query = "SELECT device_id, seq, count(*) FROM reading GROUP BY 1, 2"
    stored = lambda: {(d, s): n for d, s, n in rows(city.database_url, query)}  # noqa: E731
    if not wait_until(lambda: stored() == expected, timeout=30):
        missing = set(expected) - set(stored())
        pytest.fail(f"{len(missing)} of {len(expected)} acknowledged messages not stored: {sorted(missing)[:3]}")
    assert scalar(city.database_url, "SELECT count(*) FROM dead_letter") == 0


def _answers(http: httpx.Client, path: str) -> int:
    try:
        return http.get(path).status_code
    except httpx.TransportError:
        return 0
