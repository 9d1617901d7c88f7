"""MQTT topic names of the device contract: ``eldercare/v1/devices/{device_id}/{channel}``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

ROOT = "eldercare/v1/devices"
# The same rule as the CHECK on device.id, so that a topic can only name an id the registry could hold.
DEVICE_ID = re.compile(r"[A-Za-z0-9_-]{3,64}")


class Channel(StrEnum):
    TELEMETRY = "telemetry"
    EVENT = "event"
    STATUS = "status"
    CMD = "cmd"  # from the platform to the device


# What devices publish, and so what the gateway subscribes to.
DEVICE_CHANNELS = (Channel.TELEMETRY, Channel.EVENT, Channel.STATUS)
_CHANNELS = {c.value: c for c in Channel}


class TopicError(ValueError):
    """A topic outside the contract."""


@dataclass(frozen=True, slots=True)
class Topic:
    device_id: str
    channel: Channel

    def __str__(self) -> str:
        return topic(self.device_id, self.channel)


def topic(device_id: str, channel: Channel | str) -> str:
    """The topic a device (or the platform, for ``cmd``) publishes on."""
    if not DEVICE_ID.fullmatch(device_id):
        raise TopicError(f"device id {device_id!r} is not 3-64 letters, digits, '_' or '-'")
    return f"{ROOT}/{device_id}/{Channel(channel).value}"


def parse(name: str) -> Topic:
    """The device and channel a topic names; TopicError when it is not one of ours."""
    prefix, _, rest = name.rpartition("/")
    device_id = prefix[len(ROOT) + 1 :]
    if not prefix.startswith(ROOT + "/") or "/" in device_id:
        raise TopicError(f"topic {name[:120]!r} is not {ROOT}/<device id>/<channel>")
    channel = _CHANNELS.get(rest)
    if channel is None:
        raise TopicError(f"topic {name[:120]!r} names no channel of the contract ({', '.join(_CHANNELS)})")
    if not DEVICE_ID.fullmatch(device_id):
        raise TopicError(f"topic {name[:120]!r} names an invalid device id")
    return Topic(device_id, channel)


def subscriptions(shared_group: str | None = None) -> list[str]:
    """The filters for every device's uplink channels, through ``$share/<group>/`` when a group is given."""
    filters = [f"{ROOT}/+/{channel.value}" for channel in DEVICE_CHANNELS]
    if shared_group:
        if not re.fullmatch(r"[A-Za-z0-9_-]+", shared_group):
            raise ValueError(f"shared subscription group {shared_group!r} must be letters, digits, '_' or '-'")
        filters = [f"$share/{shared_group}/{f}" for f in filters]
    return filters
