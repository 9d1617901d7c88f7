"""Keeping the daily KPI rollups (migration 0030) current: time zone, and a lazy, incremental refresh.

Triggers mark the days whose orders or alarms changed; :func:`refresh_if_stale` recomputes those days when
a KPI page or report is asked for and the last refresh is older than ``kpi_max_age_seconds``. So the figures
are never older than that, a quiet system does no work, and no scheduler is needed.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

ROLLUP_TABLES = ("kpi_order_daily", "kpi_order_slice", "kpi_alarm_daily", "kpi_alarm_slice")
ANALYZE_AFTER_DAYS = 20


def ensure_timezone(conn: psycopg.Connection, timezone: str) -> bool:
    """Make the rollups count days in ``timezone``; on a change every day is recomputed. Returns whether it changed."""
    row = conn.execute("SELECT timezone FROM kpi_setting FOR UPDATE").fetchone()
    if row is not None and row[0] == timezone:
        return False
    conn.execute("SELECT now() AT TIME ZONE %s", (timezone,))  # an unknown zone fails here, before any change
    conn.execute("UPDATE kpi_setting SET timezone = %s, refreshed_at = NULL", (timezone,))
    for table in ROLLUP_TABLES:
        conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))
    conn.execute(
        """
        INSERT INTO kpi_dirty_day (kind, day)
        SELECT DISTINCT 'order', (created_at AT TIME ZONE %(tz)s)::date FROM service_order
        UNION SELECT DISTINCT 'alarm', (received_at AT TIME ZONE %(tz)s)::date FROM alarm
        ON CONFLICT DO NOTHING
        """,
        {"tz": timezone},
    )
    log.info("KPI rollups now count days in %s; every day will be recomputed", timezone)
    return True


def refresh(conn: psycopg.Connection) -> int:
    """Recompute every dirty day now; returns the days recomputed (-1: another session is at it)."""
    started = time.monotonic()
    row = conn.execute("SELECT refresh_kpi_rollups()").fetchone()
    days = int(row[0]) if row else 0
    if days >= ANALYZE_AFTER_DAYS:
        # a big refresh (first run, time zone change, bulk load) changes the tables' statistics a lot
        for table in ROLLUP_TABLES:
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
    if days > 0:
        log.info("refreshed KPI rollups of %d days in %.2f s", days, time.monotonic() - started)
    return days


def refresh_if_stale(conn: psycopg.Connection, max_age_seconds: float) -> datetime | None:
    """Refresh when some day is dirty and the last refresh is older than ``max_age_seconds``.

    Returns the rollups' version (the time of their last refresh), None before the first.
    """
    row = conn.execute(
        """
        SELECT EXISTS (SELECT 1 FROM kpi_dirty_day)
               AND (refreshed_at IS NULL OR refreshed_at < clock_timestamp() - make_interval(secs => %s)),
               refreshed_at
        FROM kpi_setting
        """,
        (max_age_seconds,),
    ).fetchone()
    if row is None:
        return None
    if not row[0]:
        return row[1]
    refresh(conn)
    after = conn.execute("SELECT refreshed_at FROM kpi_setting").fetchone()
    return after[0] if after else None
