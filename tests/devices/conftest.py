"""Fixtures of the device contract's tests (the production-configured Mosquitto is in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def stopper() -> Iterator[Any]:
    """``stopper(thing)`` returns ``thing`` and calls its ``stop()`` at the end of the test."""
    things: list[Any] = []

    def keep(thing: Any) -> Any:
        things.append(thing)
        return thing

    yield keep
    for thing in reversed(things):
        thing.stop()
