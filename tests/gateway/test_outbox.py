"""The device_command outbox: whatever component inserts a row, the gateway publishes it to the device's cmd topic."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg.types.json import Jsonb

from gateway import Gateway
from simulators.fleet import Fleet
from tests.gateway.running import City, rows
from tests.services import Mosquitto
from tests.waiting import patience, wait_until

INSERT = "INSERT INTO device_command (device_id, type, payload, created_at) VALUES (%s, %s, %s, %s) RETURNING id"


def _insert(database_url: str, device_id: str, kind: str, payload: dict[str, object], age: timedelta) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(INSERT, (device_id, kind, Jsonb(payload), datetime.now(UTC) - age)).fetchone()
        assert row is not None
        return int(row[0])


def test_commands_are_published_on_notify_and_swept_after_a_restart(
    city: City, mosquitto: Mosquitto, gateways: Callable[..., Gateway], fleets: Callable[..., Fleet]
) -> None:
    watch = city.device("watch")
    fleet = fleets(city, mosquitto.url, [watch])
    # written while no gateway runs: the sweep at start publishes it
    early = _insert(
        city.database_url, watch.id, "help_coming", {"order_code": "AB12", "eta_min": 12, "text": "x"}, timedelta(0)
    )
    old = _insert(city.database_url, watch.id, "help_coming", {"text": "too late"}, timedelta(hours=2))
    bad = _insert(city.database_url, watch.id, "Not A Type!", {"text": "x"}, timedelta(0))
    gateways(city.database_url, mosquitto.url)
    command = fleet.wait_for_command(watch.id, "help_coming", timeout=patience(10))
    assert command is not None and command.order_code == "AB12" and command.eta_min == 12 and command.ts > 0
    # written while the gateway runs: the NOTIFY wakes the publisher
    live = _insert(city.database_url, watch.id, "help_arrived", {"text": "到了"}, timedelta(0))
    arrived = fleet.wait_for_command(watch.id, "help_arrived", timeout=patience(10))
    assert arrived is not None and arrived.text == "到了"
    state = "SELECT id, sent_at IS NOT NULL, failed_at IS NOT NULL, error FROM device_command ORDER BY id"
    assert wait_until(lambda: all(sent or failed for _, sent, failed, _ in rows(city.database_url, state)))
    got = {i: (sent, failed, (error or "").split(":")[0]) for i, sent, failed, error in rows(city.database_url, state)}
    assert got == {
        early: (True, False, ""),
        old: (False, True, "expired"),
        bad: (False, True, "invalid command"),
        live: (True, False, ""),
    }
    assert [c.type for c in fleet.commands(watch.id)] == ["help_coming", "help_arrived"]
