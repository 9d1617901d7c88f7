"""Where a simulated day runs: fresh databases of its own, on an embedded PostgreSQL in a temporary folder or
on the server of ELDERCARE_DATABASE_URL. The city is seeded once into a template; each dispatcher runs on
a copy of it, so that both start from identical rows and identical sequences."""

from __future__ import annotations

import logging
import tempfile
import uuid
from pathlib import Path
from types import TracebackType

import psycopg
from psycopg import sql

from eldercare import seed as seeding
from eldercare.db import connect, with_database
from eldercare.embedded import EmbeddedPostgres, quiet_library_loggers
from eldercare.migrate import migrate

log = logging.getLogger(__name__)


class DatabaseError(Exception):
    """The simulation cannot get a database of its own; the message says what to do."""


class Databases:
    """Databases made for one simulated day, dropped when it ends unless ``keep``."""

    def __init__(self, server_url: str | None = None, *, keep: bool = False) -> None:
        self.given = server_url
        self.keep = keep
        self.prefix = f"eldercare_simday_{uuid.uuid4().hex[:8]}"
        self.server_url = ""
        self.created: list[str] = []
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._embedded: EmbeddedPostgres | None = None

    def __enter__(self) -> Databases:
        if self.given is not None:
            self.server_url = self.given
            return self
        quiet_library_loggers()
        self._tmp = tempfile.TemporaryDirectory(prefix="eldercare-simday-")
        self._embedded = EmbeddedPostgres(Path(self._tmp.name) / "pgdata")
        try:
            self.server_url = self._embedded.start()
            with psycopg.connect(self.server_url, autocommit=True) as conn:
                # a throw-away server: durability buys nothing here
                for setting in ("fsync", "full_page_writes", "synchronous_commit"):
                    conn.execute(sql.SQL("ALTER SYSTEM SET {} = off").format(sql.Identifier(setting)))
                conn.execute("SELECT pg_reload_conf()")
        except BaseException:
            self._close_embedded()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if not self.keep and self.given is not None:
                self._drop_all()
        finally:
            self._close_embedded()

    def _close_embedded(self) -> None:
        if self._embedded is not None:
            self._embedded.stop()
            self._embedded = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def _admin(self) -> psycopg.Connection:
        try:
            return psycopg.connect(self.server_url, autocommit=True)
        except psycopg.OperationalError as err:
            raise DatabaseError(
                f"cannot reach the database server: {str(err).strip()}\n"
                "Check ELDERCARE_DATABASE_URL, or unset it to run on an embedded PostgreSQL in a temporary folder."
            ) from None

    def _create(self, name: str, template: str | None = None) -> str:
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with self._admin() as conn:
            try:
                conn.execute(statement)
            except psycopg.errors.InsufficientPrivilege:
                raise DatabaseError(
                    "the simulation makes databases of its own and the user of ELDERCARE_DATABASE_URL may not "
                    "create databases; grant it CREATEDB, or unset the variable to use an embedded PostgreSQL"
                ) from None
        self.created.append(name)
        return with_database(self.server_url, name)

    def _drop_all(self) -> None:
        with self._admin() as conn:
            for name in reversed(self.created):
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        self.created.clear()

    def seed_city(self, plan: seeding.SeedPlan) -> str:
        """A migrated template database holding the seeded city; returns its name."""
        name = f"{self.prefix}_city"
        url = self._create(name)
        migrate(url)
        with connect(url, application_name="eldercare-simday") as conn:
            seeding.write(conn, seeding.generate(plan))
            conn.commit()
            conn.autocommit = True
            conn.execute("VACUUM ANALYZE")
        return name

    def copy_of(self, template: str, label: str) -> str:
        """A fresh database with the template's rows, for one dispatcher's day; returns its URL."""
        return self._create(f"{self.prefix}_{label}", template)
