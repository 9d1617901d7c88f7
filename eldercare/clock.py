"""Time as the platform's decisions see it: the wall clock, or a clock a simulation moves."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

# The days a person may name to the platform (a period, a page's day, an order's window): its working years with
# room either side, and far from the calendar's ends, so that a week or a month either side is still a date.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to; for simulations and tests."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start time")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            if when < self._now:
                raise ValueError(f"time cannot go back from {self._now.isoformat()} to {when.isoformat()}")
            self._now = when.astimezone(UTC)

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now += delta
            return self._now


class ScaledClock:
    """Wall time running ``speed`` times faster from ``start``; the demo's fast-forward."""

    def __init__(self, speed: float, start: datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        self.speed = speed
        self._origin_wall = datetime.now(UTC)
        self._origin = start or self._origin_wall

    def now(self) -> datetime:
        return self._origin + (datetime.now(UTC) - self._origin_wall) * self.speed


SYSTEM_CLOCK = SystemClock()
