"""``eldercare demo``: the whole platform and a simulated city on the embedded defaults."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Annotated

import psycopg
import typer

from eldercare import seed as seeding
from eldercare import users

log = logging.getLogger(__name__)

DEMO_USER = "admin"


def ensure_demo_city(database_url: str, manifest: Path, elders: int, seed: int) -> bool:
    """Seed the city on first run; later runs reuse it. Returns whether it seeded."""
    with psycopg.connect(database_url) as conn:
        if seeding.count_elders(conn) and manifest.exists():
            return False
        if seeding.count_elders(conn):
            seeding.reset(conn)  # a city without its manifest cannot be driven; start it again
        plan = seeding.SeedPlan(elders=elders, seed=seed, providers=6, caregivers=max(12, elders * 60 // 500))
        city = seeding.generate(plan)
        seeding.write(conn, city)
    seeding.write_manifest(manifest, city)
    return True


def ensure_demo_user(database_url: str, password_file: Path) -> str:
    """The demo's admin password: created once, kept in the data folder for the next run."""
    with psycopg.connect(database_url) as conn:
        if users.get_user(conn, DEMO_USER) and password_file.exists():
            return password_file.read_text(encoding="utf-8").strip()
        password = secrets.token_urlsafe(9)
        if users.get_user(conn, DEMO_USER):
            users.set_password(conn, DEMO_USER, password)
        else:
            users.add_user(conn, DEMO_USER, password, users.Role.ADMIN, "演示管理员")
    password_file.write_text(password + "\n", encoding="utf-8")
    password_file.chmod(0o600)
    return password


def command(
    port: Annotated[int, typer.Option(help="the dashboard's HTTP port")] = 8000,
    elders: Annotated[int, typer.Option(min=1, help="elders in the demo city (first run only)")] = 500,
    seed: Annotated[int, typer.Option(help="random seed of the demo city (first run only)")] = 1,
) -> None:
    """Run the platform with a simulated city on the embedded defaults, for a first look.

    The first run creates the city in ELDERCARE_DATA_DIR (default ./var); later runs reuse it. Ctrl-C stops
    everything and keeps the data.
    """
    from eldercare.cli import _build, _infrastructure, _settings
    from eldercare.component import Context, StopRequested, run_until_stopped

    stop = StopRequested().install()
    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with _infrastructure(settings, mqtt=True, migrations=True) as infra:
        manifest = settings.data_dir / "manifest.json"
        if ensure_demo_city(infra.database_url, manifest, elders, seed):
            typer.echo(f"created the demo city: {elders} elders; manifest in {manifest}")
        password = ensure_demo_user(infra.database_url, settings.data_dir / "demo-password.txt")
        context = Context(settings, infra.database_url, infra.mqtt_url, embedded_broker=infra.embedded_broker)
        components = _build(
            ["gateway", "dispatcher", "dashboard"],
            context,
            {"dashboard": {"host": "127.0.0.1", "port": port}},
        )
        if any(c.name == "dashboard" for c in components):
            typer.echo(f"dashboard: http://127.0.0.1:{port}/   login: {DEMO_USER} / {password}")
        else:
            typer.echo("the dashboard is not built yet in this version")
        typer.echo(f"MQTT broker: {infra.mqtt_url}   Ctrl-C stops everything; data stays in {settings.data_dir}")
        run_until_stopped(components, stop)
