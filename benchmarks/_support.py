"""What the benchmarks share: a throw-away PostgreSQL and a migrated database on it."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from eldercare.db import ensure_database
from eldercare.embedded import EmbeddedPostgres, quiet_library_loggers
from eldercare.migrate import migrate


@contextmanager
def scratch_database(name: str = "bench") -> Iterator[str]:
    """A migrated database on an embedded PostgreSQL in a temporary folder, removed afterwards."""
    quiet_library_loggers()
    with tempfile.TemporaryDirectory(prefix="eldercare-bench-") as tmp:
        server = EmbeddedPostgres(Path(tmp) / "pgdata")
        try:
            url = ensure_database(server.start(), name)
            migrate(url)
            yield url
        finally:
            server.stop()
