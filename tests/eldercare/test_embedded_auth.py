"""The embedded broker checks device logins against the device register, and learns each change at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
import pytest

from eldercare import device_register as register
from eldercare.clock import SYSTEM_CLOCK
from eldercare.embedded import EmbeddedBroker, free_port
from tests.waiting import patience


@pytest.fixture
def broker(database_url: str) -> Iterator[EmbeddedBroker]:
    embedded = EmbeddedBroker(port=free_port(), database_url=database_url)
    embedded.start()
    try:
        yield embedded
    finally:
        embedded.stop()


def connack(broker: EmbeddedBroker, username: str | None, password: str | None = None) -> Any:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"t-{username}-{password}"[:60])
    if username is not None:
        client.username_pw_set(username, password)
    answers: list[Any] = []
    answered = threading.Event()

    def on_connect(c: mqtt.Client, u: Any, f: Any, reason: Any, p: Any) -> None:
        answers.append(reason)
        answered.set()

    client.on_connect = on_connect
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        assert answered.wait(patience(10)), "no CONNACK from the embedded broker"
    finally:
        client.loop_stop()
        client.disconnect()
    return answers[0]


def test_a_device_gets_in_with_its_secret_until_revoked_or_unbound(database_url: str, broker: EmbeddedBroker) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute(
            """
            INSERT INTO township (code, name, lat, lon) VALUES ('T1', '蒲圻街道', 29.7, 113.9);
            INSERT INTO community (township_id, code, name, lat, lon) VALUES (1, 'C1', '金鸡山社区', 29.7, 113.9);
            INSERT INTO elder (code, name, gender, birth_date, community_id, address, lat, lon)
                VALUES ('E1', '王秀英', 'F', '1940-05-01', 1, '金鸡路1号', 29.71, 113.89);
            """
        )
        _, watch = register.enrol(conn, register.Enrolment("watch", "W-1", elder_id=1), "admin", SYSTEM_CLOCK.now())
        _, door = register.enrol(conn, register.Enrolment("door", "D-1", elder_id=1), "admin", SYSTEM_CLOCK.now())

    assert not connack(broker, "W-1", watch.secret).is_failure
    assert connack(broker, "W-1", watch.secret + "x").is_failure
    assert connack(broker, "W-1", door.secret).is_failure
    assert not connack(broker, None).is_failure  # the development broker still admits the anonymous platform

    with psycopg.connect(database_url) as conn:
        register.revoke(conn, "W-1", "admin", SYSTEM_CLOCK.now())
        register.unbind(conn, "D-1", "admin", SYSTEM_CLOCK.now())
    assert connack(broker, "W-1", watch.secret).is_failure  # no restart: the next login reads the register
    assert connack(broker, "D-1", door.secret).is_failure
    with psycopg.connect(database_url) as conn:
        again = register.rotate(conn, "W-1", "admin", SYSTEM_CLOCK.now())
    assert not connack(broker, "W-1", again.secret).is_failure
