"""Storage upkeep run by the elected scheduler: reading partitions ahead, hourly rollups, retention."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import psycopg

log = logging.getLogger(__name__)

PARTITIONS_AHEAD_DAYS = 7
READING_RETENTION_DAYS = 400
ROLLUP_LOOKBACK = timedelta(hours=3)


def ensure_partitions(conn: psycopg.Connection, now: datetime) -> int:
    """Create the daily reading partitions from yesterday to a week ahead; returns how many were new."""
    row = conn.execute(
        "SELECT ensure_reading_partitions(%s::date - 1, %s::date + %s)", (now, now, PARTITIONS_AHEAD_DAYS)
    ).fetchone()
    created = int(row[0]) if row else 0
    if created:
        log.info("created %d reading partitions", created)
    return created


def refresh_rollups(conn: psycopg.Connection, now: datetime, lookback: timedelta = ROLLUP_LOOKBACK) -> int:
    """Recompute the hourly reading rollup over the last few hours (a no-op on TimescaleDB)."""
    row = conn.execute("SELECT refresh_reading_hourly(%s, %s)", (now - lookback, now)).fetchone()
    return int(row[0]) if row else 0


def apply_retention(conn: psycopg.Connection, now: datetime, days: int = READING_RETENTION_DAYS) -> int:
    """Drop readings older than the retention period (TimescaleDB's own policy does it there)."""
    row = conn.execute("SELECT drop_reading_partitions_before(%s)", (now - timedelta(days=days),)).fetchone()
    dropped = int(row[0]) if row else 0
    if dropped:
        log.info("dropped %d reading partitions older than %d days", dropped, days)
    return dropped


def storage_engine(conn: psycopg.Connection) -> str:
    row = conn.execute("SELECT value FROM storage_info WHERE key = 'engine'").fetchone()
    return str(row[0]) if row else "unknown"
