"""Readings from a simulated fleet arrive in `reading`, each once, batched samples included."""

from __future__ import annotations

from collections.abc import Callable

from devices import Telemetry, encode, epoch_ms, topic
from gateway import Gateway
from simulators.fleet import Fleet
from tests.gateway.running import City, later_message_stored, rows, scalar
from tests.services import Mosquitto, on_both_backends
from tests.waiting import patience, wait_until

pytestmark = on_both_backends


def _stored(database_url: str) -> dict[tuple[str, int], int]:
    return {(d, s): n for d, s, n in rows(database_url, "SELECT device_id, seq, count(*) FROM reading GROUP BY 1, 2")}


def test_fleet_readings_are_stored_once_each_with_batched_samples(
    city: City, mosquitto: Mosquitto, gateways: Callable[..., Gateway], fleets: Callable[..., Fleet]
) -> None:
    gateways(city.database_url, mosquitto.url)
    fleet = fleets(city, mosquitto.url)
    fleet.stream(400, messages=300)
    assert fleet.wait(patience(20))
    fleet.stream(200, messages=100, samples=10)
    assert fleet.wait(patience(20))
    assert fleet.wait_acknowledged(patience(20))
    sent = [s for s in fleet.acknowledged() if s.channel == "telemetry"]
    assert len(sent) == 400
    expected = {(s.device_id, s.seq): s.readings for s in sent}
    assert sum(expected.values()) == 300 + 100 * 10

    assert wait_until(lambda: _stored(city.database_url) == expected, timeout=20), "readings missing or extra"
    assert scalar(city.database_url, "SELECT count(*) FROM dead_letter") == 0
    # every device said online and was seen; its battery and position are kept
    online = rows(city.database_url, "SELECT online, last_seen_at IS NOT NULL, battery FROM device")
    assert all(on and seen and battery is not None for on, seen, battery in online)


def test_a_redelivered_message_is_stored_once(
    city: City, mosquitto: Mosquitto, gateways: Callable[..., Gateway], fleets: Callable[..., Fleet]
) -> None:
    gateways(city.database_url, mosquitto.url)
    watch = city.device("watch")
    fleet = fleets(city, mosquitto.url, [watch])
    ts = epoch_ms(fleet.clock.now())
    seq = fleet.next_seq(watch.id)
    assert fleet.next_seq(watch.id) == seq + 1  # the batched message's, so that the marker below comes after
    payload = encode(Telemetry(ts=ts, seq=seq, hr=71, samples=None))
    batched = encode(Telemetry(ts=ts, seq=seq + 1, samples=[_sample(ts - 2000, 70), _sample(ts - 1000, 72)]))  # type: ignore[list-item]
    for _ in range(3):
        fleet.publish_raw(watch.id, topic(watch.id, "telemetry"), payload)
        fleet.publish_raw(watch.id, topic(watch.id, "telemetry"), batched)
    assert wait_until(lambda: scalar(city.database_url, "SELECT count(*) FROM reading") == 3, timeout=10)
    later_message_stored(city, fleet, watch)  # the later copies have arrived and were dropped
    assert scalar(city.database_url, "SELECT count(*) FROM reading WHERE seq <= %s", seq + 1) == 3
    assert scalar(city.database_url, "SELECT count(*) FROM dead_letter") == 0


def _sample(ts: int, hr: int) -> dict[str, int]:
    return {"ts": ts, "hr": hr}
