"""``eldercare demo``: the whole platform and a simulated city on the embedded defaults."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import psycopg
import typer

from eldercare import seed as seeding
from eldercare import users
from eldercare.alarms import count_on_board
from eldercare.clock import SYSTEM_CLOCK, Clock, ScaledClock
from eldercare.embedded import free_port
from eldercare.seed.history import HistoryPlan, write_history

log = logging.getLogger(__name__)

DEMO_USER = "admin"
SIMULATED_OPERATOR = "sim-operator"
DEMO_PROVIDERS = 6
CAREGIVERS_PER_ELDER = 60 / 500
# one scenario after another, every few minutes, for as long as the demo runs
SCENARIO_EVERY = 180.0
# the demo starts with a month of generated past, so that KPI charts, reports and return visits show something
HISTORY_DAYS = 30
GENERATED = "generated"
GENERATED_NOTE = "生成的演示历史数据 (generated demo history)"


def ensure_demo_city(
    database_url: str, manifest: Path, elders: int, seed: int, now: datetime, history_days: int = HISTORY_DAYS
) -> bool:
    """Seed the city on first run, with ``history_days`` of generated past up to ``now``; later runs reuse it.
    Returns whether it seeded."""
    with psycopg.connect(database_url) as conn:
        if seeding.count_elders(conn) and manifest.exists():
            return False
        if seeding.count_elders(conn):
            seeding.reset(conn)  # a city without its manifest cannot be driven; start it again
        plan = seeding.SeedPlan(
            elders=elders, seed=seed, providers=DEMO_PROVIDERS, caregivers=max(12, round(elders * CAREGIVERS_PER_ELDER))
        )
        city = seeding.generate(plan)
        seeding.write(conn, city)
        if history_days:
            # a past that is over (nothing left open for today) and says it was generated, in every order's note
            # and as the operator who handled it
            past = HistoryPlan(
                end=now, days=history_days, seed=seed, settled=True, actor=GENERATED, note=GENERATED_NOTE
            )
            write_history(conn, past)
    seeding.write_manifest(manifest, city)
    return True


def ensure_demo_user(
    database_url: str,
    password_file: Path,
    username: str = DEMO_USER,
    role: users.Role = users.Role.ADMIN,
    display_name: str = "演示管理员",
) -> str:
    """A demo account's password (the admin's by default): created once, kept in the data folder for the next
    run."""
    with psycopg.connect(database_url) as conn:
        if users.get_user(conn, username) and password_file.exists():
            return password_file.read_text(encoding="utf-8").strip()
        password = secrets.token_urlsafe(9)
        if users.get_user(conn, username):
            users.set_password(conn, username, password)
        else:
            users.add_user(conn, username, password, role, display_name)
    password_file.write_text(password + "\n", encoding="utf-8")
    password_file.chmod(0o600)
    return password


def elders_with_live_alarms(database_url: str) -> set[int]:
    """Elders a scenario should not pick: a new alarm of theirs would only repeat the open one."""
    with psycopg.connect(database_url) as conn:
        return {r[0] for r in conn.execute("SELECT DISTINCT elder_id FROM alarm WHERE status <> 'resolved'")}


@dataclass(frozen=True, slots=True)
class Summary:
    readings_per_second: float
    alarms_on_board: int
    unacknowledged: int
    orders: dict[str, int]

    def line(self) -> str:
        orders = " ".join(f"{status} {n}" for status, n in sorted(self.orders.items())) or "none"
        alarms = f"alarms on the board {self.alarms_on_board} ({self.unacknowledged} not acknowledged)"
        return f"readings {self.readings_per_second:5.1f}/s | {alarms} | orders (24 h): {orders}"


def summary_reporter(database_url: str, clock: Clock, every: float) -> Callable[[], None]:
    """A function that prints one line about the running city each time it is called."""
    from prometheus_client import REGISTRY

    last = [REGISTRY.get_sample_value("eldercare_gateway_readings_stored_total") or 0.0]

    def report() -> None:
        stored = REGISTRY.get_sample_value("eldercare_gateway_readings_stored_total") or 0.0
        rate, last[0] = (stored - last[0]) / every, stored
        try:
            with psycopg.connect(database_url) as conn:
                on_board, unacknowledged = count_on_board(conn)
                orders: dict[str, int] = dict(
                    conn.execute(
                        "SELECT status, count(*) FROM service_order WHERE created_at >= %s - interval '1 day' "
                        "GROUP BY status",
                        (clock.now(),),
                    ).fetchall()
                )
        except psycopg.Error as err:
            typer.echo(f"(no summary: {str(err).strip()})")
            return
        typer.echo(Summary(rate, on_board, unacknowledged, orders).line())

    return report


def demo_clock(speed: float, day_start: str | None, tz: ZoneInfo) -> Clock:
    """The wall clock, or one that runs ``speed`` times faster and/or starts at ``day_start`` local time today."""
    if day_start is None:
        return ScaledClock(speed) if speed != 1 else SYSTEM_CLOCK
    try:
        at = time.fromisoformat(day_start)
    except ValueError:
        raise typer.BadParameter(f"--day-start takes a local time as HH:MM, not {day_start!r}") from None
    today = datetime.now(tz).date()
    return ScaledClock(speed, datetime.combine(today, at, tzinfo=tz).astimezone(UTC))


class _Running:
    """A started service (start already done) that the runner stops with the components."""

    def __init__(self, name: str, stop: Callable[[], None]) -> None:
        self.name = name
        self._stop = stop

    def start(self) -> None:
        pass

    def stop(self) -> None:
        self._stop()


def command(
    port: Annotated[int, typer.Option(help="the dashboard's HTTP port (0: any free port)")] = 8000,
    elders: Annotated[int, typer.Option(min=1, help="elders in the demo city (first run only)")] = 500,
    seed: Annotated[int, typer.Option(help="random seed of the demo city and its scenarios")] = 1,
    speed: Annotated[
        float,
        typer.Option(min=1, max=1000, help="run the platform's clock this many times faster (60: a day in 24 min)"),
    ] = 1.0,
    caregiver_speed: Annotated[
        float, typer.Option(min=1, help="simulated caregivers reply, travel and work this many times faster than life")
    ] = 120.0,
    day_start: Annotated[
        str | None, typer.Option(help="start the clock at this local time today, HH:MM (e.g. 09:30 with --speed 60)")
    ] = None,
    telemetry_interval: Annotated[float, typer.Option(min=1, help="seconds between two readings of a device")] = 60.0,
    history_days: Annotated[
        int, typer.Option(min=0, max=366, help="days of generated past the new city starts with (first run only)")
    ] = HISTORY_DAYS,
    scenarios: Annotated[bool, typer.Option(help="play the bundled scenarios (simulators/scenarios/)")] = True,
    scenario_every: Annotated[
        float,
        typer.Option(min=0, help="seconds between two scenarios, played in turn for the whole run (0: each once)"),
    ] = SCENARIO_EVERY,
    operator: Annotated[
        bool, typer.Option(help="a simulated operator acknowledges alarms (--no-operator: you answer them all)")
    ] = True,
    answer_seconds: Annotated[
        float, typer.Option(min=0, help="clock seconds after which the simulated operator acknowledges an alarm")
    ] = 20.0,
) -> None:
    """Run the platform with a simulated city on the embedded defaults, for a first look.

    Starts the embedded PostgreSQL and MQTT broker, the gateway, dispatcher and dashboard, a local Twilio
    stand-in, a fleet of simulated devices, simulated caregivers who answer SMS offers, and the bundled
    scenarios (a fall, a heart-rate episode, smoke, a caregiver who does not answer, a battery running out),
    and a simulated operator who acknowledges each alarm ANSWER_SECONDS after it is raised (through the API).
    The first run creates the city in ELDERCARE_DATA_DIR (default ./var); later runs reuse it. Ctrl-C stops
    everything and keeps the data.
    """
    from dispatcher import Config
    from eldercare.commands import build_components, command_infrastructure, command_settings
    from eldercare.component import Context, StopRequested, run_until_stopped
    from simulators.caregivers import Behaviour
    from simulators.city import CityPlan, SimulatedCity
    from simulators.operator import SimulatedOperator
    from simulators.scenario import ScenarioError, bundled, load
    from simulators.twilio_standin import TwilioStandin

    stop = StopRequested().install()
    settings = command_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    public_url = f"http://127.0.0.1:{port}"
    clock = demo_clock(speed, day_start, ZoneInfo(settings.timezone))
    try:
        played = tuple(load(path) for path in bundled()) if scenarios else ()
    except ScenarioError as err:
        typer.echo(f"eldercare: {err}", err=True)
        raise typer.Exit(2) from None
    with command_infrastructure(settings, mqtt=True, migrations=True) as infra:
        manifest = settings.data_dir / "manifest.json"
        if ensure_demo_city(infra.database_url, manifest, elders, seed, clock.now(), history_days):
            typer.echo(
                f"created the demo city: {elders} elders and {history_days} days of generated history "
                f"(orders noted '{GENERATED_NOTE}'); manifest in {manifest}"
            )
        password = ensure_demo_user(infra.database_url, settings.data_dir / "demo-password.txt")
        standin = TwilioStandin(
            settings.twilio_account_sid,
            settings.twilio_auth_token.get_secret_value(),
            f"{public_url}/sms/inbound",
            from_number=settings.twilio_from,
        ).serve()
        demo_settings = settings.model_copy(update={"twilio_api_base": standin.url, "public_url": public_url})
        context = Context(demo_settings, infra.database_url, infra.mqtt_url, clock, infra.embedded_broker)
        # a device reporting every telemetry_interval wall seconds is that many times `speed` apart on the clock
        offline_after = max(900.0, 4 * telemetry_interval * speed)
        # and the scheduler must look for recurring services often enough in clock time not to miss one
        dispatch = Config.load(demo_settings)
        dispatch = replace(
            dispatch,
            dispatch=dispatch.dispatch.model_copy(update={"recurring_check_seconds": max(1.0, 30.0 / speed)}),
        )
        components = [
            _Running("Twilio stand-in", standin.stop),
            *build_components(
                ["gateway", "dispatcher", "dashboard"],
                context,
                {
                    "dashboard": {"host": "127.0.0.1", "port": port, "dispatch_config": dispatch},
                    "gateway": {"offline_after": offline_after},
                    "dispatcher": {"config": dispatch},
                },
            ),
            SimulatedCity(
                CityPlan(
                    manifest,
                    infra.mqtt_url,
                    standin.url,
                    telemetry_interval,
                    # caregivers never live slower than the platform's clock, or every order would look late
                    Behaviour(speed_factor=max(caregiver_speed, speed)),
                    played,
                    seed,
                    scenario_every,
                ),
                clock,
                busy_elders=lambda: elders_with_live_alarms(infra.database_url),
                say=typer.echo,
            ),
        ]
        if operator:
            secret = ensure_demo_user(
                infra.database_url,
                settings.data_dir / "sim-operator-password.txt",
                SIMULATED_OPERATOR,
                users.Role.OPERATOR,
                "模拟值班员",
            )
            components.append(SimulatedOperator(public_url, SIMULATED_OPERATOR, secret, answer_seconds, clock))

        def welcome() -> None:
            typer.echo(f"dashboard: {public_url}/   login: {DEMO_USER} / {password}")
            typer.echo(f"MQTT broker: {infra.mqtt_url}   Twilio stand-in: {standin.url}/standin/messages")
            typer.echo(f"Ctrl-C stops everything; data stays in {settings.data_dir}")

        report = summary_reporter(infra.database_url, clock, 5.0)
        run_until_stopped(components, stop, every=(5.0, report), on_started=welcome)
