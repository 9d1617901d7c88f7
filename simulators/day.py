"""``eldercare simulate day``: a city's day on a real PostgreSQL, the dispatcher's own code under a simulated
clock, measured against the published service targets, for the platform's matching and a naive one."""

from __future__ import annotations

import enum
import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from eldercare.seed import SeedError, SeedPlan
from simulators.citysim import params as parameters
from simulators.citysim.chart import attendance_png
from simulators.citysim.databases import DatabaseError
from simulators.citysim.report import table
from simulators.citysim.run import DISPATCHERS, Request, simulate


class Choice(enum.StrEnum):
    smart = "smart"
    nearest = "nearest"
    planned = "planned"
    both = "both"
    all = "all"


def command(
    elders: Annotated[int, typer.Option(min=1, max=200_000, help="elders in the seeded city")] = 2000,
    caregivers: Annotated[int, typer.Option(min=1, max=20_000, help="caregivers in the seeded city")] = 150,
    seed: Annotated[int, typer.Option(help="one seed for the city, the demand and every behaviour")] = 1,
    dispatcher: Annotated[
        Choice,
        typer.Option(
            help="smart: the platform's matching, offer by offer; nearest: the naive baseline; planned: booked "
            "visits planned the evening before as routes, the rest offer by offer; both: smart and nearest; "
            "all: the three",
        ),
    ] = Choice.both,
    params: Annotated[
        Path | None,
        typer.Option(help="TOML file of parameters laid over the defaults (simulators/day_params.toml)"),
    ] = None,
    out: Annotated[Path, typer.Option(help="folder for report.json and attendance.png")] = Path("var/simday"),
    providers: Annotated[int | None, typer.Option(min=1, help="providers (default: elders/85, at least 6)")] = None,
    keep_databases: Annotated[
        bool, typer.Option(help="with ELDERCARE_DATABASE_URL: keep the day's databases for a look afterwards")
    ] = False,
    quiet: Annotated[bool, typer.Option(help="no progress lines on stderr")] = False,
) -> None:
    """Simulate 24 hours of a seeded city and report service quality against the published targets.

    The dispatcher's own matching, offers, expiry, escalation and recurring code run under a simulated clock.
    Both dispatchers face the same demand and the same caregiver behaviour, drawn from one seed.
    The city is seeded into new databases: on an embedded PostgreSQL in a temporary folder, or on the server
    of ELDERCARE_DATABASE_URL (dropped afterwards unless --keep-databases).
    Output: a table on stdout, OUT/report.json, and OUT/attendance.png (attendance times, both dispatchers).
    Targets: attendance within 45 min >= 90% and within 60 min 100%; alarms answered within 60 s >= 97.5%
    and within 180 s >= 99%. The model's parameters and their defaults: simulators/day_params.toml.
    See docs/simulated-day.md.
    """
    from eldercare.commands import command_settings, failures_reported

    settings = command_settings("WARNING" if quiet else None)
    try:
        model = parameters.load(params)
    except parameters.ParamsError as err:
        typer.echo(f"eldercare: {err}", err=True)
        raise typer.Exit(2) from None
    chosen = {Choice.both: ("smart", "nearest"), Choice.all: DISPATCHERS}.get(dispatcher, (dispatcher.value,))
    request = Request(elders, caregivers, seed, tuple(chosen), providers)
    try:
        SeedPlan(elders=elders, seed=seed, providers=providers, caregivers=caregivers).check()
    except SeedError as err:
        typer.echo(f"eldercare: {err}", err=True)
        raise typer.Exit(2) from None
    # the day takes minutes: a folder its report cannot go to is refused before it starts, not after
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        why = "it is a file" if out.exists() and not out.is_dir() else err.strerror
        typer.echo(
            f"eldercare: --out {out} cannot hold the report: {why}. Give a folder that may be written.", err=True
        )
        raise typer.Exit(2) from None
    server = settings.database_url.get_secret_value() if settings.database_url else None

    def progress(line: str) -> None:
        if not quiet:
            print(line, file=sys.stderr, flush=True)

    started = time.perf_counter()
    with failures_reported(
        parameters.ParamsError,
        DatabaseError,
        lost_database="the database went away during the simulation",
        advice="Check the server of ELDERCARE_DATABASE_URL (or unset it for an embedded one) and run again.",
    ):
        report, timings = simulate(request, model, settings, server_url=server, keep=keep_databases, progress=progress)
    wall = time.perf_counter() - started
    (out / "report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    chart = attendance_png(report, out / "attendance.png")
    typer.echo(table(report))
    stages = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items())
    typer.echo(f"\nWall time {wall:.1f} s ({stages}). Report: {out / 'report.json'}; chart: {chart}")
