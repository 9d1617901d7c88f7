"""Payload schemas of the device contract, as msgspec structs: one compiled decoder per channel.

Every uplink message is a JSON object with ``ts`` (epoch milliseconds, or RFC 3339 with a time zone) and
``seq`` (the device's increasing counter; with the device id it names the message). A payload may claim
a ``device_id``; when it does, it must be the topic's. Unknown fields are ignored, so devices may add
fields before the platform knows them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated

import msgspec
from msgspec import Meta

from devices.metrics import METRIC_RANGES as R
from devices.types import EventType

MAX_SAMPLES = 600  # ten minutes at one sample a second

Timestamp = Annotated[int, Meta(ge=0)] | Annotated[datetime, Meta(tz=True)]
# A device's message counter. It starts again after a reset, so a delivery is (device, seq, ts), not (device, seq).
Seq = Annotated[int, Meta(ge=0, le=2**63 - 1)]
DeviceIdClaim = Annotated[str, Meta(max_length=64)]
Hr = Annotated[int, Meta(ge=R["hr"].low, le=R["hr"].high)]
Spo2 = Annotated[int, Meta(ge=R["spo2"].low, le=R["spo2"].high)]
Sbp = Annotated[int, Meta(ge=R["sbp"].low, le=R["sbp"].high)]
Dbp = Annotated[int, Meta(ge=R["dbp"].low, le=R["dbp"].high)]
Temp = Annotated[float, Meta(ge=R["temp"].low, le=R["temp"].high)]
Steps = Annotated[int, Meta(ge=R["steps"].low, le=R["steps"].high)]
Lat = Annotated[float, Meta(ge=R["lat"].low, le=R["lat"].high)]
Lon = Annotated[float, Meta(ge=R["lon"].low, le=R["lon"].high)]
Battery = Annotated[int, Meta(ge=R["battery"].low, le=R["battery"].high)]


class Sample(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One reading at one time: any subset of the metrics."""

    ts: Timestamp
    hr: Hr | None = None
    spo2: Spo2 | None = None
    sbp: Sbp | None = None
    dbp: Dbp | None = None
    temp: Temp | None = None
    steps: Steps | None = None
    lat: Lat | None = None
    lon: Lon | None = None
    battery: Battery | None = None

    def has_metrics(self) -> bool:
        # spelled out: this runs for every reading the gateway receives
        return not (
            self.hr is None
            and self.spo2 is None
            and self.sbp is None
            and self.dbp is None
            and self.temp is None
            and self.steps is None
            and self.lat is None
            and self.lon is None
            and self.battery is None
        )


class Telemetry(Sample, kw_only=True, omit_defaults=True):
    """The ``telemetry`` channel: metrics at ``ts``, and/or a batch of ``samples`` each with its own ``ts``."""

    seq: Seq
    device_id: DeviceIdClaim | None = None
    samples: Annotated[list[Sample], Meta(max_length=MAX_SAMPLES)] | None = None


class Event(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The ``event`` channel: something happened (sos, fall, smoke, ...), perhaps somewhere."""

    ts: Timestamp
    seq: Seq
    type: EventType
    device_id: DeviceIdClaim | None = None
    lat: Lat | None = None
    lon: Lon | None = None


class Presence(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class DeviceStatus(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The ``status`` channel, retained: ``online`` on connect, ``offline`` as the Last Will."""

    ts: Timestamp
    seq: Seq
    state: Presence
    device_id: DeviceIdClaim | None = None
    battery: Battery | None = None
    firmware: Annotated[str, Meta(max_length=64)] | None = None


class CommandType(StrEnum):
    ALARM_RECEIVED = "alarm_received"
    HELP_COMING = "help_coming"
    HELP_ARRIVED = "help_arrived"
    ORDER_CANCELLED = "order_cancelled"
    VISIT_RECORDED = "visit_recorded"  # a press of the visit button, stored: the caregiver's visit shows


class Command(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The ``cmd`` channel, from the platform to a device; ``text`` is in the elder's language. An answer to an
    event (``alarm_received``, ``visit_recorded``) names it by its ``seq``: a device repeats an SOS or a fall until
    it hears that answer."""

    ts: Annotated[int, Meta(ge=0)]
    type: Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]{1,40}$")]
    text: Annotated[str, Meta(max_length=500)] = ""
    alarm_id: int | None = None
    order_code: str | None = None
    eta_min: Annotated[int, Meta(ge=0)] | None = None
    seq: Seq | None = None


Uplink = Telemetry | Event | DeviceStatus

DECODERS: dict[
    str, msgspec.json.Decoder[Telemetry] | msgspec.json.Decoder[Event] | msgspec.json.Decoder[DeviceStatus]
] = {
    "telemetry": msgspec.json.Decoder(Telemetry),
    "event": msgspec.json.Decoder(Event),
    "status": msgspec.json.Decoder(DeviceStatus),
}
command_decoder = msgspec.json.Decoder(Command)
_encoder = msgspec.json.Encoder()


def encode(message: Uplink | Command) -> bytes:
    """The JSON bytes of a message, leaving out fields that are not set."""
    return _encoder.encode(message)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_ms(when: datetime) -> int:
    """A timezone-aware time as the contract's epoch milliseconds."""
    return (when - EPOCH) // timedelta(milliseconds=1)
