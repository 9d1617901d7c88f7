"""A seeded city with 40 days of history (orders, alarms), the same as the dashboard tests use."""

from __future__ import annotations

import pytest

from tests.dashboard.conftest import NOW, seed_city

__all__ = ["NOW"]


@pytest.fixture
def city_url(database_url: str) -> str:
    seed_city(database_url)
    return database_url
