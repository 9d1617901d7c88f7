"""The dispatcher as a running component: LISTEN for work, sweep deadlines, send SMS, stand for election.

Threads: a listener (``eldercare.listening.Listener``; wakes the others), a worker (the sweep steps, each
batch its own transaction), a sender (the SMS outbox; HTTP with no transaction open) and the election of the
recurring scheduler. NOTIFY only makes things faster: every deadline is a column the sweep reads anyway, so
nothing is lost while a listener reconnects or the process is down.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import psycopg
from psycopg_pool import ConnectionPool

from dispatcher.alarms import EMERGENCY_ALARMS
from dispatcher.scheduler import ElectedScheduler, jobs
from dispatcher.sending import send_due
from dispatcher.settings import Config
from dispatcher.sms import SmsSender, TwilioSender
from dispatcher.sweep import STEPS, count
from eldercare.clock import Clock
from eldercare.component import Context
from eldercare.config import DEV_TWILIO_TOKEN, TWILIO_API_BASE
from eldercare.db import open_pool
from eldercare.listening import Listener

log = logging.getLogger(__name__)

CHANNELS = ("eldercare_alarm", "eldercare_order", "eldercare_sms")
BATCH = 10


class Dispatcher:
    """``eldercare dispatcher``: any number may run at once against one database."""

    name = "dispatcher"

    def __init__(self, context: Context, config: Config, sender: SmsSender | None = None) -> None:
        self.context = context
        self.clock: Clock = context.clock
        self.config = config
        self.sender = sender or TwilioSender(self.config.platform, timeout=self.config.dispatch.sms_timeout_seconds)
        self.pool: ConnectionPool | None = None
        self.scheduler: ElectedScheduler | None = None
        self._stop = threading.Event()
        self._work = threading.Event()
        self._send = threading.Event()
        self._threads: list[threading.Thread] = []
        self.listener = Listener(
            context.database_url, CHANNELS, self._route, name="dispatcher", on_listening=self._listening_again
        )
        self._executor = ThreadPoolExecutor(self.config.dispatch.sms_senders, thread_name_prefix="dispatcher-sms")

    def start(self) -> None:
        platform = self.config.platform
        if platform.twilio_api_base.rstrip(
            "/"
        ) == TWILIO_API_BASE and platform.twilio_auth_token.get_secret_value() == (DEV_TWILIO_TOKEN):
            log.warning(
                "SMS go to Twilio with the development credentials and will fail; for a local run start "
                "`eldercare simulate twilio` and set ELDERCARE_TWILIO_API_BASE=http://127.0.0.1:8099"
            )
        self.pool = open_pool(
            self.context.database_url,
            name="dispatcher",
            min_size=2,
            max_size=max(4, self.config.dispatch.sms_senders + 3),
        )
        self.listener.start()
        for name, target in (("work", self._worker), ("send", self._sender)):
            thread = threading.Thread(target=self._guard(target), name=f"dispatcher-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        if self.config.dispatch.scheduler_enabled:
            self.scheduler = ElectedScheduler(
                self.context.database_url,
                self.pool,
                jobs(self.clock, self.config),
                every=self.config.dispatch.election_seconds,
            )
            self.scheduler.start()

    def stop(self) -> None:
        self._stop.set()
        self._work.set()
        self._send.set()
        if self.scheduler is not None:
            self.scheduler.stop()
        self.listener.stop()
        for thread in self._threads:
            thread.join(15)
        self._executor.shutdown(wait=True)
        if self.pool is not None:
            self.pool.close()

    def _guard(self, loop: Callable[[], None]) -> Callable[[], None]:
        """Keep a loop alive through database outages: log, wait a little, go on."""

        def run() -> None:
            while not self._stop.is_set():
                try:
                    loop()
                except (psycopg.Error, OSError) as err:
                    log.warning("%s: %s; retrying", threading.current_thread().name, str(err).strip()[:200])
                    self._stop.wait(2.0)
                except Exception:
                    log.exception("%s failed; restarting it", threading.current_thread().name)
                    self._stop.wait(2.0)

        return run

    def _listening_again(self) -> None:
        # anything that happened while we were not listening is found by the sweep
        self._work.set()
        self._send.set()

    def _route(self, channel: str, payload: str) -> None:
        if channel == "eldercare_sms":
            self._send.set()
            return
        try:
            event = json.loads(payload)
        except ValueError:
            return
        if channel == "eldercare_alarm":
            if event.get("type") in EMERGENCY_ALARMS and event.get("status") == "open":
                self._work.set()
        elif event.get("status") == "created":
            self._work.set()

    def _worker(self) -> None:
        assert self.pool is not None
        # the sweep's steps in its order; an emergency is committed (and its SMS sent) on its own, not after a
        # batch of others
        steps = [(step.run, 1 if step.alone else BATCH) for step in STEPS]
        while not self._stop.is_set():
            self._work.clear()  # before the sweep, so that a wake-up during it is not lost
            for step, batch in steps:
                while not self._stop.is_set():
                    with self.pool.connection() as conn:
                        done = count(step(conn, self.clock, self.config, batch))
                    if done:
                        self._send.set()  # an offer or a notice is waiting in the outbox
                    if done < batch:
                        break
            self._work.wait(self.config.dispatch.sweep_seconds)

    def _sender(self) -> None:
        assert self.pool is not None
        while not self._stop.is_set():
            self._send.clear()
            # no more than can go at once, so that an offer queued meanwhile waits for one send at most
            sent = send_due(
                self.pool.connection,
                self.clock,
                self.config,
                self.sender,
                self._executor,
                limit=self.config.dispatch.sms_senders,
            )
            if sent == 0:
                self._send.wait(self.config.dispatch.sweep_seconds)


def create(context: Context, config: Config | None = None, sender: SmsSender | None = None) -> Dispatcher:
    """The dispatcher component run with ``config``; without one, built now from the context's settings and the
    dispatcher's tuning in the environment."""
    return Dispatcher(context, config or Config.load(context.settings), sender)
