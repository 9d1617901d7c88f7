"""The dead-letter record of rejected MQTT messages: reason, detail and a truncated copy of the payload."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from devices import Reason

KEEP_BYTES = 4096  # of the payload; payload_size says how large it was
KEEP_DETAIL = 500


@dataclass(frozen=True, slots=True)
class DeadLetter:
    received_at: datetime
    reason: Reason
    detail: str
    topic: str
    device_id: str | None
    payload: bytes

    def row(self) -> tuple[object, ...]:
        return (
            self.received_at,
            "mqtt",
            self.reason.value,
            _text(self.detail, KEEP_DETAIL),
            _text(self.topic, 1000),
            _text(self.device_id, 64) if self.device_id is not None else None,
            self.payload[:KEEP_BYTES],
            len(self.payload),
        )


def _text(value: str, limit: int) -> str:
    # PostgreSQL text cannot hold NUL, and whatever a device sends must still be recordable.
    return value[:limit].replace("\x00", "\\x00")


_COPY = "COPY dead_letter (received_at, source, reason, detail, topic, device_id, payload, payload_size) FROM STDIN"


def insert(conn: psycopg.Connection, letters: list[DeadLetter]) -> None:
    if not letters:
        return
    with conn.cursor() as cur, cur.copy(_COPY) as copy:
        for letter in letters:
            copy.write_row(letter.row())
