"""Schemathesis against /openapi.json: generated requests to every operation find no server error."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from dashboard.server import DashboardServer
from eldercare.clock import ManualClock
from eldercare.embedded import free_port
from tests.dashboard.conftest import NOW, City, make_app, seed_city, token
from tests.services import Databases


@pytest.fixture(scope="module")
def live(databases: Databases) -> Iterator[tuple[DashboardServer, dict[str, str]]]:
    """One server for every operation's examples (they only add rows), with an operator's token."""
    url = databases.create()
    seed_city(url, elders=30, history_days=10)
    server = DashboardServer(make_app(City(url, ManualClock(NOW))), "127.0.0.1", free_port())
    server.start()
    try:
        with httpx.Client(base_url=server.url) as client:
            headers = token(client, "operator")
        yield server, headers
    finally:
        server.stop()
        databases.drop(url)


@pytest.fixture(scope="module")
def api_schema(live: tuple[DashboardServer, dict[str, str]]) -> Any:
    server, _ = live
    return schemathesis.openapi.from_url(f"{server.url}/openapi.json").exclude(path="/events")


def examples(operation: Any, mode: GenerationMode, base_url: str, headers: dict[str, str]) -> Callable[[], None]:
    """A Hypothesis test calling ``operation`` with generated requests; valid ones must also answer to schema."""
    checks: list[Callable[..., bool | None]] = [not_a_server_error]
    if mode is GenerationMode.POSITIVE:
        checks.append(response_schema_conformance)

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case: Any) -> None:
        case.call_and_validate(base_url=base_url, headers=headers, checks=checks)

    return run


def test_no_server_error(api_schema: Any, live: tuple[DashboardServer, dict[str, str]]) -> None:
    """Valid and invalid examples for every operation; a 5xx or a valid request answered off-schema fails."""
    server, headers = live
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 25
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                examples(operation, mode, server.url, headers)()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing in this operation can be made invalid
