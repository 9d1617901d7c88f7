from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import typer
from typer.testing import CliRunner

from eldercare.cli import app

runner = CliRunner()
SUBCOMMANDS = [
    ["migrate"],
    ["seed"],
    ["run"],
    ["gateway"],
    ["dispatcher"],
    ["dashboard"],
    ["demo"],
    ["user"],
    ["user", "add"],
    ["simulate"],
    ["plan"],
    ["import"],
    ["import", "template"],
    ["import", "elders"],
    ["import", "devices"],
]


@pytest.mark.parametrize("args", [[], *SUBCOMMANDS], ids=lambda a: " ".join(a) or "eldercare")
def test_every_command_has_help(args: list[str]) -> None:
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert len(result.output.split("Usage:")[1].strip()) > 40


def _commands(command: Any, path: list[str]) -> Iterator[list[str]]:
    """Every command's words under ``command`` (a command or group of the CLI), itself first."""
    yield path
    if hasattr(command, "list_commands"):  # a group (typer vendors its own click: no isinstance)
        context = command.context_class(command)
        for name in command.list_commands(context):
            sub = command.get_command(context, name)
            assert sub is not None, name
            yield from _commands(sub, [*path, name])


def _ragged(output: str, width: int = 80) -> list[str]:
    """Lines of the help's description that end short: the next line's first word would have fit on them (a
    paragraph broken where its source wraps, not reflowed to the terminal)."""
    lines = [line.rstrip() for line in output.splitlines()]
    start = next(n for n, line in enumerate(lines) if line.strip().startswith("Usage:")) + 1
    ends = ("Options", "Arguments", "Commands", "╭")
    end = next((n for n in range(start, len(lines)) if lines[n].strip().startswith(ends)), len(lines))
    return [
        a
        for a, b in itertools.pairwise(lines[start:end])
        if a.strip() and b.strip() and len(a) + 1 + len(b.split()[0]) <= width
    ]


def test_every_commands_help_is_reflowed_to_the_terminal_not_broken_where_its_source_wraps() -> None:
    paths = list(_commands(typer.main.get_command(app), []))
    assert ["simulate", "day"] in paths and ["devices", "enrol"] in paths
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], terminal_width=80)
        assert result.exit_code == 0, result.output
        assert _ragged(result.output) == [], (path, result.output)


def test_top_level_help_says_how_to_configure() -> None:
    result = runner.invoke(app, ["--help"])
    assert "ELDERCARE_DATABASE_URL" in result.output and "ELDERCARE_MQTT_URL" in result.output


@pytest.fixture
def env(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.setenv("ELDERCARE_DATABASE_URL", database_url)
    monkeypatch.setenv("ELDERCARE_DATA_DIR", str(tmp_path / "var"))
    return database_url


def test_migrate_command_is_idempotent(env: str) -> None:
    for _ in range(2):
        result = runner.invoke(app, ["migrate"])
        assert result.exit_code == 0, result.output
        assert "up to date" in result.output


def test_seed_writes_manifest_and_refuses_a_populated_database(env: str, tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    result = runner.invoke(app, ["seed", "--elders", "40", "--seed", "5", "--manifest", str(manifest)])
    assert result.exit_code == 0, result.output
    data = json.loads(manifest.read_text(encoding="utf-8"))
    assert {"devices", "caregivers", "elders"} <= data.keys()
    assert len(data["elders"]) == 40
    again = runner.invoke(app, ["seed", "--elders", "40", "--manifest", str(manifest)])
    assert again.exit_code == 1
    assert "already has 40 elders" in again.output and "--reset" in again.output
    reset = runner.invoke(app, ["seed", "--elders", "10", "--reset", "--manifest", str(manifest)])
    assert reset.exit_code == 0, reset.output


def test_plan_plans_a_seeded_day_shows_progress_and_refuses_a_bad_day(env: str, tmp_path: Path) -> None:
    seeded = runner.invoke(app, ["seed", "--elders", "120", "--seed", "2", "--manifest", str(tmp_path / "m.json")])
    assert seeded.exit_code == 0, seeded.output
    result = runner.invoke(app, ["plan", "tomorrow", "--seconds", "5"])
    assert result.exit_code == 0, result.output
    assert "booked visits" in result.output and "solved in" in result.output  # progress
    assert "plan 1 for " in result.output and " in force: " in result.output
    past = runner.invoke(app, ["plan", "2020-01-01"])
    assert past.exit_code == 2 and "not for 2020-01-01" in past.output
    bad = runner.invoke(app, ["plan", "next week"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output


def test_user_add_reads_password_from_stdin_and_refuses_duplicates(env: str) -> None:
    ok = runner.invoke(app, ["user", "add", "li.na", "--role", "viewer", "--password-stdin"], input="correct horse\n")
    assert ok.exit_code == 0, ok.output
    with psycopg.connect(env) as conn:
        row = conn.execute("SELECT role, password_hash FROM operator WHERE username = 'li.na'").fetchone()
        audit = conn.execute("SELECT action FROM audit_log").fetchall()
    assert row is not None and row[0] == "viewer" and row[1].startswith("$argon2id$")
    assert ("user.add",) in audit
    dup = runner.invoke(app, ["user", "add", "li.na", "--password-stdin"], input="another pass\n")
    assert dup.exit_code == 1 and "exists already" in dup.output
    short = runner.invoke(app, ["user", "add", "wang", "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "at least 8" in short.output
    role = runner.invoke(app, ["user", "add", "zhao", "--role", "root", "--password-stdin"], input="longenough\n")
    assert role.exit_code == 2 and "admin, operator or viewer" in role.output
    # an empty code is not "no area": it would have opened the whole city to an account meant to be limited
    for option in ("--township", "--community"):
        empty = runner.invoke(app, ["user", "area", "li.na", option, ""])
        assert empty.exit_code == 1 and "the code is empty" in empty.output
    with psycopg.connect(env) as conn:
        assert conn.execute("SELECT count(*) FROM audit_log WHERE action = 'user.area'").fetchone() == (0,)


def test_unreachable_database_is_reported_plainly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELDERCARE_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == 1
    assert "cannot reach the database" in result.output


def test_invalid_settings_exit_with_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELDERCARE_MODE", "production")
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == 2
    assert "production mode refuses" in result.output


@pytest.mark.parametrize(
    ("args", "name", "value"),
    [
        (["plan", "tomorrow"], "ELDERCARE_DISPATCHER_PLAN_SPREAD_PASSES", "abc"),
        (["dispatcher"], "ELDERCARE_DISPATCHER_WEIGHTS_EMERGENCY__DISTANCE", "far"),
        (["gateway"], "ELDERCARE_GATEWAY_KEEPALIVE", "1"),
        (["dashboard", "--port", "1"], "ELDERCARE_DASHBOARD_POOL_MAX", "many"),
        (["devices", "sync-broker"], "ELDERCARE_MOSQUITTO_PID", "the broker"),
    ],
    ids=["plan", "dispatcher", "gateway", "dashboard", "sync-broker"],
)
def test_a_components_bad_tuning_is_named_not_a_traceback(
    env: str, monkeypatch: pytest.MonkeyPatch, args: list[str], name: str, value: str
) -> None:
    monkeypatch.setenv("ELDERCARE_MQTT_URL", "mqtt://127.0.0.1:1")  # the components fail before connecting
    monkeypatch.setenv(name, value)
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert f"invalid configuration:\n  {name}: " in result.output
    assert "Traceback" not in result.output and "pydantic" not in result.output


WITHOUT = """
import importlib.abc, sys

class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == sys.argv[1]:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, Absent())
from typer.main import get_command
from typer.testing import CliRunner
from eldercare.cli import app
print(" ".join(sorted(get_command(app).commands)))
if "demo" in get_command(app).commands:
    print(CliRunner().invoke(app, ["demo"]).output)
"""


def _commands_without(module: str) -> list[str]:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", WITHOUT, module], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_where_the_simulators_are_not_installed_the_command_runs_without_demo_and_simulate() -> None:
    commands = _commands_without("simulators")[0].split()
    assert {"run", "gateway", "dispatcher", "dashboard", "migrate"} <= set(commands)
    assert "demo" not in commands and "simulate" not in commands


def test_where_the_demo_extra_is_missing_demo_says_what_to_install() -> None:
    commands, *said = _commands_without("httpx")
    assert {"run", "demo", "simulate"} <= set(commands.split())
    assert "the simulators need httpx" in "\n".join(said) and "eldercare[demo]" in "\n".join(said)


@pytest.mark.parametrize("where", ["/proc/none/m.json", "."], ids=["cannot make the folder", "a folder"])
def test_seed_refuses_a_manifest_it_cannot_write_before_filling_the_database(
    env: str, tmp_path: Path, where: str
) -> None:
    """The manifest holds the only plaintext of the device secrets."""
    manifest = where if where.startswith("/") else str(tmp_path)
    result = runner.invoke(app, ["seed", "--elders", "5", "--manifest", manifest])
    assert result.exit_code == 2, result.output
    assert "--manifest" in result.output and "Give the path of a file" in result.output
    with psycopg.connect(env) as conn:
        assert conn.execute("SELECT to_regclass('elder') IS NULL OR NOT EXISTS (SELECT FROM elder)").fetchone() == (
            True,
        )


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--elders", "60", "--caregivers", "1"], "1 caregivers cannot staff 6 providers"),
        (["--elders", "3", "--providers", "100000"], "100000 providers for 3 elders are too many"),
    ],
    ids=["fewer caregivers than providers", "a provider per elder and more"],
)
def test_seed_refuses_a_city_that_cannot_be_drawn(env: str, tmp_path: Path, args: list[str], said: str) -> None:
    result = runner.invoke(app, ["seed", *args, "--manifest", str(tmp_path / "m.json")])
    assert result.exit_code == 2, result.output
    assert said in result.output
    assert not (tmp_path / "m.json").exists()


@pytest.mark.parametrize("day", ["9999-12-31", "2200-01-01"])
def test_plan_refuses_a_day_beyond_two_weeks_as_the_dashboard_does(env: str, day: str) -> None:
    result = runner.invoke(app, ["plan", day, "--no-tell"])
    assert result.exit_code == 2, result.output
    assert f"up to 14 days ahead, not for {day}" in result.output


def test_user_add_refuses_an_unknown_language_and_a_password_that_is_not_utf8(env: str) -> None:
    french = runner.invoke(app, ["user", "add", "bob", "--password-stdin", "--language", "fr"], input="longenough\n")
    assert french.exit_code == 2, french.output
    assert "--language must be one of zh, en, not 'fr'" in french.output
    latin1 = runner.invoke(app, ["user", "add", "bob", "--password-stdin"], input="mot de passe é\n".encode("latin-1"))
    assert latin1.exit_code == 2, latin1.output
    assert "not UTF-8" in latin1.output
    with psycopg.connect(env) as conn:
        assert conn.execute(
            "SELECT to_regclass('operator') IS NULL OR NOT EXISTS (SELECT FROM operator)"
        ).fetchone() == (True,)
