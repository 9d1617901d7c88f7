"""The words people read for the platform's codes (eldercare.vocabulary and a few columns' values), in English,
marked for the catalogues: ``label(translations, kind, code)`` gives the reader's word; ``Message`` is a sentence
with values in it (codes among them), put into the reader's language where it is shown; ``words_of`` is what a
refusal (an exception carrying a ``Message``) says to its reader."""

from __future__ import annotations

import gettext
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from eldercare.i18n import N_

log = logging.getLogger(__name__)

LABELS: dict[str, dict[str, str]] = {
    "severity": {"critical": N_("Critical"), "warning": N_("Warning"), "info": N_("Info")},
    "alarm_status": {"open": N_("Open"), "acknowledged": N_("Acknowledged"), "resolved": N_("Resolved")},
    "outcome": {
        "real_emergency": N_("Real emergency"),
        "false_alarm": N_("False alarm"),
        "test": N_("Test"),
        "device_fault": N_("Device fault"),
    },
    "order_status": {
        "created": N_("Created"),
        "offered": N_("Offered"),
        "accepted": N_("Accepted"),
        "en_route": N_("En route"),
        "arrived": N_("Arrived"),
        "completed": N_("Completed"),
        "reviewed": N_("Reviewed"),
        "escalated": N_("Escalated"),
        "cancelled": N_("Cancelled"),
    },
    "offer_status": {
        "pending": N_("Pending"),
        "sent": N_("Sent"),
        "accepted": N_("Accepted"),
        "declined": N_("Declined"),
        "expired": N_("Expired"),
        "failed": N_("Failed"),
        "cancelled": N_("Cancelled"),
    },
    "standing": {"red": N_("Red list"), "normal": N_("Normal"), "black": N_("Black list")},
    "ability": {
        "0": N_("intact"),
        "1": N_("mild loss"),
        "2": N_("moderate loss"),
        "3": N_("severe loss"),
        "4": N_("total loss"),
    },
    "living": {
        "alone": N_("Alone"),
        "with_spouse": N_("With spouse"),
        "with_family": N_("With family"),
        "left_behind": N_("Left behind"),
    },
    "economic_status": {"min_allowance": N_("Minimum allowance"), "extreme_poverty": N_("Extreme poverty")},
    "eligibility": {
        "extreme_poverty": N_("Extreme poverty"),
        "min_allowance": N_("Minimum allowance"),
        "low_income": N_("Low income"),
        "very_old": N_("Very old"),
        "disabled": N_("Disabled"),
        "partly_disabled": N_("Partly disabled"),
        "solitary": N_("Solitary"),
        "bereaved_only_child_family": N_("Bereaved only-child family"),
    },
    "inactive_reason": {
        "deceased": N_("Deceased"),
        "moved_away": N_("Moved away"),
        "in_hospital": N_("In hospital"),
        "in_care_home": N_("In a care home"),
    },
    "service": {
        "meal": N_("Meal"),
        "cleaning": N_("Cleaning"),
        "bathing": N_("Bathing"),
        "medical": N_("Medical escort"),
        "mobility": N_("Mobility"),
        "emergency": N_("Emergency"),
        "care": N_("Personal care"),
    },
    "travel_mode": {"walk": N_("Walk"), "ebike": N_("E-bike"), "car": N_("Car")},
    "absence": {"leave": N_("Leave"), "sick": N_("Sick")},
    "check_kind": {
        "elder_call": N_("Phone call to the elder"),
        "home_visit": N_("Home visit"),
        "liaison_call": N_("Call to the liaison"),
    },
    "finding": {
        "not_delivered": N_("Not delivered"),
        "illegal_charge": N_("Charged illegally"),
        "late": N_("Late"),
        "rude": N_("Rude"),
        "unsafe": N_("Unsafe"),
        "complaint": N_("Complaint"),
    },
    "delivered": {"yes": N_("Delivered"), "no": N_("Not delivered"), "partly": N_("Partly delivered")},
    "attitude": {"good": N_("Good"), "fair": N_("Fair"), "rude": N_("Rude")},
    "check_level": {"city": N_("City"), "township": N_("Township"), "community": N_("Community")},
    "weekday": {
        "1": N_("Mon"),
        "2": N_("Tue"),
        "3": N_("Wed"),
        "4": N_("Thu"),
        "5": N_("Fri"),
        "6": N_("Sat"),
        "7": N_("Sun"),
    },
    "role": {"admin": N_("Administrator"), "operator": N_("Operator"), "viewer": N_("Viewer")},
    # what a request needs of its account's role, inside a sentence ("it needs the act permission")
    "permission": {"read": N_("read"), "act": N_("act"), "administer": N_("administer")},
    "gender": {"F": N_("Female"), "M": N_("Male")},
    "actor_kind": {
        "system": N_("Platform"),
        "operator": N_("Operator"),
        "caregiver": N_("Caregiver"),
        "scheduler": N_("Care plan"),
        "family": N_("Family"),
    },
    "threshold": {
        "hr_high": N_("Heart rate above (bpm)"),
        "hr_low": N_("Heart rate below (bpm)"),
        "spo2_low": N_("SpO2 below (%)"),
        "sbp_high": N_("Systolic pressure above (mmHg)"),
        "sbp_low": N_("Systolic pressure below (mmHg)"),
        "dbp_high": N_("Diastolic pressure above (mmHg)"),
        "temp_high": N_("Temperature above (°C)"),
        "battery_low": N_("Battery below (%)"),
    },
    "metric": {
        "hr": N_("Heart rate"),
        "spo2": N_("SpO2"),
        "sbp": N_("Systolic pressure"),
        "dbp": N_("Diastolic pressure"),
        "temp": N_("Temperature"),
        "battery": N_("Battery"),
    },
    "unit": {"hr": N_("bpm"), "spo2": "%", "sbp": "mmHg", "dbp": "mmHg", "temp": "°C", "battery": "%"},
    "alarm_cause": {"no_data": N_("no data from the device"), "status": N_("the device reported itself offline")},
    "visit_exception": {
        "no_check_in": N_("No check-in (no location, card code or button)"),
        "early": N_("Reported too early"),
        "late": N_("Reported too late"),
        "short": N_("Visit too short"),
        "long": N_("Visit too long"),
        "far": N_("Far from the elder's home"),
        "overlap": N_("Overlaps another visit of the caregiver"),
        "in_hospital": N_("Visit while the elder was in hospital"),
        "bad_code": N_("Wrong or replaced card code"),
    },
    "visit_step": {
        "arrival": N_("arrival"),
        "completion": N_("completion"),
        "arrived": N_("arrival"),
        "completed": N_("completion"),
    },
    # an order's status inside a sentence ("order X is accepted and cannot be ...")
    "order_state": {
        "created": N_("created"),
        "offered": N_("offered"),
        "accepted": N_("accepted"),
        "en_route": N_("en route"),
        "arrived": N_("arrived"),
        "completed": N_("completed"),
        "reviewed": N_("reviewed"),
        "escalated": N_("escalated"),
        "cancelled": N_("cancelled"),
    },
    # what was asked of an order that its status refused ("... and cannot be reassigned")
    "order_action": {
        "offered": N_("be offered"),
        "accepted": N_("be accepted"),
        "en_route": N_("be on its way"),
        "arrived": N_("be marked arrived"),
        "completed": N_("be marked completed"),
        "reviewed": N_("be reviewed"),
        "escalated": N_("be escalated"),
        "cancelled": N_("be cancelled"),
        "reassigned": N_("be reassigned"),
        "planned": N_("be planned"),
        "replanned": N_("be planned again"),
    },
    # an alarm's, a settlement's and a visit exception's state inside a sentence ("alarm 7 is resolved already")
    "alarm_state": {"open": N_("open"), "acknowledged": N_("acknowledged"), "resolved": N_("resolved")},
    "settlement_state": {"draft": N_("draft"), "confirmed": N_("confirmed"), "approved": N_("approved")},
    "resolution": {"confirmed": N_("confirmed"), "rejected": N_("rejected")},
    # the kind of record a request names, inside a sentence ("no such elder")
    "record": {
        "elder": N_("elder"),
        "order": N_("order"),
        "alarm": N_("alarm"),
        "recurring": N_("recurring service"),
        "check": N_("spot check"),
        "complaint": N_("complaint"),
        "rectification": N_("rectification"),
        "device": N_("device"),
        "community": N_("community"),
        "township": N_("township"),
    },
    "visit_resolution": {"confirmed": N_("Visit confirmed"), "rejected": N_("Visit rejected")},
    "exception_filter": {"open": N_("Open"), "resolved": N_("Resolved"), "all": N_("All")},
    "visit_status": {
        "open": N_("Open"),
        "verified": N_("Verified"),
        "exception": N_("Exception"),
        "confirmed": N_("Confirmed by an operator"),
        "rejected": N_("Rejected"),
    },
    "visit_check": {
        "near": N_("at home"),
        "far": N_("far from home"),
        "card": N_("card code"),
        "bad_card": N_("wrong card code"),
        "no_location": N_("no location"),
        "none": N_("no check-in"),
    },
    "settlement_status": {
        "draft": N_("Draft"),
        "confirmed": N_("Confirmed by the provider"),
        "approved": N_("Approved and locked"),
    },
    "entitlement_unit": {"visits": N_("visits"), "hours": N_("hours")},
    "allowance_finding": {
        "bad_row": N_("Unreadable row"),
        "unknown_id": N_("ID number not in the register"),
        "duplicate": N_("Listed twice"),
        "deceased": N_("Deceased, still on the roll"),
        "moved_away": N_("Moved away, still on the roll"),
        "under_age": N_("Under the age threshold"),
        "no_sign_of_life": N_("No sign of life: visit at home"),
    },
    # why a plan left a visit to nobody (dispatcher/planning/problem.py, the first rule that leaves nobody)
    "unassigned": {
        "no_skill": N_("No caregiver has the skill at a provider selling the service"),
        "outside_area": N_("No provider selling the service covers the elder's community"),
        "inactive": N_("The caregivers who could go are inactive, opted out or with an inactive provider"),
        "provider_black": N_("The caregivers who could go work for a black-listed or inactive provider"),
        "off_shift": N_("Nobody who could go works during the window that day"),
        "absent": N_("Everyone who could go is away (leave or sick) that day"),
        "busy": N_("Nobody who could go is free before its window ends: they are busy with visits under way"),
        "window_past": N_("Its window ended before this plan was made"),
        "no_room": N_("No eligible caregiver's day has room to reach it inside its window"),
        "out_of_reach": N_("No caregiver who may take it can reach it inside its window, even with an empty day"),
        "overbooked": N_("Its only caregiver has more such visits due then than a day can hold, whatever the plan"),
        "held_late": N_("Its caregiver holds it but cannot reach it inside its window: served late unless reassigned"),
        "held_past_shift": N_(
            "Its caregiver holds it, but their shift ends before it would be done: served past their shift unless "
            "reassigned"
        ),
    },
    "care_note": {
        "medical_notes": N_("Medical notes"),
        "medications": N_("Medications"),
        "allergies": N_("Allergies"),
        "home_access_notes": N_("Home access (key safe, door code)"),
        "notes": N_("Notes"),
    },
}


def labels(translations: gettext.NullTranslations, kind: str, codes: Iterable[object]) -> str:
    """Several codes' words as one list, in the reader's way of listing ("助餐、助洁" / "Meal, Cleaning")."""
    return translations.gettext(", ").join(label(translations, kind, code) for code in codes)


def label(translations: gettext.NullTranslations, kind: str, code: object) -> str:
    """The reader's word for ``code`` of ``kind``; an unknown code shows as itself (the language test looks)."""
    english = LABELS[kind].get(str(code))
    return translations.gettext(english) if english else str(code)


ENGLISH = gettext.NullTranslations()


@dataclass(frozen=True, slots=True)
class Coded:
    """A code inside a message: shown as the reader's word for it (``label``)."""

    kind: str
    code: object


@dataclass(frozen=True, slots=True)
class Listed:
    """Several values inside a message (codes, sentences), shown one after another with ``separator`` (marked
    with ``N_``: "、" for ", " in Chinese)."""

    items: tuple[object, ...]
    separator: str = N_(", ")


def _shown(translations: gettext.NullTranslations, value: object) -> object:
    if isinstance(value, Coded):
        return label(translations, value.kind, value.code)
    if isinstance(value, Message):
        return value.words(translations)
    if isinstance(value, Listed):
        return translations.gettext(value.separator).join(str(_shown(translations, v)) for v in value.items)
    return value


@dataclass(frozen=True, slots=True)
class Message:
    """A sentence made where the facts are and read elsewhere: its English text (marked with ``N_`` for the
    catalogue, ``%(name)s`` fields) and the values of its fields, a ``Coded`` value shown as the reader's word."""

    text: str
    values: tuple[tuple[str, object], ...] = ()

    @classmethod
    def of(cls, text: str, **values: object) -> Message:
        return cls(text, tuple(values.items()))

    def words(self, translations: gettext.NullTranslations) -> str:
        """The sentence in the reader's language (English without a catalogue, or where it has no entry)."""
        sentence = translations.gettext(self.text)
        if not self.values:
            return sentence
        shown = {name: _shown(translations, value) for name, value in self.values}
        try:
            return sentence % shown
        except (KeyError, ValueError, TypeError):
            if sentence == self.text:
                raise
            # a translation whose fields do not match the English: the reader gets the English, not an error page
            log.warning("the translation of %r does not fit its values; shown in English", self.text[:80])
            return self.words(ENGLISH)

    def __str__(self) -> str:
        return self.words(ENGLISH)

    def stored(self) -> dict[str, Any]:
        """The message as JSON, to be read back by ``from_stored``: its English text and its values (a ``Coded``
        value as its kind and code; a value JSON cannot hold, in English)."""
        return {"text": self.text, "values": {name: _stored(value) for name, value in self.values}}

    @classmethod
    def from_stored(cls, data: Mapping[str, Any]) -> Message:
        values = data.get("values") or {}
        return cls(str(data["text"]), tuple((name, _loaded(value)) for name, value in values.items()))


def _stored(value: object) -> object:
    if isinstance(value, Coded):
        return {"kind": value.kind, "code": value.code}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _loaded(value: object) -> object:
    if isinstance(value, dict) and set(value) == {"kind", "code"}:
        return Coded(str(value["kind"]), value["code"])
    return value


def carried(error: object) -> Message | None:
    """The ``Message`` a refusal carries (an exception's first argument), if it carries one."""
    said = error.args[0] if isinstance(error, BaseException) and error.args else None
    return said if isinstance(said, Message) else None


def check_said(error: Mapping[str, Any]) -> Message | None:
    """The ``Message`` a pydantic validation error's check raised (its ``ctx`` error), if it raised one."""
    return carried((error.get("ctx") or {}).get("error"))


def words_of(exc: BaseException, translations: gettext.NullTranslations) -> str:
    """What a refusal says to its reader: the ``Message`` it carries (its first argument) in their language, or its
    own text (English) when it carries a plain one. ``str(exc)`` stays the English, for logs and the CLI."""
    said = carried(exc)
    return str(exc) if said is None else said.words(translations)


# pydantic's own checks as sentences of the catalogue, by error type: the English is pydantic's own message and the
# fields its ``ctx`` (a type not listed, or a ``ctx`` without the fields, reads in pydantic's English)
PYDANTIC: dict[str, str] = {
    "missing": N_("Field required"),
    "extra_forbidden": N_("Extra inputs are not permitted"),
    "string_type": N_("Input should be a valid string"),
    "string_pattern_mismatch": N_("String should match pattern '%(pattern)s'"),
    "string_too_short": N_("String should have at least %(min_length)s characters"),
    "string_too_long": N_("String should have at most %(max_length)s characters"),
    "greater_than_equal": N_("Input should be greater than or equal to %(ge)s"),
    "less_than_equal": N_("Input should be less than or equal to %(le)s"),
    "greater_than": N_("Input should be greater than %(gt)s"),
    "less_than": N_("Input should be less than %(lt)s"),
    "int_type": N_("Input should be a valid integer"),
    "int_parsing": N_("Input should be a valid integer, unable to parse string as an integer"),
    "int_from_float": N_("Input should be a valid integer, got a number with a fractional part"),
    "float_type": N_("Input should be a valid number"),
    "float_parsing": N_("Input should be a valid number, unable to parse string as a number"),
    "bool_type": N_("Input should be a valid boolean"),
    "bool_parsing": N_("Input should be a valid boolean, unable to interpret input"),
    "date_type": N_("Input should be a valid date"),
    "date_parsing": N_("Input should be a valid date in the format YYYY-MM-DD, %(error)s"),
    "date_from_datetime_parsing": N_("Input should be a valid date or datetime, %(error)s"),
    "datetime_type": N_("Input should be a valid datetime"),
    "datetime_parsing": N_("Input should be a valid datetime, %(error)s"),
    "datetime_from_date_parsing": N_("Input should be a valid datetime or date, %(error)s"),
    "time_type": N_("Input should be a valid time"),
    "time_parsing": N_("Input should be in a valid time format, %(error)s"),
    "timezone_aware": N_("Input should have timezone info"),
    "literal_error": N_("Input should be %(expected)s"),
    "enum": N_("Input should be %(expected)s"),
    "list_type": N_("Input should be a valid list"),
    "too_short": N_("List should have at least %(min_length)s items after validation, not %(actual_length)s"),
    "too_long": N_("List should have at most %(max_length)s items after validation, not %(actual_length)s"),
    "dict_type": N_("Input should be a valid dictionary"),
    "model_type": N_("Input should be a valid dictionary or instance of %(class_name)s"),
    "model_attributes_type": N_("Input should be a valid dictionary or object to extract fields from"),
    "json_invalid": N_("Invalid JSON: %(error)s"),
    "json_type": N_("JSON input should be string, bytes or bytearray"),
    "uuid_parsing": N_("Input should be a valid UUID, %(error)s"),
}
# pydantic says "character" and "item" when there is one
PYDANTIC_ONE: dict[str, str] = {
    "string_too_short": N_("String should have at least 1 character"),
    "string_too_long": N_("String should have at most 1 character"),
    "too_short": N_("List should have at least 1 item after validation, not %(actual_length)s"),
    "too_long": N_("List should have at most 1 item after validation, not %(actual_length)s"),
}


@dataclass(frozen=True, slots=True)
class Failed:
    """One failed check of a pydantic validation error, as a person reads it: where (``loc``; a whole-record check
    that names its field first, ``"field: ..."``, has that field appended) and why, a sentence of the catalogue
    (the one the check raised, or pydantic's own by its type) or pydantic's English."""

    loc: tuple[str | int, ...]
    said: Message
    named: str = ""  # the field a whole-record check's sentence starts with ("" for any other)

    @property
    def field(self) -> str:
        """The dotted path of the field (``contacts.1.phone``; "" for the whole record)."""
        return ".".join(str(part) for part in self.loc)

    @property
    def english(self) -> str:
        return self.words(ENGLISH)

    def words(self, translations: gettext.NullTranslations) -> str:
        """Why, in the reader's language, without the field a whole-record check's sentence starts with."""
        return self.said.words(translations).removeprefix(f"{self.named}: " if self.named else "")


def failed(error: Mapping[str, Any]) -> Failed:
    """A pydantic validation error (one item of ``ValidationError.errors()``) as a ``Failed`` check."""
    loc = tuple(error.get("loc", ()))
    ctx = error.get("ctx") or {}
    said = check_said(error)
    if said is None:
        kind = str(error.get("type", ""))
        text = PYDANTIC_ONE.get(kind) if ctx.get("min_length", ctx.get("max_length")) == 1 else None
        text = text or PYDANTIC.get(kind)
        values = {name: ctx[name] for name in ctx if f"%({name})s" in (text or "")}
        if text is not None and text.count("%(") == len(values):
            said = Message.of(text, **values)
        else:
            said = Message.of(str(error.get("msg", "")).removeprefix("Value error, "))
    named, sep, _ = str(said).partition(": ")
    if sep and error.get("type") == "value_error" and named.isidentifier():
        return Failed((*loc, named), said, named)
    return Failed(loc, said)
