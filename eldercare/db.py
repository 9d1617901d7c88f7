"""Connections and pools to PostgreSQL through psycopg 3."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool

log = logging.getLogger(__name__)

# Everything inside the platform is UTC; local time appears only at the edges (schedules, reports, UI). No JIT: the
# platform's queries are short, and a server that compiles them (JIT, where PostgreSQL has it) does so when a query's
# estimated cost is high, not its run: an emergency's matching on stale statistics spent a second compiling per SOS.
SESSION_OPTIONS = "-c timezone=UTC -c jit=off"

# The largest value an ``integer`` column holds: the upper bound on an id (or code) taken from outside, which past it
# would fail in the database as out of range instead of being refused as the caller's mistake.
INT_MAX = 2**31 - 1
# The same for a ``bigint`` id (elders, caregivers, orders, alarms), kept well inside the column's 2**63 - 1.
ID_MAX = 2**62


def conninfo(url: str, application_name: str) -> str:
    """The connection string for ``url`` with our session settings and a name visible in pg_stat_activity."""
    return make_conninfo(url, application_name=application_name, options=SESSION_OPTIONS)


def describe(url: str) -> str:
    """Where a URL points, without user or password, for logs and messages."""
    info = conninfo_to_dict(url)
    where = info.get("host") or "localhost"
    if info.get("port"):
        where = f"{where}:{info['port']}"
    return f"{info.get('dbname', '?')} on {where}"


def connect(url: str, *, application_name: str = "eldercare", autocommit: bool = False) -> psycopg.Connection:
    """One connection; the caller closes it (``with connect(...) as conn``)."""
    return psycopg.connect(conninfo(url, application_name), autocommit=autocommit)


def open_pool(url: str, *, name: str, min_size: int = 1, max_size: int = 10, **kwargs: Any) -> ConnectionPool:
    """A pool for one component; opened here and closed by the owner's lifespan.

    Each connection is checked before it is lent: after a PostgreSQL restart an idle pooled connection is dead,
    and without the check each one would fail one request (``AdminShutdown``) before the pool replaced it.
    """
    pool = ConnectionPool(
        conninfo(url, f"eldercare-{name}"),
        min_size=min_size,
        max_size=max_size,
        name=name,
        open=False,
        check=ConnectionPool.check_connection,  # a connection PostgreSQL closed (a restart) is replaced, not used
        **kwargs,
    )
    pool.open(wait=True, timeout=30)
    return pool


def with_database(url: str, dbname: str) -> str:
    """The same server URL pointing at another database."""
    return make_conninfo(url, dbname=dbname)


def ensure_database(server_url: str, dbname: str) -> str:
    """Create ``dbname`` on the server of ``server_url`` unless it exists; return its URL."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if not exists:
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(dbname)))
            log.info("created database %s", dbname)
    return with_database(server_url, dbname)


def copy_rows(conn: psycopg.Connection, table: str, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> int:
    """Write ``rows`` into ``table`` with COPY, in the caller's transaction; returns how many.

    COPY writes identity values as given, so a table's ``id`` identity is then moved past the largest id.
    """
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    count = 0
    with conn.cursor().copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    sequence = conn.execute("SELECT pg_get_serial_sequence(%s, 'id')", (table,)).fetchone() if "id" in columns else None
    if sequence and sequence[0]:
        conn.execute(
            sql.SQL("SELECT setval({s}, (SELECT coalesce(max(id), 1) FROM {t}))").format(
                s=sql.Literal(sequence[0]), t=sql.Identifier(table)
            )
        )
    return count
