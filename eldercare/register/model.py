"""What the register accepts: typed input, checked field by field and as a whole, before anything is written."""

from __future__ import annotations

import gettext
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any, Self, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from devices.metrics import METRIC_RANGES
from eldercare.i18n import N_
from eldercare.labels import Coded, Failed, Listed, Message, failed
from eldercare.register.identity import birth_date_in, check_phone, check_resident_id, gender_in
from eldercare.vocabulary import EligibilityCategory, InactiveReason, LivingSituation

VERY_OLD_AGE = 80
MAX_CONTACTS = 9  # emergency contacts an elder may have, in calling order
# elder.thresholds keys (see migration 0010 and gateway/rules.py) and the metric each is a value of
THRESHOLD_METRICS: dict[str, str] = {
    "hr_high": "hr",
    "hr_low": "hr",
    "spo2_low": "spo2",
    "sbp_high": "sbp",
    "sbp_low": "sbp",
    "dbp_high": "dbp",
    "temp_high": "temp",
    "battery_low": "battery",
}
# each threshold's value for an elder whose record does not set it (the gateway's rules start from these)
THRESHOLD_DEFAULTS: dict[str, float] = {
    "hr_high": 120,
    "hr_low": 45,
    "spo2_low": 90,
    "sbp_high": 160,
    "sbp_low": 90,
    "dbp_high": 100,
    "temp_high": 38.0,
    "battery_low": 15,
}
ASSESSMENT_SCORES = ("self_care", "mobility", "mental_state", "perception_social")


class Gender(StrEnum):
    FEMALE = "F"
    MALE = "M"


class Language(StrEnum):
    ZH = "zh"
    EN = "en"


# the ability levels each disability category stands for
DISABILITY_LEVELS: dict[EligibilityCategory, range] = {
    EligibilityCategory.DISABLED: range(3, 5),
    EligibilityCategory.PARTLY_DISABLED: range(1, 3),
}


Text = Annotated[str, Field(max_length=2000)]
Name = Annotated[str, Field(min_length=1, max_length=64)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def today_of(info: ValidationInfo) -> date:
    """Today as the caller's clock says (validation context ``today``), else the UTC date."""
    given = info.context.get("today") if isinstance(info.context, dict) else None
    return given if isinstance(given, date) else datetime.now(UTC).date()


class Eligibility(Strict):
    category: EligibilityCategory
    decided_on: date = Field(description="date of the decision that put the elder in this category")
    document_no: str = Field(min_length=1, max_length=64, description="number of the decision document")


class Contact(Strict):
    """An emergency contact; contacts are called in the order they are listed."""

    name: Name
    relation: str = Field(min_length=1, max_length=32, description="e.g. 儿子 son, 女儿 daughter, 邻居 neighbour")
    phone: str = Field(description="E.164, e.g. +8613812345678")
    language: Language = Language.ZH
    notify_sms: bool = Field(True, description="whether the contact gets an SMS when an alarm is raised")
    liaison: bool = Field(False, description="the elder's liaison (包保人), called in spot checks")

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return check_phone(value)


class AssessmentInput(Strict):
    """One ability assessment (GB/T 42195-2022)."""

    assessed_on: date
    level: int = Field(ge=0, le=4, description="0 intact, 1 mild, 2 moderate, 3 severe, 4 total loss of ability")
    assessors: list[Name] = Field(min_length=1, max_length=4, description="the assessors' names, usually two")
    scores: dict[str, int] = Field(default_factory=dict, description=f"scores of {', '.join(ASSESSMENT_SCORES)}")
    notes: Text = ""

    @field_validator("scores")
    @classmethod
    def _scores(cls, value: dict[str, int]) -> dict[str, int]:
        for key, score in value.items():
            if key not in ASSESSMENT_SCORES:
                raise ValueError(
                    Message.of(
                        N_("unknown score %(key)r: the scores are %(scores)s"),
                        key=key,
                        scores=Listed(ASSESSMENT_SCORES),
                    )
                )
            if not 0 <= score <= 100:
                raise ValueError(
                    Message.of(N_("score %(key)s is %(score)s; scores run from 0 to 100"), key=key, score=score)
                )
        return value

    @field_validator("assessed_on")
    @classmethod
    def _not_future(cls, value: date, info: ValidationInfo) -> date:
        if value > today_of(info):
            raise ValueError(Message.of(N_("the assessment date %(day)s is in the future"), day=value))
        return value


def check_thresholds(value: dict[str, float]) -> dict[str, float]:
    """Per-elder alarm thresholds: known keys, each inside its metric's range, lows below highs (given or not)."""
    for key, number in value.items():
        metric = THRESHOLD_METRICS.get(key)
        if metric is None:
            raise ValueError(
                Message.of(
                    N_("unknown threshold %(key)r: the thresholds are %(thresholds)s"),
                    key=key,
                    thresholds=Listed(tuple(THRESHOLD_METRICS)),
                )
            )
        bounds = METRIC_RANGES[metric]
        if number not in bounds:
            raise ValueError(
                Message.of(
                    N_("%(key)s is %(number)s, outside the range a device can report (%(low)s-%(high)s %(unit)s)"),
                    key=key,
                    number=f"{number:g}",
                    low=f"{bounds.low:g}",
                    high=f"{bounds.high:g}",
                    unit=Coded("unit", metric),
                )
            )
        if bounds.integer and number != int(number):
            raise ValueError(
                Message.of(
                    N_("%(key)s is %(number)s; it must be a whole number of %(unit)s"),
                    key=key,
                    number=f"{number:g}",
                    unit=Coded("unit", metric),
                )
            )
    for low, high in (("hr_low", "hr_high"), ("sbp_low", "sbp_high")):
        # one given alone is weighed against the other's default, as the gateway will
        below, above = value.get(low, THRESHOLD_DEFAULTS[low]), value.get(high, THRESHOLD_DEFAULTS[high])
        if (low in value or high in value) and below >= above:
            raise ValueError(
                Message.of(
                    N_("%(low)s (%(low_value)s) must be below %(high)s (%(high_value)s)"),
                    low=low,
                    low_value=f"{below:g}",
                    high=high,
                    high_value=f"{above:g}",
                )
            )
    return value


class ElderFields(Strict):
    """Everything the register keeps of an elder, except the assessment history and the record's state."""

    name: Name
    gender: Gender
    birth_date: date
    resident_id: str | None = Field(None, description="resident ID number (GB 11643), 18 characters")
    phone: str | None = Field(None, description="E.164, e.g. +8613812345678")
    language: Language = Language.ZH
    township: str = Field(min_length=1, max_length=64, description="township or sub-district name, e.g. 蒲圻街道")
    community: str = Field(min_length=1, max_length=64, description="community or village name in that township")
    address: str = Field(min_length=1, max_length=200, description="street and number")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    living_situation: LivingSituation = LivingSituation.WITH_FAMILY
    eligibility: list[Eligibility] = Field(default_factory=list, max_length=8)
    medical_notes: Text = ""
    medications: Text = ""
    allergies: Text = ""
    home_access_notes: Text = Field("", description="key safe, door code: shown only to a responding caregiver")
    notes: Text = ""
    contacts: list[Contact] = Field(default_factory=list, max_length=MAX_CONTACTS, description="in calling order")
    thresholds: dict[str, float] = Field(default_factory=dict, description="per-elder alarm thresholds")

    @field_validator("resident_id")
    @classmethod
    def _resident_id(cls, value: str | None) -> str | None:
        return check_resident_id(value) if value else None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return check_phone(value) if value else None

    @field_validator("birth_date")
    @classmethod
    def _birth_date(cls, value: date, info: ValidationInfo) -> date:
        today = today_of(info)
        if value > today or value.year < 1900:
            raise ValueError(
                Message.of(N_("birth date %(day)s is not a possible date of birth (1900 to today)"), day=value)
            )
        return value

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, value: dict[str, float]) -> dict[str, float]:
        return check_thresholds(value)

    @field_validator("eligibility")
    @classmethod
    def _eligibility(cls, value: list[Eligibility], info: ValidationInfo) -> list[Eligibility]:
        seen: set[EligibilityCategory] = set()
        for item in value:
            if item.category in seen:
                raise ValueError(
                    Message.of(
                        N_("category %(category)s is listed twice; keep one decision per category"),
                        category=Coded("eligibility", item.category.value),
                    )
                )
            seen.add(item.category)
            if item.decided_on > today_of(info):
                raise ValueError(
                    Message.of(
                        N_("the %(category)s decision date %(day)s is in the future"),
                        category=Coded("eligibility", item.category.value),
                        day=item.decided_on,
                    )
                )
        return value

    @model_validator(mode="after")
    def _agree(self, info: ValidationInfo) -> Self:
        if self.resident_id:
            born = birth_date_in(self.resident_id)
            if born != self.birth_date:
                raise ValueError(
                    Message.of(
                        N_(
                            "resident_id: the ID number says the elder was born on %(born)s, the birth date says "
                            "%(birth_date)s; correct whichever is wrong"
                        ),
                        born=born,
                        birth_date=self.birth_date,
                    )
                )
            if gender_in(self.resident_id) != self.gender:
                said = {
                    "M": N_(
                        "resident_id: the ID number is a man's (17th digit), the gender says %(gender)s; "
                        "correct whichever is wrong"
                    ),
                    "F": N_(
                        "resident_id: the ID number is a woman's (17th digit), the gender says %(gender)s; "
                        "correct whichever is wrong"
                    ),
                }
                raise ValueError(
                    Message.of(said[gender_in(self.resident_id)], gender=Coded("gender", self.gender.value))
                )
        for item in self.eligibility:
            if item.category is EligibilityCategory.VERY_OLD:
                age = years_between(self.birth_date, item.decided_on)
                if age < VERY_OLD_AGE:
                    raise ValueError(
                        Message.of(
                            N_(
                                "eligibility: very_old needs an age of %(age)s at the decision; "
                                "the elder was %(was)s on %(day)s"
                            ),
                            age=VERY_OLD_AGE,
                            was=age,
                            day=item.decided_on,
                        )
                    )
        return self


def years_between(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def dated_after_birth(day: date, born: date, text: str) -> Message | None:
    """Why a record dated ``day`` cannot be of an elder born on ``born``, in ``text`` (with ``day`` and ``born``);
    None when it can."""
    return None if day >= born else Message.of(text, day=day, born=born)


def assessed_after_birth(assessed_on: date, born: date) -> Message | None:
    """Why an assessment dated ``assessed_on`` cannot be of an elder born on ``born``; None when it can."""
    return dated_after_birth(
        assessed_on, born, N_("the assessment date %(day)s is before the elder was born (%(born)s)")
    )


class ElderCreate(ElderFields):
    assessment: AssessmentInput | None = Field(None, description="the first ability assessment, if made")

    @model_validator(mode="after")
    def _assessed_after_birth(self) -> Self:
        why = None if self.assessment is None else assessed_after_birth(self.assessment.assessed_on, self.birth_date)
        if why is not None:
            raise ValueError(why)
        return self


class ElderPatch(Strict):
    """A partial change: only the fields given are changed; a list given replaces the whole list."""

    name: Name | None = None
    gender: Gender | None = None
    birth_date: date | None = None
    resident_id: str | None = None
    phone: str | None = None
    language: Language | None = None
    township: str | None = None
    community: str | None = None
    address: str | None = None
    lat: float | None = None
    lon: float | None = None
    living_situation: LivingSituation | None = None
    eligibility: list[Eligibility] | None = None
    medical_notes: Text | None = None
    medications: Text | None = None
    allergies: Text | None = None
    home_access_notes: Text | None = None
    notes: Text | None = None
    contacts: list[Contact] | None = None
    thresholds: dict[str, float] | None = None


class Deactivation(Strict):
    reason: InactiveReason
    since: date = Field(description="the date of death, of the move, of admission")
    note: Text = ""

    @field_validator("since")
    @classmethod
    def _since(cls, value: date, info: ValidationInfo) -> date:
        if value > today_of(info):
            raise ValueError(
                Message.of(
                    N_("the date %(day)s is in the future; deactivate on or after the day it happens"), day=value
                )
            )
        return value


class Problem(BaseModel):
    """One thing wrong with the input: the field (dotted path, e.g. ``contacts.1.phone``) and why, in English;
    ``words`` says why in the reader's language when the reason is a sentence of the catalogue."""

    field: str
    message: str
    _check: Failed | None = PrivateAttr(default=None)

    @classmethod
    def of(cls, field: str, said: Message | Failed) -> Problem:
        """A problem of ``field`` saying ``said``: a sentence of the catalogue, or a failed check of pydantic's
        (``labels.failed``: a whole-record check's sentence is read without the field it starts with)."""
        check = said if isinstance(said, Failed) else Failed(tuple(field.split(".")), said)
        problem = cls(field=field, message=check.english)
        problem._check = check
        return problem

    @property
    def said(self) -> Message | str:
        """Why, as a sentence of the catalogue where it is one (for a sentence around it), else the English."""
        return self._check.said if self._check else self.message

    def words(self, translations: gettext.NullTranslations) -> str:
        """Why, in the reader's language; a whole-record check's field, first in its sentence, is left out."""
        return self._check.words(translations) if self._check else self.message


class Rejected(Exception):
    """The input was not accepted; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))


def problems_of(error: ValidationError) -> list[Problem]:
    """pydantic's errors as problems naming the field, in the words a person reads (``labels.failed``)."""
    return [Problem.of(check.field or "elder", check) for check in map(failed, error.errors())]


M = TypeVar("M", bound=BaseModel)


def validated(model: type[M], data: Any, today: date) -> M:
    """``data`` as ``model``, or Rejected naming every field that is wrong."""
    try:
        return model.model_validate(data, context={"today": today})
    except ValidationError as err:
        raise Rejected(problems_of(err)) from None
