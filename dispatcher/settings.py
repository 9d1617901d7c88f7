"""The dispatcher's tuning, read from ``ELDERCARE_DISPATCHER_*`` variables (and ``.env``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from eldercare.config import Settings, load_settings
from eldercare.vocabulary import TravelMode


class MatchWeights(BaseModel):
    """How candidates are ranked: the cost of a candidate, in minutes of an elder's wait, is

    ``eta * eta_minutes + distance * km + load * active_orders + rating * (5 - rating) - continuity * served
    + worked * hours_busy_in_the_last_24_hours``

    and the lowest cost wins (ties go to the lower caregiver id). All weights are non-negative, which is what
    lets the spatial prefilter prove that no farther caregiver can win.
    """

    model_config = {"frozen": True}

    eta: float = Field(1.0, ge=0, description="per minute of estimated travel")
    distance: float = Field(0.0, ge=0, description="per kilometre of straight-line distance")
    load: float = Field(8.0, ge=0, description="per order the caregiver already holds")
    rating: float = Field(4.0, ge=0, description="per star of rating below 5")
    continuity: float = Field(6.0, ge=0, description="bonus for having served this elder before")
    worked: float = Field(
        0.0, ge=0, description="per hour the caregiver was busy on orders in the last 24 hours (balanced hours)"
    )

    @classmethod
    def nearest(cls) -> MatchWeights:
        """The naive baseline: the nearest eligible caregiver, nothing else considered."""
        return cls(eta=0.0, distance=1.0, load=0.0, rating=0.0, continuity=0.0)


class TravelModel(BaseModel):
    """Estimated travel: straight-line distance times a detour factor, at a speed per travel mode."""

    model_config = {"frozen": True}

    speed_kmh: dict[str, float] = Field(
        default_factory=lambda: {"walk": 4.5, "ebike": 15.0, "car": 24.0},
        description="speed on the road per travel mode",
    )
    setup_min: dict[str, float] = Field(
        default_factory=lambda: {"walk": 0.0, "ebike": 1.0, "car": 3.0},
        description="minutes to get going (fetch the bike, park the car)",
    )
    detour: float = Field(1.3, ge=1.0, description="road distance over straight-line distance")
    emergency_factor: float = Field(
        1.15, ge=1.0, description="how much faster people travel to an emergency than to a booked service"
    )

    @field_validator("speed_kmh")
    @classmethod
    def _positive_speeds(cls, value: dict[str, float]) -> dict[str, float]:
        _refuse_unknown_modes(value)
        slow = [f"{mode} {speed:g}" for mode, speed in value.items() if not speed > 0]
        if slow:
            raise ValueError(f"every speed must be above 0 km/h; got {', '.join(slow)}")
        return value

    @field_validator("setup_min")
    @classmethod
    def _setup_not_negative(cls, value: dict[str, float]) -> dict[str, float]:
        _refuse_unknown_modes(value)
        negative = [f"{mode} {minutes:g}" for mode, minutes in value.items() if not minutes >= 0]
        if negative:
            raise ValueError(f"minutes to get going cannot be negative; got {', '.join(negative)}")
        return value

    def minutes(self, mode: str, road_km: Any) -> Any:
        """Minutes to travel ``road_km`` road kilometres (a number or a numpy array) in ``mode`` to a booked
        service: getting going, then the road at the mode's speed."""
        return road_km / self.speed_kmh[mode] * 60.0 + self.setup_min[mode]


_MODES = [str(mode) for mode in TravelMode]
_MODES_EXAMPLE = "{" + ", ".join(f'"{mode}": ...' for mode in _MODES) + "}"


def _refuse_unknown_modes(per_mode: dict[str, float]) -> None:
    unknown = [mode for mode in per_mode if mode not in _MODES]
    if unknown:
        raise ValueError(f"{', '.join(unknown)}: not a travel mode; the modes are {', '.join(_MODES)}")


class DispatcherSettings(BaseSettings):
    """Offers, deadlines, matching and SMS behaviour of the dispatcher."""

    model_config = SettingsConfigDict(
        env_prefix="ELDERCARE_DISPATCHER_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="__",
        extra="ignore",
    )

    emergency_offer_seconds: int = Field(90, ge=10, description="how long a caregiver has to answer an emergency")
    routine_offer_minutes: int = Field(15, ge=1, description="how long a caregiver has to answer a booked service")
    emergency_race_size: int = Field(
        3,
        ge=1,
        le=10,
        description="offer an emergency to this many caregivers at once; the first to accept takes it, the others "
        "are told it is taken (booked services go to one caregiver at a time)",
    )
    emergency_race_margin_minutes: float = Field(
        5.0,
        ge=0,
        description="race only caregivers who would get there about as soon as the best: a cost (minutes of the "
        "elder's wait) within this of the best one's; the others wait for the next race",
    )
    emergency_race_widen_seconds: int = Field(
        60,
        ge=0,
        description="a race the margin kept short takes in the next caregivers when none of its offers is accepted "
        "within this many seconds (0: only when an offer ends): an elder does not wait a whole offer's time on a "
        "caregiver who does not answer, and the nearest still have a minute to say yes before anyone farther is asked",
    )
    escalate_after_offers: int = Field(3, ge=1, description="escalate when this many offers found no taker")
    emergency_accept_minutes: int = Field(5, ge=1, description="escalate an emergency not accepted within this")
    routine_accept_minutes: int = Field(60, ge=1, description="escalate a booked service not accepted within this")
    emergency_arrival_minutes: int = Field(30, ge=1, description="escalate again when no arrival within this")
    sos_cancel_seconds: float = Field(
        10.0,
        ge=0,
        le=120,
        description="an elder who presses SOS again within this many seconds of the first press calls it off, as "
        "telecare buttons do: the alarm is resolved as false, its order stood down, caregiver and family told "
        "(0: a second press never cancels)",
    )
    retry_offer_minutes: int = Field(
        2, ge=1, description="when no caregiver is eligible, look again after this long (shifts start, loads drop)"
    )
    sweep_seconds: float = Field(1.0, gt=0, le=60, description="how often deadlines are swept")
    search_radius_km: float = Field(2.0, gt=0, description="first radius of the spatial prefilter")
    weights_emergency: MatchWeights = Field(
        # a held order weighs 15 minutes: whoever holds one must leave it (or is on the way to it) first; an hour
        # already worked today, 2: of two about as near, the one who has worked less goes
        default_factory=lambda: MatchWeights(load=15.0, rating=2.0, continuity=2.0, worked=2.0),
        description="ranking for emergencies: mostly who gets there first",
    )
    weights_routine: MatchWeights = Field(default_factory=MatchWeights, description="ranking for booked services")
    travel: TravelModel = Field(default_factory=TravelModel)
    whereabouts_minutes: int = Field(
        60,
        ge=0,
        description="rank an emergency from where a caregiver last checked in (an order they are on the way to or "
        "at, or finished this many minutes ago at most, or longer while the ride home from it lasts) rather than "
        "from home; 0: always from home",
    )
    sms_max_attempts: int = Field(5, ge=1, le=20, description="tries per SMS on 429 and 5xx before it fails")
    sms_backoff_seconds: float = Field(0.5, gt=0, description="first retry delay; doubles per attempt")
    sms_backoff_max_seconds: float = Field(30.0, gt=0, description="longest retry delay")
    sms_timeout_seconds: float = Field(10.0, gt=0, description="HTTP timeout of one request to Twilio")
    sms_senders: int = Field(4, ge=1, le=32, description="SMS sent at once")
    link_max_age_hours: int = Field(72, ge=1, description="how long a caregiver's page link stays valid")
    recurring_grace_minutes: int = Field(
        30, ge=0, description="create a recurring order this late after its time when the scheduler was down"
    )
    recurring_check_seconds: float = Field(
        30.0, gt=0, description="how often the elected scheduler looks for recurring services coming due"
    )
    scheduler_enabled: bool = Field(True, description="take part in the election for the recurring scheduler")
    election_seconds: float = Field(5.0, gt=0, description="how often a dispatcher stands for scheduler election")
    plan_hour: int = Field(
        18, ge=0, le=23, description="local hour at which the elected scheduler plans the next day's booked visits"
    )
    plan_cutoff_hour: int = Field(
        21,
        ge=0,
        le=23,
        description="local hour by which caregivers confirm tomorrow's plan; then the day is re-planned over those "
        "who confirmed",
    )
    plan_check_minutes: float = Field(
        5.0, gt=0, description="how often the elected scheduler looks for changes to today's plan to re-plan"
    )
    plan_seconds: float = Field(20.0, gt=0, le=600, description="time limit of the routing solver per plan")
    plan_exploration: int = Field(2, ge=1, le=5, description="how widely the routing solver searches (VROOM 1-5)")
    plan_margin_minutes: int = Field(
        5, ge=0, le=120, description="plan a visit to start at least this long before its window ends (slack)"
    )
    plan_minutes_on_site: dict[str, int] = Field(
        default_factory=lambda: {"meal": 10},
        description="minutes a visit of a service type takes at the elder's, where it is not the booked duration "
        "(a meal is handed over at the door; its booked duration is the delivery window)",
    )
    plan_balance: float = Field(
        3.0,
        ge=1.0,
        description="a caregiver takes at most this many times their fair share of the day's visits (each visit "
        "split evenly among those who may take it)",
    )
    plan_spread_passes: int = Field(
        120,
        ge=0,
        le=1000,
        description="solves the planner may make, after solving a plan, moving visits not yet promised from the "
        "busiest caregivers to those busy less than half the average (balanced hours; within plan_seconds); 0: none",
    )
    plan_kitchen_minutes: int = Field(
        5, ge=0, le=120, description="minutes a caregiver spends collecting a batch of meals at a provider's kitchen"
    )
    plan_meal_capacity: int = Field(
        12, ge=1, le=200, description="meals a caregiver carries at once from a kitchen (a batch at most this big)"
    )
    plan_meal_hold_minutes: int = Field(
        60,
        ge=0,
        le=240,
        description="a meal is collected from its kitchen at most this long before its delivery window opens "
        "(it is cooked for that window and kept warm)",
    )
    rollup_refresh_minutes: int = Field(5, ge=1, description="how often the hourly reading rollup is refreshed")
    quiet_start: time = Field(time(21, 0), description="local time from which no routine SMS is sent")
    quiet_end: time = Field(time(7, 0), description="local time at which routine SMS go out again")
    booked_offer_lead_hours: float = Field(
        24.0, ge=0, description="offer a booked service this long before its window starts (at once when sooner)"
    )
    booked_offer_late_minutes: int = Field(
        60,
        ge=0,
        description="offer a booked service only to caregivers who can be there at most this long after the arrival "
        "deadline they would be given (the end of its window, or emergency_arrival_minutes from the offer if later)",
    )
    visit_early_minutes: int = Field(
        60, ge=0, description="refuse an arrival or completion more than this before the booked window starts"
    )
    visit_late_minutes: int = Field(
        120, ge=0, description="refuse an arrival this long after the window ends (a completion: after its planned end)"
    )
    unfinished_minutes: int = Field(
        60,
        ge=1,
        le=1440,
        description="remind a caregiver, and alert the operators, when a visit they arrived at is not reported done "
        "this long after its booked duration",
    )
    visit_radius_m: float = Field(300.0, gt=0, description="a visit is verified when reported within this of home")
    visit_max_accuracy_m: float = Field(
        500.0, gt=0, description="a phone location less precise than this counts as no location"
    )
    visit_min_ratio: float = Field(
        0.5, gt=0, description="a visit shorter than this share of its planned time is short"
    )
    visit_max_ratio: float = Field(
        3.0, gt=1, description="a visit longer than this many times its planned time is long"
    )
    insist_minutes: int = Field(
        30, ge=1, description="a refused arrival or completion sent again within this is taken, as an exception"
    )

    @field_validator("travel")
    @classmethod
    def _every_mode_travels(cls, travel: TravelModel) -> TravelModel:
        # a TravelModel built in code may cover only the modes its caregivers use; the dispatcher's meets them all
        prefix = cls.model_config.get("env_prefix", "")
        for table, per_mode in (("speed_kmh", travel.speed_kmh), ("setup_min", travel.setup_min)):
            missing = [mode for mode in _MODES if mode not in per_mode]
            if missing:
                raise ValueError(
                    f"{prefix}TRAVEL__{table.upper()} gives nothing for {', '.join(missing)}: give a value for every "
                    f"travel mode, as {_MODES_EXAMPLE}"
                )
        return travel

    def offer_ttl(self, emergency: bool) -> timedelta:
        if emergency:
            return timedelta(seconds=self.emergency_offer_seconds)
        return timedelta(minutes=self.routine_offer_minutes)

    def offers_at_once(self, emergency: bool) -> int:
        return self.emergency_race_size if emergency else 1

    def race_widen_at(self, now: datetime) -> datetime | None:
        """When a race kept short by the margin, offered at ``now``, takes in the next caregivers."""
        if self.emergency_race_widen_seconds <= 0:
            return None
        return now + timedelta(seconds=self.emergency_race_widen_seconds)

    def accept_window(self, emergency: bool) -> timedelta:
        return timedelta(minutes=self.emergency_accept_minutes if emergency else self.routine_accept_minutes)

    def weights(self, emergency: bool) -> MatchWeights:
        return self.weights_emergency if emergency else self.weights_routine


@dataclass(frozen=True, slots=True)
class Config:
    """Everything the dispatcher's decisions read: the platform's settings and the dispatcher's tuning."""

    platform: Settings
    dispatch: DispatcherSettings

    @classmethod
    def load(cls, platform: Settings) -> Config:
        """The configuration of an entry point (a component, an app) run with ``platform`` settings, with the
        dispatcher's tuning read from the environment now. Library functions take a ``Config``, never load one."""
        return cls(platform, load_settings(DispatcherSettings))

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.platform.timezone)
