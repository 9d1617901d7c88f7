from __future__ import annotations

import pytest

from dispatcher.settings import DispatcherSettings, TravelModel
from eldercare.config import SettingsError, load_settings


def test_garbage_for_a_nested_setting_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELDERCARE_DISPATCHER_TRAVEL", "garbage")
    with pytest.raises(SettingsError, match="ELDERCARE_DISPATCHER_TRAVEL: cannot be read"):
        load_settings(DispatcherSettings, _env_file=None)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("ELDERCARE_DISPATCHER_TRAVEL__SPEED_KMH", '{"walk": 4}', "nothing for ebike, car"),
        (
            "ELDERCARE_DISPATCHER_TRAVEL__SPEED_KMH",
            '{"walk": 4, "ebike": 15, "car": 24, "bus": 20}',
            "bus: not a travel mode",
        ),
        ("ELDERCARE_DISPATCHER_TRAVEL__SPEED_KMH", '{"walk": 4, "ebike": 0, "car": -24}', "ebike 0, car -24"),
        ("ELDERCARE_DISPATCHER_TRAVEL__SETUP_MIN", '{"walk": 0, "ebike": 1}', "nothing for car"),
        ("ELDERCARE_DISPATCHER_TRAVEL__SETUP_MIN", '{"walk": -1, "ebike": 1, "car": 3}', "walk -1"),
    ],
)
def test_travel_needs_a_positive_speed_for_every_mode(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(DispatcherSettings, _env_file=None)
    assert name in str(caught.value) and expected in str(caught.value)


def test_every_mode_given_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELDERCARE_DISPATCHER_TRAVEL__SPEED_KMH", '{"walk": 5, "ebike": 12, "car": 30}')
    travel = load_settings(DispatcherSettings, _env_file=None).travel
    assert travel.speed_kmh == {"walk": 5, "ebike": 12, "car": 30}
    assert travel.setup_min == TravelModel().setup_min
