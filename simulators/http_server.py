"""An ASGI app served by uvicorn on a background thread: for the stand-ins and the tests that drive them."""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn

from eldercare.embedded import free_port


class ThreadedServer:
    """``start()`` returns once the app accepts connections; ``stop()`` ends it."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=self.port, log_level="warning", access_log=False, lifespan="on")
        )
        self._thread = threading.Thread(target=self._server.run, name=f"http-{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> ThreadedServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the HTTP server on {self.url} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
