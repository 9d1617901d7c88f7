"""The ``device_command`` outbox, for every component that tells a device something: a typed command in,
one row out, published by a gateway to the device's ``cmd`` topic once the caller's transaction commits."""

from __future__ import annotations

from datetime import datetime

import msgspec
import psycopg
from psycopg.types.json import Jsonb

from devices import Command


def queue_command(conn: psycopg.Connection, device_id: str, command: Command, created_at: datetime) -> int:
    """Insert a command for a device, in the caller's transaction; returns its id."""
    payload = msgspec.to_builtins(command)
    payload.pop("type", None)  # a column of its own
    row = conn.execute(
        "INSERT INTO device_command (device_id, type, payload, created_at) VALUES (%s, %s, %s, %s) RETURNING id",
        (device_id, command.type, Jsonb(payload), created_at),
    ).fetchone()
    assert row is not None
    return int(row[0])
