"""``eldercare simulate``: each simulator lives in its own module and exposes a typer ``command``."""

from __future__ import annotations

import importlib

from eldercare.commands import command_group

app = command_group("Simulated devices, scenarios, caregivers and the Twilio stand-in; a simulated city day.")

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
