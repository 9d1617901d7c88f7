from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices import (
    DEFAULT_LIMITS,
    DEVICE_TYPES,
    Channel,
    DeviceStatus,
    Event,
    EventType,
    Limits,
    Presence,
    ProvisionedDevice,
    Reason,
    Rejected,
    Telemetry,
    decode,
    encode,
    epoch_ms,
    refuses_event,
    topic,
)
from simulators.device import SimulatedDevice

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
MS = epoch_ms(NOW)
TELEMETRY = topic("wch000001", "telemetry")


def _reason(where: str, payload: bytes | dict[str, object], limits: Limits = DEFAULT_LIMITS) -> Reason:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    with pytest.raises(Rejected) as caught:
        decode(where, raw, NOW, limits)
    return caught.value.reason


def test_single_and_batched_telemetry_decode_to_readings_in_utc() -> None:
    message = decode(TELEMETRY, b'{"ts": "2026-05-01T15:59:59+08:00", "seq": 7, "hr": 70, "battery": 80}', NOW)
    assert message.device_id == "wch000001" and message.channel is Channel.TELEMETRY and message.seq == 7
    ((when, sample),) = message.readings
    assert when == NOW - timedelta(seconds=1) and when.tzinfo is UTC and sample.hr == 70
    batched = decode(
        TELEMETRY,
        json.dumps({"ts": MS, "seq": 8, "samples": [{"ts": MS - 1000, "spo2": 97}, {"ts": MS, "hr": 71}]}).encode(),
        NOW,
    )
    assert [(w, s.spo2, s.hr) for w, s in batched.readings] == [(NOW - timedelta(seconds=1), 97, None), (NOW, None, 71)]
    heartbeat = decode(TELEMETRY, json.dumps({"ts": MS, "seq": 9}).encode(), NOW)
    assert heartbeat.readings == ()


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{", Reason.MALFORMED_JSON),
        (b"\xff", Reason.MALFORMED_JSON),
        (b'{"ts": %d, "seq": 1, "x": %s%s}' % (MS, b"[" * 5000, b"]" * 5000), Reason.TOO_DEEP),
        ({"ts": MS}, Reason.WRONG_TYPE),
        ({"ts": MS, "seq": "1"}, Reason.WRONG_TYPE),
        ({"ts": "2026-05-01T08:00:00", "seq": 1}, Reason.WRONG_TYPE),  # no time zone
        ({"ts": MS, "seq": 1, "hr": 70.5}, Reason.WRONG_TYPE),
        ({"ts": MS, "seq": -1}, Reason.OUT_OF_RANGE),
        ({"ts": MS, "seq": 1, "spo2": 101}, Reason.OUT_OF_RANGE),
        ({"ts": MS, "seq": 1, "temp": 29.9}, Reason.OUT_OF_RANGE),
        ({"ts": MS, "seq": 1, "device_id": "wch000002"}, Reason.TOPIC_MISMATCH),
        ({"ts": MS + 301_000, "seq": 1}, Reason.FUTURE_TIMESTAMP),
        ({"ts": MS, "seq": 1, "samples": [{"ts": MS + 301_000, "hr": 70}]}, Reason.FUTURE_TIMESTAMP),
        ({"ts": MS - 31 * 86_400_000, "seq": 1}, Reason.STALE_TIMESTAMP),
        ({"ts": 10**30, "seq": 1}, Reason.FUTURE_TIMESTAMP),
        ({"ts": MS, "seq": 1, "samples": [{"ts": MS - i} for i in range(601)]}, Reason.OVERSIZE),
    ],
)
def test_telemetry_rejections_carry_their_reason(payload: bytes | dict[str, object], reason: Reason) -> None:
    assert _reason(TELEMETRY, payload) is reason


def test_other_rejections() -> None:
    assert _reason(topic("wch000001", "event"), {"ts": MS, "seq": 1, "type": "party"}) is Reason.UNKNOWN_EVENT
    assert _reason(topic("wch000001", "status"), {"ts": MS, "seq": 1, "state": "asleep"}) is Reason.WRONG_TYPE
    assert _reason(topic("wch000001", "cmd"), {"ts": MS, "type": "x"}) is Reason.BAD_TOPIC
    assert _reason("eldercare/v1/devices/wch000001/telemetry/x", {"ts": MS, "seq": 1}) is Reason.BAD_TOPIC
    big = {"ts": MS, "seq": 1, "pad": "x" * 300}
    assert _reason(TELEMETRY, big, Limits(max_payload=256)) is Reason.OVERSIZE


def test_a_last_will_set_long_ago_is_still_accepted() -> None:
    """A Will carries the time it was set (at connect); the device may have been connected for months."""
    will = encode(DeviceStatus(ts=MS - 90 * 86_400_000, seq=3, state=Presence.OFFLINE))
    assert decode(topic("wch000001", "status"), will, NOW).body.state is Presence.OFFLINE  # type: ignore[union-attr]


@settings(max_examples=60, deadline=None)
@given(
    device_type=st.sampled_from(sorted(DEVICE_TYPES)),
    samples=st.integers(min_value=1, max_value=20),
    seed=st.integers(min_value=0, max_value=2**32),
    overrides=st.fixed_dictionaries(
        {},
        optional={
            "hr": st.integers(20, 250),
            "spo2": st.integers(50, 100),
            "temp": st.floats(30, 45),
            "lat": st.floats(-90, 90),
            "battery": st.integers(0, 100),
        },
    ),
)
def test_whatever_the_simulator_sends_the_contract_accepts(
    device_type: str, samples: int, seed: int, overrides: dict[str, Any]
) -> None:
    device = SimulatedDevice(ProvisionedDevice("dev000001", device_type, 1, "s"), random.Random(seed), None, 1000)
    telemetry = device.telemetry(NOW, samples, **overrides)
    message = decode(topic(device.id, "telemetry"), encode(telemetry), NOW)
    assert len(message.readings) == samples and isinstance(message.body, Telemetry)
    for kind in DEVICE_TYPES[device_type].events:
        event = decode(topic(device.id, "event"), encode(device.event(NOW, kind)), NOW)
        assert isinstance(event.body, Event) and event.body.type is kind
    for state in Presence:
        assert decode(topic(device.id, "status"), encode(device.status(NOW, state)), NOW).body.state is state  # type: ignore[union-attr]


def test_a_visit_press_is_an_event_of_the_elders_button() -> None:
    press = decode(
        topic("but000001", "event"),
        json.dumps({"ts": "2026-05-01T16:00:00+08:00", "seq": 3, "type": "visit"}).encode(),
        NOW,
    )
    assert press.body.type is EventType.VISIT  # type: ignore[union-attr]
    assert refuses_event("button", EventType.VISIT) is None
    assert refuses_event("smoke", EventType.VISIT) is not None
