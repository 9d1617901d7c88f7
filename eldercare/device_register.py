"""The device register: enrol a device, bind it to an elder, unbind or replace it, and issue, rotate or revoke
its broker credential.

Shared by the API, the command line, and (later) the import and the seed. Every function takes a connection
and does not commit: the caller's transaction holds the change, its ``audit_log`` row (before and after) and a
``device_register`` notification, which reaches listeners (the gateway's registry, the broker sync) only once
the transaction commits. The secret of a credential is returned once and never stored: the database keeps a
Mosquitto-format hash, from which the broker's password file is written (see ``broker_accounts``).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.errors import UniqueViolation
from pydantic import computed_field
from pydantic.dataclasses import dataclass as pydantic_dataclass

from devices.mosquitto import password_hash
from devices.topics import DEVICE_ID
from devices.types import DEVICE_TYPES
from eldercare import audit
from eldercare.db import copy_rows
from eldercare.i18n import N_
from eldercare.labels import Listed, Message

# the LISTEN/NOTIFY channel told of every change; the payload is the device id
CHANNEL = "device_register"
SERIAL_MAX = 64


class RegisterError(Exception):
    """A change the register refuses; ``code`` is stable (for the API), the message says what to do."""

    def __init__(self, code: str, said: str | Message) -> None:
        super().__init__(said)
        self.code = code
        self.said = said  # a sentence of the catalogue where it is one, said in the reader's language
        self.message = str(said)


@dataclass(frozen=True, slots=True)
class Enrolment:
    """What enrolling a device needs: its type, and a serial number or IMEI, an id or both."""

    type: str
    serial: str | None = None
    device_id: str | None = None
    elder_id: int | None = None


# Device and Binding are pydantic dataclasses so that the API answers with them as they are (no restated models).
@pydantic_dataclass(frozen=True, slots=True)
class Device:
    id: str
    type: str
    serial: str | None
    elder_id: int | None
    active: bool
    registered_at: datetime
    credential_issued_at: datetime | None
    credential_revoked_at: datetime | None

    @computed_field(description="bound, active and with an unrevoked credential: the broker lets it in")  # type: ignore[prop-decorator]
    @property
    def may_connect(self) -> bool:
        """Whether the broker lets this device in: bound, active, with a credential that is not revoked."""
        return (
            self.active
            and self.elder_id is not None
            and self.credential_issued_at is not None
            and self.credential_revoked_at is None
        )


@pydantic_dataclass(frozen=True, slots=True)
class Binding:
    device_id: str
    elder_id: int
    bound_at: datetime
    unbound_at: datetime | None
    bound_by: str
    unbound_by: str | None
    end_reason: str | None


@dataclass(frozen=True, slots=True)
class Credential:
    """A device's broker login: user name = device id. The secret is shown once; only its hash is kept."""

    device_id: str
    secret: str


_DEVICE_COLUMNS = "id, type, serial, elder_id, active, registered_at, credential_issued_at, credential_revoked_at"
_DEVICE = f"SELECT {_DEVICE_COLUMNS} FROM device"  # noqa: S608 - fixed names
_BINDING = "SELECT device_id, elder_id, bound_at, unbound_at, bound_by, unbound_by, end_reason FROM device_binding"


def get(conn: psycopg.Connection, device_id: str, *, lock: bool = False) -> Device:
    """The device, or RegisterError ``unknown_device``."""
    row = conn.execute(_DEVICE + " WHERE id = %s" + (" FOR UPDATE" if lock else ""), (device_id,)).fetchone()
    if row is None:
        raise RegisterError(
            "unknown_device", Message.of(N_("no device %(id)r is registered; enrol it first"), id=device_id)
        )
    return Device(*row)


def find(conn: psycopg.Connection, *, elder_id: int | None = None, limit: int = 500) -> list[Device]:
    """Devices by id, all of them or those now bound to ``elder_id``."""
    where, params = ("WHERE elder_id = %s", (elder_id,)) if elder_id is not None else ("", ())
    rows = conn.execute(_DEVICE + f" {where} ORDER BY id LIMIT %s", (*params, limit)).fetchall()
    return [Device(*row) for row in rows]


def bindings(conn: psycopg.Connection, device_id: str) -> list[Binding]:
    """The device's bindings, oldest first; the last may still be open (``unbound_at`` None)."""
    rows = conn.execute(_BINDING + " WHERE device_id = %s ORDER BY bound_at, id", (device_id,)).fetchall()
    return [Binding(*row) for row in rows]


def _checked(enrolment: Enrolment) -> tuple[str, str, str | None]:
    """The enrolment's type, device id and serial, checked; RegisterError says what is wrong."""
    kind = enrolment.type.strip().lower()
    if kind not in DEVICE_TYPES:
        raise RegisterError(
            "unknown_type",
            Message.of(
                N_("unknown device type %(type)r; expected one of %(types)s"),
                type=enrolment.type,
                types=Listed(tuple(DEVICE_TYPES)),
            ),
        )
    serial = (enrolment.serial or "").strip() or None
    if serial is not None and (len(serial) > SERIAL_MAX or not _SERIAL_CHARS.issuperset(serial)):
        raise RegisterError(
            "bad_serial",
            Message.of(
                N_("serial %(serial)r must be 1-%(most)s letters, digits or . _ : / - (an IMEI is 15 digits)"),
                serial=serial,
                most=SERIAL_MAX,
            ),
        )
    device_id = (enrolment.device_id or "").strip() or _derive_id(kind, serial)
    if DEVICE_ID.fullmatch(device_id) is None:
        raise RegisterError(
            "bad_device_id",
            Message.of(
                N_(
                    "device id %(id)r must be 3-64 letters, digits, '_' or '-' (it is the broker user name); "
                    "give another id"
                ),
                id=device_id,
            ),
        )
    return kind, device_id, serial


def enrol(conn: psycopg.Connection, enrolment: Enrolment, actor: str, now: datetime) -> tuple[Device, Credential]:
    """Register a device with a fresh credential, bound to ``enrolment.elder_id`` when one is given."""
    kind, device_id, serial = _checked(enrolment)
    if serial is not None and (other := conn.execute("SELECT id FROM device WHERE serial = %s", (serial,)).fetchone()):
        raise RegisterError(
            "duplicate_serial",
            Message.of(
                N_("serial %(serial)r is registered already, as device %(id)r; check the label"),
                serial=serial,
                id=other[0],
            ),
        )
    if conn.execute("SELECT 1 FROM device WHERE id = %s", (device_id,)).fetchone():
        raise RegisterError(
            "duplicate_device_id",
            Message.of(N_("a device %(id)r is registered already; give another id"), id=device_id),
        )
    secret, secret_hash = _issue()
    try:
        with conn.transaction():
            row = conn.execute(
                "INSERT INTO device (id, type, serial, secret_hash, credential_issued_at, registered_at) "
                "VALUES (%s, %s, %s, %s, %s, %s) RETURNING " + _DEVICE_COLUMNS,
                (device_id, kind, serial, secret_hash, now, now),
            ).fetchone()
    except UniqueViolation:
        raise RegisterError(
            "duplicate_serial",
            Message.of(
                N_("device %(id)r or serial %(serial)r was registered a moment ago"), id=device_id, serial=serial
            ),
        ) from None
    assert row is not None
    device = Device(*row)
    _changed(conn, actor, "device.enrol", device_id, None, device)
    if enrolment.elder_id is not None:
        device = _bind(conn, device, enrolment.elder_id, actor, now)
    return device, Credential(device_id, secret)


def enrol_bound(
    conn: psycopg.Connection, enrolments: Sequence[tuple[Enrolment, tuple[str, str]]], actor: str, now: datetime
) -> list[Device]:
    """Register many devices at once, each bound to its elder and with its credential made beforehand (the
    demo seed's): checked as ``enrol`` and ``bind`` check one, all refused if one is wrong, written with COPY."""
    checked = [(*_checked(e), e.elder_id, issued) for e, issued in enrolments]
    for position, label in ((1, "device id"), (2, "serial")):
        values = [entry[position] for entry in checked if entry[position] is not None]
        if len(set(values)) < len(values):
            twice = next(v for v in values if values.count(v) > 1)
            raise RegisterError("duplicate_device_id", f"{label} {twice!r} is listed twice; list each device once")
        column = ("id", "serial")[position - 1]
        taken = conn.execute(f"SELECT {column} FROM device WHERE {column} = ANY(%s) LIMIT 1", (values,)).fetchone()  # noqa: S608 - fixed names
        if taken:
            raise RegisterError("duplicate_device_id", f"{label} {taken[0]!r} is registered already")
    wanted = sorted({elder_id for *_x, elder_id, _i in checked if elder_id is not None})
    active = {r[0] for r in conn.execute("SELECT id FROM elder WHERE id = ANY(%s) AND active", (wanted,))}
    if missing := [elder_id for *_x, elder_id, _i in checked if elder_id is None or elder_id not in active]:
        raise RegisterError("unknown_elder", f"elder {missing[0]} is not an active elder of the register")
    devices = [Device(i, k, s, e, True, now, now, None) for k, i, s, e, _issued in checked]
    hashes = [issued[1] for *_x, issued in checked]
    copy_rows(
        conn,
        "device",
        ("id", "type", "serial", "elder_id", "secret_hash", "credential_issued_at", "registered_at"),
        ((d.id, d.type, d.serial, d.elder_id, h, now, now) for d, h in zip(devices, hashes, strict=True)),
    )
    copy_rows(
        conn,
        "device_binding",
        ("device_id", "elder_id", "bound_at", "bound_by"),
        ((d.id, d.elder_id, now, actor) for d in devices),
    )
    audit.record_many(
        conn, actor, "device.enrol", "device", [(d.id, {"before": None, "after": _snapshot(d)}) for d in devices]
    )
    conn.cursor().executemany("SELECT pg_notify(%s, %s)", [(CHANNEL, d.id) for d in devices])
    return devices


def bind(conn: psycopg.Connection, device_id: str, elder_id: int, actor: str, now: datetime) -> Binding:
    """Bind an unbound device to an elder; from ``now`` its readings are the elder's."""
    _bind(conn, get(conn, device_id, lock=True), elder_id, actor, now)
    return bindings(conn, device_id)[-1]


def _bind(conn: psycopg.Connection, before: Device, elder_id: int, actor: str, now: datetime) -> Device:
    """Bind the device, locked and as it is now; returns it bound."""
    device_id = before.id
    if before.elder_id is not None:
        if before.elder_id == elder_id:
            said = Message.of(N_("device %(id)r is bound to this elder already"), id=device_id)
        else:
            said = Message.of(
                N_("device %(id)r is bound to elder %(elder)s already; unbind it first, or replace it"),
                id=device_id,
                elder=before.elder_id,
            )
        raise RegisterError("already_bound", said)
    if not before.active:
        raise RegisterError(
            "inactive_device", Message.of(N_("device %(id)r is deactivated and cannot be bound"), id=device_id)
        )
    elder = conn.execute("SELECT active FROM elder WHERE id = %s", (elder_id,)).fetchone()
    if elder is None:
        raise RegisterError(
            "unknown_elder", Message.of(N_("no elder %(id)s is registered; check the elder's id"), id=elder_id)
        )
    if not elder[0]:
        raise RegisterError(
            "inactive_elder",
            Message.of(N_("elder %(id)s is deactivated; a device cannot be bound to them"), id=elder_id),
        )
    row = conn.execute(
        "UPDATE device SET elder_id = %s WHERE id = %s RETURNING " + _DEVICE_COLUMNS,  # noqa: S608 - fixed names
        (elder_id, device_id),
    ).fetchone()
    assert row is not None
    conn.execute(
        "INSERT INTO device_binding (device_id, elder_id, bound_at, bound_by) VALUES (%s, %s, %s, %s)",
        (device_id, elder_id, now, actor),
    )
    after = Device(*row)
    _changed(conn, actor, "device.bind", device_id, before, after)
    return after


def unbind(conn: psycopg.Connection, device_id: str, actor: str, now: datetime, reason: str = "unbound") -> Binding:
    """End the device's binding; from ``now`` nothing it sends is attributed to the elder."""
    before = get(conn, device_id, lock=True)
    if before.elder_id is None:
        raise RegisterError("not_bound", Message.of(N_("device %(id)r is not bound to any elder"), id=device_id))
    conn.execute(
        "UPDATE device_binding SET unbound_at = greatest(%s, bound_at), unbound_by = %s, end_reason = %s "
        "WHERE device_id = %s AND unbound_at IS NULL",
        (now, actor, reason, device_id),
    )
    conn.execute("UPDATE device SET elder_id = NULL, online = false WHERE id = %s", (device_id,))
    _changed(conn, actor, "device.unbind", device_id, before, get(conn, device_id), reason=reason)
    return bindings(conn, device_id)[-1]


def replace(
    conn: psycopg.Connection, old_id: str, new_id: str, actor: str, now: datetime, *, revoke_old: bool = True
) -> Binding:
    """Put ``new_id`` in the place of ``old_id``: the old one is unbound (and its credential revoked), the new one
    bound to the same elder. The new device must be enrolled, unbound and of the old one's type."""
    if old_id == new_id:
        raise RegisterError("same_device", "a device cannot replace itself; give the new device's id")
    old = get(conn, old_id, lock=True)
    new = get(conn, new_id, lock=True)
    if old.elder_id is None:
        raise RegisterError("not_bound", f"device {old_id!r} is not bound to any elder, so there is nothing to replace")
    if new.elder_id is not None:
        raise RegisterError("already_bound", f"device {new_id!r} is bound to elder {new.elder_id}; unbind it first")
    if new.type != old.type:  # a gas detector in a pendant's place would leave the elder without a button to press
        raise RegisterError(
            "other_type",
            f"device {new_id!r} is a {new.type} and {old_id!r} a {old.type}: a device is replaced by one of its type; "
            f"bind the {new.type} to the elder beside it instead",
        )
    unbind(conn, old_id, actor, now, reason=f"replaced by {new_id}")
    if revoke_old and old.credential_revoked_at is None and old.credential_issued_at is not None:
        revoke(conn, old_id, actor, now)
    return bind(conn, new_id, old.elder_id, actor, now)


def rotate(conn: psycopg.Connection, device_id: str, actor: str, now: datetime) -> Credential:
    """A new secret for the device; the old one stops working once the broker is synchronised."""
    before = get(conn, device_id, lock=True)
    secret, secret_hash = _issue()
    conn.execute(
        "UPDATE device SET secret_hash = %s, credential_issued_at = %s, credential_revoked_at = NULL WHERE id = %s",
        (secret_hash, now, device_id),
    )
    _changed(conn, actor, "device.rotate_credential", device_id, before, get(conn, device_id))
    return Credential(device_id, secret)


def revoke(conn: psycopg.Connection, device_id: str, actor: str, now: datetime) -> Device:
    """Revoke the device's credential: the broker refuses it until a new one is issued (``rotate``)."""
    before = get(conn, device_id, lock=True)
    if before.credential_revoked_at is not None:
        raise RegisterError("already_revoked", f"the credential of {device_id!r} is revoked already")
    conn.execute(
        "UPDATE device SET credential_revoked_at = %s, secret_hash = %s WHERE id = %s",
        (now, "revoked", device_id),
    )
    after = get(conn, device_id)
    _changed(conn, actor, "device.revoke_credential", device_id, before, after)
    return after


def broker_accounts(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """(user name, Mosquitto password hash) of every device the broker should let in, by id.

    A device is let in while it is active, bound to an active elder, and holds an unrevoked credential that
    the register issued (a Mosquitto ``$7$`` hash; older seeded hashes are not in a format Mosquitto reads).
    """
    rows = conn.execute(
        """
        SELECT d.id, d.secret_hash FROM device d JOIN elder e ON e.id = d.elder_id
        WHERE d.active AND e.active AND d.credential_revoked_at IS NULL AND d.secret_hash LIKE '$7$%%'
        ORDER BY d.id
        """
    ).fetchall()
    return [(row[0], row[1]) for row in rows]


# -- helpers

_SERIAL_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:/-")


def _derive_id(kind: str, serial: str | None) -> str:
    """The serial when it can serve as a broker user name (an IMEI can), else the type and a random suffix."""
    if serial is not None and DEVICE_ID.fullmatch(serial):
        return serial
    return f"{kind}-{secrets.token_hex(5)}"


def _issue() -> tuple[str, str]:
    """A fresh secret and its hash."""
    secret = secrets.token_urlsafe(24)  # 192 bits, letters, digits, '-' and '_'
    return secret, password_hash(secret)


def _snapshot(device: Device | None) -> dict[str, Any] | None:
    if device is None:
        return None
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(device).items()}


def _changed(
    conn: psycopg.Connection,
    actor: str,
    action: str,
    device_id: str,
    before: Device | None,
    after: Device,
    **extra: Any,
) -> None:
    audit.record(
        conn, actor, action, "device", device_id, {"before": _snapshot(before), "after": _snapshot(after), **extra}
    )
    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, device_id))
