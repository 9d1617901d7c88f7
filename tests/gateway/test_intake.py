"""The MQTT side on its own: acknowledging only on the connection that delivered."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import REGISTRY

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


class _Reason:
    def __init__(self, failure: bool) -> None:
        self.is_failure = failure

    def __str__(self) -> str:
        return "Not authorized" if self.is_failure else "Granted QoS 1"


class _Flags:
    session_present = False


class _Client:
    """Stands in for paho's client on the network thread: a SUBSCRIBE returns its packet id."""

    def __init__(self) -> None:
        self.mid = 41

    def subscribe(self, topics: object) -> tuple[int, int]:
        self.mid += 1
        return 0, self.mid


def _gauges() -> tuple[float | None, float | None]:
    """The gateway's broker gauges as Prometheus reads them: connected, subscribed."""
    return (
        REGISTRY.get_sample_value("eldercare_gateway_broker_connected"),
        REGISTRY.get_sample_value("eldercare_gateway_broker_subscribed"),
    )


def test_the_gateway_is_subscribed_only_once_the_broker_acknowledged_the_subscription_of_this_connection() -> None:
    intake = Intake(BrokerAddress.parse("mqtt://127.0.0.1:1"), "gw-unit", ["devices/#"], lambda d: None, SYSTEM_CLOCK)
    client, ok = _Client(), _Reason(False)
    intake._on_connect(client, None, _Flags(), _Reason(False), None)  # type: ignore[arg-type]
    assert intake.connected.is_set() and not intake.subscribed.is_set()  # CONNACK: the SUBSCRIBE is on its way
    assert _gauges() == (1, 0)
    intake._on_subscribe(client, None, client.mid - 1, [ok], None)  # type: ignore[arg-type]
    assert not intake.subscribed.is_set()  # a SUBACK of an earlier connection's SUBSCRIBE
    intake._on_subscribe(client, None, client.mid, [_Reason(True)], None)  # type: ignore[arg-type]
    assert not intake.subscribed.is_set()  # refused by the broker's ACL: connected, and nothing reaches it
    assert _gauges() == (1, 0)
    intake._on_connect(client, None, _Flags(), _Reason(False), None)  # type: ignore[arg-type]
    intake._on_subscribe(client, None, client.mid, [ok], None)  # type: ignore[arg-type]
    assert intake.subscribed.is_set()
    assert _gauges() == (1, 1)
    intake._running = False
    intake._on_disconnect(client, None, None, _Reason(False), None)  # type: ignore[arg-type]
    assert not intake.subscribed.is_set() and not intake.connected.is_set()
    assert _gauges() == (0, 0)
