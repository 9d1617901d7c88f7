"""With the password file and ACL from deploy/, a device can publish only under its own id."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from devices import DeviceStatus, Presence, encode, epoch_ms, topic
from devices.mosquitto import BrokerUser, acl, password_file
from eldercare.clock import SYSTEM_CLOCK
from eldercare.mqtt import BrokerAddress
from gateway import Gateway
from simulators.fleet import Fleet
from tests.gateway.running import rows, scalar, start_fleet, start_gateway
from tests.services import PLATFORM_USER, SecuredBroker
from tests.waiting import patience, subscribe_acknowledged, wait_until

pytestmark = pytest.mark.mosquitto


def _connect(url: str, client_id: str) -> tuple[mqtt.Client, list[Any], list[mqtt.MQTTMessage]]:
    """A plain paho client; returns it with the CONNACK reason codes and the messages it receives."""
    client = BrokerAddress.parse(url).client(client_id)
    answers: list[Any] = []
    received: list[mqtt.MQTTMessage] = []
    connected = threading.Event()

    def on_connect(c: mqtt.Client, u: Any, f: Any, reason: Any, p: Any) -> None:
        answers.append(reason)
        connected.set()

    client.on_connect = on_connect
    client.on_message = lambda c, u, m: received.append(m)
    client.connect(BrokerAddress.parse(url).host, BrokerAddress.parse(url).port)
    client.loop_start()
    connected.wait(patience(5))
    return client, answers, received


def test_the_generated_files_are_what_mosquitto_expects() -> None:
    lines = password_file([BrokerUser("platform", "p"), BrokerUser("wch000001", "s")]).splitlines()
    assert [line.split(":")[0] for line in lines] == ["platform", "wch000001"]
    assert all(line.split(":", 1)[1].startswith("$7$101$") for line in lines)
    text = acl("platform")
    assert "pattern write eldercare/v1/devices/%u/telemetry" in text
    assert "pattern read eldercare/v1/devices/%u/cmd" in text
    assert "pattern write eldercare/v1/devices/%u/cmd" not in text
    with pytest.raises(ValueError):
        password_file([BrokerUser("a:b", "p")])


def test_a_device_cannot_publish_under_another_devices_id(
    secured_broker: SecuredBroker, stopper: Callable[[Any], Any]
) -> None:
    city = secured_broker.city
    mine, other = city.device("watch"), city.device("watch", 1)
    gateway: Gateway = stopper(start_gateway(city.database_url, secured_broker.platform_url))
    fleet: Fleet = stopper(start_fleet(city, secured_broker.url, [mine, other]))
    own = fleet.send_telemetry(mine.id, hr=70)
    forged_seq = fleet.next_seq(mine.id)
    now = epoch_ms(SYSTEM_CLOCK.now())
    # a well-formed message, with the victim's id in topic and payload: only the broker can tell it is forged
    fleet.publish_raw(mine.id, topic(other.id, "telemetry"), b'{"ts": %d, "seq": %d, "hr": 180}' % (now, forged_seq))
    fleet.publish_raw(
        mine.id, topic(other.id, "status"), encode(DeviceStatus(ts=now, seq=forged_seq + 1, state=Presence.OFFLINE))
    )
    fleet.publish_raw(
        mine.id, topic(other.id, "event"), b'{"ts": %d, "seq": %d, "type": "sos"}' % (now, forged_seq + 2)
    )
    last = fleet.send_telemetry(mine.id, hr=71)
    assert fleet.wait_acknowledged(patience(10))
    # one client's messages reach the gateway in order and its writer takes them in order: once `last` is
    # stored, the forged messages before it were seen (and dropped)
    assert wait_until(lambda: scalar(city.database_url, "SELECT count(*) FROM reading WHERE seq = %s", last) == 1)
    stored = rows(city.database_url, "SELECT device_id, seq FROM reading WHERE hr IS NOT NULL ORDER BY seq")
    assert stored == [(mine.id, own), (mine.id, last)]
    assert scalar(city.database_url, "SELECT count(*) FROM device_event") == 0
    assert scalar(city.database_url, "SELECT count(*) FROM alarm") == 0
    assert scalar(city.database_url, "SELECT online FROM device WHERE id = %s", other.id) is True
    assert gateway.intake.connected.is_set()


def test_wrong_or_missing_credentials_are_refused_and_cmd_is_private(
    secured_broker: SecuredBroker, stopper: Callable[[Any], Any], tmp_path: Path
) -> None:
    city = secured_broker.city
    mine, other = city.device("watch"), city.device("watch", 1)
    port = secured_broker.broker.port
    for url in (f"mqtt://{mine.id}:wrong@127.0.0.1:{port}", f"mqtt://127.0.0.1:{port}"):
        client, answers, _ = _connect(url, f"intruder-{len(url)}")
        assert answers and answers[0].is_failure, f"{url} was let in"
        client.loop_stop()
    # a device may subscribe to another's cmd topic, but the broker gives it nothing from there
    spy, answers, spied = _connect(f"mqtt://{mine.id}:{mine.secret}@127.0.0.1:{port}", "spy")
    assert answers and not answers[0].is_failure
    subscribe_acknowledged(spy, topic(other.id, "cmd"), topic(mine.id, "cmd"))
    fleet: Fleet = stopper(start_fleet(city, secured_broker.url, [other]))
    platform, answers, _ = _connect(secured_broker.platform_url, f"{PLATFORM_USER}-cmd")
    assert answers and not answers[0].is_failure
    platform.publish(topic(other.id, "cmd"), b'{"ts": 1, "type": "help_coming", "text": "x"}', qos=1).wait_for_publish(
        5
    )
    assert fleet.wait_for_command(other.id, "help_coming", timeout=patience(5)) is not None
    # a later command on the spy's own topic: when it arrives, the broker has routed the one before it
    platform.publish(topic(mine.id, "cmd"), b'{"ts": 2, "type": "help_coming", "text": "y"}', qos=1).wait_for_publish(5)
    assert wait_until(lambda: spied, timeout=5)
    assert [m.topic for m in spied] == [topic(mine.id, "cmd")]
    # nor may a device write on its own cmd topic (only the platform talks there)
    spy.publish(topic(mine.id, "cmd"), b'{"ts": 1, "type": "help_coming"}', qos=1).wait_for_publish(5)
    spy.publish(topic(other.id, "cmd"), b'{"ts": 1, "type": "help_coming"}', qos=1).wait_for_publish(5)
    # the platform's next command comes after the spy's, acknowledged, publishes: it arrives alone
    platform.publish(topic(other.id, "cmd"), b'{"ts": 3, "type": "help_coming", "text": "z"}', qos=1).wait_for_publish(
        5
    )
    assert wait_until(lambda: len(fleet.commands(other.id)) >= 2, timeout=5)
    assert len(fleet.commands(other.id)) == 2
    for client in (spy, platform):
        client.disconnect()
        client.loop_stop()


@pytest.mark.parametrize("clean_session", [True, False], ids=["clean", "persistent"])
def test_a_device_cannot_take_over_the_gateways_session(
    clean_session: bool, secured_broker: SecuredBroker, stopper: Callable[[Any], Any]
) -> None:
    """A device with valid credentials that asks for the gateway's client id, again and again, while readings
    and an SOS stream in: the gateway is never disconnected, gets every message, and the device reads none."""
    city = secured_broker.city
    intruder, button = city.device("watch"), city.device("button")
    gateway: Gateway = stopper(start_gateway(city.database_url, secured_broker.platform_url))
    fleet: Fleet = stopper(start_fleet(city, secured_broker.url, [d for d in city.devices if d.id != intruder.id]))
    address = BrokerAddress.parse(secured_broker.url).with_credentials(intruder.id, intruder.secret)
    fleet.stream(100, messages=300)
    received: list[mqtt.MQTTMessage] = []
    for _ in range(10):
        client = address.client(gateway.settings.client_id, clean_session=clean_session)
        answered = threading.Event()
        client.on_connect = lambda c, u, f, reason, p, answered=answered: answered.set()
        client.on_message = lambda c, u, m: received.append(m)
        client.connect(address.host, address.port)
        client.loop_start()
        assert answered.wait(5), "the broker did not answer the device"
        client.disconnect()
        client.loop_stop()
    sos = fleet.send_event(button.id, "sos")
    assert fleet.wait(20) and fleet.wait_acknowledged(10)
    expected = {(s.device_id, s.seq) for s in fleet.acknowledged() if s.channel == "telemetry"}
    stored = lambda: {(d, s) for d, s in rows(city.database_url, "SELECT device_id, seq FROM reading")}  # noqa: E731
    assert wait_until(lambda: stored() >= expected, timeout=20), f"{len(expected - stored())} readings not stored"
    assert wait_until(
        lambda: scalar(city.database_url, "SELECT count(*) FROM alarm WHERE device_id = %s AND type = 'sos'", button.id)
    ), "the SOS raised no alarm"
    assert scalar(city.database_url, "SELECT count(*) FROM device_event WHERE seq = %s", sos) == 1
    assert fleet.wait_for_command(button.id, "alarm_received") is not None
    assert gateway.intake.connections == 1, "the device's logins disconnected the gateway"
    assert received == []
