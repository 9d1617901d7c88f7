"""``eldercare devices``: provisioning chores for the device fleet."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from devices.manifest import ManifestError, load_devices
from devices.mosquitto import BrokerUser, write_config

app = typer.Typer(help="Device provisioning: broker credentials and ACL for the fleet.", no_args_is_help=True)


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
    from eldercare.config import SettingsError, load_settings
    from eldercare.mqtt import BrokerAddress

    user, password = platform_user, None
    if platform_password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    if user is None or password is None:
        try:
            url = load_settings().mqtt_url
        except SettingsError as err:
            typer.echo(f"eldercare: {err}", err=True)
            raise typer.Exit(2) from None
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
    typer.echo(
        f"wrote {passwd} ({len(devices)} devices), {platform_passwd} ({user!r}) and {acl}; "
        "reload Mosquitto to apply them"
    )
