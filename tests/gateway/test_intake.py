"""The MQTT side on its own: acknowledging only on the connection that delivered."""

from __future__ import annotations

from datetime import UTC, datetime

from eldercare.clock import SYSTEM_CLOCK
from eldercare.mqtt import BrokerAddress
from gateway.intake import Delivery, Intake


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
