"""The gateway as a component: on the embedded broker, with its metrics, and as `eldercare gateway`."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from eldercare.embedded import free_port
from gateway import Gateway, GatewaySettings
from simulators.fleet import Fleet
from tests.gateway.running import City, scalar
from tests.services import AmqttBroker, Mosquitto
from tests.waiting import patience, wait_until


def test_on_the_embedded_broker_the_gateway_subscribes_without_a_shared_group(
    city: City, gateways: Callable[..., Gateway], fleets: Callable[..., Fleet]
) -> None:
    broker = AmqttBroker()
    try:
        gateway = gateways(city.database_url, broker.url, embedded=True, shared_group="gateway")
        assert gateway.shared_group is None
        fleet = fleets(city, broker.url, city.devices[:3])
        fleet.stream(100, messages=30)
        assert fleet.wait(patience(10)) and fleet.wait_acknowledged(patience(10))
        assert wait_until(lambda: scalar(city.database_url, "SELECT count(*) FROM reading") == 30)
        fleet.send_event(city.devices[0].id, "sos")
        assert fleet.wait_for_command(city.devices[0].id, "alarm_received", timeout=patience(10)) is not None
    finally:
        broker.stop()


def test_metrics_are_served_for_prometheus(
    city: City, mosquitto: Mosquitto, gateways: Callable[..., Gateway], fleets: Callable[..., Fleet]
) -> None:
    port = free_port()
    gateways(city.database_url, mosquitto.url, metrics_port=port, metrics_host="127.0.0.1")
    fleet = fleets(city, mosquitto.url, city.devices[:2])
    fleet.send_telemetry(city.devices[0].id, samples=4)
    fleet.publish_raw(city.devices[0].id, "eldercare/v1/devices/zzz999/telemetry", b"{}")
    assert wait_until(lambda: scalar(city.database_url, "SELECT count(*) FROM dead_letter") == 1)
    text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    for name in (
        'eldercare_gateway_messages_received_total{channel="telemetry"}',
        'eldercare_gateway_messages_rejected_total{reason="wrong_type"}',
        "eldercare_gateway_readings_stored_total",
        "eldercare_gateway_batch_size_bucket",
        "eldercare_gateway_commit_seconds_bucket",
        "eldercare_gateway_buffer_depth",
    ):
        assert name in text, name


def test_a_client_id_that_a_device_could_have_is_refused() -> None:
    with pytest.raises(ValueError, match="could be a device's id"):
        GatewaySettings(client_id="gateway-1")
    assert "." in GatewaySettings().client_id
