"""The one elected scheduler: recurring services and storage upkeep, run by whichever dispatcher holds a
PostgreSQL session advisory lock on a connection of its own.

The lock lives as long as that connection. Before each job the holder checks it still has the lock (a lost
connection means a lost lock, and someone else may hold it now); if not, it stops its jobs and stands for
election again. Jobs keep their own guarantees too (``service_order_occurrence_uq``), so even a brief overlap
never creates an order twice.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from psycopg_pool import ConnectionPool

from dispatcher.planning import plan_next_day, replan_at_cutoff, replan_on_change
from dispatcher.recurring import create_due_orders
from dispatcher.settings import Config
from eldercare import maintenance
from eldercare.clock import Clock
from eldercare.db import connect

log = logging.getLogger(__name__)

LOCK_KEY = 0x64697370  # "disp"; below 2**31, so pg_locks shows it as classid 0, objid LOCK_KEY, objsubid 1


class Leadership:
    """A session advisory lock held on a dedicated connection."""

    def __init__(self, database_url: str, key: int = LOCK_KEY) -> None:
        self.database_url = database_url
        self.key = key
        self._conn: psycopg.Connection | None = None

    def try_acquire(self) -> bool:
        try:
            if self._conn is None or self._conn.closed:
                self._conn = connect(self.database_url, application_name="eldercare-scheduler", autocommit=True)
            row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        except psycopg.Error as err:
            log.warning("scheduler election: %s", str(err).strip())
            self._drop()
            return False
        return bool(row and row[0])

    def held(self) -> bool:
        """Whether this process still holds the lock; False (and the connection dropped) on any doubt."""
        if self._conn is None or self._conn.closed:
            return False
        try:
            row = self._conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                "AND classid = 0 AND objid = %s AND objsubid = 1 AND granted",
                (self.key,),
            ).fetchone()
        except psycopg.Error:
            self._drop()
            return False
        return bool(row and row[0])

    def release(self) -> None:
        if self._conn is not None and not self._conn.closed:
            with contextlib.suppress(psycopg.Error):
                self._conn.execute("SELECT pg_advisory_unlock_all()")
        self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
        self._conn = None


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    trigger: BaseTrigger
    run: Callable[[psycopg.Connection], object]
    at_start: bool = False


def jobs(clock: Clock, config: Config) -> list[Job]:
    """What the elected scheduler runs. Triggers are wall time; what each job decides uses ``clock``."""
    tz = config.timezone
    return [
        Job(
            "recurring services",
            IntervalTrigger(seconds=config.dispatch.recurring_check_seconds),
            lambda c: create_due_orders(c, clock, config),
            True,
        ),
        Job(
            "plan tomorrow",
            CronTrigger(hour=config.dispatch.plan_hour, minute=0, timezone=tz),
            lambda c: plan_next_day(c, clock, config),
        ),
        Job(
            "re-plan today on change",
            IntervalTrigger(minutes=config.dispatch.plan_check_minutes),
            lambda c: replan_on_change(c, clock, config),
        ),
        Job(
            "plan confirmation cutoff",
            CronTrigger(hour=config.dispatch.plan_cutoff_hour, minute=0, timezone=tz),
            lambda c: replan_at_cutoff(c, clock, config),
        ),
        Job(
            "reading partitions",
            CronTrigger(hour=0, minute=5, timezone=tz),
            lambda c: maintenance.ensure_partitions(c, clock.now()),
            True,
        ),
        Job(
            "hourly rollup",
            IntervalTrigger(minutes=config.dispatch.rollup_refresh_minutes),
            lambda c: maintenance.refresh_rollups(c, clock.now()),
            True,
        ),
        Job(
            "reading retention",
            CronTrigger(hour=3, minute=30, timezone=tz),
            lambda c: maintenance.apply_retention(c, clock.now()),
        ),
    ]


class ElectedScheduler:
    """Stands for election every ``every`` seconds; while elected, runs ``jobs`` with APScheduler."""

    def __init__(self, database_url: str, pool: ConnectionPool, job_list: list[Job], every: float = 5.0) -> None:
        self.leadership = Leadership(database_url)
        self.pool = pool
        self.jobs = job_list
        self.every = every
        self.scheduler: BackgroundScheduler | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._elect, name="dispatcher-election", daemon=True)
        self.runs: dict[str, int] = {}
        self.rounds = 0  # elections stood, for logs and tests

    @property
    def leading(self) -> bool:
        return self.scheduler is not None

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self._step_down()
        self.leadership.release()

    def _elect(self) -> None:
        while not self._stop.is_set():
            if self.scheduler is None and self.leadership.try_acquire():
                self._lead()
            elif self.scheduler is not None and not self.leadership.held():
                log.warning("scheduler: lost the election lock; stopping jobs")
                self._step_down()
            self.rounds += 1
            self._stop.wait(self.every)

    def _lead(self) -> None:
        log.info("scheduler: elected; running %d jobs", len(self.jobs))
        scheduler = BackgroundScheduler(job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60})
        for job in self.jobs:
            kwargs = {"next_run_time": datetime.now(UTC)} if job.at_start else {}
            scheduler.add_job(self._guarded(job), job.trigger, id=job.name, name=job.name, **kwargs)
        scheduler.start()
        self.scheduler = scheduler

    def _guarded(self, job: Job) -> Callable[[], None]:
        def run() -> None:
            if not self.leadership.held():
                log.warning("scheduler: not the leader any more; skipping %s", job.name)
                return
            try:
                with self.pool.connection() as conn:
                    result = job.run(conn)
                self.runs[job.name] = self.runs.get(job.name, 0) + 1
                log.debug("scheduler: %s -> %s", job.name, result)
            except Exception:
                log.exception("scheduler: %s failed", job.name)

        return run

    def _step_down(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
