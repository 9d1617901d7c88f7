from __future__ import annotations

import pytest

from devices import Channel, TopicError, parse, subscriptions, topic


def test_topics_are_built_and_parsed_back() -> None:
    name = topic("wch000001", Channel.TELEMETRY)
    assert name == "eldercare/v1/devices/wch000001/telemetry"
    where = parse(name)
    assert (where.device_id, where.channel) == ("wch000001", Channel.TELEMETRY)
    assert str(where) == name
    assert parse(topic("btn-01_x", "cmd")).channel is Channel.CMD


@pytest.mark.parametrize(
    "name",
    [
        "eldercare/v1/devices/wch000001/telemetry/extra",
        "eldercare/v1/devices/wch000001/heartbeat",
        "eldercare/v2/devices/wch000001/telemetry",
        "eldercare/v1/devices/x/telemetry",  # too short for a device id
        "eldercare/v1/devices/a b c/telemetry",
        "eldercare/v1/devices//telemetry",
        "",
    ],
)
def test_topics_outside_the_contract_are_refused(name: str) -> None:
    with pytest.raises(TopicError):
        parse(name)


def test_an_invalid_device_id_makes_no_topic() -> None:
    with pytest.raises(TopicError):
        topic("wch/01", "telemetry")


def test_subscriptions_cover_the_uplink_channels_plain_or_shared() -> None:
    assert subscriptions() == [
        "eldercare/v1/devices/+/telemetry",
        "eldercare/v1/devices/+/event",
        "eldercare/v1/devices/+/status",
    ]
    assert subscriptions("gateway")[0] == "$share/gateway/eldercare/v1/devices/+/telemetry"
    with pytest.raises(ValueError):
        subscriptions("a/b")
