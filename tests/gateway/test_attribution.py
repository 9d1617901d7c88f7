"""Every reading belongs to the elder its device is bound to when the gateway takes it in."""

from __future__ import annotations

from collections.abc import Callable

import psycopg

from eldercare import device_register as register
from eldercare.clock import SystemClock
from gateway import Gateway
from simulators.fleet import Fleet
from tests.gateway.running import City, rows, scalar
from tests.services import Mosquitto
from tests.waiting import eventually, patience


def test_an_unbound_device_is_no_longer_the_elders_and_a_rebound_one_is_the_new_elders(
    city: City, mosquitto: Mosquitto, gateways: Callable[..., Gateway], fleets: Callable[..., Fleet]
) -> None:
    watch = city.device("watch")
    first = watch.elder_id
    second = int(scalar(city.database_url, "SELECT min(id) FROM elder WHERE id <> %s", first))
    # the registry's periodic reload is out of the picture: only the register's announcements keep it current
    gateways(city.database_url, mosquitto.url, registry_refresh=3600)
    fleet = fleets(city, mosquitto.url, [watch])
    clock = SystemClock()

    def elder_of(seq: int) -> object:
        query = "SELECT elder_id FROM reading WHERE device_id = %s AND seq = %s"
        return eventually(lambda: rows(city.database_url, query, watch.id, seq), f"reading {seq}")[0][0]

    assert elder_of(fleet.send_telemetry(watch.id)) == first

    with psycopg.connect(city.database_url) as conn:
        register.unbind(conn, watch.id, "operator", clock.now())
    unbound = fleet.send_telemetry(watch.id, hr=77)
    letter = eventually(
        lambda: rows(city.database_url, "SELECT reason, device_id, detail FROM dead_letter"), "the dead letter"
    )
    assert [(r, d) for r, d, _ in letter] == [("unbound_device", watch.id)]
    assert "bound to no elder" in letter[0][2]
    assert scalar(city.database_url, "SELECT count(*) FROM reading WHERE seq = %s", unbound) == 0

    with psycopg.connect(city.database_url) as conn:
        register.bind(conn, watch.id, second, "operator", clock.now())
    assert elder_of(fleet.send_telemetry(watch.id)) == second
    assert fleet.wait_acknowledged(patience(10))
    history = rows(
        city.database_url,
        "SELECT elder_id, unbound_at IS NULL FROM device_binding WHERE device_id = %s ORDER BY id",
        watch.id,
    )
    assert history == [(first, False), (second, True)]
