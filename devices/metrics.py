"""Readings a device may send and the range each must fall in (the CHECK constraints of ``reading``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MetricRange:
    """The inclusive range of a metric; ``integer`` says whether the wire value must be a whole number."""

    low: float
    high: float
    integer: bool
    unit: str

    def __contains__(self, value: float) -> bool:
        return self.low <= value <= self.high


# Migration 0003 checks the same bounds on `reading`; tests/devices/test_metrics.py compares the two.
METRIC_RANGES: dict[str, MetricRange] = {
    "hr": MetricRange(20, 250, True, "beats/min"),
    "spo2": MetricRange(50, 100, True, "%"),
    "sbp": MetricRange(50, 260, True, "mmHg"),
    "dbp": MetricRange(30, 160, True, "mmHg"),
    "temp": MetricRange(30, 45, False, "°C"),
    "steps": MetricRange(0, 200_000, True, "steps today"),
    "lat": MetricRange(-90, 90, False, "degrees"),
    "lon": MetricRange(-180, 180, False, "degrees"),
    "battery": MetricRange(0, 100, True, "%"),
}

# The order of the metric columns of `reading`, after (device_id, elder_id, ts, received_at, seq).
METRICS: tuple[str, ...] = tuple(METRIC_RANGES)
