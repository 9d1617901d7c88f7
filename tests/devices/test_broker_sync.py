"""Mosquitto learns every change of the device register without a restart."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
import pytest

from devices import topic
from eldercare import broker_sync
from eldercare import device_register as register
from eldercare.clock import SYSTEM_CLOCK
from eldercare.device_register import Credential, Enrolment
from eldercare.mqtt import BrokerAddress
from tests.services import PLATFORM_USER, SecuredBroker
from tests.waiting import eventually, patience, subscribe_acknowledged

pytestmark = pytest.mark.mosquitto


class Login:
    """A device's paho client: the CONNACK it got and whether the broker has since closed the connection."""

    def __init__(self, url: str, client_id: str) -> None:
        address = BrokerAddress.parse(url)
        self.client = address.client(client_id)
        self.answers: list[Any] = []
        self.closed = threading.Event()
        answered = threading.Event()

        def on_connect(c: mqtt.Client, u: Any, f: Any, reason: Any, p: Any) -> None:
            self.answers.append(reason)
            answered.set()

        self.client.on_connect = on_connect
        self.client.on_disconnect = lambda *args: self.closed.set()
        self.client.connect(address.host, address.port)
        self.client.loop_start()
        assert answered.wait(patience(5)), f"no CONNACK from {url}"

    @property
    def accepted(self) -> bool:
        return not self.answers[0].is_failure

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def test_an_enrolled_device_gets_in_and_a_revoked_or_unbound_one_is_refused_without_a_restart(
    secured_broker: SecuredBroker, stopper: Callable[[Any], Any]
) -> None:
    broker = secured_broker.broker
    assert broker.process is not None
    pid = broker.process.pid
    settings = broker_sync.MosquittoSettings(passwd=broker.workdir / "passwd", pid=pid)
    database_url = secured_broker.city.database_url
    seeded = secured_broker.city.devices[0]
    device_url = f"mqtt://{{}}:{{}}@127.0.0.1:{broker.port}"

    def change(do: Callable[[psycopg.Connection], Any]) -> Any:
        with psycopg.connect(database_url) as conn:
            done = do(conn)
            conn.commit()
            broker_sync.sync(conn, settings)
        return done

    enrolled: tuple[register.Device, Credential] = change(
        lambda c: register.enrol(
            c, Enrolment("watch", serial="860000000000042", elder_id=1), "admin", SYSTEM_CLOCK.now()
        )
    )
    credential = enrolled[1]
    url = device_url.format(credential.device_id, credential.secret)

    # it can publish: the platform sees its message
    platform = stopper(Login(secured_broker.platform_url, f"{PLATFORM_USER}-watch"))
    heard: list[bytes] = []
    platform.client.on_message = lambda c, u, m: heard.append(m.payload)
    subscribe_acknowledged(platform.client, topic(credential.device_id, "telemetry"))
    device = stopper(Login(url, credential.device_id))
    assert device.accepted, device.answers
    device.client.publish(topic(credential.device_id, "telemetry"), b'{"ts": 1, "seq": 1}', qos=1)
    eventually(lambda: heard == [b'{"ts": 1, "seq": 1}'], "the enrolled device's message at the platform")

    # revoked: the connected session is closed and a new login is refused, with the broker still the same process
    change(lambda c: register.revoke(c, credential.device_id, "admin", SYSTEM_CLOCK.now()))
    assert device.closed.wait(patience(10)), "Mosquitto kept the revoked device's connection open"
    refused = stopper(Login(url, credential.device_id))
    assert not refused.accepted and refused.answers[0].value in (5, 135), refused.answers  # not authorised
    # the others are let in still (the sync rewrote the file, it did not empty it)
    assert stopper(Login(device_url.format(seeded.id, seeded.secret), seeded.id)).accepted

    # unbound: refused too
    change(lambda c: register.unbind(c, seeded.id, "admin", SYSTEM_CLOCK.now()))
    assert not stopper(Login(device_url.format(seeded.id, seeded.secret), seeded.id + "x")).accepted

    # a new credential lets the revoked device in again
    rotated: Credential = change(lambda c: register.rotate(c, credential.device_id, "admin", SYSTEM_CLOCK.now()))
    assert stopper(Login(device_url.format(credential.device_id, rotated.secret), credential.device_id)).accepted
    assert broker.process.pid == pid and broker.process.poll() is None  # never restarted
