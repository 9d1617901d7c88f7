"""The day's demand, drawn before the day runs so that every dispatcher faces the same one: emergencies
(critical alarms) and orders phoned in to operators. Recurring services come from the seeded
``recurring_service`` rows through the dispatcher's own recurring code, not from here."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import psycopg

from simulators.citysim.draws import Draws
from simulators.citysim.params import Params

DAY_SECONDS = 86_400.0
# Which devices can raise which alarm, the first one present raising it.
ALARM_DEVICES = {
    "sos": ("button", "pendant", "watch"),
    "fall": ("fall_detector", "watch"),
    "smoke": ("smoke",),
    "gas": ("gas",),
}


@dataclass(frozen=True, slots=True)
class Elder:
    id: int
    lat: float
    lon: float
    ability_level: int
    lives_alone: bool
    devices: dict[str, str]  # device type -> device id


@dataclass(frozen=True, slots=True)
class Emergency:
    """A critical alarm raised ``at`` seconds after local midnight."""

    key: str
    at: float
    elder_id: int
    alarm_type: str
    device_id: str


@dataclass(frozen=True, slots=True)
class AdHocOrder:
    """An order phoned in at ``at`` for a window in seconds after local midnight."""

    key: str
    at: float
    elder_id: int
    service_type: str
    window_start: float
    window_end: float


@dataclass(frozen=True, slots=True)
class Demand:
    emergencies: tuple[Emergency, ...]
    adhoc: tuple[AdHocOrder, ...]


def load_elders(conn: psycopg.Connection) -> dict[int, Elder]:
    """Active elders with their home and devices, by id."""
    devices: dict[int, dict[str, str]] = {}
    for elder_id, kind, device_id in conn.execute(
        "SELECT elder_id, type, id FROM device WHERE active ORDER BY elder_id, id"
    ).fetchall():
        devices.setdefault(elder_id, {}).setdefault(kind, device_id)
    rows = conn.execute(
        "SELECT id, lat, lon, ability_level, lives_alone FROM elder WHERE active ORDER BY id"
    ).fetchall()
    return {eid: Elder(eid, lat, lon, level, alone, devices.get(eid, {})) for eid, lat, lon, level, alone in rows}


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method for the small means of one elder's day; a normal approximation for large ones."""
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _time_of_day(rng: random.Random, cumulative: list[float]) -> float:
    hour = rng.choices(range(24), cum_weights=cumulative)[0]
    return hour * 3600.0 + rng.random() * 3600.0


def _alarm(rng: random.Random, elder: Elder, weights: dict[str, float]) -> tuple[str, str] | None:
    possible = []
    for kind, weight in sorted(weights.items()):
        device = next((elder.devices[d] for d in ALARM_DEVICES[kind] if d in elder.devices), None)
        if device is not None and weight > 0:
            possible.append((kind, device, weight))
    if not possible:
        return None
    kind, device, _ = rng.choices(possible, [w for *_, w in possible])[0]
    return kind, device


def emergencies(elders: dict[int, Elder], params: Params, seed: int) -> tuple[Emergency, ...]:
    """Critical alarms: a Poisson number per elder, by ability level and living alone, at profiled hours."""
    p = params.emergencies
    rng = Draws(seed, "emergencies").stream
    cumulative = [sum(p.hourly_profile[: h + 1]) for h in range(24)]
    drawn = []
    for elder in elders.values():
        alone = p.alone_factor if elder.lives_alone else 1.0
        rate = p.per_elder_per_day * p.ability_factor[elder.ability_level] * alone
        for _ in range(_poisson(rng, rate)):
            at = _time_of_day(rng, cumulative)
            alarm = _alarm(rng, elder, p.types)
            if alarm is not None:
                drawn.append((at, elder.id, *alarm))
    drawn.sort()
    return tuple(Emergency(f"E{n:04d}", at, elder, kind, device) for n, (at, elder, kind, device) in enumerate(drawn))


def adhoc(elders: dict[int, Elder], params: Params, seed: int) -> tuple[AdHocOrder, ...]:
    """Orders phoned in during office hours, for a window some hours later."""
    p = params.adhoc
    rng = Draws(seed, "adhoc").stream
    ids = sorted(elders)
    services = sorted(p.types)
    drawn = []
    for _ in range(_poisson(rng, p.per_elder_per_day * len(ids))):
        at = (p.hours[0] + rng.random() * (p.hours[1] - p.hours[0])) * 3600.0
        elder = rng.choice(ids)
        service = rng.choices(services, [p.types[s] for s in services])[0]
        start = at + rng.uniform(*p.lead_minutes) * 60.0
        drawn.append((at, elder, service, start, start + p.window_minutes * 60.0))
    drawn.sort()
    return tuple(AdHocOrder(f"A{n:04d}", *row) for n, row in enumerate(drawn))


def draw(elders: dict[int, Elder], params: Params, seed: int) -> Demand:
    return Demand(emergencies(elders, params, seed), adhoc(elders, params, seed))
