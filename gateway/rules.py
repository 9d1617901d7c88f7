"""Alarm rules over readings: vital signs over or under a threshold in consecutive readings, and low battery.

The state of a rule is the stored readings, not this process's memory: with several gateways sharing
the devices through a shared subscription, consecutive readings of one device may be committed by
different instances. Each instance evaluates after its own commit, over what the database holds, so the
instance that commits the last reading of a run sees the whole run. Raising is idempotent (an alarm is
only moved forward by a later reading), so two instances seeing the same run raise it once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from gateway.alarms import AlarmRaise


@dataclass(frozen=True, slots=True)
class Rule:
    """Breach when ``metric`` is above (or below) the elder's ``key`` threshold, default ``default``."""

    alarm: str
    metric: str
    key: str
    above: bool
    default: float

    def breached(self, value: float, thresholds: Mapping[str, float]) -> bool:
        limit = thresholds.get(self.key, self.default)
        return value > limit if self.above else value < limit


VITAL_RULES: tuple[Rule, ...] = (
    Rule("hr_high", "hr", "hr_high", True, 120),
    Rule("hr_low", "hr", "hr_low", False, 45),
    Rule("spo2_low", "spo2", "spo2_low", False, 90),
    Rule("bp_high", "sbp", "sbp_high", True, 160),
    Rule("bp_high", "dbp", "dbp_high", True, 100),
    Rule("bp_low", "sbp", "sbp_low", False, 90),
    Rule("temp_high", "temp", "temp_high", True, 38.0),
)
BATTERY_RULE = Rule("battery_low", "battery", "battery_low", False, 15)
# The keys elder.thresholds may hold (migration 0010 checks the same list) and their defaults.
THRESHOLD_DEFAULTS: dict[str, float] = {r.key: r.default for r in (*VITAL_RULES, BATTERY_RULE)}


@dataclass(frozen=True, slots=True)
class Observed:
    """One reading of this batch, as the rules see it."""

    device_id: str
    elder_id: int
    ts: datetime
    values: Any  # a devices.Sample (or anything with the metric attributes)
    thresholds: Mapping[str, float]


_RECENT = """
    SELECT r.device_id, r.ts, r.hr, r.spo2, r.sbp, r.dbp, r.temp
    FROM unnest(%s::text[], %s::timestamptz[]) AS c(device_id, since)
    JOIN LATERAL (
        SELECT device_id, ts, hr, spo2, sbp, dbp, temp FROM reading
        WHERE device_id = c.device_id AND ts >= c.since
        ORDER BY ts
    ) r ON true
"""
_VITALS = ("hr", "spo2", "sbp", "dbp", "temp")


class Rules:
    """Evaluates the rules for the readings of a committed batch."""

    def __init__(self, consecutive: int, window: timedelta) -> None:
        self.consecutive = consecutive
        self.window = window

    def evaluate(
        self, conn: psycopg.Connection, observed: Iterable[Observed], received_at: datetime
    ) -> list[AlarmRaise]:
        """The alarm occurrences the batch's readings complete (with what is stored before them)."""
        raises: list[AlarmRaise] = []
        candidates: dict[str, Observed] = {}  # device -> its earliest breaching reading in the batch
        battery: dict[str, Observed] = {}  # device -> its latest battery reading in the batch
        for obs in observed:
            values = obs.values
            if any(
                (value := getattr(values, rule.metric)) is not None and rule.breached(value, obs.thresholds)
                for rule in VITAL_RULES
            ):
                first = candidates.get(obs.device_id)
                if first is None or obs.ts < first.ts:
                    candidates[obs.device_id] = obs
            if values.battery is not None:
                last = battery.get(obs.device_id)
                if last is None or obs.ts >= last.ts:
                    battery[obs.device_id] = obs
        for obs in battery.values():
            level = obs.values.battery
            if BATTERY_RULE.breached(level, obs.thresholds):
                limit = obs.thresholds.get(BATTERY_RULE.key, BATTERY_RULE.default)
                raises.append(
                    AlarmRaise(
                        obs.elder_id,
                        obs.device_id,
                        "battery_low",
                        obs.ts,
                        received_at,
                        details={"battery": level, "threshold": limit},
                    )
                )
        if candidates:
            raises.extend(self._runs(conn, candidates, received_at))
        return raises

    def _runs(
        self, conn: psycopg.Connection, candidates: dict[str, Observed], received_at: datetime
    ) -> list[AlarmRaise]:
        # A run of `consecutive` breaches ending at or after the batch's first breach may begin up to a
        # window earlier; readings after it may complete a run too.
        ids = sorted(candidates)
        since = [candidates[d].ts - self.window for d in ids]
        rows = conn.execute(_RECENT, (ids, since)).fetchall()
        by_device: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for row in rows:
            by_device[row[0]].append(row)
        raises = []
        for device_id, readings in by_device.items():
            obs = candidates[device_id]
            for rule in VITAL_RULES:
                found = self._latest_run(rule, readings, obs.thresholds)
                if found is not None:
                    at, value, count = found
                    raises.append(
                        AlarmRaise(
                            obs.elder_id,
                            device_id,
                            rule.alarm,
                            at,
                            received_at,
                            details={
                                "metric": rule.metric,
                                "value": value,
                                "consecutive": count,
                                "threshold": obs.thresholds.get(rule.key, rule.default),
                            },
                        )
                    )
        return raises

    def _latest_run(
        self, rule: Rule, readings: list[tuple[Any, ...]], thresholds: Mapping[str, float]
    ) -> tuple[datetime, float, int] | None:
        """The latest reading that ends ``consecutive`` breaches within the window, with its value."""
        column = 2 + _VITALS.index(rule.metric)
        run: list[datetime] = []
        found = None
        for row in readings:
            value = row[column]
            if value is None:
                continue  # a reading without this metric neither breaks nor extends the run
            if not rule.breached(value, thresholds):
                run.clear()
                continue
            run.append(row[1])
            if len(run) >= self.consecutive and run[-1] - run[-self.consecutive] <= self.window:
                found = (row[1], value, len(run))
        return found
