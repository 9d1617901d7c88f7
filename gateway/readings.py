"""Storing readings: COPY into a session-private staging table, then one INSERT ... ON CONFLICT DO NOTHING.

COPY cannot skip duplicates itself, and a redelivered message must be stored once: the staging table
takes the batch at COPY speed and the insert drops what ``reading``'s UNIQUE (device_id, ts, seq) has.
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
_COPY = f"COPY reading_incoming ({_COLUMN_LIST}) FROM STDIN (FORMAT BINARY)"
_INSERT = (
    f"INSERT INTO reading ({_COLUMN_LIST}) SELECT {_COLUMN_LIST} FROM reading_incoming "  # noqa: S608 (constants)
    "ON CONFLICT (device_id, ts, seq) DO NOTHING"
)


def prepare(conn: psycopg.Connection) -> None:
    """Create this session's staging table; once per connection."""
    with conn.transaction():
        conn.execute(_STAGING)


def insert(conn: psycopg.Connection, rows: list[Row]) -> int:
    """Store the rows that are not stored yet; returns how many were new."""
    if not rows:
        return 0
    with conn.cursor() as cur:
        with cur.copy(_COPY) as copy:
            copy.set_types(_BINARY_TYPES)
            for row in rows:
                copy.write_row(row)
        cur.execute(_INSERT)
        return max(cur.rowcount, 0)
