"""The MQTT side on its own: reading ahead, and acknowledging only on the connection that delivered."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest

from eldercare.clock import SYSTEM_CLOCK
from eldercare.mqtt import BrokerAddress
from gateway.intake import Delivery, Intake, _ReadAhead


def test_read_ahead_serves_small_reads_from_one_large_one() -> None:
    left, right = socket.socketpair()
    left.setblocking(False)
    reader = _ReadAhead(left)
    right.sendall(b"\x30\x05hello\x30\x05world")
    assert reader.recv(1) == b"\x30"
    assert reader.pending() == 13  # the rest came with the first read
    assert reader.recv(1) == b"\x05" and reader.recv(5) == b"hello"
    assert reader.recv(100) == b"\x30\x05world"  # never more than what is buffered
    assert reader.pending() == 0
    with pytest.raises(BlockingIOError):
        reader.recv(1)
    right.close()
    assert reader.recv(1) == b""  # the end of the connection passes through
    reader.close()


def test_acknowledgements_go_only_to_the_connection_that_delivered() -> None:
    intake = Intake(BrokerAddress.parse("mqtt://127.0.0.1:1"), "gw-unit", [], lambda d: None, SYSTEM_CLOCK)
    now = datetime.now(UTC)
    current = intake._generation
    deliveries = [
        Delivery("t", b"", 1, 1, False, now, current),
        Delivery("t", b"", 2, 0, False, now, current),  # QoS 0: nothing to acknowledge
        Delivery("t", b"", 3, 1, False, now, current - 1),  # an earlier connection: the broker redelivers it
    ]
    assert intake.ack(deliveries) == 1
