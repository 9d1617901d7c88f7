"""The rule logic on its own: what counts as consecutive, which battery level is the latest, and nights
across midnight."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.events import Night
from gateway.presence import Seen
from gateway.rules import DEFAULT_THRESHOLDS as DEFAULTS
from gateway.rules import THRESHOLD_DEFAULTS, VITAL_RULES, Rules, Thresholds

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
HR_HIGH = next(r for r in VITAL_RULES if r.alarm == "hr_high")
SPO2_LOW = next(r for r in VITAL_RULES if r.alarm == "spo2_low")


def _readings(*hrs: int | None, step: float = 30) -> list[tuple[object, ...]]:
    # (device_id, ts, hr, spo2, sbp, dbp, temp) as the query returns them
    return [("w", T0 + timedelta(seconds=i * step), hr, 97, None, None, None) for i, hr in enumerate(hrs)]


def test_a_run_needs_consecutive_breaches_within_the_window() -> None:
    rules = Rules(consecutive=3, window=timedelta(minutes=10))
    assert rules._latest_run(HR_HIGH, _readings(150, 80, 150, 80, 150), DEFAULTS) is None
    assert rules._latest_run(HR_HIGH, _readings(150, 150), DEFAULTS) is None
    found = rules._latest_run(HR_HIGH, _readings(80, 150, 151, 152, 90), DEFAULTS)
    assert found == (T0 + timedelta(seconds=90), 152, 3)
    assert rules._latest_run(HR_HIGH, _readings(150, 151, 152, step=400), DEFAULTS) is None  # 13 minutes apart


def test_readings_without_the_metric_neither_break_nor_extend_a_run() -> None:
    rules = Rules(consecutive=3, window=timedelta(minutes=10))
    found = rules._latest_run(HR_HIGH, _readings(150, None, 151, None, 152), DEFAULTS)
    assert found is not None and found[1] == 152


def test_elder_thresholds_override_the_defaults() -> None:
    rules = Rules(consecutive=2, window=timedelta(minutes=10))
    assert rules._latest_run(HR_HIGH, _readings(110, 112), DEFAULTS) is None
    assert rules._latest_run(HR_HIGH, _readings(110, 112), Thresholds.of({"hr_high": 105})) is not None
    assert rules._latest_run(SPO2_LOW, _readings(70, 70), DEFAULTS) is None  # spo2 97 everywhere
    assert set(THRESHOLD_DEFAULTS) == {
        "hr_high", "hr_low", "spo2_low", "sbp_high", "sbp_low", "dbp_high", "temp_high", "battery_low",
    }  # fmt: skip


def test_of_two_battery_levels_in_one_millisecond_the_one_with_the_higher_seq_is_the_latest() -> None:
    """A device says online (with its battery) on connecting and may send telemetry in the same millisecond."""
    rules = Rules(consecutive=3, window=timedelta(minutes=10))
    limits = {"w": DEFAULTS}
    # (device_id, elder_id, ts, received_at, seq, hr, spo2, sbp, dbp, temp, steps, lat, lon, battery)
    low = ("w", 1, T0, T0, 12, None, None, None, None, None, None, None, None, 9)
    connected, later = ("w", 1, T0, 11, 96), ("w", 1, T0, 13, 96)  # status reports: (device, elder, ts, seq, level)
    found = rules.candidates([low], [connected], limits)
    assert found.battery == {"w": ("w", 1, T0, 12, 9)}
    assert not rules.candidates([low], [later], limits)  # a later report of the same millisecond says it is fine
    assert not rules.candidates([low], [("w", 1, T0 + timedelta(milliseconds=1), 2, 96)], limits)  # later ts wins

    for order in ([(T0, 11, 96), (T0, 12, 9)], [(T0, 12, 9), (T0, 11, 96)]):  # whichever came first in the batch
        seen = Seen()
        for ts, seq, level in order:
            seen.battery_at(ts, seq, level)
            seen.position_at(ts, seq, float(level), 0.0)
        assert (seen.battery, seen.lat) == (9, 9.0)


def test_night_may_run_across_midnight() -> None:
    night = Night(22, 6, ZoneInfo("Asia/Shanghai"))
    at = lambda hour: datetime(2026, 5, 1, hour, 30, tzinfo=ZoneInfo("Asia/Shanghai"))  # noqa: E731
    assert at(23) in night and at(2) in night
    assert at(6) not in night and at(12) not in night and at(21) not in night
    day_shift = Night(9, 17, ZoneInfo("Asia/Shanghai"))
    assert at(10) in day_shift and at(17) not in day_shift


@settings(max_examples=300, deadline=None)
@given(
    values=st.tuples(
        *(st.one_of(st.none(), st.integers(20, 260)) for _ in range(4)), st.one_of(st.none(), st.floats(30, 45))
    ),
    overrides=st.dictionaries(st.sampled_from(sorted(THRESHOLD_DEFAULTS)), st.floats(20, 200), max_size=3),
)
def test_the_fast_breach_check_agrees_with_the_rules(
    values: tuple[int | None, int | None, int | None, int | None, float | None], overrides: dict[str, float]
) -> None:
    limits = Thresholds.of(overrides)
    by_metric = dict(zip(("hr", "spo2", "sbp", "dbp", "temp"), values, strict=True))
    slow = any((v := by_metric[r.metric]) is not None and r.breached(v, limits) for r in VITAL_RULES)
    assert limits.vital_breach(*values) == slow
