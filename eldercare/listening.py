"""LISTEN for PostgreSQL notifications on a thread of its own, listening again with back-off after any failure.

Every component that waits for NOTIFY uses this one loop. A notification only makes things faster: what it
announces is in the database, so a component sweeps when ``on_listening`` says it listens again (whatever was
announced meanwhile is found there) and, as a fallback, now and then anyway.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

import psycopg
from psycopg import sql

from eldercare.db import connect

log = logging.getLogger(__name__)


class Backoff:
    """Delays that double from ``first`` up to ``longest``, back to ``first`` after a success."""

    def __init__(self, first: float = 0.5, longest: float = 10.0) -> None:
        self.first, self.longest = first, longest
        self._next = first

    def next(self) -> float:
        delay, self._next = self._next, min(self._next * 2, self.longest)
        return delay

    def reset(self) -> None:
        self._next = self.first


class Listener:
    """LISTENs on ``channels`` and calls ``on_notify(channel, payload)`` for each notification, on its thread.

    ``on_listening`` runs each time the LISTEN is (again) in place, ``on_lost`` each time it is lost;
    ``listening`` is set while it is. Callbacks run on the listener's thread and must not block for long.
    """

    def __init__(
        self,
        database_url: str,
        channels: Sequence[str],
        on_notify: Callable[[str, str], None],
        *,
        name: str,
        on_listening: Callable[[], None] = lambda: None,
        on_lost: Callable[[], None] = lambda: None,
        backoff: Backoff | None = None,
        poll: float = 1.0,
    ) -> None:
        self._database_url = database_url
        self.channels = tuple(channels)
        self._on_notify = on_notify
        self._on_listening = on_listening
        self._on_lost = on_lost
        self._backoff = backoff or Backoff()
        self._poll = poll  # how soon a stop is noticed while no notification comes
        self.name = name
        self.listening = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"{name}-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except (psycopg.Error, OSError) as err:
                self._lost()
                delay = self._backoff.next()
                log.warning("%s: listening interrupted (%s); again in %.1f s", self.name, _short(err), delay)
                self._stop.wait(delay)
            except Exception:
                self._lost()
                delay = self._backoff.next()
                log.exception("%s: the listener failed; again in %.1f s", self.name, delay)
                self._stop.wait(delay)

    def _listen(self) -> None:
        with connect(self._database_url, application_name=f"eldercare-{self.name}", autocommit=True) as conn:
            for channel in self.channels:
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
            self._backoff.reset()
            self.listening.set()
            self._on_listening()
            while not self._stop.is_set():
                for notify in conn.notifies(timeout=self._poll):
                    self._on_notify(notify.channel, notify.payload)
                    if self._stop.is_set():
                        break
        self._lost()

    def _lost(self) -> None:
        if self.listening.is_set():
            self.listening.clear()
            self._on_lost()


def _short(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
