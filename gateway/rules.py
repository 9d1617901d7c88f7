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
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

import psycopg

from eldercare.alarms import AlarmRaise
from eldercare.register.model import THRESHOLD_DEFAULTS
from eldercare.vocabulary import AlarmType
from gateway.readings import Row


@dataclass(frozen=True, slots=True)
class Thresholds:
    """One elder's alarm thresholds: the defaults, overridden by ``elder.thresholds`` (migration 0010)."""

    hr_high: float = THRESHOLD_DEFAULTS["hr_high"]
    hr_low: float = THRESHOLD_DEFAULTS["hr_low"]
    spo2_low: float = THRESHOLD_DEFAULTS["spo2_low"]
    sbp_high: float = THRESHOLD_DEFAULTS["sbp_high"]
    sbp_low: float = THRESHOLD_DEFAULTS["sbp_low"]
    dbp_high: float = THRESHOLD_DEFAULTS["dbp_high"]
    temp_high: float = THRESHOLD_DEFAULTS["temp_high"]
    battery_low: float = THRESHOLD_DEFAULTS["battery_low"]

    @classmethod
    def of(cls, overrides: Mapping[str, Any]) -> Thresholds:
        known = {f.name for f in fields(cls)}
        return cls(**{k: float(v) for k, v in overrides.items() if k in known and _is_number(v)})

    def vital_breach(self, hr: Any, spo2: Any, sbp: Any, dbp: Any, temp: Any) -> bool:
        """Whether any VITAL_RULES breaches; spelled out, as it runs for every reading."""
        return (
            (hr is not None and (hr > self.hr_high or hr < self.hr_low))
            or (spo2 is not None and spo2 < self.spo2_low)
            or (sbp is not None and (sbp > self.sbp_high or sbp < self.sbp_low))
            or (dbp is not None and dbp > self.dbp_high)
            or (temp is not None and temp > self.temp_high)
        )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True, slots=True)
class Rule:
    """Breach when ``metric`` is above (or below) the elder's threshold ``key``."""

    alarm: AlarmType
    metric: str
    key: str
    above: bool

    def breached(self, value: float, thresholds: Thresholds) -> bool:
        limit = getattr(thresholds, self.key)
        return bool(value > limit) if self.above else bool(value < limit)


VITAL_RULES: tuple[Rule, ...] = (
    Rule(AlarmType.HR_HIGH, "hr", "hr_high", True),
    Rule(AlarmType.HR_LOW, "hr", "hr_low", False),
    Rule(AlarmType.SPO2_LOW, "spo2", "spo2_low", False),
    Rule(AlarmType.BP_HIGH, "sbp", "sbp_high", True),
    Rule(AlarmType.BP_HIGH, "dbp", "dbp_high", True),
    Rule(AlarmType.BP_LOW, "sbp", "sbp_low", False),
    Rule(AlarmType.TEMP_HIGH, "temp", "temp_high", True),
)
BATTERY_RULE = Rule(AlarmType.BATTERY_LOW, "battery", "battery_low", False)


# (device_id, elder_id, ts, seq, level) of a battery level a status message reported
BatteryReport = tuple[str, int, datetime, int, int]


@dataclass(slots=True)
class Candidates:
    """A batch's readings that may complete a rule; most batches have none, and need no transaction."""

    breaches: dict[str, tuple[datetime, int]] = field(default_factory=dict)  # device -> (first breach, elder)
    battery: dict[str, BatteryReport] = field(default_factory=dict)  # device -> its latest level, if low

    def __bool__(self) -> bool:
        return bool(self.breaches or self.battery)


def _keep_latest(latest: dict[str, BatteryReport], report: BatteryReport) -> None:
    """Keep ``report`` as its device's level unless one with a later (ts, seq) is kept already."""
    kept = latest.get(report[0])
    if kept is None or (report[2], report[3]) >= (kept[2], kept[3]):
        latest[report[0]] = report


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

    def candidates(
        self, rows: Iterable[Row], batteries: Iterable[BatteryReport], thresholds: Mapping[str, Thresholds]
    ) -> Candidates:
        """What in a batch might complete a rule: breaching readings, and each device's latest battery level.

        The latest is the one with the latest device time, and of two in the same millisecond (a status sent on
        connecting and the telemetry right after it) the one with the higher seq: the device's own order.
        """
        found = Candidates()
        for row in rows:
            device_id, ts = row[0], row[2]
            if thresholds[device_id].vital_breach(row[5], row[6], row[7], row[8], row[9]):
                first = found.breaches.get(device_id)
                if first is None or ts < first[0]:
                    found.breaches[device_id] = (ts, row[1])
            if row[13] is not None:
                _keep_latest(found.battery, (device_id, row[1], ts, row[4], row[13]))
        for report in batteries:
            _keep_latest(found.battery, report)
        # only low levels matter
        found.battery = {d: r for d, r in found.battery.items() if BATTERY_RULE.breached(r[4], thresholds[d])}
        return found

    def evaluate(
        self,
        conn: psycopg.Connection,
        found: Candidates,
        thresholds: Mapping[str, Thresholds],
        received_at: datetime,
    ) -> list[AlarmRaise]:
        """The alarm occurrences the candidates complete, with the readings stored before them."""
        raises: list[AlarmRaise] = []
        for device_id, elder_id, ts, _, level in found.battery.values():
            details = {"battery": level, "threshold": thresholds[device_id].battery_low}
            raises.append(AlarmRaise(elder_id, device_id, AlarmType.BATTERY_LOW, ts, received_at, details=details))
        if found.breaches:
            raises.extend(self._runs(conn, found.breaches, thresholds, received_at))
        return raises

    def _runs(
        self,
        conn: psycopg.Connection,
        candidates: dict[str, tuple[datetime, int]],
        thresholds: Mapping[str, Thresholds],
        received_at: datetime,
    ) -> list[AlarmRaise]:
        # A run of `consecutive` breaches ending at or after the batch's first breach may begin up to a
        # window earlier; readings after it may complete a run too.
        ids = sorted(candidates)
        since = [candidates[d][0] - self.window for d in ids]
        rows = conn.execute(_RECENT, (ids, since)).fetchall()
        by_device: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for row in rows:
            by_device[row[0]].append(row)
        raises = []
        for device_id, readings in by_device.items():
            limits = thresholds[device_id]
            for rule in VITAL_RULES:
                found = self._latest_run(rule, readings, limits)
                if found is not None:
                    at, value, count = found
                    details = {
                        "metric": rule.metric,
                        "value": value,
                        "consecutive": count,
                        "threshold": getattr(limits, rule.key),
                    }
                    elder_id = candidates[device_id][1]
                    raises.append(AlarmRaise(elder_id, device_id, rule.alarm, at, received_at, details=details))
        return raises

    def _latest_run(
        self, rule: Rule, readings: list[tuple[Any, ...]], thresholds: Thresholds
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
