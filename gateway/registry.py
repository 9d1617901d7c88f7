"""What the gateway knows of each device: its elder, whether it is active, the elder's thresholds and language.

Loaded whole at start and reloaded every ``registry_refresh`` seconds; an id not seen yet is looked up at
once (a device registered a moment ago), and an id that is not registered is remembered for a short while
so that a flood from an unknown id costs one query, not one per message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import psycopg

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


_SELECT = """
    SELECT d.id, d.type, d.elder_id, d.active AND e.active, e.language, e.thresholds
    FROM device d JOIN elder e ON e.id = d.elder_id
"""


def _row(row: tuple[Any, ...], known: dict[str, Thresholds]) -> DeviceInfo:
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
        self._devices: dict[str, DeviceInfo] = {}
        self._unknown: dict[str, float] = {}
        self._loaded_at = float("-inf")

    def __len__(self) -> int:
        return len(self._devices)

    def refresh_if_due(self, conn: psycopg.Connection) -> None:
        if time.monotonic() - self._loaded_at >= self._refresh:
            self.load(conn)

    def load(self, conn: psycopg.Connection) -> None:
        with conn.transaction():
            rows = conn.execute(_SELECT).fetchall()
        known: dict[str, Thresholds] = {}
        self._devices = {row[0]: _row(row, known) for row in rows}
        self._unknown.clear()
        self._loaded_at = time.monotonic()
        log.debug("device registry loaded: %d devices", len(self._devices))

    def lookup(self, conn: psycopg.Connection, device_ids: Iterable[str]) -> dict[str, DeviceInfo]:
        """The registered devices among ``device_ids``; ids missing from the result are not registered."""
        now = time.monotonic()
        found: dict[str, DeviceInfo] = {}
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
