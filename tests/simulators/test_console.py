"""The demo's console line counts the alarms the live board shows, acknowledged or not ("open alarms 0" once
disagreed with a board of acknowledged alarms)."""

from __future__ import annotations

import pytest

from dashboard.alarms import live_board
from eldercare.clock import SYSTEM_CLOCK
from simulators.demo import summary_reporter
from tests.dispatcher.conftest import conn, town

__all__ = ["conn", "town"]


def test_the_console_counts_what_the_board_shows(conn, town, database_url, capsys: pytest.CaptureFixture[str]) -> None:
    elders = [town.elder(), town.elder(), town.elder()]
    for elder in elders:
        conn.execute(
            "INSERT INTO alarm (elder_id, type, severity, raised_at, last_raised_at) "
            "VALUES (%s, 'sos', 'critical', now(), now())",
            (elder,),
        )
    conn.execute(
        "UPDATE alarm SET status = 'acknowledged', acknowledged_at = now(), acknowledged_by = 'op' WHERE elder_id = %s",
        (elders[1],),
    )
    conn.execute(
        "UPDATE alarm SET status = 'resolved', acknowledged_at = now(), acknowledged_by = 'op', resolved_at = now(), "
        "resolved_by = 'op', outcome = 'test' WHERE elder_id = %s",
        (elders[2],),
    )
    conn.commit()
    summary_reporter(database_url, SYSTEM_CLOCK, every=1.0)()
    line = capsys.readouterr().out
    assert len(live_board(conn)) == 2
    assert "alarms on the board 2 (1 not acknowledged)" in line, line
