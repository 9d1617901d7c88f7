from __future__ import annotations

import re

import psycopg

from devices import METRIC_RANGES, METRICS
from gateway.readings import COLUMNS


def test_metric_ranges_are_the_check_constraints_of_reading(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        query = (
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'reading'::regclass AND contype = 'c'"
        )
        checks = [row[0] for row in conn.execute(query)]
    found = {}
    for check in checks:
        # CHECK (((lat >= ('-90'::integer)::double precision) AND ...)) -> lat >= -90 AND lat <= 90
        plain = re.sub(r"::(?:integer|double precision|numeric|real)|[()']", "", check)
        match = re.search(r"(\w+) >= (-?[\d.]+) AND \1 <= (-?[\d.]+)", plain)
        if match:
            found[match.group(1)] = (float(match.group(2)), float(match.group(3)))
    expected = {name: (float(r.low), float(r.high)) for name, r in METRIC_RANGES.items()}
    assert found == expected


def test_reading_columns_follow_the_metrics(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = 'reading'::regclass AND attnum > 0 ORDER BY attnum"
            )
        ]
    assert tuple(names) == COLUMNS
    assert COLUMNS[5:] == METRICS
