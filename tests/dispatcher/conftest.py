"""Fixtures of the dispatcher's tests: a database connection, a clock that moves when told, a small town."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest

from dispatcher.settings import Config, DispatcherSettings
from eldercare.clock import ManualClock
from eldercare.config import Settings
from tests.dispatcher.harness import Harness
from tests.dispatcher.town import Town

# a Wednesday, 10:00 in Chibi
START = datetime(2026, 1, 7, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def config() -> Config:
    return Config(
        Settings(public_url="http://testserver", twilio_from="+8610690000", _env_file=None),
        DispatcherSettings(_env_file=None),
    )


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    """A connection whose work the test commits when it wants others to see it."""
    with psycopg.connect(database_url) as connection:
        yield connection


@pytest.fixture
def town(conn: psycopg.Connection) -> Town:
    return Town(conn)


@pytest.fixture
def harness(request: pytest.FixtureRequest, database_url: str, clock: ManualClock) -> Iterator[Harness]:
    """The dispatcher with the stand-in and the webhooks over HTTP; steps driven by ``harness.drive()``. A test
    module may set ``HARNESS_DISPATCH`` (dispatcher settings) to tune it."""
    h = Harness.start(database_url, clock, **getattr(request.module, "HARNESS_DISPATCH", {}))
    try:
        yield h
    finally:
        h.stop()
