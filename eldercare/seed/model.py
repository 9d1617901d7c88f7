"""What a seeded city is made of: the plan, the rows per table, and the random stream of names."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from eldercare.seed import facts
from eldercare.vocabulary import ServiceType

# Ages and dates are counted from a fixed day so that a seed gives the same city whenever it runs.
REFERENCE_DAY = date(2026, 1, 1)
SERVICES = tuple(ServiceType)
DEVICE_PREFIX = {
    "button": "btn",
    "pendant": "pdt",
    "watch": "wch",
    "fall_detector": "fdt",
    "smoke": "smk",
    "gas": "gas",
    "door": "dor",
    "bed": "bed",
}


# The tables seed fills, in the order it fills them (and the reverse of the order --reset empties them).
TABLES = (
    "township",
    "community",
    "elder",
    "emergency_contact",
    "device",
    "provider",
    "provider_service",
    "provider_area",
    "caregiver",
    "caregiver_skill",
    "caregiver_shift",
    "recurring_service",
)
# The columns of each table, in the order of the rows of ``City``; named as the registers' fields.
COLUMNS: dict[str, tuple[str, ...]] = {
    "township": ("id", "code", "name", "lat", "lon"),
    "community": ("id", "township_id", "code", "name", "lat", "lon"),
    "elder": (
        "id",
        "code",
        "name",
        "gender",
        "birth_date",
        "phone",
        "language",
        "community_id",
        "address",
        "lat",
        "lon",
        "ability_level",
        "lives_alone",
        "left_behind",
        "economic_status",
        "living_situation",
        "resident_id",
    ),
    "emergency_contact": ("id", "elder_id", "name", "relation", "phone", "language", "priority"),
    "device": ("id", "type", "elder_id", "secret_hash", "battery", "firmware"),
    "provider": (
        "id",
        "code",
        "name",
        "phone",
        "manager_name",
        "manager_phone",
        "standing",
        "capacity",
        "kitchen_lat",
        "kitchen_lon",
    ),
    "provider_service": ("provider_id", "service_type"),
    "provider_area": ("provider_id", "community_id"),
    "caregiver": (
        "id",
        "code",
        "provider_id",
        "name",
        "gender",
        "phone",
        "language",
        "home_lat",
        "home_lon",
        "travel_mode",
        "max_load",
        "rating",
    ),
    "caregiver_skill": ("caregiver_id", "service_type"),
    "caregiver_shift": ("id", "caregiver_id", "weekday", "starts", "ends"),
    "recurring_service": (
        "id",
        "elder_id",
        "service_type",
        "schedule",
        "duration_min",
        "lead_min",
        "starts_on",
    ),
}

# What --reset empties besides, so that a reseeded city starts with no history.
HISTORY_TABLES = (
    "offer",
    "sms_message",
    "order_event",
    "service_order",
    "alarm",
    "device_event",
    "reading",
    "reading_hourly",
    "dead_letter",
    "audit_log",
)


class SeedError(Exception):
    """The city cannot be seeded as asked; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class SeedPlan:
    elders: int
    seed: int = 1
    providers: int | None = None
    caregivers: int | None = None

    @property
    def provider_count(self) -> int:
        return self.providers if self.providers is not None else max(6, round(self.elders / 85))

    @property
    def caregiver_count(self) -> int:
        return self.caregivers if self.caregivers is not None else max(12, round(self.elders * 0.12))

    def check(self) -> None:
        """Raise ``SeedError`` unless a city can be drawn for the plan: every provider needs a caregiver of its
        own, and providers come at most one to ten elders (or six), as a city has them."""
        if self.elders < 1:
            raise SeedError("--elders must be at least 1")
        most = max(6, self.elders // 10)
        if self.provider_count > most:
            raise SeedError(
                f"{self.provider_count} providers for {self.elders} elders are too many: at most {most} "
                "(one for ten elders, or six). Give fewer --providers."
            )
        if self.caregiver_count < self.provider_count:
            raise SeedError(
                f"{self.caregiver_count} caregivers cannot staff {self.provider_count} providers: each provider "
                f"needs one at least. Give --caregivers {self.provider_count} or more, or fewer --providers."
            )


@dataclass(slots=True)
class City:
    """Rows per table, as tuples in the column order of ``COLUMNS``, plus the provisioning manifest."""

    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=lambda: {t: [] for t in TABLES})
    manifest: dict[str, Any] = field(default_factory=dict)


class Names:
    """Chinese names and unique phone numbers drawn from one random stream."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._surnames = [s for s, _ in facts.SURNAMES]
        self._weights = [w for _, w in facts.SURNAMES]
        self._phones: set[str] = set()

    def person(self, gender: str, elder: bool) -> str:
        surname = self.rng.choices(self._surnames, self._weights)[0]
        given: tuple[str, ...]
        if elder:
            given = facts.ELDER_NAMES_F if gender == "F" else facts.ELDER_NAMES_M
        else:
            given = facts.YOUNG_NAMES_F if gender == "F" else facts.YOUNG_NAMES_M
        return surname + self.rng.choice(given)

    def phone(self) -> str:
        while True:
            number = f"+86{self.rng.choice(facts.MOBILE_PREFIXES)}{self.rng.randrange(10**8):08d}"
            if number not in self._phones:
                self._phones.add(number)
                return number


def jitter(rng: random.Random, lat: float, lon: float, km: float) -> tuple[float, float]:
    """A point around (lat, lon), normally spread with ``km`` standard deviation."""
    dlat = rng.gauss(0, km) / 111.0
    dlon = rng.gauss(0, km) / (111.0 * math.cos(math.radians(lat)))
    return round(lat + dlat, 6), round(lon + dlon, 6)
