"""``eldercare devices``: provisioning chores for the device fleet."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from devices.manifest import ManifestError, load_devices
from devices.mosquitto import BrokerUser, write_config
from devices.types import DEVICE_TYPES
from eldercare.commands import command_group

T = TypeVar("T")

app = command_group(
    "Devices: enrol, bind, unbind, replace; broker credentials (rotate, revoke) and the broker's files."
)


@app.command("mosquitto-config")
def mosquitto_config(
    manifest: Annotated[Path, typer.Option(help="the provisioning manifest written by `eldercare seed`")] = Path(
        "var/manifest.json"
    ),
    out: Annotated[Path, typer.Option(help="folder that receives `passwd`, `platform-passwd` and `acl`")] = Path(
        "deploy/mosquitto"
    ),
    platform_user: Annotated[
        str | None, typer.Option(help="the platform's broker user (default: the user of ELDERCARE_MQTT_URL)")
    ] = None,
    platform_password_stdin: Annotated[
        bool, typer.Option(help="read the platform's password from stdin (default: from ELDERCARE_MQTT_URL)")
    ] = False,
) -> None:
    """Write Mosquitto's password files and ACL: each device logs in as its id and may publish only under it.

    Device passwords are the manifest's secrets (the database keeps only hashes); they go to `passwd`, for the
    devices' listener. The platform's account, which the gateway uses, goes to `platform-passwd`, for the
    platform's own listener; it reads every device topic and writes `cmd`. deploy/mosquitto/mosquitto.conf
    points at the three files; reload Mosquitto (SIGHUP) after each run.
    """
    from eldercare.commands import failures_reported
    from eldercare.config import load_settings
    from eldercare.mqtt import BrokerAddress

    user, password = platform_user, None
    if platform_password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    if user is None or password is None:
        with failures_reported():
            url = load_settings().mqtt_url
        address = BrokerAddress.parse(url) if url else None
        user = user or (address.username if address else None)
        password = password if password is not None else (address.password if address else None)
    if not user or not password:
        typer.echo(
            "eldercare: the platform's broker account is unknown. Set ELDERCARE_MQTT_URL=mqtt://user:password@host "
            "(the account the gateway uses), or pass --platform-user and --platform-password-stdin.",
            err=True,
        )
        raise typer.Exit(2)
    try:
        devices = load_devices(manifest)
    except ManifestError as err:
        typer.echo(f"eldercare: {err}", err=True)
        raise typer.Exit(1) from None
    try:
        passwd, platform_passwd, acl = write_config(
            out, BrokerUser(user, password), (BrokerUser(d.id, d.secret) for d in devices)
        )
    except ValueError as err:
        typer.echo(f"eldercare: {err}", err=True)
        raise typer.Exit(1) from None
    except OSError as err:  # the folder is a file, or cannot be written
        typer.echo(f"eldercare: cannot write Mosquitto's files into {out}: {err}", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"wrote {passwd} ({len(devices)} devices), {platform_passwd} ({user!r}) and {acl}; "
        "reload Mosquitto to apply them"
    )


# -- the device register (eldercare.device_register): enrolment, bindings and credentials


def _in_register(change: Callable[[Any], T], *, sync: bool = True) -> T:
    """Run ``change(conn)`` in one transaction; then bring the broker in step when ELDERCARE_MOSQUITTO_PASSWD is set."""
    import psycopg

    from eldercare import broker_sync
    from eldercare.commands import command_infrastructure, command_settings
    from eldercare.device_register import RegisterError

    with (
        command_infrastructure(command_settings(), migrations=True) as infra,
        psycopg.connect(infra.database_url) as conn,
    ):
        try:
            with conn.transaction():
                done = change(conn)
        except RegisterError as err:
            typer.echo(f"eldercare: {err.message}", err=True)
            raise typer.Exit(1) from None
        if sync:
            report = broker_sync.sync_if_configured(conn)
            if report is not None:
                typer.echo(f"broker: wrote {report.passwd} ({report.accounts} devices), {report.reloaded}")
    return done


def _now() -> datetime:
    return datetime.now(UTC)


@app.command("enrol")
def enrol(
    type_: Annotated[str, typer.Argument(metavar="TYPE", help=f"the device type: {', '.join(DEVICE_TYPES)}")],
    serial: Annotated[str | None, typer.Option(help="the maker's serial number or the IMEI (unique)")] = None,
    device_id: Annotated[
        str | None, typer.Option("--id", help="the device id and broker user name (default: the serial)")
    ] = None,
    elder: Annotated[int | None, typer.Option(help="bind it at once to this elder (id)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the credential as JSON")] = False,
) -> None:
    """Register a device and issue its broker credential. The secret is printed once and never stored."""
    from eldercare import device_register as register

    device, credential = _in_register(
        lambda conn: register.enrol(conn, register.Enrolment(type_, serial, device_id, elder), "cli", _now())
    )
    if as_json:
        fields = {"device_id": device.id, "username": device.id, "secret": credential.secret, "elder_id": elder}
        typer.echo(json.dumps(fields))
        return
    bound = f", bound to elder {device.elder_id}" if device.elder_id is not None else " (not bound yet)"
    typer.echo(f"enrolled {device.type} {device.id}{bound}")
    typer.echo(f"  broker user name: {device.id}\n  secret: {credential.secret}")
    typer.echo("The secret is shown this once; put it into the device now (`devices rotate` issues a new one).")


@app.command("bind")
def bind(
    device_id: Annotated[str, typer.Argument(help="the device id")],
    elder: Annotated[int, typer.Argument(help="the elder's id")],
) -> None:
    """Bind an unbound device to an elder: from now on its readings and events are the elder's."""
    from eldercare import device_register as register

    binding = _in_register(lambda conn: register.bind(conn, device_id, elder, "cli", _now()))
    typer.echo(f"{device_id} is bound to elder {binding.elder_id} since {binding.bound_at.isoformat()}")


@app.command("unbind")
def unbind(device_id: Annotated[str, typer.Argument(help="the device id")]) -> None:
    """End a device's binding: what it sends from now on is dead-lettered as `unbound_device`, and the broker
    refuses it."""
    from eldercare import device_register as register

    binding = _in_register(lambda conn: register.unbind(conn, device_id, "cli", _now()))
    typer.echo(f"{device_id} is no longer bound to elder {binding.elder_id}")


@app.command("replace")
def replace(
    old: Annotated[str, typer.Argument(help="the device taken away")],
    new: Annotated[str, typer.Argument(help="the enrolled, unbound device put in its place")],
    keep_old_credential: Annotated[bool, typer.Option(help="do not revoke the old device's credential")] = False,
) -> None:
    """Put a new device in the place of an old one: same elder; the old one is unbound and its credential revoked."""
    from eldercare import device_register as register

    binding = _in_register(
        lambda conn: register.replace(conn, old, new, "cli", _now(), revoke_old=not keep_old_credential)
    )
    typer.echo(f"{new} replaces {old} for elder {binding.elder_id}")


@app.command("rotate")
def rotate(device_id: Annotated[str, typer.Argument(help="the device id")]) -> None:
    """Issue a new secret for a device (the old one stops working). Printed once."""
    from eldercare import device_register as register

    credential = _in_register(lambda conn: register.rotate(conn, device_id, "cli", _now()))
    typer.echo(f"new secret for {device_id}: {credential.secret}\nThe secret is shown this once.")


@app.command("revoke")
def revoke(device_id: Annotated[str, typer.Argument(help="the device id")]) -> None:
    """Revoke a device's credential: the broker refuses it until `devices rotate` issues a new one."""
    from eldercare import device_register as register

    _in_register(lambda conn: register.revoke(conn, device_id, "cli", _now()))
    typer.echo(f"the credential of {device_id} is revoked")


@app.command("history")
def history(device_id: Annotated[str, typer.Argument(help="the device id")]) -> None:
    """A device's bindings, oldest first."""
    from eldercare import device_register as register

    def read(conn: Any) -> list[register.Binding]:
        register.get(conn, device_id)
        return register.bindings(conn, device_id)

    for b in _in_register(read, sync=False):
        until = b.unbound_at.isoformat() if b.unbound_at else "now"
        typer.echo(f"elder {b.elder_id}\t{b.bound_at.isoformat()} - {until}\t{b.end_reason or ''}")


@app.command("sync-broker")
def sync_broker(
    passwd: Annotated[
        Path | None, typer.Option(help="the devices' password file (default: ELDERCARE_MOSQUITTO_PASSWD)")
    ] = None,
    pid_file: Annotated[Path | None, typer.Option(help="Mosquitto's pid file, to SIGHUP it")] = None,
    pid: Annotated[int | None, typer.Option(help="Mosquitto's process id, to SIGHUP it", min=2, max=2**22)] = None,
    reload_command: Annotated[str | None, typer.Option(help="a command that makes Mosquitto reload instead")] = None,
) -> None:
    """Write Mosquitto's devices' password file from the device register and make Mosquitto reload it.

    Lets in each device that is active, bound to an active elder, with an unrevoked credential; no restart.
    """
    from eldercare import broker_sync
    from eldercare.commands import failures_reported
    from eldercare.config import load_settings

    given: dict[str, Any] = {"passwd": passwd, "pid_file": pid_file, "pid": pid, "reload_command": reload_command}
    with failures_reported():
        configured = load_settings(broker_sync.MosquittoSettings).model_dump()
    settings = broker_sync.MosquittoSettings.model_validate(
        {**configured, **{k: v for k, v in given.items() if v is not None}}
    )

    def run(conn: Any) -> broker_sync.SyncReport:
        try:
            return broker_sync.sync(conn, settings)
        except broker_sync.BrokerSyncError as err:
            typer.echo(f"eldercare: {err}", err=True)
            raise typer.Exit(1) from None

    report = _in_register(run, sync=False)
    typer.echo(f"wrote {report.passwd} ({report.accounts} devices); {report.reloaded}")
