"""The kinds of device an elder may have, and what each one reports."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class EventType(StrEnum):
    """What a device may report on its ``event`` channel."""

    SOS = "sos"
    FALL = "fall"
    SMOKE = "smoke"
    GAS = "gas"
    GEOFENCE_EXIT = "geofence_exit"
    DOOR = "door"  # the door was opened
    NO_MOTION = "no_motion"
    BED_EXIT = "bed_exit"
    # a press of the elder's own button to confirm that a caregiver is there (visit verification)
    VISIT = "visit"


# The events the platform answers with ``alarm_received`` (naming their seq), and which a device therefore repeats,
# seq and ts unchanged, until it hears that answer.
ANSWERED = frozenset({EventType.SOS, EventType.FALL})


@dataclass(frozen=True, slots=True)
class DeviceType:
    """A device type as the ``device_type`` table has it, with the metrics and events it produces."""

    code: str
    name_zh: str
    name_en: str
    metrics: frozenset[str]
    events: frozenset[EventType]
    wearable: bool = False


_ANY_SENSOR = frozenset({"battery"})
_LOCATED = frozenset({"battery", "lat", "lon", "steps"})
_VITALS = frozenset({"hr", "spo2", "sbp", "dbp", "temp"})
E = EventType

# The rows of migration 0001's device_type table; tests/devices/test_types.py keeps the two equal.
DEVICE_TYPES: dict[str, DeviceType] = {
    t.code: t
    for t in (
        DeviceType("button", "紧急呼叫按钮", "Emergency button", _ANY_SENSOR, frozenset({E.SOS, E.VISIT})),
        DeviceType("pendant", "定位胸牌", "Pendant", _LOCATED, frozenset({E.SOS, E.FALL, E.GEOFENCE_EXIT}), True),
        DeviceType(
            "watch", "健康手表", "Health watch", _LOCATED | _VITALS, frozenset({E.SOS, E.FALL, E.GEOFENCE_EXIT}), True
        ),
        DeviceType("fall_detector", "跌倒探测器", "Fall detector", _ANY_SENSOR, frozenset({E.FALL})),
        DeviceType("smoke", "烟雾报警器", "Smoke sensor", _ANY_SENSOR, frozenset({E.SMOKE})),
        DeviceType("gas", "燃气报警器", "Gas sensor", _ANY_SENSOR, frozenset({E.GAS})),
        DeviceType("door", "门磁", "Door sensor", _ANY_SENSOR, frozenset({E.DOOR})),
        DeviceType("bed", "床垫传感器", "Bed sensor", _ANY_SENSOR | {"hr"}, frozenset({E.BED_EXIT, E.NO_MOTION})),
    )
}


def refuses_event(type_code: str, event: EventType) -> str | None:
    """Why a device of ``type_code`` may not report ``event``, or None when its type's contract includes it."""
    kind = DEVICE_TYPES.get(type_code)
    if kind is None:
        return f"device type {type_code!r} is not in the contract (devices/types.py), so it reports no events"
    if event in kind.events:
        return None
    return f"a {type_code} device cannot report {event.value}; its type reports {', '.join(sorted(kind.events))}"
