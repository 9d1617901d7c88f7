"""A simulated day from start to report: databases, the seeded city, the demand, one day per dispatcher."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from datetime import time as clock_time
from typing import Any

from pydantic import ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

import dispatcher
from eldercare import seed as seeding
from eldercare.config import Settings
from eldercare.db import connect
from simulators.citysim import demand as demands
from simulators.citysim.databases import Databases
from simulators.citysim.engine import Engine
from simulators.citysim.figures import figures
from simulators.citysim.params import Params, ParamsError
from simulators.citysim.report import verdict

log = logging.getLogger(__name__)

DISPATCHERS = ("smart", "nearest", "planned")


class _ParamsOnly(dispatcher.DispatcherSettings):
    """The dispatcher's settings from the parameters file alone: the environment must not change a report."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def dispatcher_config(name: str, params: Params, platform: Settings) -> dispatcher.Config:
    """``smart``: the platform's matching with the file's settings; ``nearest``: the same, nearest-first from
    caregivers' homes (the roster's addresses, not where they last checked in); ``planned``: ``smart``'s
    settings, with the booked visits planned the evening before (the engine runs the planner)."""
    if name not in DISPATCHERS:
        raise ParamsError(f"dispatcher {name!r} is not one of {', '.join(DISPATCHERS)}")
    values = dict(params.dispatcher)
    if name == "nearest":
        values["weights_emergency"] = values["weights_routine"] = dispatcher.MatchWeights.nearest()
        values["whereabouts_minutes"] = 0
    try:
        settings = _ParamsOnly(**values)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        raise ParamsError(f"the [dispatcher] section of the parameters is not usable: {problems}") from None
    return dispatcher.Config(platform, settings)


@dataclass(frozen=True, slots=True)
class Request:
    elders: int
    caregivers: int
    seed: int
    dispatchers: tuple[str, ...]
    providers: int | None = None


def simulate(
    request: Request,
    params: Params,
    platform: Settings,
    *,
    server_url: str | None = None,
    keep: bool = False,
    progress: Callable[[str], None] | None = None,
) -> tuple[dict[str, Any], dict[str, float]]:
    """Run the day for each dispatcher on a copy of one seeded city; the report and seconds per stage."""
    configs = {name: dispatcher_config(name, params, platform) for name in request.dispatchers}
    timings: dict[str, float] = {}
    results: dict[str, dict[str, Any]] = {}
    say = progress or (lambda _: None)
    plan = seeding.SeedPlan(
        elders=request.elders, seed=request.seed, providers=request.providers, caregivers=request.caregivers
    )
    with Databases(server_url, keep=keep) as databases, _dispatcher_logs_quiet():
        started = time.perf_counter()
        city = databases.seed_city(plan)
        timings["seed"] = time.perf_counter() - started
        say(f"seeded {request.elders:,} elders and {request.caregivers:,} caregivers in {timings['seed']:.1f} s")
        for name, config in configs.items():
            started = time.perf_counter()
            url = databases.copy_of(city, name)
            with connect(url, application_name=f"eldercare-simday-{name}") as conn:
                # this database exists for one simulated day: losing its last commits in a crash costs nothing
                conn.execute("SET synchronous_commit = off")
                elders = demands.load_elders(conn)
                demand = demands.draw(elders, params, request.seed)
                conn.commit()
                say(f"{name}: {len(demand.emergencies)} emergencies and {len(demand.adhoc)} phoned-in orders to come")
                engine = Engine(
                    conn, config, params, request.seed, demand, elders, name, progress, plan_ahead=name == "planned"
                )
                run = engine.run()
                midnight = datetime.combine(params.day.date, clock_time(0), tzinfo=config.timezone)
                results[name] = figures(conn, run, params, midnight)
            timings[name] = time.perf_counter() - started
            say(f"{name}: day simulated in {timings[name]:.1f} s")
        if keep and server_url is not None:
            say(f"databases kept: {', '.join(databases.created)}")
    report = {
        "day": params.day.date.isoformat(),
        "elders": request.elders,
        "caregivers": request.caregivers,
        "seed": request.seed,
        "dispatchers": results,
        "verdict": verdict(results),
        "weights": {name: _weights(config) for name, config in configs.items()},
        "params": params.model_dump(mode="json"),
    }
    return report, timings


@contextmanager
def _dispatcher_logs_quiet() -> Iterator[None]:
    """The dispatcher logs every order and escalation, hundreds in a simulated day: keep only its errors."""
    logger = logging.getLogger("dispatcher")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _weights(config: dispatcher.Config) -> dict[str, Any]:
    settings = config.dispatch
    return {
        "emergency": settings.weights_emergency.model_dump(),
        "routine": settings.weights_routine.model_dump(),
        "emergency_offer_seconds": settings.emergency_offer_seconds,
        "routine_offer_minutes": settings.routine_offer_minutes,
        "whereabouts_minutes": settings.whereabouts_minutes,
    }
