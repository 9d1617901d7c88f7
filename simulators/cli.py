"""``eldercare simulate``: each simulator lives in its own module and exposes a typer ``command``."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    help="Simulated devices, scenarios, caregivers and the Twilio stand-in; a simulated city day.",
    no_args_is_help=True,
    rich_markup_mode=None,  # help paragraphs reflowed to the terminal, not broken where the source wraps
)

# subcommand name -> module exposing `command` (a function typer can register) and a docstring
SIMULATORS = {
    "fleet": "simulators.fleet",
    "scenario": "simulators.scenario",
    "twilio": "simulators.twilio_standin",
    "caregivers": "simulators.caregivers",
    "day": "simulators.day",
}


for _name, _module in SIMULATORS.items():
    app.command(name=_name)(importlib.import_module(_module).command)
