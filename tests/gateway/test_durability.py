"""Nothing the broker accepted is lost, and nothing is stored twice, when the gateway is SIGKILLed, the broker
restarts (persistence on), or PostgreSQL is away for a few seconds in the middle of a QoS 1 stream."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
import pytest

from eldercare.db import ensure_database
from eldercare.migrate import migrate
from eldercare.mqtt import BrokerAddress
from gateway import Gateway
from simulators.fleet import Fleet
from tests.gateway.running import City, GatewayProcess, rows, scalar, seed_city
from tests.services import Mosquitto, TestPostgres
from tests.waiting import patience, subscribe_acknowledged, wait_until

pytestmark = pytest.mark.slow


def _expected(fleet: Fleet) -> dict[tuple[str, int], int]:
    assert fleet.wait_acknowledged(patience(30)), "the broker did not acknowledge every message"
    return {(s.device_id, s.seq): s.readings for s in fleet.acknowledged() if s.channel == "telemetry"}


def _some_stored(database_url: str) -> None:
    """Wait until the stream is being written: the moment for the trouble each test makes."""
    assert wait_until(lambda: scalar(database_url, "SELECT count(*) FROM reading") > 0), "nothing was stored"


def _while_away(fleet: Fleet, messages: int, also: Callable[[], bool] = lambda: True) -> None:
    """Wait until the broker has taken ``messages`` more from the fleet (or the stream ended), and ``also``."""
    start = len(fleet.acknowledged())
    assert wait_until(lambda: (len(fleet.acknowledged()) - start >= messages or fleet.wait(patience(0))) and also())


def _stored(database_url: str) -> dict[tuple[str, int], int]:
    return {(d, s): n for d, s, n in rows(database_url, "SELECT device_id, seq, count(*) FROM reading GROUP BY 1, 2")}


def _assert_exactly_once(database_url: str, expected: dict[tuple[str, int], int], timeout: float = 30) -> None:
    if not wait_until(lambda: _stored(database_url) == expected, timeout=timeout):
        stored = _stored(database_url)
        missing = set(expected) - set(stored)
        wrong = {k for k in expected if k in stored and stored[k] != expected[k]}
        pytest.fail(
            f"{len(missing)} accepted messages not stored (e.g. {sorted(missing)[:3]}), "
            f"{len(wrong)} with wrong reading counts"
        )
    # UNIQUE (device_id, ts, seq) makes a second copy impossible; the counts above show none was lost
    assert scalar(database_url, "SELECT count(*) FROM dead_letter") == 0


@pytest.fixture
def gateway_process(city: City, mosquitto: Mosquitto, tmp_path: Path) -> Iterator[GatewayProcess]:
    process = GatewayProcess(city.database_url, mosquitto.url, tmp_path, ELDERCARE_GATEWAY_CLIENT_ID="gw.durable")
    try:
        yield process
    finally:
        process.kill(signal.SIGTERM)


def test_a_sigkilled_gateway_loses_nothing_the_broker_accepted(
    city: City, mosquitto: Mosquitto, gateway_process: GatewayProcess, fleets: Callable[..., Fleet]
) -> None:
    fleet = fleets(city, mosquitto.url)
    gateway_process.start()

    probes: set[tuple[str, int]] = set()

    def probe() -> bool:  # until the new process has subscribed, the broker has no one to give a probe to
        probes.add((city.devices[0].id, fleet.send_telemetry(city.devices[0].id)))
        return bool(wait_until(lambda: scalar(city.database_url, "SELECT count(*) FROM reading"), 0.5))

    assert wait_until(probe, 30), gateway_process.log.read_text()
    with psycopg.connect(city.database_url) as conn:
        conn.execute("DELETE FROM reading")
    fleet.stream(400, duration=5, samples=2)
    _some_stored(city.database_url)
    before = scalar(city.database_url, "SELECT count(*) FROM reading")
    gateway_process.kill(signal.SIGKILL)  # mid-stream: some batches written and not acknowledged, some in memory
    _while_away(fleet, 200)  # the broker keeps what comes in meanwhile
    gateway_process.start()
    assert fleet.wait(patience(30))
    expected = {k: n for k, n in _expected(fleet).items() if k not in probes}
    assert before > 0 and len(expected) > before // 2
    _assert_exactly_once(city.database_url, expected)
    assert "(session resumed)" in gateway_process.log.read_text()  # the broker kept what was not acknowledged


def test_a_broker_restart_with_persistence_loses_nothing(
    city: City, mosquitto: Mosquitto, gateways: Callable[..., Gateway], fleets: Callable[..., Fleet]
) -> None:
    gateway = gateways(city.database_url, mosquitto.url)
    fleet = fleets(city, mosquitto.url)
    fleet.stream(300, duration=5)
    _some_stored(city.database_url)
    mosquitto.restart()
    assert wait_until(lambda: gateway.intake.resumed_sessions > 0, timeout=20), "no session kept over the restart"
    assert fleet.wait(patience(30))
    _assert_exactly_once(city.database_url, _expected(fleet))


def test_mosquitto_forgets_shared_subscriptions_over_a_restart(mosquitto: Mosquitto) -> None:
    """Why the gateway subscribes plainly unless told to share (see GatewaySettings.shared_group): Mosquitto 2.0
    restores a persistent session's queued messages after a restart, but not its $share subscriptions. When
    this test fails, the broker has learnt to keep them, and shared subscriptions lose nothing over a restart."""
    address = BrokerAddress.parse(mosquitto.url)
    got: list[bytes] = []

    def session() -> mqtt.Client:
        client = address.client("shared-session", clean_session=False)
        client.on_message = lambda c, u, m: got.append(bytes(m.payload))
        client.connect(address.host, address.port)
        client.loop_start()
        return client

    def publish(payload: bytes) -> None:
        client = address.client("publisher")
        client.connect(address.host, address.port)
        client.loop_start()
        client.publish("eldercare/v1/devices/wch000001/telemetry", payload, qos=1).wait_for_publish(5)
        client.disconnect()
        client.loop_stop()

    client = session()
    assert wait_until(client.is_connected, timeout=5)
    subscribe_acknowledged(client, "$share/gateway/eldercare/v1/devices/+/telemetry")
    client.disconnect()
    client.loop_stop()
    publish(b"queued before the restart")
    mosquitto.restart()
    publish(b"published after the restart")
    client = session()
    assert wait_until(client.is_connected, timeout=5), "the session did not resume"
    # a marker on a plain subscription made after the session resumed: it comes after whatever the session held
    subscribe_acknowledged(client, "marker")
    client.publish("marker", b"marker", qos=1)
    assert wait_until(lambda: b"marker" in got, timeout=5), "the marker did not come back"
    client.disconnect()
    client.loop_stop()
    assert [m for m in got if m != b"marker"] == [b"queued before the restart"]


@pytest.fixture
def city_on_private_postgres(private_postgres: TestPostgres, tmp_path: Path) -> City:
    url = ensure_database(private_postgres.url, "eldercare")
    migrate(url)
    return seed_city(url, tmp_path)


@pytest.mark.parametrize("buffer_max", [20_000, 100], ids=["held-in-buffer", "handed-back-to-broker"])
def test_postgres_away_for_seconds_loses_nothing(
    buffer_max: int,
    private_postgres: TestPostgres,
    city_on_private_postgres: City,
    mosquitto: Mosquitto,
    gateways: Callable[..., Gateway],
    fleets: Callable[..., Fleet],
) -> None:
    city = city_on_private_postgres
    gateway = gateways(city.database_url, mosquitto.url, buffer_max=buffer_max)
    fleet = fleets(city, mosquitto.url)
    fleet.stream(300, duration=6)
    _some_stored(city.database_url)
    private_postgres.stop()
    _while_away(fleet, 600, lambda: gateway.ingest.retries > 0)  # two seconds of the stream, and the gateway noticed
    private_postgres.start()
    assert fleet.wait(patience(30))
    _assert_exactly_once(city.database_url, _expected(fleet), timeout=40)
    assert gateway.ingest.retries > 0
    # 300 messages a second for 3 s overflow a buffer of 100, not one of 20,000
    assert (gateway.ingest.handbacks > 0) == (buffer_max == 100)
