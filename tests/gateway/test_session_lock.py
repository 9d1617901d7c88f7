"""One gateway instance holds the broker session, the next takes it over when the holder dies; through the
production Mosquitto, with the holder SIGKILLed and kept down, and over a broker restart."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from eldercare.component import Context
from eldercare.config import Settings
from eldercare.db import ensure_database
from gateway import Gateway, GatewaySettings, create
from gateway.session_lock import SessionLock
from simulators.fleet import Fleet
from tests.gateway.running import FAST, GatewayProcess, later_message_stored, rows, scalar
from tests.services import SecuredBroker, TestPostgres
from tests.waiting import eventually, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.mosquitto]


def _stored(database_url: str) -> dict[tuple[str, int], int]:
    return {(d, s): n for d, s, n in rows(database_url, "SELECT device_id, seq, count(*) FROM reading GROUP BY 1, 2")}


def _wait_stored_once(database_url: str, fleet: Fleet, timeout: float) -> float:
    """Seconds until every telemetry message the broker acknowledged is stored with all its readings, once."""
    assert fleet.wait_acknowledged(30), "the broker did not acknowledge every message"
    expected = {(s.device_id, s.seq): s.readings for s in fleet.acknowledged() if s.channel == "telemetry"}
    started = time.monotonic()
    if not wait_until(lambda: _stored(database_url) == expected, timeout=timeout, interval=0.1):
        stored = _stored(database_url)
        missing = set(expected) - set(stored)
        extra = {k for k in stored if k not in expected or stored[k] != expected[k]}
        pytest.fail(f"{len(missing)} of {len(expected)} accepted messages not stored, {len(extra)} stored wrongly")
    return time.monotonic() - started


def _note(events: list[str], event: str) -> Callable[[], None]:
    return lambda: events.append(event)


def _decided(lock: SessionLock) -> Callable[[], bool]:
    return lambda: lock.held.is_set() or lock.standing_by.is_set()


def _locks(url: str, events: list[str], *names: str) -> list[SessionLock]:
    locks = []
    for name in names:
        lock = SessionLock(
            url,
            "eldercare.gateway",
            _note(events, f"{name}+"),
            _note(events, f"{name}-"),
            interval=0.1,
        )
        lock.start()
        locks.append(lock)
        assert wait_until(_decided(lock), timeout=10)
    return locks


def test_one_instance_holds_the_session_and_the_next_takes_it_when_it_goes(database_url: str) -> None:
    events: list[str] = []
    first, second = _locks(database_url, events, "first", "second")
    try:
        assert first.held.is_set() and not second.held.is_set()
        first.release()
        assert second.held.wait(5)
        # ``held`` is set just before the callback runs, on the lock's own thread: wait for the callback too
        assert wait_until(lambda: len(events) >= 2, timeout=5), events
        assert events == ["first+", "second+"]
    finally:
        first.release()
        second.release()


def test_the_holder_keeps_the_session_over_a_postgres_restart(private_postgres: TestPostgres) -> None:
    url = ensure_database(private_postgres.url, "eldercare")
    events: list[str] = []
    holding, waiting = _locks(url, events, "holding", "waiting")
    try:
        private_postgres.restart()
        granted = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
        assert wait_until(lambda: scalar(url, granted) == 1, timeout=20), "the lock was not taken again"
        tries = waiting.attempts
        assert wait_until(lambda: waiting.attempts >= tries + 3, timeout=10), "the other instance stopped trying"
        assert events == ["holding+"] and holding.held.is_set() and not waiting.held.is_set()
    finally:
        holding.release()
        waiting.release()


@pytest.fixture
def holder(secured_broker: SecuredBroker, tmp_path: Path) -> Iterator[GatewayProcess]:
    """A gateway process with the shipped settings (client id, standby interval), holding the broker session."""
    process = GatewayProcess(secured_broker.city.database_url, secured_broker.platform_url, tmp_path)
    process.start()
    try:
        assert wait_until(lambda: process.logged("holding the broker session"), timeout=30), process.log.read_text()
        yield process
    finally:
        process.kill()


def test_a_standby_gateway_takes_over_the_session_of_a_killed_one(
    secured_broker: SecuredBroker, holder: GatewayProcess, fleets: Callable[..., Fleet]
) -> None:
    city = secured_broker.city
    context = Context(Settings(), city.database_url, secured_broker.platform_url)
    standby: Gateway = create(context, settings=GatewaySettings(**FAST))  # the shipped client id and interval
    standby.start()
    try:
        assert wait_until(standby.session.standing_by.is_set, timeout=10), "the second gateway did not stand by"
        assert not standby.intake.connected.is_set()
        fleet = fleets(city, secured_broker.url)
        fleet.stream(200, duration=4, samples=2)
        assert wait_until(lambda: scalar(city.database_url, "SELECT count(*) FROM reading") > 100, timeout=15)

        holder.kill(signal.SIGKILL)  # and it stays down
        killed = time.monotonic()
        button = city.device("button")
        sos = fleet.send_event(button.id, "sos")
        assert standby.session.held.wait(10), "the standby did not take the session over"
        detection = time.monotonic() - killed
        assert standby.intake.connected.wait(5) and standby.intake.resumed_sessions == 1
        eventually(
            lambda: scalar(city.database_url, "SELECT count(*) FROM device_event WHERE device_id = %s", button.id),
            "the SOS sent after the kill, stored by the gateway that took over",
        )
        assert fleet.wait_for_command(button.id, "alarm_received", timeout=5) is not None
        assert fleet.wait(20)
        _wait_stored_once(city.database_url, fleet, timeout=5)
        assert rows(city.database_url, "SELECT seq FROM device_event") == [(sos,)]
        assert scalar(city.database_url, "SELECT count(*) FROM alarm WHERE type = 'sos'") == 1
        print(f"takeover {detection:.2f} s after the SIGKILL")
        # the shipped interval is 1 s; a loaded machine may take a little longer to notice and connect
        assert detection < 3, f"the takeover took {detection:.1f} s"

        # a broker restart: the session's plain subscription is restored with it, so what devices publish before
        # the gateway is back is kept for it (here the gateway stays away until they have published)
        standby.intake.pause()
        secured_broker.broker.restart()
        before = len(fleet.acknowledged())
        fleet.stream(200, duration=3)
        assert fleet.wait(20) and fleet.wait_acknowledged(20)
        late_sos = fleet.send_event(button.id, "sos")
        assert fleet.wait_acknowledged(10) and len(fleet.acknowledged()) > before + 100
        assert not standby.intake.connected.is_set()
        standby.intake.resume()
        assert wait_until(lambda: standby.intake.resumed_sessions == 2, timeout=20), "no session over the restart"
        _wait_stored_once(city.database_url, fleet, timeout=20)
        assert wait_until(
            lambda: scalar(city.database_url, "SELECT count(*) FROM device_event WHERE seq = %s", late_sos) == 1
        ), "the SOS sent after the broker restart was not stored"
        assert scalar(city.database_url, "SELECT count(*) FROM dead_letter") == 0
    finally:
        standby.stop()


def test_a_hung_gateway_is_replaced_once_postgres_ends_its_silent_session(
    secured_broker: SecuredBroker, holder: GatewayProcess, fleets: Callable[..., Fleet]
) -> None:
    """A frozen process (or a host gone without a word) keeps its connections open: PostgreSQL ends its lock
    connection after ``silence`` seconds without a word, and the standby takes over. When the frozen one wakes,
    it learns that another instance holds the session and stands by."""
    city = secured_broker.city
    context = Context(Settings(), city.database_url, secured_broker.platform_url)
    standby: Gateway = create(context, settings=GatewaySettings(**FAST))
    standby.start()
    assert holder.process is not None
    try:
        assert wait_until(standby.session.standing_by.is_set, timeout=10), "the second gateway did not stand by"
        fleet = fleets(city, secured_broker.url)
        # The holder logs that it holds the lock before it connects; on the broker's first session for this client
        # id, a message published before the holder's subscription is nobody's (MQTT keeps nothing for a
        # subscription not yet made). A message it stored shows it subscribed: freeze it only then.
        later_message_stored(city, fleet, city.device("watch"))
        holder.process.send_signal(signal.SIGSTOP)
        stopped = time.monotonic()
        button = city.device("button")
        sos = fleet.send_event(button.id, "sos")
        assert standby.session.held.wait(standby.session.silence + 10), "the standby did not take the session over"
        took_over = time.monotonic()
        print(f"takeover {took_over - stopped:.2f} s after the SIGSTOP (silence {standby.session.silence:.0f} s)")
        eventually(
            lambda: scalar(city.database_url, "SELECT count(*) FROM device_event WHERE seq = %s", sos),
            "the SOS sent while the holder hung, stored by the gateway that took over",
        )
        print(f"SOS stored {time.monotonic() - took_over:.2f} s after the takeover")
        assert fleet.wait_for_command(button.id, "alarm_received", timeout=5) is not None

        holder.process.send_signal(signal.SIGCONT)
        assert wait_until(lambda: holder.logged("standing by"), timeout=20), holder.log.read_text()
        fleet.stream(100, duration=2)
        assert fleet.wait(20)
        _wait_stored_once(city.database_url, fleet, timeout=10)
        assert standby.session.held.is_set() and standby.intake.connected.is_set()
    finally:
        if holder.process is not None:
            holder.process.send_signal(signal.SIGCONT)
        standby.stop()
