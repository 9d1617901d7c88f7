"""Per-elder thresholds: migration 0010 accepts the keys the rules know, each a number, and nothing else."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.types.json import Jsonb

from gateway import THRESHOLD_DEFAULTS
from tests.gateway.running import City


def test_elder_thresholds_take_known_keys_with_numbers_only(city: City) -> None:
    with psycopg.connect(city.database_url) as conn:
        conn.execute("UPDATE elder SET thresholds = %s WHERE id = 1", (Jsonb(THRESHOLD_DEFAULTS),))
        for bad in ('{"hr_hihg": 100}', '{"hr_high": "100"}'):
            with pytest.raises(psycopg.errors.CheckViolation), conn.transaction():
                conn.execute("UPDATE elder SET thresholds = %s::jsonb WHERE id = 1", (bad,))
