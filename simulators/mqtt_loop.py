"""Many paho clients driven by one thread and one selector (paho's external event loop), so that a
simulated fleet of thousands of devices needs thousands of sockets, not thousands of threads.

Every paho call happens on the loop thread; other threads hand work over with ``call`` (or ``submit``
to wait for the result).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import selectors
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

import paho.mqtt.client as mqtt

log = logging.getLogger(__name__)

T = TypeVar("T")
MISC_INTERVAL = 1.0  # seconds between keepalive checks of every client


class ClientLoop:
    """A selector loop for paho clients, on its own thread."""

    def __init__(self, name: str = "mqtt-loop") -> None:
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._calls: deque[Callable[[], None]] = deque()
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._clients: list[mqtt.Client] = []
        self._running = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    # -- from any thread

    def start(self) -> None:
        self._running.set()
        self._thread.start()

    def stop(self) -> None:
        self._running.clear()
        self._wake()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=10)

    def call(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the loop thread soon."""
        self._calls.append(fn)
        self._wake()

    def submit(self, fn: Callable[[], T], timeout: float = 30.0) -> T:
        """Run ``fn`` on the loop thread and wait for its result."""
        if threading.current_thread() is self._thread:
            return fn()
        future: Future[T] = Future()

        def run() -> None:
            try:
                future.set_result(fn())
            except BaseException as err:
                future.set_exception(err)

        self.call(run)
        return future.result(timeout)

    # -- on the loop thread

    def at(self, when: float, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the loop thread at monotonic time ``when``."""
        heapq.heappush(self._timers, (when, next(self._order), fn))

    def attach(self, client: mqtt.Client) -> None:
        """Let the loop serve ``client``'s socket once it connects."""
        client.on_socket_open = self._socket_open
        client.on_socket_close = self._socket_close
        client.on_socket_register_write = self._register_write
        client.on_socket_unregister_write = self._unregister_write
        self._clients.append(client)

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # already awake (buffer full), or closing
            self._wake_w.send(b"\0")

    def _socket_open(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        self._selector.register(sock, selectors.EVENT_READ, client)

    def _socket_close(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(sock)

    def _register_write(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self._selector.modify(sock, selectors.EVENT_READ | selectors.EVENT_WRITE, client)

    def _unregister_write(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self._selector.modify(sock, selectors.EVENT_READ, client)

    def _run(self) -> None:
        next_misc = time.monotonic() + MISC_INTERVAL
        while self._running.is_set():
            now = time.monotonic()
            timeout = min(next_misc, self._timers[0][0] if self._timers else next_misc) - now
            for key, mask in self._selector.select(max(0.0, timeout) if not self._calls else 0.0):
                client = key.data
                if client is None:
                    try:
                        while self._wake_r.recv(4096):
                            pass
                    except BlockingIOError:
                        pass
                    continue
                try:
                    if mask & selectors.EVENT_READ:
                        client.loop_read()
                    if mask & selectors.EVENT_WRITE:
                        client.loop_write()
                except Exception:
                    log.exception("an MQTT client failed on its socket")
            while self._calls:
                self._guarded(self._calls.popleft())
            now = time.monotonic()
            while self._timers and self._timers[0][0] <= now:
                self._guarded(heapq.heappop(self._timers)[2])
            if now >= next_misc:
                for client in self._clients:
                    self._guarded(client.loop_misc)
                next_misc = now + MISC_INTERVAL
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    @staticmethod
    def _guarded(fn: Callable[[], Any]) -> None:
        try:
            fn()
        except Exception:
            log.exception("simulated device work failed")
