"""What the shell offers to the commands of other packages (the simulators, the demo): settings, infrastructure
and the platform's components by name, each failing with a message a person can act on."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import typer

from eldercare import logs
from eldercare.component import Component, Context
from eldercare.config import Settings, SettingsError, load_settings
from eldercare.embedded import MissingExtra
from eldercare.infrastructure import Infrastructure
from eldercare.migrate import MigrationError

COMPONENTS = ("gateway", "dispatcher", "dashboard")


def command_group(help: str, **options: Any) -> typer.Typer:
    """A group of commands: its help when called bare, and every help's paragraphs reflowed to the terminal (Typer's
    Rich markup keeps a docstring's line breaks, which broke each help mid-sentence where its source wraps)."""
    return typer.Typer(help=help, no_args_is_help=True, rich_markup_mode=None, **options)


def command_settings(log_level: str | None = None) -> Settings:
    """The validated settings, logging set up (at ``log_level`` when given, else the settings' own)."""
    with failures_reported():
        settings = load_settings()
    logs.setup(log_level or settings.log_level)
    return settings


@contextmanager
def failures_reported(
    *known: type[Exception],
    lost_database: str = "cannot reach the database",
    advice: str = "Check ELDERCARE_DATABASE_URL, or unset it to use the embedded PostgreSQL.",
) -> Iterator[None]:
    """Turn the failures a person can act on (``known`` ones, a failed migration, a missing extra, the database
    out of reach) into a message and exit status 1 instead of a traceback; invalid settings exit with 2."""
    actionable: tuple[type[Exception], ...] = (MigrationError, MissingExtra, *known)
    try:
        yield
    except SettingsError as err:  # a component's tuning, read as it starts
        typer.echo(f"eldercare: {err}", err=True)
        raise typer.Exit(2) from None
    except actionable as err:
        typer.echo(f"eldercare: {err}", err=True)
        raise typer.Exit(1) from None
    except psycopg.OperationalError as err:
        typer.echo(f"eldercare: {lost_database}: {str(err).strip()[:300]}\n{advice}", err=True)
        raise typer.Exit(1) from None


@contextmanager
def command_infrastructure(
    settings: Settings, *, mqtt: bool = False, migrations: bool = False
) -> Iterator[Infrastructure]:
    """The database (and broker), with failures a person can act on instead of tracebacks."""
    with failures_reported(), Infrastructure(settings, mqtt=mqtt, run_migrations=migrations) as infra:
        yield infra


def component_factory(name: str) -> Callable[..., Component]:
    """The ``create`` function of the platform component ``name`` (one of COMPONENTS)."""
    if name not in COMPONENTS:
        raise ValueError(f"no platform component {name!r}; expected one of {', '.join(COMPONENTS)}")
    create: Callable[..., Component] = importlib.import_module(name).create
    return create


def build_components(names: list[str], context: Context, options: dict[str, dict[str, Any]]) -> list[Component]:
    """The named platform components, each built with its ``options``, ready to start."""
    return [component_factory(name)(context, **options.get(name, {})) for name in names]


def refuse_unwritable(target: Path, option: str, *, create_parents: bool = False) -> None:
    """Exit 2, before any work, when ``target`` cannot be written as a file: it is a folder, or its folder is
    missing (made here with ``create_parents``) or not writable."""
    folder = target.parent
    problem = None
    if target.is_dir():
        problem = "it is a folder"
    else:
        if create_parents:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                problem = f"cannot make the folder {folder}: {err.strerror}"
        if problem is None and not folder.is_dir():
            problem = f"the folder {folder} does not exist"
        elif problem is None and not os.access(target if target.exists() else folder, os.W_OK):
            problem = "it may not be written here"
    if problem:
        typer.echo(f"eldercare: {option} {target}: {problem}. Give the path of a file that may be written.", err=True)
        raise typer.Exit(2)
