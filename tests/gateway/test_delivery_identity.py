"""What identifies a delivery, (device, seq, ts): a device that starts its seq again still gets help; a
redelivery is stored once, and a repeat of an SOS is answered again (at most once in ``ANSWER_AGAIN_AFTER``); a
device that sent its SOS before any gateway had subscribed repeats it until it is answered; a copy with other
content, an event outside the device type's contract, or JSON nested past reason is a dead letter with its reason."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

import dispatcher
from devices import Event, EventType, epoch_ms, topic
from eldercare.clock import SYSTEM_CLOCK
from eldercare.config import Settings
from gateway import Gateway
from gateway.events import ANSWER_AGAIN_AFTER, EventContext, Night, Stored, store_event
from simulators.fleet import Fleet
from tests.gateway.running import City, rows, scalar
from tests.services import Mosquitto
from tests.waiting import patience, wait_until


def _event(ts: int, seq: int, kind: str) -> bytes:
    return json.dumps({"ts": ts, "seq": seq, "type": kind}).encode()


def _replies(fleet: Fleet, device_id: str, alarm_id: int) -> list[object]:
    return [c for c in fleet.commands(device_id) if c.type == "alarm_received" and c.alarm_id == alarm_id]


def test_an_sos_after_the_device_restarted_its_seq_raises_a_new_alarm_reply_and_order(
    city: City, mosquitto: Mosquitto, gateways: Callable[..., Gateway], fleets: Callable[..., Fleet]
) -> None:
    button = city.device("button")
    gateways(city.database_url, mosquitto.url)
    fleet = fleets(city, mosquitto.url, [button])
    first_seq = fleet.send_event(button.id, "sos")
    first = wait_until(lambda: scalar(city.database_url, "SELECT id FROM alarm WHERE type = 'sos'"))
    assert first, "the first SOS raised no alarm"
    assert wait_until(lambda: _replies(fleet, button.id, first))
    with psycopg.connect(city.database_url) as conn:
        conn.execute(
            "UPDATE alarm SET status = 'resolved', acknowledged_at = now(), resolved_at = now(), outcome = 'test' "
            "WHERE id = %s",
            (first,),
        )

    # a battery change: the button counts from the start again, with the time of now
    fleet.publish_raw(button.id, topic(button.id, "event"), _event(epoch_ms(fleet.clock.now()), first_seq, "sos"))
    second = wait_until(
        lambda: scalar(city.database_url, "SELECT id FROM alarm WHERE type = 'sos' AND status = 'open'")
    )
    assert second and second != first, rows(city.database_url, "SELECT id, status FROM alarm")
    assert scalar(city.database_url, "SELECT count(*) FROM device_event WHERE seq = %s", first_seq) == 2
    assert wait_until(lambda: _replies(fleet, button.id, second)), "the elder was not told the second call arrived"
    with psycopg.connect(city.database_url) as conn:
        report = dispatcher.sweep(conn, SYSTEM_CLOCK, dispatcher.Config.load(Settings()))
    assert report.emergencies == 1
    order = scalar(city.database_url, "SELECT service_type FROM service_order WHERE alarm_id = %s", second)
    assert order == "emergency"
    assert scalar(city.database_url, "SELECT count(*) FROM dead_letter") == 0


def test_a_redelivered_event_is_stored_once_and_a_conflicting_copy_is_a_dead_letter(
    city: City, mosquitto: Mosquitto, gateways: Callable[..., Gateway], fleets: Callable[..., Fleet]
) -> None:
    pendant = city.device("pendant")
    gateways(city.database_url, mosquitto.url)
    fleet = fleets(city, mosquitto.url, [pendant])
    where = topic(pendant.id, "event")
    ts, seq = epoch_ms(fleet.clock.now()), fleet.next_seq(pendant.id)
    for _ in range(3):
        fleet.publish_raw(pendant.id, where, _event(ts, seq, "sos"))
    fleet.publish_raw(pendant.id, where, _event(ts, seq, "fall"))  # the same seq and ts, but another event
    marker = fleet.send_telemetry(pendant.id)
    assert wait_until(lambda: scalar(city.database_url, "SELECT count(*) FROM reading WHERE seq = %s", marker))
    assert wait_until(lambda: scalar(city.database_url, "SELECT count(*) FROM dead_letter") == 1)

    assert rows(city.database_url, "SELECT type, seq FROM device_event") == [("sos", seq)]
    assert rows(city.database_url, "SELECT type, repeat_count FROM alarm") == [("sos", 0)]
    reason, detail = rows(city.database_url, "SELECT reason, detail FROM dead_letter")[0]
    assert reason == "conflicting_duplicate" and f"seq {seq}" in detail
    alarm = scalar(city.database_url, "SELECT id FROM alarm")
    assert wait_until(lambda: _replies(fleet, pendant.id, alarm))
    # three copies within ANSWER_AGAIN_AFTER: one answer, naming the event
    assert [c.seq for c in fleet.commands(pendant.id) if c.type == "alarm_received"] == [seq]


def test_a_repeated_sos_is_stored_once_and_answered_again_at_most_once_in_the_interval(city: City) -> None:
    button = city.device("button")
    night = Night(22, 6, ZoneInfo("Asia/Shanghai"))
    pressed = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    sos = Event(ts=epoch_ms(pressed), seq=41, type=EventType.SOS)

    def deliver(event: Event, after: timedelta) -> Stored:
        context = EventContext(button.id, button.elder_id, "zh", pressed, pressed + after, event)
        with psycopg.connect(city.database_url) as conn:
            return store_event(conn, context, night)

    def answers() -> list[tuple[object, ...]]:
        return rows(
            city.database_url,
            "SELECT payload->>'seq', payload->>'alarm_id' IS NOT NULL, created_at - %s FROM device_command "
            "WHERE type = 'alarm_received' ORDER BY id",
            pressed,
        )

    second = timedelta(seconds=1)
    assert deliver(sos, second) is Stored.NEW
    assert answers() == [("41", True, second)]
    assert deliver(sos, 2 * second) is Stored.REDELIVERED  # a burst of copies: no second answer
    assert len(answers()) == 1
    later = second + ANSWER_AGAIN_AFTER
    assert deliver(sos, later) is Stored.REDELIVERED  # the device repeats: answered again
    assert answers() == [("41", True, second), ("41", True, later)]
    assert deliver(sos, later + second) is Stored.REDELIVERED
    assert len(answers()) == 2
    fall = Event(ts=sos.ts, seq=sos.seq, type=EventType.FALL)  # the same seq and ts, other content: no answer
    assert deliver(fall, 2 * later) is Stored.CONFLICTING
    assert len(answers()) == 2
    assert rows(city.database_url, "SELECT type, seq FROM device_event") == [("sos", 41)]
    assert rows(city.database_url, "SELECT type, repeat_count FROM alarm") == [("sos", 0)]


def test_an_sos_sent_before_any_gateway_subscribed_is_repeated_until_answered(
    city: City, mosquitto: Mosquitto, gateways: Callable[..., Gateway], fleets: Callable[..., Fleet]
) -> None:
    """A broker new to the gateway's session keeps nothing for it: what devices publish before the first gateway's
    SUBACK reaches no one (deploy/README.md). The device's repeat brings the SOS once the gateway is there."""
    button = city.device("button")
    fleet = fleets(city, mosquitto.url, [button], repeat_seconds=0.5)
    seq = fleet.send_event(button.id, "sos")
    assert fleet.wait_acknowledged(), "the broker did not take the SOS"  # taken, and no subscriber had asked for it
    assert fleet.unanswered(button.id) == [seq]

    gateways(city.database_url, mosquitto.url)
    reply = fleet.wait_for_command(button.id, "alarm_received", timeout=patience(30))
    assert reply is not None and reply.seq == seq, "the repeated SOS was not answered"
    assert wait_until(lambda: fleet.unanswered(button.id) == []), "the device kept repeating an answered SOS"
    assert fleet.stats().repeated >= 1
    assert rows(city.database_url, "SELECT seq FROM device_event") == [(seq,)]
    assert scalar(city.database_url, "SELECT count(*) FROM alarm WHERE type = 'sos'") == 1


def test_events_outside_the_device_type_and_deeply_nested_json_are_dead_letters(
    city: City,
    mosquitto: Mosquitto,
    gateways: Callable[..., Gateway],
    fleets: Callable[..., Fleet],
    caplog: pytest.LogCaptureFixture,
) -> None:
    watch = city.device("watch")
    gateways(city.database_url, mosquitto.url)
    fleet = fleets(city, mosquitto.url, [watch])
    ms = epoch_ms(fleet.clock.now())
    caplog.set_level(logging.INFO)
    fleet.publish_raw(watch.id, topic(watch.id, "event"), _event(ms, fleet.next_seq(watch.id), "smoke"))
    deep = b'{"ts": %d, "seq": %d, "hr": 70, "x": %s1%s}' % (ms, fleet.next_seq(watch.id), b"[" * 5000, b"]" * 5000)
    fleet.publish_raw(watch.id, topic(watch.id, "telemetry"), deep)
    fleet.send_event(watch.id, "sos")  # a marker: once its alarm is there, the messages before it were handled
    assert wait_until(lambda: scalar(city.database_url, "SELECT count(*) FROM alarm WHERE type = 'sos'") == 1)
    assert wait_until(lambda: scalar(city.database_url, "SELECT count(*) FROM dead_letter") == 2)

    letters = dict(rows(city.database_url, "SELECT reason, detail FROM dead_letter"))
    assert set(letters) == {"unsupported_event", "too_deep"}
    assert "watch" in letters["unsupported_event"] and "smoke" in letters["unsupported_event"]
    assert rows(city.database_url, "SELECT type FROM alarm") == [("sos",)]
    assert rows(city.database_url, "SELECT type FROM device_event") == [("sos",)]
    assert scalar(city.database_url, "SELECT count(*) FROM service_order") == 0
    assert not [r for r in caplog.records if r.exc_info], "bad input is no error of the gateway's"


def test_a_redelivered_reading_is_stored_once_and_a_conflicting_copy_is_a_dead_letter(
    city: City, mosquitto: Mosquitto, gateways: Callable[..., Gateway], fleets: Callable[..., Fleet]
) -> None:
    watch = city.device("watch")
    gateways(city.database_url, mosquitto.url)
    fleet = fleets(city, mosquitto.url, [watch])
    where = topic(watch.id, "telemetry")
    ts, seq = epoch_ms(fleet.clock.now()), fleet.next_seq(watch.id)
    first = json.dumps({"ts": ts, "seq": seq, "hr": 70, "temp": 36.6}).encode()
    fleet.publish_raw(watch.id, where, first)
    assert wait_until(lambda: scalar(city.database_url, "SELECT count(*) FROM reading WHERE seq = %s", seq) == 1)
    fleet.publish_raw(watch.id, where, first)  # the broker's redelivery
    fleet.publish_raw(watch.id, where, json.dumps({"ts": ts, "seq": seq, "hr": 90, "temp": 36.6}).encode())
    marker = fleet.send_telemetry(watch.id)
    assert wait_until(lambda: scalar(city.database_url, "SELECT count(*) FROM reading WHERE seq = %s", marker))
    assert wait_until(lambda: scalar(city.database_url, "SELECT count(*) FROM dead_letter") == 1)

    assert rows(city.database_url, "SELECT hr FROM reading WHERE seq = %s", seq) == [(70,)]
    reason, detail = rows(city.database_url, "SELECT reason, detail FROM dead_letter")[0]
    assert reason == "conflicting_duplicate" and "a reading" in detail
    assert b'"hr": 90' in scalar(city.database_url, "SELECT payload FROM dead_letter")


def test_a_press_of_the_visit_button_is_confirmed_to_the_device_once_and_raises_nothing(
    city: City, mosquitto: Mosquitto, gateways: Callable[..., Gateway], fleets: Callable[..., Fleet]
) -> None:
    button = city.device("button")
    gateways(city.database_url, mosquitto.url)
    fleet = fleets(city, mosquitto.url, [button])
    ts, seq = epoch_ms(fleet.clock.now()), fleet.next_seq(button.id)
    for _ in range(2):  # the same press delivered twice
        fleet.publish_raw(button.id, topic(button.id, "event"), _event(ts, seq, "visit"))
    confirmed = fleet.wait_for_command(button.id, "visit_recorded", timeout=patience(10))
    assert confirmed is not None and confirmed.text in ("已记录本次上门服务。", "The visit was recorded.")
    marker = fleet.send_telemetry(button.id)
    assert wait_until(lambda: scalar(city.database_url, "SELECT count(*) FROM reading WHERE seq = %s", marker))
    assert rows(city.database_url, "SELECT type, seq FROM device_event") == [("visit", seq)]
    assert scalar(city.database_url, "SELECT count(*) FROM alarm") == 0
    assert scalar(city.database_url, "SELECT count(*) FROM device_command WHERE type = 'visit_recorded'") == 1
