"""The ``eldercare`` command: one entry point for every part of the platform."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import psycopg
import typer

from eldercare.commands import (
    build_components,
    command_group,
    command_infrastructure,
    command_settings,
    failures_reported,
    refuse_unwritable,
)
from eldercare.component import Context, StopRequested, run_until_stopped
from eldercare.embedded import DEMO_EXTRA, DEMO_MODULES

log = logging.getLogger("eldercare")

CONFIG_HELP = (
    "Configuration comes from ELDERCARE_* environment variables or a .env file: ELDERCARE_DATABASE_URL "
    "(unset: embedded PostgreSQL in ELDERCARE_DATA_DIR, default ./var), ELDERCARE_MQTT_URL (unset: an "
    "in-process broker on 127.0.0.1), ELDERCARE_TWILIO_*, ELDERCARE_PUBLIC_URL, ELDERCARE_SECRET_KEY, "
    "ELDERCARE_MODE=production to refuse development defaults. See README.md."
)

app = command_group(
    "Smart-eldercare platform: MQTT alarms and wearables, service orders by SMS, operator dashboard.\n\n" + CONFIG_HELP,
    name="eldercare",
    add_completion=False,
    pretty_exceptions_enable=False,
)
user_app = command_group("Manage operator accounts of the dashboard.")
app.add_typer(user_app, name="user")


@app.command()
def migrate() -> None:
    """Bring the database schema up to date. A second run does nothing."""
    settings = command_settings()
    with command_infrastructure(settings, migrations=True):
        typer.echo("database schema is up to date")


@app.command()
def seed(
    elders: Annotated[int, typer.Option(min=1, max=1_000_000, help="how many elders")] = 500,
    seed: Annotated[int, typer.Option(help="random seed; the same seed gives the same city")] = 1,
    manifest: Annotated[Path, typer.Option(help="write the provisioning manifest (JSON) here")] = Path(
        "var/manifest.json"
    ),
    providers: Annotated[int | None, typer.Option(min=1, help="providers (default: elders/85, at least 6)")] = None,
    caregivers: Annotated[int | None, typer.Option(min=1, help="caregivers (default: 12% of elders)")] = None,
    reset: Annotated[bool, typer.Option(help="first delete every elder, device, provider and all history")] = False,
) -> None:
    """Create a deterministic demo city (Chibi, Hubei) in an empty database and write its manifest.

    The manifest lists each device's id, type, elder and plaintext secret (the database keeps only a hash)
    and each caregiver's id and phone; the simulators read it.
    """
    from eldercare import seed as seeding

    settings = command_settings()
    plan = seeding.SeedPlan(elders=elders, seed=seed, providers=providers, caregivers=caregivers)
    # the manifest holds the only plaintext of the device secrets: a path it cannot go to must stop seed before
    # it fills the database
    refuse_unwritable(manifest, "--manifest", create_parents=True)
    started = time.monotonic()
    try:
        city = seeding.generate(plan)
    except seeding.SeedError as err:
        typer.echo(f"eldercare: {err}", err=True)
        raise typer.Exit(2) from None
    with command_infrastructure(settings, migrations=True) as infra, psycopg.connect(infra.database_url) as conn:
        existing = seeding.count_elders(conn)
        if existing and not reset:
            typer.echo(
                f"eldercare: the database already has {existing} elders; seed fills an empty database only. "
                "Use --reset to delete all platform data first.",
                err=True,
            )
            raise typer.Exit(1)
        if reset:
            seeding.reset(conn)
        seeding.write(conn, city, progress=lambda table, n: typer.echo(f"  {table:<18} {n:>8} rows"))
    seeding.write_manifest(manifest, city)
    typer.echo(
        f"seeded {elders} elders, {plan.provider_count} providers, {plan.caregiver_count} caregivers "
        f"in {time.monotonic() - started:.1f} s; manifest written to {manifest}"
    )


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="the login name")],
    role: Annotated[str, typer.Option(help="admin, operator or viewer")] = "operator",
    password_stdin: Annotated[bool, typer.Option(help="read the password from standard input")] = False,
    display_name: Annotated[str, typer.Option(help="the name shown in the dashboard")] = "",
    language: Annotated[str, typer.Option(help="zh or en")] = "zh",
) -> None:
    """Create an operator account. The password is prompted for, or read from stdin."""
    from eldercare import audit, users
    from eldercare.i18n import LANGUAGES

    try:
        role_value = users.Role(role)
    except ValueError:
        typer.echo(f"eldercare: --role must be admin, operator or viewer, not {role!r}", err=True)
        raise typer.Exit(2) from None
    if language not in LANGUAGES:
        typer.echo(f"eldercare: --language must be one of {', '.join(LANGUAGES)}, not {language!r}", err=True)
        raise typer.Exit(2)
    if password_stdin:
        password = _password_from_stdin()
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    settings = command_settings()
    with command_infrastructure(settings, migrations=True) as infra, psycopg.connect(infra.database_url) as conn:
        try:
            operator = users.add_user(conn, name, password, role_value, display_name, language)
        except users.UserError as err:
            typer.echo(f"eldercare: {err}", err=True)
            raise typer.Exit(1) from None
        audit.record(conn, "cli", "user.add", "operator", operator.id, {"username": name, "role": role})
    typer.echo(f"created {role} account {name!r}")


def _password_from_stdin() -> str:
    """The first line of standard input, refused (exit 2) unless it is UTF-8 text."""
    try:
        line = sys.stdin.readline()
        # a stdin decoded with surrogateescape (a C or POSIX locale) hands undecodable bytes on as surrogates
        line.encode("utf-8")
    except (UnicodeDecodeError, UnicodeEncodeError):
        typer.echo("eldercare: the password on standard input is not UTF-8 text; send it as UTF-8", err=True)
        raise typer.Exit(2) from None
    return line.rstrip("\r\n")


@user_app.command("area")
def user_area(
    name: Annotated[str, typer.Argument(help="the login name")],
    township: Annotated[str | None, typer.Option(help="limit the account to this township (its code)")] = None,
    community: Annotated[str | None, typer.Option(help="limit the account to this community (its code)")] = None,
) -> None:
    """Limit an account to a township or a community; with neither option it sees the whole city again."""
    from eldercare import audit, users

    settings = command_settings()
    with command_infrastructure(settings, migrations=True) as infra, psycopg.connect(infra.database_url) as conn:
        try:
            operator = users.set_area(conn, name, township, community)
        except users.UserError as err:
            typer.echo(f"eldercare: {err}", err=True)
            raise typer.Exit(1) from None
        area = {"township": township, "community": community}
        audit.record(conn, "cli", "user.area", "operator", operator.id, {"username": name, **area})
    typer.echo(
        f"account {name!r} limited to "
        + (f"township {township}" if township else f"community {community}" if community else "nothing: the whole city")
    )


@app.command()
def plan(
    day: Annotated[
        str, typer.Argument(help="the local day to plan: YYYY-MM-DD, 'today' or 'tomorrow'", metavar="DAY")
    ] = "tomorrow",
    seconds: Annotated[
        float | None, typer.Option(min=0.01, max=600, help="the solver's time limit (default: the setting)")
    ] = None,
    tell: Annotated[bool, typer.Option(help="send each caregiver of the plan the SMS of their day to confirm")] = True,
) -> None:
    """Plan a day's booked visits now as routes over the rostered caregivers, and put the plan in force.

    Booked visits are the day's recurring occurrences and the orders with a window nobody holds yet. The plan
    replaces the day's earlier one; visits that are orders already go to their planned caregivers at once,
    recurring ones when their order is made. Visits nobody can take are listed with the reason. The elected
    scheduler does the same for tomorrow every evening at ELDERCARE_DISPATCHER_PLAN_HOUR. See docs/planning.md.
    """
    from datetime import date, timedelta

    import dispatcher
    from dispatcher import planning
    from eldercare.clock import SystemClock

    settings = command_settings()
    with failures_reported():
        config = dispatcher.Config.load(settings)
    if seconds is not None:
        config = dispatcher.Config(settings, config.dispatch.model_copy(update={"plan_seconds": seconds}))
    clock = SystemClock()
    today = clock.now().astimezone(config.timezone).date()
    try:
        chosen = {"today": today, "tomorrow": today + timedelta(days=1)}.get(day) or date.fromisoformat(day)
    except ValueError:
        typer.echo(f"eldercare: DAY must be YYYY-MM-DD, 'today' or 'tomorrow', not {day!r}", err=True)
        raise typer.Exit(2) from None
    refused = planning.plannable(chosen, today)
    if refused is not None:
        typer.echo(f"eldercare: {refused}", err=True)
        raise typer.Exit(2)
    with command_infrastructure(settings, migrations=True) as infra, psycopg.connect(infra.database_url) as conn:
        outcome = planning.plan_day(conn, clock, config, chosen, made_by="cli", tell=tell, progress=typer.echo)
        reasons = conn.execute(
            "SELECT unassigned_reason, unassigned_detail, count(*) FROM plan_visit WHERE plan_id = %s "
            "AND unassigned_reason IS NOT NULL GROUP BY 1, 2 ORDER BY 3 DESC",
            (outcome.plan_id,),
        ).fetchall()
    figures = outcome.figures
    typer.echo(
        f"plan {outcome.plan_id} for {chosen} in force: {figures['assigned']} of {figures['visits']} visits "
        f"assigned over {figures['caregivers_used']} caregivers, {figures['km']} km, "
        f"spread of busy minutes (Gini) {figures['busy_minutes_gini']}"
        + ("; the solver reached its time limit: this is the best plan it found" if outcome.timed_out else "")
    )
    for code, detail, count in reasons:
        typer.echo(f"  unassigned {count:>4}  {code}: {detail}")


def _run_components(names: list[str], options: dict[str, dict[str, Any]], *, mqtt: bool) -> None:
    stop = StopRequested().install()  # from the start, so Ctrl-C during start-up also ends cleanly
    settings = command_settings()
    with command_infrastructure(settings, mqtt=mqtt, migrations=True) as infra:
        context = Context(settings, infra.database_url, infra.mqtt_url, embedded_broker=infra.embedded_broker)
        run_until_stopped(build_components(names, context, options), stop)


@app.command()
def run(
    port: Annotated[int, typer.Option(help="the dashboard's HTTP port")] = 8000,
    host: Annotated[str, typer.Option(help="the dashboard's address")] = "127.0.0.1",
) -> None:
    """Run every platform component (gateway, dispatcher, dashboard) in one process, for one machine."""
    _run_components(["gateway", "dispatcher", "dashboard"], {"dashboard": {"host": host, "port": port}}, mqtt=True)


@app.command()
def gateway() -> None:
    """Run the MQTT gateway: ingest readings, events and status; raise alarms. Tuning: ELDERCARE_GATEWAY_*."""
    _run_components(["gateway"], {}, mqtt=True)


@app.command()
def dispatcher() -> None:
    """Run the dispatcher: orders, matching, SMS offers, expiry and escalation, recurring services."""
    _run_components(["dispatcher"], {}, mqtt=True)


@app.command()
def dashboard(
    port: Annotated[int, typer.Option(help="HTTP port")] = 8000,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
) -> None:
    """Run the operators' dashboard, JSON API and Twilio webhooks over HTTP."""
    _run_components(["dashboard"], {"dashboard": {"host": host, "port": port}}, mqtt=False)


def _mount_devices() -> None:
    from devices.cli import app as devices_app
    from eldercare.import_cli import app as import_app

    app.add_typer(devices_app, name="devices")
    app.add_typer(import_app, name="import")


def _mount_simulators() -> None:
    """``simulate`` and ``demo``, where the simulators are installed (not in the production image)."""
    try:
        from simulators.cli import app as simulate_app
        from simulators.demo import command as demo_command
    except ModuleNotFoundError as err:
        if err.name == "simulators":
            return
        if err.name not in DEMO_MODULES:
            raise
        missing = err.name

        def needs_the_extra() -> None:
            typer.echo(f"eldercare: the simulators need {missing}, which is not installed. {DEMO_EXTRA}", err=True)
            raise typer.Exit(2)

        needs_the_extra.__doc__ = "(needs the demo extra) the demo and the simulators."
        app.command(name="demo")(needs_the_extra)
        app.command(name="simulate")(needs_the_extra)
        return
    app.add_typer(simulate_app, name="simulate")
    app.command(name="demo")(demo_command)


_mount_devices()
_mount_simulators()


def main() -> None:
    app()
