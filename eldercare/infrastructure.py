"""Where the database and the broker are: the configured ones, or the embedded defaults started here."""

from __future__ import annotations

import logging
from contextlib import ExitStack
from types import TracebackType

from eldercare.config import Settings
from eldercare.db import describe, ensure_database
from eldercare.embedded import EmbeddedBroker, EmbeddedPostgres
from eldercare.migrate import migrate

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "eldercare"


class Infrastructure:
    """Resolves the database and broker URLs, starting embedded ones for what is not configured.

    Use it as a context manager; leaving it stops whatever it started, keeping their data.
    """

    def __init__(self, settings: Settings, *, mqtt: bool = True, run_migrations: bool = False) -> None:
        self.settings = settings
        self._want_mqtt = mqtt
        self._run_migrations = run_migrations
        self._stack = ExitStack()
        self.database_url = ""
        self.mqtt_url = ""
        self.embedded_database = settings.database_url is None
        self.embedded_broker = mqtt and settings.mqtt_url is None

    def __enter__(self) -> Infrastructure:
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def _start(self) -> None:
        settings = self.settings
        if settings.database_url is not None:
            self.database_url = settings.database_url.get_secret_value()
        else:
            postgres = EmbeddedPostgres(settings.data_dir / "pgdata")
            server_url = postgres.start()
            self._stack.callback(postgres.stop)
            self.database_url = ensure_database(server_url, EMBEDDED_DATABASE)
        log.info("database: %s%s", describe(self.database_url), " (embedded)" if self.embedded_database else "")
        if self._run_migrations:
            migrate(self.database_url)
        if self._want_mqtt:
            if settings.mqtt_url is not None:
                self.mqtt_url = settings.mqtt_url
            else:
                broker = EmbeddedBroker(port=settings.embedded_mqtt_port, database_url=self.database_url)
                self.mqtt_url = broker.start()
                self._stack.callback(broker.stop)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stack.close()
