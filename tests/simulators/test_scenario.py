"""Scenario files: checked with clear errors, played on a real broker through the gateway into alarms."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from devices import DEVICE_TYPES
from eldercare.cli import app
from eldercare.embedded import free_port
from simulators import scenario as scenario_command
from simulators.scenario import (
    Elder,
    Player,
    Rotation,
    Scenario,
    ScenarioError,
    Stage,
    bundled,
    choose_subject,
    elders_from_manifest,
    load,
)
from tests.gateway.running import City, seed_city, start_fleet, start_gateway
from tests.services import Mosquitto
from tests.waiting import patience, wait_until

FALL = """
name = "fall"
title = "a fall"
[subject]
device = "fall_detector"
[[steps]]
at = 0
action = "event"
device = "fall_detector"
event = "fall"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_bundled_scenarios_are_valid_and_cover_the_demo_story() -> None:
    scenarios = [load(path) for path in bundled()]
    actions = {(step.action, step.event) for s in scenarios for step in s.steps}
    assert {("event", "fall"), ("event", "smoke"), ("event", "sos"), ("offline", None), ("silence", None)} <= actions
    assert any(step.values.get("hr", 0) > 120 for s in scenarios for step in s.steps)  # a heart-rate episode
    assert any(step.values.get("battery", 100) < 15 for s in scenarios for step in s.steps)  # a battery running out


@pytest.mark.parametrize(
    ("replace", "expected"),
    [
        (('action = "event"', 'action = "explode"'), "Invalid enum value 'explode' - at `$.steps[0].action`"),
        (('event = "fall"', 'event = "smoke"'), "a fall_detector reports fall, not 'smoke'"),
        (('device = "fall_detector"\nevent', 'device = "toaster"\nevent'), "device must be one of"),
        (("at = 0", 'at = "soon"'), "Expected `float`, got `str`"),
        (('title = "a fall"', 'title = "a fall"\ncolour = "red"'), "unknown field `colour`"),
        (("at = 0", "at = -5"), "at must be >= 0"),
        (("at = 0", "at = 1e12"), "step 1 (event): at = 1e+12 s; a step happens within a day (86400 s)"),
        (("at = 0", "at = inf"), "step 1 (event): at = inf s; a step happens within a day"),
        (("at = 0", "at = nan"), "step 1 (event): at = nan s; a step happens within a day"),
        (("at = 0", "at = 0\nrepeat = 3\nevery = 50000"), "its last repeat at 100000 s; a step happens within a day"),
        (("at = 0", "at = 0\nrepeat = 1001"), "repeat 1 to 1000"),
        (('name = "fall"', ""), "missing required field `name`"),
        (('event = "fall"', 'event = "fall"\nvalues = { hr = 400 }'), None),  # values are for telemetry only
    ],
)
def test_a_bad_scenario_file_is_refused_with_what_is_wrong(
    tmp_path: Path, replace: tuple[str, str], expected: str | None
) -> None:
    path = _write(tmp_path, FALL.replace(*replace))
    if expected is None:
        load(path)
        return
    with pytest.raises(ScenarioError) as caught:
        load(path)
    assert str(path) in str(caught.value) and expected in str(caught.value), str(caught.value)


def test_readings_out_of_range_or_not_reported_by_the_device_are_refused(tmp_path: Path) -> None:
    telemetry = FALL.replace('action = "event"', 'action = "telemetry"').replace('event = "fall"', "")
    bad_metric = telemetry.replace('device = "fall_detector"\n\n', 'device = "fall_detector"\nvalues = { hr = 90 }\n')
    with pytest.raises(ScenarioError, match="does not report 'hr'"):
        load(_write(tmp_path, bad_metric))
    watch = telemetry.replace("fall_detector", "watch").replace('device = "watch"\n\n', 'device = "watch"\n')
    with pytest.raises(ScenarioError, match=r"hr = 400 is outside 20\.\.250"):
        load(_write(tmp_path, watch + "values = { hr = 400 }\n"))
    with pytest.raises(ScenarioError, match="no scenario file"):
        load(tmp_path / "missing.toml")


def test_the_subject_is_chosen_by_seed_and_fits() -> None:
    scenario = load(bundled()[0])
    elders = [
        Elder(1, "E1", "a", True, 0, {"fall_detector": "fdt1"}),
        Elder(2, "E2", "b", False, 0, {"fall_detector": "fdt2"}),
        Elder(3, "E3", "c", True, 0, {"watch": "wch3"}),
        Elder(4, "E4", "d", True, 3, {"fall_detector": "fdt4"}),
    ]
    chosen = {choose_subject(scenario, elders, seed=s).code for s in range(20)}
    assert chosen == {"E1", "E4"}  # living alone, with a fall detector
    assert choose_subject(scenario, elders, seed=5) == choose_subject(scenario, elders, seed=5)
    assert choose_subject(scenario, elders, seed=1, avoid={1}).code == "E4"
    with pytest.raises(ScenarioError, match="no elder in the manifest fits"):
        choose_subject(scenario, elders[1:3])


class _Recording:
    """A player that only notes what it was asked to play."""

    def __init__(self) -> None:
        self.played: list[tuple[str, str]] = []
        self.said: list[str] = []

    def log_line(self, line: str) -> None:
        self.said.append(line)

    def play(self, scenario: Scenario, elder: Elder, *, delay: float = 0.0) -> None:
        self.played.append((scenario.name, elder.code))


def test_scenarios_keep_arriving_in_turn_each_to_an_elder_not_just_played() -> None:
    scenarios = [load(path) for path in bundled()]
    elders = [
        Elder(n, f"E{n}", "x", n % 2 == 1, 3, {kind: f"{kind[:3]}{n}" for kind in DEVICE_TYPES}) for n in range(1, 16)
    ]
    player = _Recording()
    stop = threading.Event()
    busy = {1, 2, 3, 4}
    rotation = Rotation(player, scenarios, elders, every=0.05, seed=3, busy=lambda: busy)  # type: ignore[arg-type]
    runner = threading.Thread(target=rotation.run, args=(stop,))
    runner.start()
    try:
        assert wait_until(lambda: len(player.played) >= 2 * len(scenarios), timeout=10)
    finally:
        stop.set()
        runner.join(5)
    names = [name for name, _ in player.played]
    assert names[: 2 * len(scenarios)] == [s.name for s in scenarios] * 2  # in turn, round after round
    codes = [code for _, code in player.played]
    assert not {"E1", "E2", "E3", "E4"} & set(codes)  # never an elder with a live alarm
    window = len(scenarios)
    assert all(codes[i] not in codes[max(0, i - window + 1) : i] for i in range(len(codes)))  # not one just played
    # every 0: each scenario once, at once, as before
    once = _Recording()
    Rotation(once, scenarios, elders, every=0, seed=3).run(threading.Event())  # type: ignore[arg-type]
    assert [name for name, _ in once.played] == [s.name for s in scenarios]
    # a scenario no elder fits is told, and the others still play
    nobody = _Recording()
    Rotation(nobody, scenarios, elders[:1], every=0, seed=3).run(threading.Event())  # type: ignore[arg-type]
    assert nobody.said and "no elder in the manifest fits" in nobody.said[0] and nobody.played


@pytest.fixture
def city(database_url: str, tmp_path: Path) -> City:
    return seed_city(database_url, tmp_path, elders=40, seed=5)


def test_scenarios_played_through_the_gateway_raise_their_alarms(city: City, mosquitto: Mosquitto) -> None:
    fall, heart = (load(p) for p in bundled()[:2])
    elders = elders_from_manifest(city.manifest)
    subjects = {fall.name: choose_subject(fall, elders), heart.name: choose_subject(heart, elders)}
    ids = {d for e in subjects.values() for d in e.devices.values()}
    gateway = start_gateway(city.database_url, mosquitto.url)
    fleet = start_fleet(city, mosquitto.url, [d for d in city.devices if d.id in ids])
    try:
        player = Player(Stage(fleet), speed=20.0)
        for scenario in (fall, heart):
            player.play(scenario, subjects[scenario.name])
        assert player.wait(patience(30))
        query = "SELECT type, elder_id FROM alarm WHERE type IN ('fall', 'hr_high') ORDER BY type"
        expected = [("fall", subjects["fall-alone"].id), ("hr_high", subjects["heart-rate-episode"].id)]

        def alarms() -> list[tuple[str, int]]:
            with psycopg.connect(city.database_url) as conn:
                return conn.execute(query).fetchall()

        assert wait_until(lambda: alarms() == expected, timeout=15), alarms()
    finally:
        fleet.stop()
        gateway.stop()


def test_simulate_scenario_command_plays_a_file(city: City, mosquitto: Mosquitto, tmp_path: Path) -> None:
    gateway = start_gateway(city.database_url, mosquitto.url)
    try:
        result = CliRunner().invoke(
            app,
            ["simulate", "scenario", str(_write(tmp_path, FALL)), "--manifest", str(city.manifest),
             "--mqtt-url", mosquitto.url],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "played 1 steps of 1 scenarios" in result.output

        def falls() -> int:
            with psycopg.connect(city.database_url) as conn:
                row = conn.execute("SELECT count(*) FROM alarm WHERE type = 'fall'").fetchone()
                return int(row[0]) if row else 0

        assert wait_until(lambda: falls() == 1, timeout=15)
    finally:
        gateway.stop()


def test_simulate_scenario_explains_what_is_missing(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["simulate", "scenario", str(tmp_path / "none.toml")])
    assert result.exit_code == 2 and "no scenario file" in result.output
    silent = (bundled()[3]).as_posix()
    manifest = tmp_path / "m.json"
    manifest.write_text('{"devices": [], "elders": []}', encoding="utf-8")
    result = runner.invoke(
        app, ["simulate", "scenario", silent, "--manifest", str(manifest), "--mqtt-url", "mqtt://127.0.0.1:1"]
    )
    assert result.exit_code == 2 and "no elder in the manifest fits" in result.output


def test_simulate_scenario_fails_when_no_device_connects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scenario_command, "CONNECT_SECONDS", 0.5)
    manifest = tmp_path / "manifest.json"
    device = {"id": "fd0000001", "type": "fall_detector", "elder_id": 1, "secret": "s"}
    elder = {"id": 1, "code": "E1", "address": "1 Road", "devices": [device["id"]]}
    manifest.write_text(json.dumps({"devices": [device], "elders": [elder]}), encoding="utf-8")
    port = free_port()  # nothing listens there
    handlers = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
    try:
        result = CliRunner().invoke(
            app,
            ["simulate", "scenario", str(_write(tmp_path, FALL)), "--manifest", str(manifest),
             "--mqtt-url", f"mqtt://127.0.0.1:{port}"],
        )  # fmt: skip
    finally:
        signal.signal(signal.SIGINT, handlers[0])
        signal.signal(signal.SIGTERM, handlers[1])
    assert result.exit_code == 1, result.output
    assert f"none of the 1 devices of the scenarios' elders connected to 127.0.0.1:{port}" in result.output
