"""The dead-letter record of rejected input, for every component that refuses some: reason, detail and a
truncated copy of what arrived, so that nothing vanishes without a row that says why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from eldercare.vocabulary import InputSource

KEEP_BYTES = 4096  # of the payload; payload_size says how large it was
KEEP_DETAIL = 500


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One rejected input; ``reason`` is a short code (``devices.Reason`` for MQTT input)."""

    received_at: datetime
    source: InputSource
    reason: str
    detail: str
    payload: bytes
    topic: str | None = None
    device_id: str | None = None  # as the input claims it; not a foreign key on purpose

    def row(self) -> tuple[object, ...]:
        return (
            self.received_at,
            self.source.value,
            str(self.reason),
            _text(self.detail, KEEP_DETAIL),
            _text(self.topic, 1000) if self.topic is not None else None,
            _text(self.device_id, 64) if self.device_id is not None else None,
            self.payload[:KEEP_BYTES],
            len(self.payload),
        )


def _text(value: str, limit: int) -> str:
    # PostgreSQL text cannot hold NUL, and whatever arrives must still be recordable.
    return value[:limit].replace("\x00", "\\x00")


_COPY = "COPY dead_letter (received_at, source, reason, detail, topic, device_id, payload, payload_size) FROM STDIN"


def insert(conn: psycopg.Connection, letters: list[DeadLetter]) -> None:
    """Record the letters in the caller's transaction."""
    if not letters:
        return
    with conn.cursor() as cur, cur.copy(_COPY) as copy:
        for letter in letters:
            copy.write_row(letter.row())
