"""Storing readings with COPY, each delivery (device_id, ts, seq) once.

A batch is first copied straight into ``reading`` (under a savepoint): the common case, and the fastest.
COPY cannot skip duplicates, so when the batch holds a reading that is stored already (a message the
broker redelivered after a crash or a lost acknowledgement), the savepoint is rolled back and the batch
goes through a session-private staging table and one INSERT ... ON CONFLICT DO NOTHING instead. A copy
whose values differ from the stored reading's is no redelivery: it is returned, for a dead letter.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg

from devices import METRICS

COLUMNS = ("device_id", "elder_id", "ts", "received_at", "seq", *METRICS)
# (device_id, elder_id, ts, received_at, seq, hr, spo2, sbp, dbp, temp, steps, lat, lon, battery)
Row = tuple[str, int, datetime, datetime, int, int | None, int | None, int | None, int | None, float | None,
            int | None, float | None, float | None, int | None]  # fmt: skip

_COLUMN_LIST = ", ".join(COLUMNS)
_BINARY_TYPES = ["text", "int8", "timestamptz", "timestamptz", "int8", "int2", "int2", "int2", "int2", "float4",
                 "int4", "float8", "float8", "int2"]  # fmt: skip
_STAGING = "CREATE TEMP TABLE IF NOT EXISTS reading_incoming (LIKE reading) ON COMMIT DELETE ROWS"
_COPY = f"COPY reading ({_COLUMN_LIST}) FROM STDIN (FORMAT BINARY)"
_COPY_STAGING = f"COPY reading_incoming ({_COLUMN_LIST}) FROM STDIN (FORMAT BINARY)"
_INSERT = (
    f"INSERT INTO reading ({_COLUMN_LIST}) SELECT {_COLUMN_LIST} FROM reading_incoming "  # noqa: S608 (constants)
    "ON CONFLICT (device_id, ts, seq) DO NOTHING"
)


_CONFLICTS = f"""
    SELECT DISTINCT i.device_id, i.ts, i.seq, {", ".join(f"i.{m}::float8" for m in METRICS)} FROM reading_incoming i
    JOIN reading r ON r.device_id = i.device_id AND r.ts = i.ts AND r.seq = i.seq
    WHERE ({", ".join("i." + m for m in METRICS)}) IS DISTINCT FROM ({", ".join("r." + m for m in METRICS)})
"""  # noqa: S608 (constants)


def prepare(conn: psycopg.Connection) -> None:
    """Create this session's staging table; once per connection."""
    with conn.transaction():
        conn.execute(_STAGING)


_FLOAT4 = [i for i, kind in enumerate(_BINARY_TYPES[5:]) if kind == "float4"]


def as_stored(device_id: str, ts: datetime, seq: int, values: Sequence[object]) -> tuple[object, ...]:
    """(device_id, ts, seq, *METRICS) as ``_CONFLICTS`` gives them back: float4 columns lose precision (and
    every metric comes as float8, which compares and hashes equal to the int it holds)."""
    kept = list(values)
    for i in _FLOAT4:
        if isinstance(kept[i], float):
            kept[i] = struct.unpack("f", struct.pack("f", kept[i]))[0]
    return (device_id, ts, seq, *kept)


@dataclass(frozen=True, slots=True)
class Stored:
    new: int
    conflicts: set[tuple[object, ...]]  # (device_id, ts, seq, *METRICS) of copies with other values than stored


def insert(conn: psycopg.Connection, rows: list[Row]) -> Stored:
    """Store the rows that are not stored yet, in the caller's transaction."""
    if not rows:
        return Stored(0, set())
    try:
        with conn.transaction(), conn.cursor() as cur:
            _copy(cur, _COPY, rows)
        return Stored(len(rows), set())
    except psycopg.errors.UniqueViolation:
        pass
    with conn.cursor() as cur:
        _copy(cur, _COPY_STAGING, rows)
        cur.execute(_INSERT)
        new = max(cur.rowcount, 0)
        # what was just inserted equals itself: only copies with other values than the stored row remain
        return Stored(new, {tuple(row) for row in cur.execute(_CONFLICTS)})


def _copy(cur: psycopg.Cursor, statement: str, rows: list[Row]) -> None:
    with cur.copy(statement) as copy:
        copy.set_types(_BINARY_TYPES)
        for row in rows:
            copy.write_row(row)
