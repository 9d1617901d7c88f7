"""The platform's shared words, one owner each: the codes the database's lookup rows and CHECK constraints
hold, as Python enums every component uses (tests/eldercare/test_vocabulary.py keeps the two equal)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class ServiceType(StrEnum):
    """六助一护, the rows of ``service_type`` in their sort order."""

    MEAL = "meal"
    CLEANING = "cleaning"
    BATHING = "bathing"
    MEDICAL = "medical"
    MOBILITY = "mobility"
    EMERGENCY = "emergency"
    CARE = "care"


class AlarmType(StrEnum):
    """The rows of ``alarm_type``."""

    SOS = "sos"
    FALL = "fall"
    SMOKE = "smoke"
    GAS = "gas"
    HR_HIGH = "hr_high"
    HR_LOW = "hr_low"
    SPO2_LOW = "spo2_low"
    BP_HIGH = "bp_high"
    BP_LOW = "bp_low"
    TEMP_HIGH = "temp_high"
    GEOFENCE_EXIT = "geofence_exit"
    DOOR_NIGHT = "door_night"
    NO_MOTION = "no_motion"
    BATTERY_LOW = "battery_low"
    DEVICE_OFFLINE = "device_offline"
    ORDER_ESCALATED = "order_escalated"
    RECTIFICATION_OVERDUE = "rectification_overdue"
    VISIT_UNFINISHED = "visit_unfinished"


# The alarms that get an emergency order, an offer and a word to the family at once.
EMERGENCY_ALARMS = (AlarmType.SOS, AlarmType.FALL, AlarmType.SMOKE, AlarmType.GAS)


class Severity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


class AlarmStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class AlarmOutcome(StrEnum):
    """How a resolved alarm turned out."""

    REAL_EMERGENCY = "real_emergency"
    FALSE_ALARM = "false_alarm"
    TEST = "test"
    DEVICE_FAULT = "device_fault"


class OrderStatus(StrEnum):
    CREATED = "created"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    EN_ROUTE = "en_route"
    ARRIVED = "arrived"
    COMPLETED = "completed"
    REVIEWED = "reviewed"
    ESCALATED = "escalated"
    CANCELLED = "cancelled"


# Orders a caregiver holds: accepted, set off for, arrived at; and an escalated one they accepted and have not
# reached (still theirs while the operators look; ``HELD_SQL``). They count against the caregiver's ``max_load`` and
# their provider's capacity, in the dispatcher and on the dashboard alike.
HELD = (OrderStatus.ACCEPTED, OrderStatus.EN_ROUTE, OrderStatus.ARRIVED)
# Orders that are over: nothing more happens to them but a review.
FINAL = (OrderStatus.COMPLETED, OrderStatus.REVIEWED, OrderStatus.CANCELLED)
# The others: orders still under way. Named by what they are, so that a query finds them by the index on the
# status (``status IN`` can use it, ``status NOT IN`` FINAL reads every order).
LIVE = tuple(s for s in OrderStatus if s not in FINAL)


class OfferStatus(StrEnum):
    PENDING = "pending"  # made, its SMS not sent yet
    SENT = "sent"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    FAILED = "failed"
    CANCELLED = "cancelled"


# An offer still waiting for its caregiver's answer.
LIVE_OFFER = (OfferStatus.PENDING, OfferStatus.SENT)


class Standing(StrEnum):
    """A provider's place on the red and black lists."""

    RED = "red"
    NORMAL = "normal"
    BLACK = "black"


class AbsenceKind(StrEnum):
    """Why a caregiver is away on dated days (``caregiver_absence.kind``)."""

    LEAVE = "leave"
    SICK = "sick"


class TravelMode(StrEnum):
    """How a caregiver gets to an elder (``caregiver.travel_mode``)."""

    WALK = "walk"
    EBIKE = "ebike"
    CAR = "car"


class InputSource(StrEnum):
    """Where a dead letter came from."""

    MQTT = "mqtt"
    SMS = "sms"
    HTTP = "http"


class LivingSituation(StrEnum):
    """Who the elder lives with (``elder.living_situation``)."""

    ALONE = "alone"  # 独居
    WITH_SPOUSE = "with_spouse"
    WITH_FAMILY = "with_family"
    LEFT_BEHIND = "left_behind"  # 留守老人


class EligibilityCategory(StrEnum):
    """The categories an elder is decided to be in, for entitlements and priority (``elder_eligibility``)."""

    EXTREME_POVERTY = "extreme_poverty"  # 特困
    MIN_ALLOWANCE = "min_allowance"  # 低保
    LOW_INCOME = "low_income"  # 低收入
    VERY_OLD = "very_old"  # 高龄
    DISABLED = "disabled"  # 失能: ability level 3 or 4
    PARTLY_DISABLED = "partly_disabled"  # 半失能: ability level 1 or 2
    SOLITARY = "solitary"  # 孤寡
    BEREAVED_ONLY_CHILD_FAMILY = "bereaved_only_child_family"  # 计生特殊家庭


class InactiveReason(StrEnum):
    """Why an elder is off the active register (``elder.inactive_reason``)."""

    DECEASED = "deceased"
    MOVED_AWAY = "moved_away"
    IN_HOSPITAL = "in_hospital"
    IN_CARE_HOME = "in_care_home"


def sql_list(values: Iterable[StrEnum]) -> str:
    """``('a', 'b')``: a constant list for SQL text, where a partial index's predicate must match it literally."""
    return "(" + ", ".join(f"'{v.value}'" for v in values) + ")"


LIVE_OFFER_SQL = sql_list(LIVE_OFFER)
# An order held by its caregiver (``HELD``), on ``service_order`` unqualified: for a subquery of its own.
HELD_SQL = f"(status IN {sql_list(HELD)} OR (status = '{OrderStatus.ESCALATED.value}' AND arrived_at IS NULL))"
LIVE_SQL = sql_list(LIVE)
