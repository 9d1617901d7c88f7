"""Quiet hours: no routine SMS at night. Emergencies are never held; booked services wait for the morning,
or are offered the evening before when the morning would be too late."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from dispatcher.settings import Config


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local ``start`` to ``end`` every night (``start`` after ``end`` crosses midnight; equal: none)."""

    start: time
    end: time
    tz: ZoneInfo

    @classmethod
    def of(cls, config: Config) -> QuietHours:
        return cls(config.dispatch.quiet_start, config.dispatch.quiet_end, config.timezone)

    def period(self, at: datetime) -> tuple[datetime, datetime] | None:
        """The quiet period that ``at`` falls in (its start and end), or None when ``at`` is not quiet."""
        local = at.astimezone(self.tz)
        day, clock = local.date(), local.time()
        if self.start > self.end:
            if clock >= self.start:
                begins, ends = day, day + timedelta(days=1)
            elif clock < self.end:
                begins, ends = day - timedelta(days=1), day
            else:
                return None
        elif self.start < self.end and self.start <= clock < self.end:
            begins = ends = day
        else:
            return None
        return (
            datetime.combine(begins, self.start, tzinfo=self.tz),
            datetime.combine(ends, self.end, tzinfo=self.tz),
        )

    def covers(self, at: datetime) -> bool:
        return self.period(at) is not None

    def release(self, at: datetime) -> datetime:
        """When a routine message written at ``at`` may go: at once, or when the quiet hours end."""
        period = self.period(at)
        return at if period is None else period[1]


def booked_offer_at(config: Config, now: datetime, window_start: datetime) -> datetime:
    """When a booked service is first offered: ``booked_offer_lead_hours`` before its window starts (at once when
    that is past), never in quiet hours. A time inside them moves to just before they began when that is still
    ahead and their end would leave less than the time to accept before the window (the evening before an early
    visit), else to their end."""
    at = max(now, window_start - timedelta(hours=config.dispatch.booked_offer_lead_hours))
    period = QuietHours.of(config).period(at)
    if period is None:
        return at
    begins, ends = period
    before = begins - timedelta(minutes=config.dispatch.routine_offer_minutes)
    too_late = ends > window_start - config.dispatch.accept_window(False)
    return before if too_late and before >= now else ends
