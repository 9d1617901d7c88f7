"""Sending what the outbox holds: claim and commit, send with no transaction open, record and react."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor, as_completed
from contextlib import AbstractContextManager

import psycopg

from dispatcher import delivery, metrics, outbox
from dispatcher.settings import Config
from dispatcher.sms import SmsSender
from eldercare.clock import Clock

log = logging.getLogger(__name__)

Connect = Callable[[], AbstractContextManager[psycopg.Connection]]


def send_due(
    connect: Connect,
    clock: Clock,
    config: Config,
    sender: SmsSender,
    executor: Executor | None = None,
    limit: int = 20,
) -> int:
    """Send up to ``limit`` due messages; returns how many were tried.

    ``connect`` gives a connection whose transaction commits when its block ends (``pool.connection``).
    """
    with connect() as conn:
        batch = outbox.claim(conn, clock, limit)
    if not batch:
        return 0
    settings = config.dispatch

    def finish(sms: outbox.OutboundSms, result: outbox.SendResult) -> None:
        with connect() as conn:
            status = outbox.record(
                conn,
                clock,
                sms,
                result,
                max_attempts=settings.sms_max_attempts,
                first_backoff=settings.sms_backoff_seconds,
                longest_backoff=settings.sms_backoff_max_seconds,
            )
            delivery.after_send(conn, clock, config, sms, status)
        metrics.SMS.labels(sms.purpose, status).inc()

    if executor is None:
        for sms in batch:
            finish(sms, sender.send(sms))
    else:
        futures = {executor.submit(sender.send, sms): sms for sms in batch}
        for future in as_completed(futures):
            finish(futures[future], future.result())
    return len(batch)
