"""Fixtures of the gateway's tests: a seeded city, gateways and a fleet that the test stops for sure."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway import Gateway
from simulators.fleet import Fleet
from tests.gateway.running import City, seed_city, start_fleet, start_gateway


@pytest.fixture
def city(database_url: str, tmp_path: Path) -> City:
    return seed_city(database_url, tmp_path)


@pytest.fixture
def gateways() -> Iterator[Callable[..., Gateway]]:
    """Start gateways with ``gateways(database_url, mqtt_url, **settings)``; all are stopped at the end."""
    started: list[Gateway] = []

    def start(database_url: str, mqtt_url: str, **options: Any) -> Gateway:
        gateway = start_gateway(database_url, mqtt_url, **options)
        started.append(gateway)
        return gateway

    yield start
    for gateway in started:
        gateway.stop()


@pytest.fixture
def fleets() -> Iterator[Callable[..., Fleet]]:
    """Start fleets with ``fleets(city, mqtt_url, devices=None, **options)``; all are stopped at the end."""
    started: list[Fleet] = []

    def start(city: City, mqtt_url: str, devices: Any = None, **options: Any) -> Fleet:
        fleet = start_fleet(city, mqtt_url, devices, **options)
        started.append(fleet)
        return fleet

    yield start
    for fleet in started:
        fleet.stop()
