"""The simulated day's parameters: ``simulators/day_params.toml`` with a user's file laid over it."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from eldercare.clock import FIRST_DAY, LAST_DAY
from eldercare.vocabulary import EMERGENCY_ALARMS, ServiceType, TravelMode

DEFAULTS = Path(__file__).resolve().parent.parent / "day_params.toml"
SERVICES = tuple(ServiceType)
ALARMS = EMERGENCY_ALARMS


class ParamsError(Exception):
    """The parameters file cannot be used; the message says where and what to change."""


_Factor = Annotated[float, Field(ge=0)]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _weights(value: Any) -> Any:
    """Relative weights: none negative and not all zero, or nothing could ever be drawn from them."""
    weights = list(value.values()) if isinstance(value, dict) else list(value)
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError("weights must be >= 0 and not all 0")
    return value


def _span(value: tuple[float, float]) -> tuple[float, float]:
    """A [low, high] range: low first, neither negative."""
    low, high = value
    if not 0 <= low <= high:
        raise ValueError(f"expected [low, high] with 0 <= low <= high, not [{low:g}, {high:g}]")
    return value


class Situational(_Section):
    """A value per kind of order and what the caregiver is doing."""

    emergency_idle: float = Field(ge=0)
    emergency_busy: float = Field(ge=0)
    routine_idle: float = Field(ge=0)
    routine_busy: float = Field(ge=0)

    def of(self, emergency: bool, busy: bool) -> float:
        name = f"{'emergency' if emergency else 'routine'}_{'busy' if busy else 'idle'}"
        return float(getattr(self, name))


class Day(_Section):
    date: Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY)]  # the platform's days
    drain_hours: float = Field(ge=0, le=24)


class Emergencies(_Section):
    per_elder_per_day: float = Field(ge=0, le=10)
    ability_factor: tuple[_Factor, _Factor, _Factor, _Factor, _Factor]
    alone_factor: float = Field(ge=0)
    hourly_profile: list[float] = Field(min_length=24, max_length=24)
    types: dict[str, float]

    @field_validator("types")
    @classmethod
    def _known_alarms(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = set(value) - set(ALARMS)
        if unknown:
            raise ValueError(f"unknown alarm types {sorted(unknown)}; use some of {', '.join(ALARMS)}")
        return value

    _weighted = field_validator("hourly_profile", "types")(_weights)


class AdHoc(_Section):
    per_elder_per_day: float = Field(ge=0, le=10)
    hours: tuple[float, float]
    types: dict[str, float]
    lead_minutes: tuple[float, float]
    window_minutes: float = Field(gt=0)

    @field_validator("types")
    @classmethod
    def _known_services(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = set(value) - (set(SERVICES) - {"emergency"})
        if unknown:
            raise ValueError(f"unknown or emergency service types {sorted(unknown)}")
        return value

    _weighted = field_validator("types")(_weights)
    _spans = field_validator("lead_minutes")(_span)

    @field_validator("hours")
    @classmethod
    def _office_hours(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not 0 <= value[0] < value[1] <= 24:
            raise ValueError(f"expected [from, until] with 0 <= from < until <= 24, not [{value[0]:g}, {value[1]:g}]")
        return value


class Caregivers(_Section):
    sms_delay_seconds: tuple[float, float]
    reply_median_seconds: Situational
    reply_sigma: float = Field(ge=0)
    no_answer: Situational
    decline: Situational
    decline_unreachable: float = Field(ge=0, le=1)
    decline_on_emergency: float = Field(ge=0, le=1)
    set_off_seconds: tuple[float, float]
    wrap_up_minutes: float = Field(ge=0)
    early_minutes: float = Field(ge=0)
    kitchen_minutes: float = Field(ge=0)
    return_home: bool

    _spans = field_validator("sms_delay_seconds", "set_off_seconds")(_span)


class Travel(_Section):
    speed_kmh: dict[str, Annotated[float, Field(gt=0)]]
    setup_minutes: dict[str, Annotated[float, Field(ge=0)]]
    detour: float = Field(ge=1)
    emergency_factor: float = Field(ge=1)
    sigma: float = Field(ge=0)

    @field_validator("speed_kmh", "setup_minutes")
    @classmethod
    def _every_mode(cls, value: dict[str, float]) -> dict[str, float]:
        """One value per way caregivers travel, and none other (a misspelt mode would change nothing)."""
        modes = {m.value for m in TravelMode}
        if set(value) != modes:
            unknown, missing = sorted(set(value) - modes), sorted(modes - set(value))
            raise ValueError(
                f"expected a value for each of {', '.join(sorted(modes))}"
                + (f"; unknown {unknown}" if unknown else "")
                + (f"; missing {missing}" if missing else "")
            )
        return value

    def minutes(self, mode: str, road_km: float, hurry: bool = False) -> float:
        """The expected (median) minutes of a trip of ``road_km`` in ``mode``: getting going, then the road, faster
        to an emergency (``hurry``)."""
        speed = self.speed_kmh[mode] * (self.emergency_factor if hurry else 1.0)
        return self.setup_minutes[mode] + road_km / speed * 60.0


class ServiceMinutes(_Section):
    meal: float = Field(gt=0)
    cleaning: float = Field(gt=0)
    bathing: float = Field(gt=0)
    care: float = Field(gt=0)
    medical: float = Field(gt=0)
    mobility: float = Field(gt=0)
    emergency: float = Field(gt=0)
    sigma: float = Field(ge=0)

    def median(self, service: str) -> float:
        return float(getattr(self, service))


class Operators(_Section):
    on_duty: list[Annotated[int, Field(ge=0)]] = Field(min_length=24, max_length=24)
    pickup_median_seconds: float = Field(gt=0)
    pickup_sigma: float = Field(ge=0)
    call_median_minutes: float = Field(gt=0)
    escalation_median_minutes: float = Field(gt=0)
    handling_sigma: float = Field(ge=0)
    review_minutes: float = Field(gt=0)
    give_up_after_minutes: float = Field(ge=0)


class Params(_Section):
    """Every parameter of the simulated day."""

    day: Day
    emergencies: Emergencies
    adhoc: AdHoc
    caregivers: Caregivers
    travel: Travel
    service_minutes: ServiceMinutes
    operators: Operators
    dispatcher: dict[str, Any] = Field(default_factory=dict)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = _merge(base[key], value)
        else:
            merged[key] = value
    return merged


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ParamsError(f"parameters file {path} does not exist; give an existing TOML file") from None
    except tomllib.TOMLDecodeError as err:
        raise ParamsError(f"parameters file {path} is not valid TOML: {err}") from None
    except UnicodeDecodeError:
        raise ParamsError(f"parameters file {path} is not text (TOML is UTF-8); give a TOML file") from None
    except OSError as err:
        raise ParamsError(f"parameters file {path} cannot be read: {err.strerror}; give a readable TOML file") from None


def load(path: Path | None = None) -> Params:
    """The defaults, with ``path``'s values laid over them key by key."""
    data = _read(DEFAULTS)
    if path is not None:
        data = _merge(data, _read(path))
    try:
        return Params.model_validate(data)
    except ValidationError as err:
        problems = [f"  {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()]
        where = path or DEFAULTS
        raise ParamsError(
            f"parameters in {where} are not usable:\n" + "\n".join(problems) + f"\nSee {DEFAULTS} for every key."
        ) from None
