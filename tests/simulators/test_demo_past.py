"""The demo starts with a month of past: generated, labelled as generated, and over (nothing left open)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from simulators.demo import GENERATED, GENERATED_NOTE, ensure_demo_city

NOW = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)


def test_a_new_demo_city_has_a_month_of_generated_history_and_nothing_left_open(
    database_url: str, tmp_path: Path
) -> None:
    manifest = tmp_path / "manifest.json"
    assert ensure_demo_city(database_url, manifest, elders=120, seed=2, now=NOW)
    with psycopg.connect(database_url) as conn:
        span = conn.execute(
            "SELECT min(created_at), max(created_at), count(*), count(DISTINCT created_at::date) FROM service_order"
        ).fetchone()
        assert span is not None
        first, last, orders, days = span
        assert orders > 100 and NOW - first > timedelta(days=27) and last < NOW and days >= 27
        # every generated row says so: the order's note, and the operator who handled it
        assert conn.execute("SELECT DISTINCT notes FROM service_order").fetchall() == [(GENERATED_NOTE,)]
        handlers = {r[0] for r in conn.execute("SELECT acknowledged_by FROM alarm UNION SELECT resolved_by FROM alarm")}
        assert handlers == {GENERATED}
        # the past is over: no alarm on the board, no order waiting for the dispatcher
        assert conn.execute("SELECT count(*) FROM alarm WHERE status <> 'resolved'").fetchone() == (0,)
        unfinished = conn.execute(
            "SELECT count(*) FROM service_order WHERE status NOT IN ('completed', 'reviewed', 'cancelled')"
        ).fetchone()
        assert unfinished == (0,)
    # a second start reuses the city and adds no second past
    assert not ensure_demo_city(database_url, manifest, elders=120, seed=2, now=NOW + timedelta(days=1))
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM service_order").fetchone() == (orders,)
