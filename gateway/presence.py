"""Device presence: online or offline, last seen, battery and position, updated once per batch per device."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg


@dataclass(slots=True)
class Seen:
    """What one batch says of one device; later messages of the batch override earlier ones."""

    online: bool | None = None
    seen_at: datetime | None = None
    battery: int | None = None
    battery_order: tuple[datetime, int] | None = None  # (ts, seq) of the message that said it
    lat: float | None = None
    lon: float | None = None
    position_order: tuple[datetime, int] | None = None
    seq: int | None = None
    firmware: str | None = None

    def message(self, received_at: datetime, seq: int, *, live: bool, online: bool = True) -> None:
        self.online = online
        if live and online:
            self.seen_at = received_at if self.seen_at is None else max(self.seen_at, received_at)
        self.seq = seq if self.seq is None else max(self.seq, seq)

    # The latest by device time; of two in the same millisecond, the later in the device's own order (seq).
    def battery_at(self, ts: datetime, seq: int, level: int | None) -> None:
        if level is not None and (self.battery_order is None or (ts, seq) >= self.battery_order):
            self.battery, self.battery_order = level, (ts, seq)

    def position_at(self, ts: datetime, seq: int, lat: float | None, lon: float | None) -> None:
        if lat is not None and lon is not None and (self.position_order is None or (ts, seq) >= self.position_order):
            self.lat, self.lon, self.position_order = lat, lon, (ts, seq)


@dataclass(frozen=True, slots=True)
class WentOffline:
    device_id: str
    elder_id: int


@dataclass(frozen=True, slots=True)
class Changes:
    """What one batch changed in devices' online state."""

    went_offline: list[WentOffline]
    came_online: list[str]


_CURRENT = "SELECT id, online, battery, last_seen_at, firmware FROM device WHERE id = ANY(%s)"
_LOCK = "SELECT id, online, elder_id FROM device WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE"
_UPDATE = """
    UPDATE device d SET
        online = coalesce(v.online, d.online),
        last_seen_at = greatest(d.last_seen_at, v.seen_at),
        battery = coalesce(v.battery, d.battery),
        last_lat = coalesce(v.lat, d.last_lat),
        last_lon = coalesce(v.lon, d.last_lon),
        last_seq = greatest(d.last_seq, v.seq),
        firmware = coalesce(v.firmware, d.firmware)
    FROM unnest(%s::text[], %s::boolean[], %s::timestamptz[], %s::smallint[], %s::float8[], %s::float8[],
                %s::bigint[], %s::text[]) AS v(id, online, seen_at, battery, lat, lon, seq, firmware)
    WHERE d.id = v.id
"""


def _due(seen: Seen, current: tuple[Any, ...], refresh: timedelta) -> bool:
    online, battery, last_seen_at, firmware = current
    return (
        (seen.online is not None and seen.online != online)
        or (seen.seen_at is not None and (last_seen_at is None or seen.seen_at - last_seen_at >= refresh))
        or (seen.battery is not None and seen.battery != battery)
        or (seen.firmware is not None and seen.firmware != firmware)
    )


def update(conn: psycopg.Connection, seen: dict[str, Seen], refresh: timedelta) -> Changes:
    """Apply a batch's presence; returns the devices this batch took offline and those it brought back.

    A device's row is written when its online state, battery or firmware changes, and otherwise at most
    every ``refresh`` (last seen and position): a fleet reporting every few seconds would else rewrite
    every device row in every batch.
    """
    if not seen:
        return Changes([], [])
    current = {row[0]: row[1:] for row in conn.execute(_CURRENT, (list(seen),))}
    ids = sorted(d for d, s in seen.items() if d in current and _due(s, current[d], refresh))
    if not ids:
        return Changes([], [])
    # Lock in id order: gateways sharing the load touch overlapping devices and must not deadlock.
    before = {row[0]: (row[1], row[2]) for row in conn.execute(_LOCK, (ids,))}
    values = [seen[i] for i in ids]
    conn.execute(
        _UPDATE,
        (
            ids,
            [v.online for v in values],
            [v.seen_at for v in values],
            [v.battery for v in values],
            [v.lat for v in values],
            [v.lon for v in values],
            [v.seq for v in values],
            [v.firmware for v in values],
        ),
    )
    return Changes(
        [
            WentOffline(device_id, before[device_id][1])
            for device_id in ids
            if seen[device_id].online is False and before.get(device_id, (False, 0))[0]
        ],
        [d for d in ids if seen[d].online is True and before.get(d, (True, 0))[0] is False],
    )


_SWEEP = """
    UPDATE device SET online = false
    WHERE id IN (
        SELECT id FROM device
        WHERE active AND online AND elder_id IS NOT NULL AND (last_seen_at < %s OR last_seen_at IS NULL)
        ORDER BY id
        FOR NO KEY UPDATE SKIP LOCKED
    )
    RETURNING id, elder_id
"""


def sweep_silent(conn: psycopg.Connection, silent_since: datetime) -> list[WentOffline]:
    """Mark offline the devices not heard from since ``silent_since``; safe to run from several gateways."""
    return [WentOffline(row[0], row[1]) for row in conn.execute(_SWEEP, (silent_since,))]
