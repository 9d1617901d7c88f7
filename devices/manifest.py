"""The provisioning manifest that ``eldercare seed`` writes: each device's id, type, elder and secret."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from devices.topics import DEVICE_ID
from devices.types import DEVICE_TYPES


class ManifestError(Exception):
    """The manifest cannot be used; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class ProvisionedDevice:
    """A device as provisioned: its broker user name is its id, its password the secret."""

    id: str
    type: str
    elder_id: int
    secret: str


def load_devices(path: Path) -> list[ProvisionedDevice]:
    """The manifest's devices, in manifest order."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"no manifest at {path}; `eldercare seed --manifest {path}` writes one") from None
    except (OSError, ValueError) as err:
        raise ManifestError(f"cannot read the manifest {path}: {err}") from None
    entries = data.get("devices") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ManifestError(f"{path} has no 'devices' list; is it a manifest written by `eldercare seed`?")
    devices: list[ProvisionedDevice] = []
    seen: set[str] = set()
    for n, entry in enumerate(entries):
        try:
            device = ProvisionedDevice(
                str(entry["id"]), str(entry["type"]), int(entry["elder_id"]), str(entry["secret"])
            )
        except (KeyError, TypeError, ValueError):
            raise ManifestError(f"{path}: device #{n} lacks id, type, elder_id or secret") from None
        if not DEVICE_ID.fullmatch(device.id) or device.type not in DEVICE_TYPES:
            raise ManifestError(f"{path}: device #{n} has an invalid id {device.id!r} or type {device.type!r}")
        if not device.secret.strip():  # a broker account anyone could log in to, written as if it were one
            raise ManifestError(f"{path}: device #{n} ({device.id}) has an empty secret")
        if device.id in seen:
            raise ManifestError(f"{path}: device #{n} ({device.id}) is listed twice")
        seen.add(device.id)
        devices.append(device)
    return devices
