"""Schemathesis against /openapi.json: generated requests to every operation, as an administrator (who may call
every one of them) and with a fixed seed, find no server error."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
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
    """One server for every operation's examples (they only add rows), with an administrator's token."""
    url = databases.create()
    seed_city(url, elders=30, history_days=10)
    server = DashboardServer(make_app(City(url, ManualClock(NOW))), "127.0.0.1", free_port())
    server.start()
    try:
        with httpx.Client(base_url=server.url) as client:
            headers = token(client, "admin")
        yield server, headers
    finally:
        server.stop()
        databases.drop(url)


@pytest.fixture(scope="module")
def api_schema(live: tuple[DashboardServer, dict[str, str]]) -> Any:
    server, _ = live
    return schemathesis.openapi.from_url(f"{server.url}/openapi.json").exclude(path="/events")


SEED = 20261202
EXAMPLES = 40  # per operation and mode: about 3 minutes for the whole API on a 2-core machine
# the operations in shards, each its own test: the shards run on every core under `make test` (pytest-xdist), and
# none comes near pytest-timeout's 5 minutes on a loaded machine (the whole API in one test did, beside another)
SHARDS = 4
log = logging.getLogger(__name__)


def _existing(value: Any) -> Any:
    return value % 6 + 1 if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else value


def _existing_ids(case: Any) -> None:
    """Point generated ids at rows of the seeded city (ids 1-6 of each exist), so valid requests get past the
    404 into the code that acts on a record."""
    if case.path_parameters:
        case.path_parameters = {k: _existing(v) for k, v in case.path_parameters.items()}
    if isinstance(case.body, dict):
        case.body = {k: _existing(v) if k.endswith("_id") else v for k, v in case.body.items()}


def examples(
    operation: Any, mode: GenerationMode, base_url: str, headers: dict[str, str], sent: list[int]
) -> Callable[[], None]:
    """A Hypothesis test calling ``operation`` with generated requests; valid ones must also answer to schema."""
    checks: list[Callable[..., bool | None]] = [not_a_server_error]
    if mode is GenerationMode.POSITIVE:
        checks.append(response_schema_conformance)

    @seed(SEED)
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case: Any) -> None:
        sent[0] += 1
        if mode is GenerationMode.POSITIVE:
            _existing_ids(case)
        case.call_and_validate(base_url=base_url, headers=headers, checks=checks)

    return run


@pytest.mark.parametrize("shard", range(SHARDS))
def test_no_server_error(api_schema: Any, live: tuple[DashboardServer, dict[str, str]], shard: int) -> None:
    """Valid and invalid examples for every operation of the shard; a 5xx or a valid request answered off-schema
    fails. Every operation runs even after one fails, so the report lists them all."""
    server, headers = live
    every = [result.ok() for result in api_schema.get_all_operations()]
    assert len(every) > 25
    operations = every[shard::SHARDS]
    sent, failures, started = [0], [], time.monotonic()
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                examples(operation, mode, server.url, headers, sent)()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing in this operation can be made invalid
            except (Exception, BaseExceptionGroup) as failed:  # a FailureGroup is a BaseExceptionGroup
                failures.append(f"{operation.label} ({mode.value}): {str(failed).strip()[:600]}")
    log.warning(
        "schemathesis: %d operations, %d requests, %d failing in %.0f s",
        len(operations),
        sent[0],
        len(failures),
        time.monotonic() - started,
    )
    assert not failures, f"{len(failures)} of {len(operations)} operations failed:\n" + "\n".join(failures)
