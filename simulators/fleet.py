"""``eldercare simulate fleet``: connect simulated devices from the manifest and stream their telemetry.

The fleet itself (``Fleet``, which scenario players and tests drive) lives in simulators/device_fleet.py.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from devices import EventType, ManifestError, ProvisionedDevice, load_devices, refuses_event
from eldercare.mqtt import BrokerAddress
from simulators.device_fleet import Fleet, FleetStats, Sent, homes_from_manifest

__all__ = ["Fleet", "FleetStats", "Sent", "command"]

CONNECT_SECONDS = 30.0  # the least time given to the fleet to connect, for a broker that is still starting


def none_connected(fleet: Fleet, broker: BrokerAddress, wait: float, who: str) -> NoReturn:
    """Stop ``fleet``, of which ``who`` (``"no device"``, say) connected within ``wait`` seconds, saying where to
    look, and exit 1."""
    fleet.stop(announce=False)
    typer.echo(
        f"eldercare: {who} connected to {broker.host}:{broker.port} within {wait:g} s. Check that the broker runs "
        "there (--mqtt-url) and knows the manifest's devices (`eldercare seed` provisions them).",
        err=True,
    )
    raise typer.Exit(1)


def events_to_send(specs: list[str], fleet: list[ProvisionedDevice]) -> list[tuple[str, EventType]]:
    """``--event DEVICE:TYPE`` values as (device id, event): a device of the fleet, an event its type reports."""
    by_id = {device.id: device for device in fleet}
    chosen = []
    for spec in specs:
        device_id, _, kind = spec.partition(":")
        if kind not in set(EventType):
            known = ", ".join(EventType)
            raise typer.BadParameter(f"{spec!r}: expected DEVICE:TYPE with TYPE one of {known}", param_hint="'--event'")
        device = by_id.get(device_id)
        if device is None:
            raise typer.BadParameter(
                f"{spec!r}: {device_id!r} is not among the fleet's {len(fleet)} devices (--manifest, --devices)",
                param_hint="'--event'",
            )
        refusal = refuses_event(device.type, EventType(kind))
        if refusal:
            raise typer.BadParameter(f"{spec!r}: {refusal}", param_hint="'--event'")
        chosen.append((device_id, EventType(kind)))
    return chosen


def command(
    manifest: Annotated[Path, typer.Option(help="the provisioning manifest written by `eldercare seed`")] = Path(
        "var/manifest.json"
    ),
    devices: Annotated[int, typer.Option(min=0, help="how many of the manifest's devices to connect (0: all)")] = 0,
    rate: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="telemetry messages per second, all devices together (0: as fast as "
            "the broker takes them; default: one per device every 30 s)",
        ),
    ] = None,
    samples: Annotated[int, typer.Option(min=1, max=600, help="readings per telemetry message (batched samples)")] = 1,
    duration: Annotated[float, typer.Option(min=0, help="seconds to run (0: until Ctrl-C or --messages)")] = 0,
    messages: Annotated[int, typer.Option(min=0, help="stop after this many telemetry messages (0: no limit)")] = 0,
    event: Annotated[
        list[str] | None, typer.Option(help="send DEVICE:TYPE once connected, e.g. btn000001:sos (repeatable)")
    ] = None,
    qos: Annotated[int, typer.Option(min=0, max=1, help="QoS of telemetry (events and status are always 1)")] = 1,
    mqtt_url: Annotated[str | None, typer.Option(help="the broker (default: ELDERCARE_MQTT_URL)")] = None,
    seed: Annotated[int, typer.Option(help="random seed of the simulated readings")] = 1,
    progress: Annotated[float, typer.Option(min=0.5, help="seconds between progress lines")] = 5.0,
) -> None:
    """Connect simulated devices from the manifest and publish telemetry, events and status over MQTT.

    Each device logs in with its own id and secret, leaves a retained Last Will saying offline, says online
    (retained) when connected, and listens on its cmd topic. Ctrl-C disconnects them cleanly.
    """
    from eldercare.commands import failures_reported
    from eldercare.component import StopRequested
    from eldercare.config import load_settings

    with failures_reported():
        url = mqtt_url or load_settings().mqtt_url
    if not url:
        typer.echo("eldercare: no broker: set ELDERCARE_MQTT_URL or pass --mqtt-url mqtt://host:port", err=True)
        raise typer.Exit(2)
    try:
        provisioned = load_devices(manifest)
        broker = BrokerAddress.parse(url)
    except (ManifestError, ValueError) as err:
        typer.echo(f"eldercare: {err}", err=True)
        raise typer.Exit(2) from None
    chosen = provisioned[:devices] if devices else provisioned
    if not chosen:
        typer.echo(f"eldercare: the manifest {manifest} lists no devices; `eldercare seed` writes one", err=True)
        raise typer.Exit(2)
    events = events_to_send(event or [], chosen)
    per_second = rate if rate is not None else len(chosen) / 30
    stop = StopRequested().install()
    fleet = Fleet(chosen, broker, homes=homes_from_manifest(manifest), seed=seed, telemetry_qos=qos)
    typer.echo(f"connecting {len(chosen)} devices to {broker.host}:{broker.port} ...")
    wait = max(CONNECT_SECONDS, len(chosen) / 500)
    connected = fleet.start(timeout=wait)
    typer.echo(f"{connected}/{len(chosen)} devices connected")
    if not connected:
        none_connected(fleet, broker, wait, "no device")
    for device_id, kind in events:
        seq = fleet.send_event(device_id, kind)
        typer.echo(f"sent {kind} from {device_id} (seq {seq})")
    fleet.stream(per_second, duration=duration or None, messages=messages or None, samples=samples)
    started, last = time.monotonic(), 0
    try:
        while not stop.event.wait(progress):
            s = fleet.stats()
            elapsed = time.monotonic() - started
            typer.echo(
                f"{elapsed:7.0f} s  connected {s.connected}/{s.devices}  published {s.published}  "
                f"acknowledged {s.acknowledged} ({(s.acknowledged - last) / progress:.0f}/s)  commands {s.commands}"
            )
            last = s.acknowledged
            if fleet.wait(0) and (duration or messages):
                fleet.wait_acknowledged(10)
                break
    finally:
        fleet.stop()
    s = fleet.stats()
    typer.echo(f"done: published {s.published}, acknowledged {s.acknowledged}, commands received {s.commands}")
