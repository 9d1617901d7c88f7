"""Waiting for the thing itself (a row, a message, an acknowledgement), never for a fixed time.

Every test waits through ``wait_until`` or ``eventually``. Their time limits are how long a quiet machine may
take; ``PATIENCE`` stretches them on a loaded or shared one: ``ELDERCARE_TEST_PATIENCE`` when set, else 3
under CI (``CI=true``) and 1 elsewhere. A limit is a bound on failure, so a longer one costs a green run nothing.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import paho.mqtt.client as mqtt

T = TypeVar("T")

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PATIENCE = float(os.environ.get("ELDERCARE_TEST_PATIENCE") or (3.0 if IN_CI else 1.0))


def patience(seconds: float) -> float:
    """``seconds`` as a time limit on this machine."""
    return seconds * PATIENCE


def wait_until(
    check: Callable[[], T], timeout: float = 15.0, interval: float = 0.05, *, since: float | None = None
) -> T:
    """The first truthy result of ``check``, or its last result once ``timeout`` (scaled) has passed, counted
    from now or from ``since`` (a ``time.monotonic()`` reading)."""
    deadline = (time.monotonic() if since is None else since) + patience(timeout)
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(interval)


def eventually(check: Callable[[], T], what: str | Callable[[], Any] = "the condition", timeout: float = 15.0) -> T:
    """The first truthy result of ``check``; fails the test, saying ``what`` was awaited, after ``timeout``."""
    result = wait_until(check, timeout)
    if not result:
        detail = what() if callable(what) else what
        raise AssertionError(f"waited {patience(timeout):.0f} s for {detail}; last saw {result!r}")
    return result


def subscribe_acknowledged(client: mqtt.Client, *topics: str, timeout: float = 5.0) -> None:
    """Subscribe a connected paho client at QoS 1 and wait for the broker's SUBACK."""
    acknowledged = threading.Event()
    client.on_subscribe = lambda *args: acknowledged.set()
    client.subscribe([(t, 1) for t in topics])
    if not acknowledged.wait(patience(timeout)):
        raise AssertionError(
            f"the broker did not acknowledge the subscription to {topics} in {patience(timeout):.0f} s"
        )
