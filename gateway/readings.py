"""Storing readings with COPY, each (device_id, ts, seq) once.

A batch is first copied straight into ``reading`` (under a savepoint): the common case, and the fastest.
COPY cannot skip duplicates, so when the batch holds a reading that is stored already (a message the
broker redelivered after a crash or a lost acknowledgement), the savepoint is rolled back and the batch
goes through a session-private staging table and one INSERT ... ON CONFLICT DO NOTHING instead.
"""

from __future__ import annotations

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


def prepare(conn: psycopg.Connection) -> None:
    """Create this session's staging table; once per connection."""
    with conn.transaction():
        conn.execute(_STAGING)


def insert(conn: psycopg.Connection, rows: list[Row]) -> int:
    """Store the rows that are not stored yet, in the caller's transaction; returns how many were new."""
    if not rows:
        return 0
    try:
        with conn.transaction(), conn.cursor() as cur:
            _copy(cur, _COPY, rows)
        return len(rows)
    except psycopg.errors.UniqueViolation:
        pass
    with conn.cursor() as cur:
        _copy(cur, _COPY_STAGING, rows)
        cur.execute(_INSERT)
        return max(cur.rowcount, 0)


def _copy(cur: psycopg.Cursor, statement: str, rows: list[Row]) -> None:
    with cur.copy(statement) as copy:
        copy.set_types(_BINARY_TYPES)
        for row in rows:
            copy.write_row(row)
