"""``/api/v1/devices`` enrolment: register a device, bind, unbind and replace it, rotate and revoke its credential.

Each change goes through ``eldercare.device_register`` (which writes the audit row, before and after) in one
transaction, and then brings Mosquitto in step when ``ELDERCARE_MOSQUITTO_PASSWD`` is set. A credential's
secret is in the response that issues it, and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Annotated, Any, TypeVar

import psycopg
from fastapi import APIRouter, Path
from pydantic import BaseModel, Field
from pydantic.dataclasses import dataclass

from dashboard.auth import Actor, Reader
from dashboard.errors import Conflict, Invalid, NotFound
from dashboard.runtime import Pool, RuntimeDep
from devices.types import DEVICE_TYPES
from eldercare import broker_sync
from eldercare import device_register as register
from eldercare.db import ID_MAX

router = APIRouter(tags=["device enrolment"])
T = TypeVar("T")
DeviceId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{3,64}$", description="the device id (broker user name)")]
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such device or elder"},
    409: {"description": "the device is not in a state that allows it (bound, unbound, revoked, duplicate)"},
    422: {"description": "bad input: unknown type, malformed serial or id, a replacement of another type"},
}
_STATUS = {
    "unknown_device": NotFound,
    "unknown_elder": NotFound,
    "unknown_type": Invalid,
    "bad_serial": Invalid,
    "bad_device_id": Invalid,
    "same_device": Invalid,
    "other_type": Invalid,
}


class EnrolRequest(BaseModel):
    type: str = Field(description=f"the device type: {', '.join(DEVICE_TYPES)}", examples=["watch"])
    serial: str | None = Field(None, max_length=64, description="the maker's serial number or the IMEI (unique)")
    device_id: str | None = Field(None, max_length=64, description="the device id; by default the serial")
    elder_id: int | None = Field(None, ge=1, le=ID_MAX, description="bind it at once to this elder")


class BindRequest(BaseModel):
    elder_id: int = Field(ge=1, le=ID_MAX)


class ReplaceRequest(BaseModel):
    new_device_id: str = Field(pattern=r"^[A-Za-z0-9_-]{3,64}$", description="an enrolled, unbound device")
    revoke_old: bool = Field(True, description="revoke the old device's credential")


@dataclass(frozen=True, slots=True)
class DeviceRecord(register.Device):
    """The device as registered, with the history of its bindings, oldest first."""

    bindings: list[register.Binding]


class CredentialOut(BaseModel):
    """Shown once: the platform keeps only a hash. Put it into the device now."""

    username: str
    secret: str
    broker_synced: bool = Field(description="whether Mosquitto has been told already (ELDERCARE_MOSQUITTO_PASSWD)")


class Enrolled(BaseModel):
    device: register.Device
    credential: CredentialOut


def _record(conn: psycopg.Connection, device_id: str) -> DeviceRecord:
    return DeviceRecord(**asdict(register.get(conn, device_id)), bindings=register.bindings(conn, device_id))


def _change(pool: Any, change: Callable[[psycopg.Connection], T]) -> tuple[T, bool]:
    """``change`` in one transaction, the register's refusals as HTTP answers; then the broker sync."""
    with pool.connection() as conn:
        try:
            with conn.transaction():
                done = change(conn)
        except register.RegisterError as err:
            raise _STATUS.get(err.code, Conflict)(err.said) from None
        synced = broker_sync.sync_if_configured(conn) is not None
    return done, synced


@router.post("/devices", response_model=Enrolled, status_code=201, responses=ERRORS)
def enrol(body: EnrolRequest, principal: Actor, pool: Pool, runtime: RuntimeDep) -> Enrolled:
    """Register a device and issue its broker credential (user name = device id); the secret is shown once."""
    enrolment = register.Enrolment(body.type, body.serial, body.device_id, body.elder_id)
    (device, credential), synced = _change(
        pool, lambda conn: register.enrol(conn, enrolment, principal.username, runtime.clock.now())
    )
    return Enrolled(
        device=device,
        credential=CredentialOut(username=device.id, secret=credential.secret, broker_synced=synced),
    )


@router.get("/devices/{device_id}/record", response_model=DeviceRecord, responses=ERRORS)
def record(device_id: DeviceId, principal: Reader, pool: Pool) -> DeviceRecord:
    """The device as registered, with the history of its bindings."""
    with pool.connection() as conn:
        try:
            return _record(conn, device_id)
        except register.RegisterError as err:
            raise NotFound(err.said) from None


@router.post("/devices/{device_id}/bind", response_model=DeviceRecord, responses=ERRORS)
def bind(device_id: DeviceId, body: BindRequest, principal: Actor, pool: Pool, runtime: RuntimeDep) -> DeviceRecord:
    """Bind an unbound device to an elder: from now on its readings and events are the elder's."""
    _change(pool, lambda conn: register.bind(conn, device_id, body.elder_id, principal.username, runtime.clock.now()))
    with pool.connection() as conn:
        return _record(conn, device_id)


@router.post("/devices/{device_id}/unbind", response_model=DeviceRecord, responses=ERRORS)
def unbind(device_id: DeviceId, principal: Actor, pool: Pool, runtime: RuntimeDep) -> DeviceRecord:
    """End the binding: what the device sends is no longer the elder's, and the broker refuses it."""
    _change(pool, lambda conn: register.unbind(conn, device_id, principal.username, runtime.clock.now()))
    with pool.connection() as conn:
        return _record(conn, device_id)


@router.post("/devices/{device_id}/replace", response_model=DeviceRecord, responses=ERRORS)
def replace(
    device_id: DeviceId, body: ReplaceRequest, principal: Actor, pool: Pool, runtime: RuntimeDep
) -> DeviceRecord:
    """Put an enrolled, unbound device in this one's place for the same elder; answers with the new device."""
    _change(
        pool,
        lambda conn: register.replace(
            conn, device_id, body.new_device_id, principal.username, runtime.clock.now(), revoke_old=body.revoke_old
        ),
    )
    with pool.connection() as conn:
        return _record(conn, body.new_device_id)


@router.post("/devices/{device_id}/credential/rotate", response_model=CredentialOut, responses=ERRORS)
def rotate(device_id: DeviceId, principal: Actor, pool: Pool, runtime: RuntimeDep) -> CredentialOut:
    """A new secret (shown once); the old one stops working."""
    credential, synced = _change(
        pool, lambda conn: register.rotate(conn, device_id, principal.username, runtime.clock.now())
    )
    return CredentialOut(username=device_id, secret=credential.secret, broker_synced=synced)


@router.post("/devices/{device_id}/credential/revoke", response_model=DeviceRecord, responses=ERRORS)
def revoke(device_id: DeviceId, principal: Actor, pool: Pool, runtime: RuntimeDep) -> DeviceRecord:
    """Revoke the credential: the broker refuses the device until a new one is issued."""
    _change(pool, lambda conn: register.revoke(conn, device_id, principal.username, runtime.clock.now()))
    with pool.connection() as conn:
        return _record(conn, device_id)
