"""Fixtures that start real services: PostgreSQL and an MQTT broker. See tests/services.py."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.gateway.running import seed_city
from tests.services import (
    CHROMIUM_ARGS,
    IN_CI,
    AmqttBroker,
    Databases,
    Mosquitto,
    SecuredBroker,
    TestPostgres,
    TimescalePostgres,
    chromium_binary,
    mosquitto_binary,
    need,
    production_mosquitto,
    timescaledb_missing,
)

ARTIFACTS = Path(os.environ.get("ELDERCARE_TEST_ARTIFACTS", "test-artifacts"))


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Give each run a temporary folder of its own. pytest's default folder is shared by every run of the
    user and prunes older runs' folders, which deletes the PostgreSQL data of a run still going on."""
    if config.option.basetemp is None:
        config.option.basetemp = str(Path(tempfile.gettempdir()) / f"eldercare-tests-{os.getpid()}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    basetemp = Path(str(session.config.option.basetemp))
    if exitstatus == 0 and basetemp.name.startswith("eldercare-tests-"):
        shutil.rmtree(basetemp, ignore_errors=True)  # kept after a failure, for a look at what happened


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server: ELDERCARE_TEST_DATABASE_URL when given, else an embedded one for the session."""
    given = os.environ.get("ELDERCARE_TEST_DATABASE_URL")
    if given:
        yield given
        return
    server = TestPostgres(tmp_path_factory.mktemp("pg") / "data")
    try:
        yield server.url
    finally:
        server.close()


@pytest.fixture(scope="session")
def databases(pg_server_url: str) -> Iterator[Databases]:
    dbs = Databases(pg_server_url)
    try:
        yield dbs
    finally:
        dbs.close()


@pytest.fixture(scope="session")
def timescale_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """PostgreSQL 15 with TimescaleDB preloaded: ELDERCARE_TEST_TIMESCALE_URL when given, else the session's own.

    Started only when a test asks for the TimescaleDB backend; missing, those tests skip (fail with CI=true)."""
    given = os.environ.get("ELDERCARE_TEST_TIMESCALE_URL")
    if given:
        yield given
        return
    missing = timescaledb_missing()
    need(missing is None, str(missing))
    server = TimescalePostgres(tmp_path_factory.mktemp("tsdb") / "data")
    try:
        yield server.url
    finally:
        server.close()


@pytest.fixture(scope="session")
def timescale_databases(timescale_server_url: str) -> Iterator[Databases]:
    dbs = Databases(timescale_server_url)
    try:
        engine = dbs.engine()
        assert engine == "timescaledb", f"the migrations took the {engine} path on {timescale_server_url}"
        yield dbs
    finally:
        dbs.close()


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The test's storage backend: "postgresql" unless the test is parametrised with ``on_both_backends``."""
    return str(getattr(request, "param", "postgresql"))


@pytest.fixture
def backend_databases(backend: str, request: pytest.FixtureRequest) -> Databases:
    """Migrated databases on the test's backend (the TimescaleDB server starts only when a test needs it)."""
    databases: Databases = request.getfixturevalue("timescale_databases" if backend == "timescaledb" else "databases")
    return databases


@pytest.fixture
def database_url(backend_databases: Databases) -> Iterator[str]:
    """A freshly migrated, empty database of its own for one test, on the test's backend."""
    url = backend_databases.create()
    try:
        yield url
    finally:
        backend_databases.drop(url)


@pytest.fixture
def private_postgres(tmp_path: Path) -> Iterator[TestPostgres]:
    """A PostgreSQL server of the test's own, which it may stop and start."""
    server = TestPostgres(tmp_path / "pgdata")
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A real Mosquitto with persistence on a free port; the test may stop, kill and restart it."""
    need(mosquitto_binary(), "mosquitto is not installed (apt-get install mosquitto)")
    broker = Mosquitto(tmp_path / "mosquitto")
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def secured_broker(database_url: str, tmp_path: Path) -> Iterator[SecuredBroker]:
    """deploy/mosquitto/mosquitto.conf with the password files and ACL of a seeded city's devices."""
    need(mosquitto_binary(), "mosquitto is not installed (apt-get install mosquitto)")
    city = seed_city(database_url, tmp_path)
    broker = production_mosquitto(tmp_path / "mosquitto", city.manifest)
    try:
        yield SecuredBroker(broker, city)
    finally:
        broker.stop()


@pytest.fixture
def mqtt_url(tmp_path: Path) -> Iterator[str]:
    """Any real broker: Mosquitto when installed, else the in-process amqtt broker."""
    if mosquitto_binary():
        broker = Mosquitto(tmp_path / "mosquitto")
        try:
            yield broker.url
        finally:
            broker.stop()
        return
    need(not IN_CI, "mosquitto is not installed (apt-get install mosquitto)")
    amqtt = AmqttBroker()
    try:
        yield amqtt.url
    finally:
        amqtt.stop()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (which never downloads a browser of its own)."""
    binary = chromium_binary()
    need(binary, "Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=binary, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()
