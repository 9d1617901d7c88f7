"""The dashboard as a platform component: uvicorn serving the app from a background thread."""

from __future__ import annotations

import logging
import threading
import time

import uvicorn
from fastapi import FastAPI

from dashboard.events import EventHub

log = logging.getLogger(__name__)


class DashboardServer:
    """Runs uvicorn in a thread; ``stop`` ends the live streams and asks uvicorn to exit."""

    name = "dashboard"

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        self.app = app
        self.host = host
        self.port = port
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=3,
            # the app believes forwarded headers only from its configured proxies (trusted_proxies), not uvicorn's
            # default of any loopback client
            proxy_headers=False,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.run, name="dashboard-http", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 60
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(
                    f"the dashboard could not start on {self.host}:{self.port}: is the port in use, "
                    "is the database up? See the log above."
                )
            if time.monotonic() > deadline:
                raise RuntimeError(f"the dashboard did not start on {self.host}:{self.port} within 60 s")
            time.sleep(0.05)
        log.info("dashboard listening on %s", self.url)

    def stop(self) -> None:
        hub: EventHub = self.app.state.hub
        hub.close_streams()
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(15)
            if self._thread.is_alive():
                log.warning("the dashboard's HTTP thread did not end within 15 s")
