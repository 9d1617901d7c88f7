"""``eldercare simulate``: each simulator lives in its own module and exposes a typer ``command``."""

from __future__ import annotations

import importlib
from collections.abc import Callable

import typer

app = typer.Typer(
    help="Simulated devices, scenarios, caregivers and the Twilio stand-in; a simulated city day.",
    no_args_is_help=True,
)

# subcommand name -> module exposing `command` (a function typer can register) and a docstring
SIMULATORS = {
    "fleet": "simulators.fleet",
    "scenario": "simulators.scenario",
    "twilio": "simulators.twilio_standin",
    "caregivers": "simulators.caregivers",
    "day": "simulators.day",
}


def _not_built(name: str) -> Callable[[], None]:
    def command() -> None:
        typer.echo(f"eldercare: `simulate {name}` is not built yet in this version", err=True)
        raise typer.Exit(2)

    command.__doc__ = f"(not built yet) the {name} simulator."
    return command


for _name, _module in SIMULATORS.items():
    try:
        _command = importlib.import_module(_module).command
    except ModuleNotFoundError as err:
        if err.name != _module:
            raise
        _command = _not_built(_name)
    app.command(name=_name)(_command)
