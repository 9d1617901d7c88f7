"""The device contract: device types, MQTT topics, payload schemas, metric ranges, decoding and rejections.

One place, imported by the gateway (which checks what devices send) and the simulators (which send it), so
that the simulators double as a test of the contract.
"""

from devices.decoding import DEFAULT_LIMITS, Decoder, Limits, Message, Reason, Rejected, decode
from devices.manifest import ManifestError, ProvisionedDevice, load_devices
from devices.metrics import METRIC_RANGES, METRICS, MetricRange
from devices.payloads import (
    MAX_SAMPLES,
    Command,
    CommandType,
    DeviceStatus,
    Event,
    Presence,
    Sample,
    Telemetry,
    command_decoder,
    encode,
    epoch_ms,
)
from devices.topics import DEVICE_CHANNELS, ROOT, Channel, Topic, TopicError, parse, subscriptions, topic
from devices.types import ANSWERED, DEVICE_TYPES, DeviceType, EventType, refuses_event

__all__ = [
    "ANSWERED",
    "DEFAULT_LIMITS",
    "DEVICE_CHANNELS",
    "DEVICE_TYPES",
    "MAX_SAMPLES",
    "METRICS",
    "METRIC_RANGES",
    "ROOT",
    "Channel",
    "Command",
    "CommandType",
    "Decoder",
    "DeviceStatus",
    "DeviceType",
    "Event",
    "EventType",
    "Limits",
    "ManifestError",
    "Message",
    "MetricRange",
    "Presence",
    "ProvisionedDevice",
    "Reason",
    "Rejected",
    "Sample",
    "Telemetry",
    "Topic",
    "TopicError",
    "command_decoder",
    "decode",
    "encode",
    "epoch_ms",
    "load_devices",
    "parse",
    "refuses_event",
    "subscriptions",
    "topic",
]
