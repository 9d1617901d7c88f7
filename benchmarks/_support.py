"""What the benchmarks share: throw-away PostgreSQL servers (plain, or 15 with TimescaleDB) and migrated databases."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from eldercare.db import ensure_database
from eldercare.embedded import EmbeddedPostgres, quiet_library_loggers
from eldercare.migrate import migrate


@contextmanager
def embedded_server() -> Iterator[str]:
    """The embedded PostgreSQL (plain path: daily partitions) in a temporary folder; yields its server URL."""
    quiet_library_loggers()
    with tempfile.TemporaryDirectory(prefix="eldercare-bench-") as tmp:
        server = EmbeddedPostgres(Path(tmp) / "pgdata")
        try:
            yield server.start()
        finally:
            server.stop()


@contextmanager
def timescale_server(*, preload: bool = True) -> Iterator[str]:
    """PostgreSQL 15 with TimescaleDB preloaded, as the tests start it but durable (fsync on, as the embedded one);
    with ``preload=False`` the same PostgreSQL 15 without it (the plain path on the same major version).

    TimescaleDB's background jobs are off: a benchmark runs a policy's job itself when it wants it done."""
    from tests.services import TimescalePostgres, timescaledb_missing

    missing = timescaledb_missing()
    if missing:
        raise RuntimeError(missing)
    with tempfile.TemporaryDirectory(prefix="eldercare-bench-tsdb-") as tmp:
        server = TimescalePostgres(Path(tmp) / "pgdata", durable=True, preload=preload)
        try:
            yield server.url
        finally:
            server.close()


def migrated(server_url: str, name: str) -> str:
    """A database ``name`` on the server, with every migration applied; returns its URL."""
    url = ensure_database(server_url, name)
    migrate(url)
    return url


@contextmanager
def scratch_database(name: str = "bench") -> Iterator[str]:
    """A migrated database on an embedded PostgreSQL in a temporary folder, removed afterwards."""
    with embedded_server() as server_url:
        yield migrated(server_url, name)
