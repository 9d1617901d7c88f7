"""Which gateway instance holds the broker session: the one holding a PostgreSQL advisory lock on its name.

Every gateway of a deployment uses the same client id, so the broker keeps one persistent session with a
plain subscription, which (unlike a ``$share`` one) survives a broker restart and is never handed messages
for an instance that is gone. Only the instance that holds the lock connects with that id; the others stand
by and try the lock every ``interval`` seconds. The lock lives as long as the holder's connection to
PostgreSQL, on which the holder says something every ``interval``: a killed process loses it at once, a hung
one or one whose host is gone when PostgreSQL ends the silent session (``idle_session_timeout``, ``silence``).
The next instance then connects with the same client id, and the broker hands it whatever the session holds,
unacknowledged messages included. A holder that loses its connection to the
database keeps its broker session while it tries to take the lock again, and gives the session up as soon
as it learns that another instance holds the lock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg

log = logging.getLogger(__name__)

MIN_SILENCE = 10.0  # seconds: PostgreSQL ends a holder's lock connection after this long without a word

_TRY_LOCK = "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))"


class SessionLock:
    """Holds, or waits for, the advisory lock of one broker session, and says when it is won or lost."""

    def __init__(
        self,
        database_url: str,
        client_id: str,
        on_acquired: Callable[[], None],
        on_lost: Callable[[], None],
        *,
        interval: float = 1.0,
    ) -> None:
        self._url = database_url
        self._key = f"eldercare.gateway.session:{client_id}"
        self._client_id = client_id
        self._on_acquired = on_acquired
        self._on_lost = on_lost
        self._interval = interval
        self.silence = max(MIN_SILENCE, 5 * interval)  # so that a busy but live holder never reaches it
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: psycopg.Connection | None = None
        self.held = threading.Event()
        self.standing_by = threading.Event()  # set once another instance was found holding the session
        self.acquisitions = 0
        self.attempts = 0  # tries of the lock, won or not

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="gateway-session-lock", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching, still holding the lock: ``release`` it once the broker session was given up."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def release(self) -> None:
        """Let another instance take the session (the lock goes with its connection)."""
        self.stop()
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self.held.clear()

    def _run(self) -> None:
        conn = self._conn
        confirmed = False  # the lock is held on the current connection (not only believed held from a lost one)
        reconnected = False
        try:
            while not self._stop.is_set():
                try:
                    if conn is None:
                        conn = self._connect()
                        confirmed = False
                        if reconnected and not self.held.is_set() and self._stop.wait(self._interval):
                            break  # after an outage the instance that held the session tries first
                    if self.held.is_set() and confirmed:
                        conn.execute("SELECT 1")  # the lock is ours as long as this connection lives
                    elif self._try(conn):
                        confirmed = True
                        if not self.held.is_set():
                            self._acquired()
                    elif self.held.is_set():
                        self._lost()
                    elif not self.standing_by.is_set():
                        self.standing_by.set()
                        log.info("another gateway instance holds the broker session %r: standing by", self._client_id)
                except psycopg.Error as err:
                    if conn is not None:
                        conn.close()
                    conn, confirmed, reconnected = None, False, True
                    if self.held.is_set():
                        log.warning(
                            "lost the database connection that holds the broker session %r (%s); keeping the "
                            "session while retrying",
                            self._client_id,
                            str(err).strip()[:200],
                        )
                self._stop.wait(self._interval)
        finally:
            self._conn = conn

    def _connect(self) -> psycopg.Connection:
        return psycopg.connect(
            self._url,
            autocommit=True,
            connect_timeout=5,
            application_name="eldercare-gateway-session",
            options=f"-c idle_session_timeout={int(self.silence * 1000)}",
        )

    def _try(self, conn: psycopg.Connection) -> bool:
        self.attempts += 1
        row = conn.execute(_TRY_LOCK, (self._key,)).fetchone()
        return bool(row and row[0])

    def _acquired(self) -> None:
        self.acquisitions += 1
        self.held.set()
        log.info("holding the broker session %r: connecting to the broker", self._client_id)
        self._on_acquired()

    def _lost(self) -> None:
        self.held.clear()
        log.warning("another gateway instance holds the broker session %r now: standing by", self._client_id)
        self._on_lost()
