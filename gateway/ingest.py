"""The ingest thread: batches what the broker delivers, writes each batch, and acknowledges it once committed.

Nothing is acknowledged before its batch commits, so a gateway killed at any moment loses nothing the
broker accepted: the broker redelivers to the persistent session, and idempotent storage drops what was
already written. While the database is away the gateway keeps its batch, retries with backoff, and
acknowledges nothing; past ``buffer_max`` waiting messages it disconnects from the broker (which keeps
them for the session) and reconnects once the database answers again.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from datetime import timedelta

import psycopg
from psycopg.errors import TransactionRollback

from devices import Channel, Decoder, Event, Message, Reason, Rejected, refuses_event
from eldercare.clock import Clock
from eldercare.db import conninfo
from eldercare.dead_letters import DeadLetter
from eldercare.vocabulary import AlarmType, InputSource
from gateway import metrics, presence, readings
from gateway.alarms import AlarmRaise, raise_alarm
from gateway.intake import Delivery, Intake
from gateway.registry import Registry, UnboundDevice
from gateway.settings import GatewaySettings
from gateway.writer import Accepted, BatchOutcome, BatchWriter

log = logging.getLogger(__name__)

# Worth trying again as they are: the database is away, or two transactions collided.
RETRYABLE = (psycopg.OperationalError, psycopg.InterfaceError)  # TransactionRollback (deadlock) is operational
_CHANNEL_LABELS = {c.value: metrics.RECEIVED.labels(c.value) for c in Channel}
_OTHER_LABEL = metrics.RECEIVED.labels("other")


class Ingest:
    """Owns the gateway's database connection; runs in one thread."""

    def __init__(
        self, settings: GatewaySettings, database_url: str, clock: Clock, writer: BatchWriter, registry: Registry
    ) -> None:
        self.settings = settings
        self.queue: queue.SimpleQueue[Delivery] = queue.SimpleQueue()
        self.writer = writer
        self.registry = registry
        self._database_url = database_url
        self._clock = clock
        self._listening_since = clock.now()
        self._decoder = Decoder(settings.limits)
        self._intake: Intake | None = None
        self._conn: psycopg.Connection | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gateway-ingest", daemon=True)
        # what happened so far, for logs and tests
        self.committed_batches = 0
        self.retries = 0
        self.handbacks = 0
        self.sweeps_held_back = 0

    def attach(self, intake: Intake) -> None:
        self._intake = intake

    def put(self, delivery: Delivery) -> None:
        """Called on paho's network thread for every message."""
        self.queue.put(delivery)

    def start(self) -> None:
        self._listening_since = self._clock.now()
        self._thread.start()

    def stop(self) -> None:
        """Finish the batch in hand (commit and acknowledge it); what is still queued stays with the broker."""
        self._stop.set()
        self._thread.join(timeout=60)
        if self._conn is not None:
            self._conn.close()

    # -- the thread

    def _run(self) -> None:
        next_sweep = time.monotonic() + min(5.0, self.settings.sweep_interval)
        while not self._stop.is_set():
            try:
                batch = self._collect()
                if batch:
                    self._commit(batch)
                metrics.BUFFER_DEPTH.set(self.queue.qsize())
                if time.monotonic() >= next_sweep:
                    self._sweep_silent()
                    next_sweep = time.monotonic() + self.settings.sweep_interval
            except Exception:  # a bug; the thread must go on, and the broker must redeliver what is unsure
                log.exception("the ingest loop failed; reconnecting to the broker so that it redelivers")
                self._stop.wait(1.0)
                if self._intake is not None and not self._stop.is_set():
                    self._intake.pause()
                    self._drain_queue()
                    self._intake.resume()

    def _collect(self) -> list[Delivery]:
        """A batch: up to batch_max messages, waiting at most batch_wait, or less once deliveries pause."""
        get = self.queue.get
        try:
            batch = [get(timeout=0.2)]
        except queue.Empty:
            return []
        limit, idle = self.settings.batch_max, self.settings.batch_idle
        deadline = time.monotonic() + self.settings.batch_wait
        while len(batch) < limit:
            try:
                batch.append(get(block=False))
                continue
            except queue.Empty:
                pass
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(get(timeout=min(remaining, idle)))
            except queue.Empty:
                # A pause: the broker has nothing more, or its in-flight window is full until we acknowledge.
                break
        return batch

    def _commit(self, batch: list[Delivery]) -> None:
        delay = 0.25
        while True:
            try:
                conn = self._connection()
                started = time.perf_counter()
                outcome = self._store(conn, batch)
            except RETRYABLE as err:
                self._lost_database(err)
                self.retries += 1
                if self._stop.is_set():
                    return  # not acknowledged: the broker redelivers to the next session
                if self.queue.qsize() + len(batch) > self.settings.buffer_max:
                    self._hand_back_to_broker()
                    return
                self._stop.wait(delay)
                delay = min(delay * 2, self.settings.retry_max_delay)
                continue
            except Exception:  # a bug, not the input (that becomes a dead letter): keep the batch, keep trying
                log.exception("writing a batch of %d failed; trying again", len(batch))
                if self._stop.wait(delay):
                    return
                delay = min(delay * 2, self.settings.retry_max_delay)
                continue
            break
        metrics.COMMIT_SECONDS.observe(time.perf_counter() - started)
        metrics.BATCH_SIZE.observe(len(batch))
        metrics.READINGS_STORED.inc(outcome.readings)
        metrics.EVENTS_STORED.inc(outcome.events)
        metrics.DUPLICATES.labels("telemetry").inc(outcome.readings_offered - outcome.readings)
        metrics.DUPLICATES.labels("event").inc(outcome.events_offered - outcome.events)
        self.committed_batches += 1
        if self._intake is not None:
            self._intake.ack(batch)

    def _store(self, conn: psycopg.Connection, batch: list[Delivery]) -> BatchOutcome:
        self.registry.refresh_if_due(conn)
        self.registry.catch_up(conn)
        accepted, dead = self._check(conn, batch)
        try:
            return self.writer.write(conn, accepted, dead)
        except RETRYABLE:
            raise
        except Exception as err:  # one message the database (or a bug) refuses must not hold up the others
            log.warning("a batch of %d failed (%s); writing its messages one by one", len(batch), _short(err))
            return self._one_by_one(conn, accepted, dead)

    def _one_by_one(self, conn: psycopg.Connection, accepted: list[Accepted], dead: list[DeadLetter]) -> BatchOutcome:
        outcome = self.writer.write(conn, [], dead)
        for a in accepted:
            try:
                outcome.add(self.writer.write(conn, [a], []))
            except RETRYABLE:
                raise
            except Exception as err:
                reason = Reason.STORAGE_REJECTED if isinstance(err, psycopg.DatabaseError) else Reason.INTERNAL_ERROR
                if reason is Reason.INTERNAL_ERROR:
                    log.exception("the gateway failed on a message from %s", a.device.id)
                metrics.REJECTED.labels(reason.value).inc()
                outcome.add(self.writer.write(conn, [], [_letter(a.delivery, reason, _short(err), a.device.id)]))
        return outcome

    def _check(self, conn: psycopg.Connection, batch: list[Delivery]) -> tuple[list[Accepted], list[DeadLetter]]:
        """Decode every message and look its device up; what fails either becomes a dead letter."""
        dead: list[DeadLetter] = []
        decoded: list[tuple[Delivery, Message]] = []
        for d in batch:
            _CHANNEL_LABELS.get(d.topic.rpartition("/")[2], _OTHER_LABEL).inc()
            try:
                decoded.append((d, self._decoder.decode(d.topic, d.payload, d.received_at)))
            except Rejected as r:
                dead.append(_letter(d, r.reason, r.detail, r.device_id))
            except Exception as err:  # the decoder must not take the gateway down, whatever arrives
                log.exception("decoding a message on %s failed", d.topic[:120])
                dead.append(_letter(d, Reason.INTERNAL_ERROR, _short(err), None))
        known = self.registry.lookup(conn, {m.device_id for _, m in decoded})
        accepted = []
        for d, m in decoded:
            device = known.get(m.device_id)
            if device is None:
                dead.append(_letter(d, Reason.UNKNOWN_DEVICE, "no such device is registered", m.device_id))
            elif isinstance(device, UnboundDevice):
                unbound = "the device is bound to no elder (never bound, unbound or replaced); bind it to attribute it"
                dead.append(_letter(d, Reason.UNBOUND_DEVICE, unbound, m.device_id))
            elif not device.active:
                dead.append(_letter(d, Reason.INACTIVE_DEVICE, "the device or its elder is deactivated", m.device_id))
            elif isinstance(m.body, Event) and (why := refuses_event(device.type, m.body.type)):
                # a watch must not raise a smoke alarm (and an emergency order) whatever its firmware says
                dead.append(_letter(d, Reason.UNSUPPORTED_EVENT, why, m.device_id))
            else:
                accepted.append(Accepted(d, m, device))
        for letter in dead:
            metrics.REJECTED.labels(letter.reason).inc()
            log.info("rejected %s on %s: %s", letter.reason, (letter.topic or "")[:120], letter.detail[:200])
        return accepted, dead

    # -- the database connection

    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(conninfo(self._database_url, "eldercare-gateway"), connect_timeout=10)
            readings.prepare(self._conn)
            self.registry.listen(self._conn)
            self.registry.load(self._conn)
            metrics.DATABASE_UP.set(1)
            log.info("gateway connected to the database; %d devices registered", len(self.registry))
        return self._conn

    def _lost_database(self, err: Exception) -> None:
        if isinstance(err, TransactionRollback):
            log.info("a batch collided with another transaction (%s); writing it again", _short(err))
            return
        log.warning("the database is out of reach (%s); holding the batch and retrying", _short(err))
        metrics.DATABASE_UP.set(0)
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _hand_back_to_broker(self) -> None:
        """Too much is waiting: disconnect, drop what is held (the broker still has it), wait for the database."""
        self.handbacks += 1
        if self._intake is not None:
            self._intake.pause()
        dropped = self._drain_queue()
        log.warning("handed %d unacknowledged messages back to the broker until the database returns", dropped)
        delay = 1.0
        while not self._stop.is_set():
            try:
                self._connection()
                break
            except RETRYABLE as err:
                self._lost_database(err)
                self._stop.wait(delay)
                delay = min(delay * 2, self.settings.retry_max_delay)
        if not self._stop.is_set() and self._intake is not None:
            self._intake.resume()

    def _drain_queue(self) -> int:
        """Drop what is queued; it is not acknowledged, so the broker redelivers it on the next connection."""
        dropped = 0
        while True:
            try:
                self.queue.get(block=False)
            except queue.Empty:
                return dropped
            dropped += 1

    def _sweep_silent(self) -> None:
        now = self._clock.now()
        silent_since = now - timedelta(seconds=self.settings.offline_after)
        if silent_since < self._listening_since:
            # Silence is judged only over time this gateway has listened: after the platform itself was down,
            # devices that kept reporting must not all be called offline before they have had a chance.
            self.sweeps_held_back += 1
            return
        try:
            conn = self._connection()
            with conn.transaction():
                for gone in presence.sweep_silent(conn, silent_since):
                    metrics.DEVICES_OFFLINE.labels("no_data").inc()
                    raise_alarm(
                        conn,
                        AlarmRaise(
                            gone.elder_id,
                            gone.device_id,
                            AlarmType.DEVICE_OFFLINE,
                            now,
                            now,
                            details={"cause": "no_data"},
                        ),
                    )
        except RETRYABLE as err:
            self._lost_database(err)


def _letter(d: Delivery, reason: Reason, detail: str, device_id: str | None) -> DeadLetter:
    return DeadLetter(d.received_at, InputSource.MQTT, reason, detail, d.payload, d.topic, device_id)


def _short(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0][:300]
