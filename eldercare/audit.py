"""The audit log: who did what to which record, written in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.types.json import Jsonb


def record(
    conn: psycopg.Connection,
    actor: str,
    action: str,
    target_kind: str | None = None,
    target_id: object = None,
    details: dict[str, Any] | None = None,
    client_ip: str | None = None,
) -> None:
    conn.execute(
        "INSERT INTO audit_log (actor, action, target_kind, target_id, details, client_ip) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        (
            actor,
            action,
            target_kind,
            None if target_id is None else str(target_id),
            Jsonb(details or {}),
            client_ip,
        ),
    )


def record_many(
    conn: psycopg.Connection,
    actor: str,
    action: str,
    target_kind: str,
    entries: Sequence[tuple[object, dict[str, Any]]],
) -> None:
    """One audit row per (target id, details): the same action done by one actor to many records at once."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO audit_log (actor, action, target_kind, target_id, details) VALUES (%s, %s, %s, %s, %s)",
            [(actor, action, target_kind, str(target_id), Jsonb(details)) for target_id, details in entries],
        )
