"""The amqtt mend: the internals it relies on are still there, and a resuming client gets only its own retained."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest

from eldercare.amqtt_mend import PIN, internals_changed
from eldercare.embedded import EmbeddedBroker, free_port, quiet_library_loggers
from eldercare.mqtt import BrokerAddress
from tests.waiting import subscribe_acknowledged, wait_until


def test_the_amqtt_internals_the_mend_relies_on_are_unchanged() -> None:
    problems = internals_changed()
    assert not problems, f"amqtt changed under eldercare/amqtt_mend.py: {problems}; revisit the pin {PIN}"


@pytest.fixture
def broker() -> Iterator[BrokerAddress]:
    embedded = EmbeddedBroker(port=free_port())
    embedded.start()
    try:
        yield BrokerAddress.parse(embedded.url)
    finally:
        embedded.stop()


class Client:
    def __init__(self, address: BrokerAddress, client_id: str, *, clean: bool = True) -> None:
        self.got: list[str] = []
        self.client = address.client(client_id, clean_session=clean)
        self.client.on_message = lambda c, u, m: self.got.append(m.topic)
        connected = threading.Event()
        self.client.on_connect = lambda *args: connected.set()
        self.client.connect(address.host, address.port)
        self.client.loop_start()
        assert wait_until(connected.is_set, timeout=10), f"{client_id} did not connect"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_a_resuming_client_gets_the_retained_messages_of_its_own_subscriptions_only(broker: BrokerAddress) -> None:
    resuming = Client(broker, "resuming", clean=False)
    subscribe_acknowledged(resuming.client, "mine/#")
    resuming.close()
    other = Client(broker, "other")
    subscribe_acknowledged(other.client, "theirs/#")
    for where in ("mine/1", "theirs/1"):
        other.client.publish(where, b"x", qos=1, retain=True).wait_for_publish(10)
    assert wait_until(lambda: other.got == ["theirs/1"], timeout=10)
    again = Client(broker, "resuming", clean=False)
    try:
        # a marker on its own topic, published after it is back: what the resumed session gets comes first
        other.client.publish("mine/marker", b"m", qos=1).wait_for_publish(10)
        assert wait_until(lambda: "mine/marker" in again.got, timeout=10)
        assert "theirs/1" not in again.got, f"{again.got}: another client's retained message; see {PIN}"
    finally:
        again.close()
        other.close()


def test_a_slow_acknowledgement_is_one_warning_line_not_a_traceback(caplog: pytest.LogCaptureFixture) -> None:
    quiet_library_loggers()
    try:
        raise TimeoutError("Timeout waiting for PUBACK for packet ID 206")
    except TimeoutError:
        logging.getLogger("amqtt.broker").exception("Task failed and will be skipped: <Task ...>")
    [record] = [r for r in caplog.records if r.name == "amqtt.broker"]
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert "Traceback" not in caplog.text and "PUBACK" in caplog.text
