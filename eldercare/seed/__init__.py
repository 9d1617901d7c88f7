"""A deterministic demo city (Chibi, Hubei): townships, elders and their devices, providers and caregivers."""

from __future__ import annotations

import random
from datetime import date

from eldercare.seed import facts
from eldercare.seed.model import HISTORY_TABLES, REFERENCE_DAY, SERVICES, TABLES, City, Names, SeedError, SeedPlan
from eldercare.seed.people import elders
from eldercare.seed.providers import caregivers, providers
from eldercare.seed.store import COLUMNS, count_elders, reset, write, write_manifest

__all__ = [
    "COLUMNS",
    "HISTORY_TABLES",
    "REFERENCE_DAY",
    "SERVICES",
    "TABLES",
    "City",
    "SeedError",
    "SeedPlan",
    "count_elders",
    "generate",
    "reset",
    "write",
    "write_manifest",
]


def generate(plan: SeedPlan, today: date = REFERENCE_DAY) -> City:
    """The whole city for ``plan``: the same plan gives the same rows and manifest."""
    plan.check()
    rng = random.Random(plan.seed)
    names = Names(rng)
    city = City()
    elders(city, rng, names, plan.elders, today)
    offered = providers(city, rng, names, plan.provider_count)
    caregivers(city, rng, names, plan.caregiver_count, offered)
    city.manifest = {"seed": plan.seed, "city": facts.CITY_NAME, **city.manifest}
    return city
