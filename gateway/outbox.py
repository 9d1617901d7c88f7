"""Publishing the ``device_command`` outbox: rows any component inserts (``eldercare.device_commands``), published
by the gateway to each device's cmd topic.

A command commits with the change that causes it (an alarm, an order update); its trigger NOTIFYs
``eldercare_device_command``. Every gateway LISTENs, and sweeps unsent rows at start and now and then; a
row is claimed with FOR UPDATE SKIP LOCKED, so with several gateways each command is published by one.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from datetime import timedelta

import msgspec
import psycopg

from devices import Command, encode, epoch_ms, topic
from eldercare.clock import Clock
from eldercare.db import connect
from eldercare.listening import Backoff, Listener
from gateway import metrics
from gateway.intake import Intake

log = logging.getLogger(__name__)

CHANNEL = "eldercare_device_command"
SWEEP_INTERVAL = 30.0
PUBLISH_TIMEOUT = 5.0
BATCH = 100


_CLAIM = """
    SELECT id, device_id, type, payload, created_at FROM device_command
    WHERE sent_at IS NULL AND failed_at IS NULL
    ORDER BY id LIMIT %s
    FOR UPDATE SKIP LOCKED
"""


class CommandPublisher:
    """A thread that publishes pending device commands through the gateway's MQTT session."""

    def __init__(self, database_url: str, intake: Intake, clock: Clock, ttl: timedelta) -> None:
        self._database_url = database_url
        self._intake = intake
        self._clock = clock
        self._ttl = ttl
        self._stop = threading.Event()
        self._wake = threading.Event()  # set by a NOTIFY, and when listening (again): rows may have come meanwhile
        self.listener = Listener(
            database_url, [CHANNEL], lambda channel, payload: self._wake.set(), name="gateway-commands",
            on_listening=self._wake.set, backoff=Backoff(1.0, 30.0),
        )  # fmt: skip
        self._thread = threading.Thread(target=self._run, name="gateway-commands", daemon=True)

    def start(self) -> None:
        self.listener.start()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self.listener.stop()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        backoff = Backoff(1.0, 30.0)
        conn: psycopg.Connection | None = None
        pending, last_sweep = True, 0.0  # sweep at start: rows may have committed while no gateway listened
        try:
            while not self._stop.is_set():
                if self._wake.is_set():
                    self._wake.clear()
                    pending = True
                if time.monotonic() - last_sweep >= SWEEP_INTERVAL:
                    pending = True
                if pending and self._intake.connected.is_set():
                    try:
                        if conn is None or conn.closed:
                            conn = connect(self._database_url, application_name="eldercare-gateway-commands")
                        while (handled := self.sweep(conn)) == BATCH:
                            pass
                        pending, last_sweep = handled < 0, time.monotonic()
                        backoff.reset()
                    except psycopg.OperationalError as err:
                        log.warning("device commands wait for the database: %s", str(err).strip()[:200])
                        _closed(conn)
                        conn = None
                        self._stop.wait(backoff.next())
                        continue
                    except Exception:
                        log.exception("the device command publisher failed; restarting it")
                        _closed(conn)
                        conn = None
                        self._stop.wait(backoff.next())
                        continue
                self._wake.wait(1.0)  # a stalled broker or a lost one is tried again within a second
        finally:
            _closed(conn)

    def sweep(self, conn: psycopg.Connection) -> int:
        """Publish up to BATCH pending commands; returns how many it handled, or -1 if the broker stalled."""
        now = self._clock.now()
        with conn.transaction():
            rows = conn.execute(_CLAIM, (BATCH,)).fetchall()
            for command_id, device_id, kind, payload, created_at in rows:
                if created_at < now - self._ttl:
                    self._fail(conn, command_id, "expired: older than ELDERCARE_GATEWAY_COMMAND_TTL")
                    continue
                try:
                    command = msgspec.convert(
                        {**payload, "ts": payload.get("ts", epoch_ms(created_at)), "type": kind}, Command
                    )
                    body, where = encode(command), topic(device_id, "cmd")
                except (msgspec.ValidationError, ValueError) as err:
                    self._fail(conn, command_id, f"invalid command: {err}")
                    continue
                info = self._intake.publish(where, body, qos=1)
                with contextlib.suppress(RuntimeError, ValueError):  # not connected, or a timeout
                    info.wait_for_publish(PUBLISH_TIMEOUT)
                if info.is_published():
                    conn.execute(
                        "UPDATE device_command SET sent_at = %s, attempts = attempts + 1 WHERE id = %s",
                        (self._clock.now(), command_id),
                    )
                    metrics.COMMANDS_SENT.inc()
                else:
                    conn.execute("UPDATE device_command SET attempts = attempts + 1 WHERE id = %s", (command_id,))
                    log.warning("command %s to %s not confirmed by the broker; retrying later", command_id, device_id)
                    return -1
        return len(rows)

    def _fail(self, conn: psycopg.Connection, command_id: int, error: str) -> None:
        log.warning("device command %s will not be sent: %s", command_id, error[:200])
        conn.execute(
            "UPDATE device_command SET failed_at = %s, error = %s WHERE id = %s",
            (self._clock.now(), error[:500], command_id),
        )


def _closed(conn: psycopg.Connection | None) -> None:
    if conn is not None:
        with contextlib.suppress(psycopg.Error):
            conn.close()
