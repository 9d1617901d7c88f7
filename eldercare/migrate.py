"""Numbered plain-SQL migrations, recorded in ``schema_migration`` and applied once each."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg

from eldercare.db import connect

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Any two processes migrating at once queue behind this lock instead of racing.
_LOCK_KEY = 0x656C6465  # "elde"


class MigrationError(Exception):
    """A migration cannot be applied, or the database's history disagrees with the files."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files in order; a misnamed file or a repeated number is an error."""
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNNN_lowercase_words.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"{path.name}: number {version} is used by {found[version].path.name} too")
        found[version] = Migration(version, match.group(2), path)
    return [found[v] for v in sorted(found)]


def _applied(conn: psycopg.Connection) -> dict[int, str]:
    conn.execute(
        """
        CREATE TABLE IF NOT EXISTS schema_migration (
            version     integer PRIMARY KEY,
            name        text NOT NULL,
            checksum    text NOT NULL,
            applied_at  timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    return dict(conn.execute("SELECT version, checksum FROM schema_migration").fetchall())


def migrate(url: str, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Apply every migration not yet applied, each in its own transaction; return those applied."""
    migrations = discover(directory)
    applied_now: list[Migration] = []
    with connect(url, application_name="eldercare-migrate", autocommit=True) as conn:
        conn.add_notice_handler(lambda diag: log.info("%s", diag.message_primary))
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            applied = _applied(conn)
            for migration in migrations:
                if migration.version in applied:
                    if applied[migration.version] != migration.checksum:
                        raise MigrationError(
                            f"migration {migration.path.name} was changed after it was applied; "
                            "add a new migration instead of editing an applied one"
                        )
                    continue
                log.info("applying migration %s", migration.path.name)
                try:
                    with conn.transaction():
                        conn.execute(migration.sql.encode())
                        conn.execute(
                            "INSERT INTO schema_migration (version, name, checksum) VALUES (%s, %s, %s)",
                            (migration.version, migration.name, migration.checksum),
                        )
                except psycopg.Error as err:
                    raise MigrationError(f"migration {migration.path.name} failed: {err}") from err
                applied_now.append(migration)
            engine = conn.execute("SELECT value FROM storage_info WHERE key = 'engine'").fetchone()
            log.info("schema up to date; time series stored with %s", engine[0] if engine else "?")
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return applied_now
