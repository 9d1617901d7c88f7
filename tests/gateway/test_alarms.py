"""Alarms: SOS and fall open alarms with NOTIFY and a cmd reply; repeats update; vitals need consecutive breaches."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg

from devices import DeviceStatus, Presence, Telemetry, encode, epoch_ms, topic
from gateway import Gateway
from simulators.fleet import Fleet
from tests.gateway.running import City, later_message_stored, rows, scalar
from tests.services import Mosquitto
from tests.waiting import patience, wait_until


def _notifications(listener: psycopg.Connection, want: int, timeout: float = 10.0) -> list[dict[str, object]]:
    got: list[dict[str, object]] = []
    deadline = time.monotonic() + patience(timeout)
    while len(got) < want and time.monotonic() < deadline:
        for note in listener.notifies(timeout=0.5):
            got.append(json.loads(note.payload))
            if len(got) >= want:
                break
    return got


def test_sos_and_fall_open_alarms_notify_and_answer_the_device(
    city: City, mosquitto: Mosquitto, gateways: Callable[..., Gateway], fleets: Callable[..., Fleet]
) -> None:
    button, detector = city.device("button"), city.device("fall_detector")
    gateways(city.database_url, mosquitto.url)
    fleet = fleets(city, mosquitto.url, [button, detector])
    with psycopg.connect(city.database_url, autocommit=True) as listener:
        listener.execute("LISTEN eldercare_alarm")
        sos_seq = fleet.send_event(button.id, "sos")
        fleet.send_event(detector.id, "fall")
        notes = _notifications(listener, 2)
    assert sorted((n["type"], n["status"], n["op"]) for n in notes) == [
        ("fall", "open", "insert"),
        ("sos", "open", "insert"),
    ]
    alarms = rows(city.database_url, "SELECT type, severity, status, device_id, repeat_count FROM alarm ORDER BY type")
    assert alarms == [("fall", "critical", "open", detector.id, 0), ("sos", "critical", "open", button.id, 0)]
    event = rows(
        city.database_url,
        "SELECT type, alarm_id IS NOT NULL FROM device_event WHERE device_id = %s AND seq = %s",
        button.id,
        sos_seq,
    )
    assert event == [("sos", True)]

    for device in (button, detector):
        reply = fleet.wait_for_command(device.id, "alarm_received", timeout=patience(10))
        assert reply is not None, f"{device.id} got no alarm_received on its cmd topic"
        assert reply.alarm_id == scalar(
            city.database_url, "SELECT alarm_id FROM device_event WHERE device_id = %s", device.id
        )
        assert reply.text
    assert wait_until(
        lambda: scalar(city.database_url, "SELECT count(*) FROM device_command WHERE sent_at IS NULL") == 0
    )


def test_a_repeated_sos_updates_the_open_alarm(
    city: City, mosquitto: Mosquitto, gateways: Callable[..., Gateway], fleets: Callable[..., Fleet]
) -> None:
    button = city.device("button")
    gateways(city.database_url, mosquitto.url)
    fleet = fleets(city, mosquitto.url, [button])
    for press in range(1, 4):
        fleet.send_event(button.id, "sos")
        # answered before the next press: each press its own time
        assert wait_until(lambda: len(fleet.commands(button.id)) >= press)  # noqa: B023 (called at once)
    got = wait_until(lambda: rows(city.database_url, "SELECT count(*), max(repeat_count) FROM alarm") == [(1, 2)])
    assert got, rows(city.database_url, "SELECT type, status, repeat_count FROM alarm")
    assert scalar(city.database_url, "SELECT count(*) FROM device_event") == 3
    assert scalar(city.database_url, "SELECT bool_and(raised_at < last_raised_at) FROM alarm")
    # each press is answered
    assert wait_until(lambda: len(fleet.commands(button.id)) == 3)


def test_heart_rate_over_the_threshold_alarms_only_in_consecutive_samples(
    city: City, mosquitto: Mosquitto, gateways: Callable[..., Gateway], fleets: Callable[..., Fleet]
) -> None:
    watch = city.device("watch")
    marker = next(d for d in city.devices if d.type == "watch" and d.elder_id != watch.elder_id)
    gateways(city.database_url, mosquitto.url)
    fleet = fleets(city, mosquitto.url, [watch, marker])
    fleet.send_telemetry(watch.id, hr=150)  # one noisy sample
    for _ in range(3):
        fleet.send_telemetry(watch.id, hr=80)
    assert wait_until(lambda: scalar(city.database_url, "SELECT count(*) FROM reading") == 4)
    later_message_stored(city, fleet, marker)  # the rules have looked at those four
    assert scalar(city.database_url, "SELECT count(*) FROM alarm") == 0

    fleet.send_telemetry(watch.id, hr=150)
    fleet.send_telemetry(watch.id, hr=155)
    watch_readings = "SELECT count(*) FROM reading WHERE device_id = %s"
    assert wait_until(lambda: scalar(city.database_url, watch_readings, watch.id) == 6)
    later_message_stored(city, fleet, marker)
    assert scalar(city.database_url, "SELECT count(*) FROM alarm") == 0  # two in a row: not yet
    fleet.send_telemetry(watch.id, hr=160)
    alarm = wait_until(lambda: rows(city.database_url, "SELECT type, details FROM alarm"))
    assert alarm and alarm[0][0] == "hr_high" and alarm[0][1]["consecutive"] == 3 and alarm[0][1]["value"] == 160


def test_consecutive_samples_of_one_batched_message_raise_and_elder_thresholds_override(
    city: City, mosquitto: Mosquitto, gateways: Callable[..., Gateway], fleets: Callable[..., Fleet]
) -> None:
    watch = city.device("watch")
    with psycopg.connect(city.database_url) as conn:
        conn.execute("UPDATE elder SET thresholds = '{\"hr_high\": 100}' WHERE id = %s", (watch.elder_id,))
    gateways(city.database_url, mosquitto.url)
    fleet = fleets(city, mosquitto.url, [watch])
    now = epoch_ms(datetime.now(UTC))
    samples = [{"ts": now - 4000 + i * 1000, "hr": hr} for i, hr in enumerate((95, 105, 108, 110, 90))]
    payload = encode(Telemetry(ts=now, seq=fleet.next_seq(watch.id), samples=samples))  # type: ignore[arg-type]
    fleet.publish_raw(watch.id, topic(watch.id, "telemetry"), payload)
    alarm = wait_until(lambda: rows(city.database_url, "SELECT type, details->>'threshold' FROM alarm"))
    assert alarm == [("hr_high", "100.0")]  # 105, 108, 110 are over this elder's 100, not the default 120


def test_consecutive_readings_reaching_different_gateways_raise_one_alarm(
    city: City, mosquitto: Mosquitto, gateways: Callable[..., Gateway], fleets: Callable[..., Fleet]
) -> None:
    """Two gateways share the devices through $share/gateway/: Mosquitto hands them messages in turn."""
    watch = city.device("watch")
    first = gateways(city.database_url, mosquitto.url, shared_group="gateway")
    second = gateways(city.database_url, mosquitto.url, shared_group="gateway")
    fleet = fleets(city, mosquitto.url, [watch])
    for n, hr in enumerate((150, 152, 154, 156), start=1):
        fleet.send_telemetry(watch.id, hr=hr)
        assert wait_until(lambda: scalar(city.database_url, "SELECT count(*) FROM reading") == n)  # noqa: B023  # its own batch
    assert wait_until(lambda: scalar(city.database_url, "SELECT count(*) FROM reading") == 4)
    assert first.ingest.committed_batches > 0 and second.ingest.committed_batches > 0, "one gateway got everything"
    alarms = wait_until(lambda: rows(city.database_url, "SELECT type, details->>'value' FROM alarm"))
    assert alarms == [("hr_high", "156")]


def test_door_opened_at_night_and_low_battery_raise_alarms(
    city: City, mosquitto: Mosquitto, gateways: Callable[..., Gateway], fleets: Callable[..., Fleet]
) -> None:
    watch, door = city.device("watch"), city.device("door")
    hour = datetime.now(UTC).astimezone(UTC).hour  # the gateway judges night in Asia/Shanghai (UTC+8)
    local = (hour + 8) % 24
    gateways(city.database_url, mosquitto.url, night_start=(local - 1) % 24, night_end=(local + 1) % 24)
    fleet = fleets(city, mosquitto.url, [watch, door])
    fleet.publish_raw(door.id, topic(door.id, "event"), encode_event(fleet, door.id, "door"))
    fleet.send_telemetry(watch.id, battery=9)
    got = wait_until(
        lambda: rows(city.database_url, "SELECT type FROM alarm ORDER BY type") == [("battery_low",), ("door_night",)]
    )
    assert got, rows(city.database_url, "SELECT type FROM alarm")


def test_low_battery_in_the_millisecond_of_the_connect_status_alarms(
    city: City, mosquitto: Mosquitto, gateways: Callable[..., Gateway], fleets: Callable[..., Fleet]
) -> None:
    """A device says online (with its battery) when it connects and may send telemetry in the same millisecond:
    of the two, the telemetry is the later (higher seq), and its low level raises the alarm."""
    watch = city.device("watch")
    gateways(city.database_url, mosquitto.url)
    fleet = fleets(city, mosquitto.url, [watch])
    now = epoch_ms(datetime.now(UTC))
    online = DeviceStatus(ts=now, seq=fleet.next_seq(watch.id), state=Presence.ONLINE, battery=96)
    low = Telemetry(ts=now, seq=fleet.next_seq(watch.id), battery=9)
    fleet.publish_raw(watch.id, topic(watch.id, "status"), encode(online))
    fleet.publish_raw(watch.id, topic(watch.id, "telemetry"), encode(low))
    alarm = wait_until(lambda: rows(city.database_url, "SELECT type, details->>'battery' FROM alarm"))
    assert alarm == [("battery_low", "9")]
    battery = "SELECT battery FROM device WHERE id = %s"
    assert scalar(city.database_url, battery, watch.id) == 9  # the device's level: the later message's too


def encode_event(fleet: Fleet, device_id: str, kind: str) -> bytes:
    from devices import Event, EventType

    when = datetime.now(UTC) - timedelta(seconds=1)
    return encode(Event(ts=epoch_ms(when), seq=fleet.next_seq(device_id), type=EventType(kind)))
