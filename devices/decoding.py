"""Checking one uplink message against the contract: a decoded message, or a rejection with a short reason."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import msgspec

from devices.payloads import DECODERS, EPOCH, DeviceStatus, Event, Sample, Telemetry
from devices.topics import Channel, Topic, TopicError, parse


class Reason(StrEnum):
    """Why a message was rejected: the ``dead_letter.reason`` codes of MQTT input."""

    MALFORMED_JSON = "malformed_json"  # not JSON, not UTF-8, or truncated
    TOO_DEEP = "too_deep"  # JSON nested deeper than any message of the contract
    WRONG_TYPE = "wrong_type"  # JSON, but not the schema: a missing field, a string for a number, ...
    OUT_OF_RANGE = "out_of_range"  # a value outside its metric's range
    UNKNOWN_EVENT = "unknown_event"  # an event type the contract does not know
    UNSUPPORTED_EVENT = "unsupported_event"  # a known event type that the device's type cannot raise
    BAD_TOPIC = "bad_topic"  # a topic outside eldercare/v1/devices/<id>/<channel>
    TOPIC_MISMATCH = "topic_mismatch"  # the payload claims another device than its topic
    UNKNOWN_DEVICE = "unknown_device"  # the topic names no registered device
    INACTIVE_DEVICE = "inactive_device"  # the device (or its elder) is deactivated
    UNBOUND_DEVICE = "unbound_device"  # the device is registered but bound to no elder (never, or no longer)
    FUTURE_TIMESTAMP = "future_timestamp"  # ts too far ahead of the time received
    STALE_TIMESTAMP = "stale_timestamp"  # ts older than the platform accepts
    OVERSIZE = "oversize"  # payload bytes or samples over the limit
    CONFLICTING_DUPLICATE = "conflicting_duplicate"  # the seq and ts of a stored message, with other content
    STORAGE_REJECTED = "storage_rejected"  # the database refused it (a constraint the decoder missed)
    INTERNAL_ERROR = "internal_error"  # the gateway failed on it; the detail says how


class Rejected(Exception):
    """A message that breaks the contract; ``device_id`` is the device it claims to be from, if any."""

    def __init__(self, reason: Reason, detail: str, device_id: str | None = None) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail
        self.device_id = device_id


@dataclass(frozen=True, slots=True)
class Limits:
    """How large and how far off in time a message may be."""

    max_payload: int = 64 * 1024
    max_skew: timedelta = timedelta(minutes=5)  # device clocks run ahead by at most this
    max_age: timedelta = timedelta(days=30)  # devices that were out of reach upload what they buffered


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class Message:
    """A valid uplink message; ``readings`` are the telemetry's (time, values) pairs, in UTC."""

    device_id: str
    channel: Channel
    seq: int
    ts: datetime
    body: Telemetry | Event | DeviceStatus
    readings: tuple[tuple[datetime, Sample], ...] = ()


_RANGE_ERROR = re.compile(r"Expected `\w+` (?:<=|>=|<|>) ")
_LENGTH_ERROR = re.compile(r"Expected `array` of length <=")


def _classify(error: msgspec.ValidationError, channel: Channel) -> Reason:
    text = str(error)
    if _LENGTH_ERROR.search(text):
        return Reason.OVERSIZE
    if _RANGE_ERROR.search(text):
        return Reason.OUT_OF_RANGE
    if channel is Channel.EVENT and text.startswith("Invalid enum value") and text.endswith("`$.type`"):
        return Reason.UNKNOWN_EVENT
    return Reason.WRONG_TYPE


class _Window:
    """The accepted range of device times for a message received at ``received_at``."""

    __slots__ = ("earliest", "earliest_ms", "latest", "latest_ms")

    def __init__(self, received_at: datetime, limits: Limits) -> None:
        self.earliest = received_at - limits.max_age
        self.latest = received_at + limits.max_skew
        self.earliest_ms = (self.earliest - EPOCH) // timedelta(milliseconds=1)
        self.latest_ms = (self.latest - EPOCH) // timedelta(milliseconds=1)

    def check(self, ts: int | datetime, device_id: str, *, any_past: bool = False) -> datetime:
        if isinstance(ts, int):
            if ts > self.latest_ms:
                raise Rejected(Reason.FUTURE_TIMESTAMP, f"ts {ts} is after {self.latest.isoformat()}", device_id)
            if ts < self.earliest_ms and not any_past:
                raise Rejected(Reason.STALE_TIMESTAMP, f"ts {ts} is before {self.earliest.isoformat()}", device_id)
            return EPOCH + timedelta(milliseconds=ts)
        when = ts.astimezone(UTC)
        if when > self.latest:
            raise Rejected(
                Reason.FUTURE_TIMESTAMP, f"ts {when.isoformat()} is after {self.latest.isoformat()}", device_id
            )
        if when < self.earliest and not any_past:
            raise Rejected(
                Reason.STALE_TIMESTAMP, f"ts {when.isoformat()} is before {self.earliest.isoformat()}", device_id
            )
        return when


class Decoder:
    """Checks messages against the contract; the accepted time window is worked out once a second."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self._window: _Window | None = None
        self._window_until = EPOCH
        self._topics: dict[str, Topic] = {}  # a fleet uses a few topics per device, over and over

    def _topic(self, name: str) -> Topic:
        where = self._topics.get(name)
        if where is None:
            where = parse(name)  # TopicError is not cached: bad topics stay rare and cost a parse each
            if len(self._topics) >= 200_000:
                self._topics.clear()
            self._topics[name] = where
        return where

    def _window_for(self, received_at: datetime) -> _Window:
        if self._window is None or not (self._window_until - _SECOND <= received_at < self._window_until):
            self._window = _Window(received_at, self.limits)
            self._window_until = received_at + _SECOND
        return self._window

    def decode(self, topic: str, payload: bytes, received_at: datetime) -> Message:
        """Check one message; raises Rejected with the reason when it breaks the contract."""
        try:
            where = self._topic(topic)
        except TopicError as err:
            raise Rejected(Reason.BAD_TOPIC, str(err)) from None
        device_id = where.device_id
        if where.channel is Channel.CMD:
            raise Rejected(Reason.BAD_TOPIC, "cmd is the platform's channel to devices, not an uplink", device_id)
        if len(payload) > self.limits.max_payload:
            size, limit = len(payload), self.limits.max_payload
            raise Rejected(Reason.OVERSIZE, f"{size} bytes, at most {limit} accepted", device_id)
        try:
            body = DECODERS[where.channel].decode(payload)
        except msgspec.ValidationError as err:
            raise Rejected(_classify(err, where.channel), str(err), device_id) from None
        except msgspec.DecodeError as err:
            raise Rejected(Reason.MALFORMED_JSON, str(err), device_id) from None
        except RecursionError:
            # msgspec stops at its nesting limit; no message of the contract nests more than three levels
            raise Rejected(
                Reason.TOO_DEEP, "JSON nested too deeply; messages nest at most three levels", device_id
            ) from None
        if body.device_id is not None and body.device_id != device_id:
            claimed = body.device_id[:64]
            raise Rejected(
                Reason.TOPIC_MISMATCH, f"payload claims device {claimed!r}, topic says {device_id!r}", device_id
            )
        window = self._window_for(received_at)
        # A Last Will carries the time it was set, at connect, however long ago that was.
        ts = window.check(body.ts, device_id, any_past=isinstance(body, DeviceStatus))
        readings: tuple[tuple[datetime, Sample], ...] = ()
        if isinstance(body, Telemetry):
            pairs: list[tuple[datetime, Sample]] = [(ts, body)] if body.has_metrics() else []
            if body.samples:
                for sample in body.samples:
                    when = window.check(sample.ts, device_id)
                    if sample.has_metrics():
                        pairs.append((when, sample))
                if len({when for when, _ in pairs}) < len(pairs):
                    # (device, ts, seq) names a reading; two at one time in one message would silently become one
                    raise Rejected(Reason.WRONG_TYPE, "two readings of the message have the same ts", device_id)
            readings = tuple(pairs)
        return Message(device_id, where.channel, body.seq, ts, body, readings)


_SECOND = timedelta(seconds=1)


def decode(topic: str, payload: bytes, received_at: datetime, limits: Limits = DEFAULT_LIMITS) -> Message:
    """Check one message against the contract; raises Rejected with the reason when it breaks it."""
    return Decoder(limits).decode(topic, payload, received_at)
