"""What the gateway knows of each device: its elder, whether it is active, the elder's thresholds and language.

Loaded whole at start and reloaded every ``registry_refresh`` seconds; an id not seen yet is looked up at
once (a device registered a moment ago), and an id that is not registered is remembered for a short while
so that a flood from an unknown id costs one query, not one per message.

The device register announces every enrolment, binding, unbinding and revocation on a LISTEN/NOTIFY channel;
before each batch the registry forgets the devices announced since, so a message is attributed to the elder the
device is bound to when the gateway takes it in (``elder_id`` None: bound to nobody), not to a stale copy.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from eldercare import device_register
from gateway.rules import DEFAULT_THRESHOLDS, Thresholds

log = logging.getLogger(__name__)

UNKNOWN_TTL = 10.0  # seconds an unregistered id is remembered as unknown


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    id: str
    type: str
    elder_id: int
    active: bool
    language: str
    thresholds: Thresholds


@dataclass(frozen=True, slots=True)
class UnboundDevice:
    """A registered device bound to no elder (never bound, unbound or replaced): what it sends is no one's."""

    id: str
    type: str


_SELECT = """
    SELECT d.id, d.type, d.elder_id, d.active AND coalesce(e.active, true), coalesce(e.language, 'zh'),
           coalesce(e.thresholds, '{}')
    FROM device d LEFT JOIN elder e ON e.id = d.elder_id
"""


def _row(row: tuple[Any, ...], known: dict[str, Thresholds]) -> DeviceInfo | UnboundDevice:
    if row[2] is None:
        return UnboundDevice(row[0], row[1])
    # most elders keep the defaults: share one Thresholds per distinct setting
    key = repr(sorted(row[5].items()))
    thresholds = known.get(key)
    if thresholds is None:
        thresholds = known[key] = Thresholds.of(row[5]) if row[5] else DEFAULT_THRESHOLDS
    return DeviceInfo(row[0], row[1], row[2], row[3], row[4], thresholds)


class Registry:
    """A cache of the device registry, used by the ingest thread only."""

    def __init__(self, refresh_seconds: float) -> None:
        self._refresh = refresh_seconds
        self._devices: dict[str, DeviceInfo | UnboundDevice] = {}
        self._unknown: dict[str, float] = {}
        self._loaded_at = float("-inf")
        self._announced: set[str] = set()

    def __len__(self) -> int:
        return len(self._devices)

    def refresh_if_due(self, conn: psycopg.Connection) -> None:
        if time.monotonic() - self._loaded_at >= self._refresh:
            self.load(conn)

    def listen(self, conn: psycopg.Connection) -> None:
        """Hear the register's announcements on ``conn`` (the connection ``catch_up`` will use)."""
        with conn.transaction():
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(device_register.CHANNEL)))
        conn.add_notify_handler(self._heard)

    def _heard(self, notify: psycopg.Notify) -> None:
        if notify.channel == device_register.CHANNEL:
            self._announced.add(notify.payload)

    def catch_up(self, conn: psycopg.Connection) -> None:
        """Forget the devices the register changed, up to now: a round trip receives what was announced."""
        with conn.transaction():
            conn.execute("SELECT 1")
        if self._announced:
            for device_id in self._announced:
                self._devices.pop(device_id, None)
                self._unknown.pop(device_id, None)
            log.debug("device registry: %d devices changed", len(self._announced))
            self._announced = set()

    def load(self, conn: psycopg.Connection) -> None:
        with conn.transaction():
            rows = conn.execute(_SELECT).fetchall()
        known: dict[str, Thresholds] = {}
        self._devices = {row[0]: _row(row, known) for row in rows}
        self._unknown.clear()
        self._loaded_at = time.monotonic()
        log.debug("device registry loaded: %d devices", len(self._devices))

    def lookup(self, conn: psycopg.Connection, device_ids: Iterable[str]) -> dict[str, DeviceInfo | UnboundDevice]:
        """The registered devices among ``device_ids``; ids missing from the result are not registered."""
        now = time.monotonic()
        found: dict[str, DeviceInfo | UnboundDevice] = {}
        missing = []
        for device_id in set(device_ids):
            info = self._devices.get(device_id)
            if info is not None:
                found[device_id] = info
            elif self._unknown.get(device_id, 0.0) < now:
                missing.append(device_id)
        if missing:
            with conn.transaction():
                rows = conn.execute(_SELECT + " WHERE d.id = ANY(%s)", (missing,)).fetchall()
            for row in rows:
                info = _row(row, {})
                self._devices[info.id] = found[info.id] = info
            for device_id in set(missing) - {row[0] for row in rows}:
                self._unknown[device_id] = now + UNKNOWN_TTL
            if len(self._unknown) > 100_000:  # bounded, whatever a misbehaving fleet sends
                self._unknown.clear()
        return found
