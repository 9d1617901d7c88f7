"""``eldercare simulate day`` end to end on a real PostgreSQL: the same seed gives the same report, a
matching weight changes it, and the command writes its table, JSON and chart (small cities, whole days)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from eldercare.cli import app
from eldercare.config import Settings
from simulators.citysim import params as parameters
from simulators.citysim.report import table
from simulators.citysim.run import Request, simulate

runner = CliRunner()
SMALL = Request(elders=240, caregivers=24, seed=3, dispatchers=("smart",))


def _settings() -> Settings:
    return Settings(_env_file=None)


@pytest.fixture(scope="module")
def first_report(pg_server_url: str) -> dict[str, Any]:
    report, _ = simulate(SMALL, parameters.load(), _settings(), server_url=pg_server_url)
    return report


def test_the_same_seed_gives_the_same_report(first_report: dict[str, Any], pg_server_url: str) -> None:
    again, _ = simulate(SMALL, parameters.load(), _settings(), server_url=pg_server_url)
    assert json.dumps(again, sort_keys=True) == json.dumps(first_report, sort_keys=True)
    smart = first_report["dispatchers"]["smart"]
    # a day happened: alarms, recurring and phoned-in orders, offers, visits, kilometres
    assert smart["emergencies"]["count"] > 0 and smart["emergencies"]["attendance_minutes"]
    assert smart["routine"]["by_source"].get("recurring", 0) > 0 and smart["routine"]["by_source"].get("simulation")
    assert smart["offers"]["made"] > 0 and smart["offers"]["sms_by_purpose"]["family"] > 0
    assert smart["travel"]["km_to_orders"] > 0 and smart["workload"]["utilisation"] > 0
    # the roster's bounds: what some caregiver could reach, were everyone free
    routine, emergencies = smart["routine"], smart["emergencies"]
    assert routine["served_in_window"] <= routine["roster_bound_in_window"] <= 1
    assert routine["out_of_roster_reach"] == round(routine["count"] * (1 - routine["roster_bound_in_window"]))
    assert emergencies["roster_bound_attended_30"] <= emergencies["roster_bound_attended_45"]
    # the spread among those who may take booked services leaves out the responders kept for emergencies, and
    # both spreads apart leave out the staff of the city's provider on the black list, idle all day
    work = smart["workload"]
    assert 0 < work["barred_caregivers"] and 0 < work["responders_only"] < work["caregivers_rostered"]
    assert 0 <= work["gini_busy_minutes_booked_staff"] <= 1
    assert work["idle_booked_staff"] <= work["idle_caregivers"] - work["barred_caregivers"]
    assert work["gini_busy_minutes_may_work"] < work["gini_busy_minutes"]


def test_a_matching_weight_changes_the_report(first_report: dict[str, Any], pg_server_url: str, tmp_path: Path) -> None:
    """The report comes from the dispatcher's own matching: ranking routine orders by load alone moves
    who gets offered what, and with it the day."""
    path = tmp_path / "weights.toml"
    path.write_text("[dispatcher.weights_routine]\neta = 0.0\nrating = 0.0\ncontinuity = 0.0\nload = 50.0\n")
    changed, _ = simulate(SMALL, parameters.load(path), _settings(), server_url=pg_server_url)
    assert changed["weights"]["smart"]["routine"]["load"] == 50.0
    before, after = first_report["dispatchers"]["smart"], changed["dispatchers"]["smart"]
    assert after["emergencies"]["count"] == before["emergencies"]["count"]  # the same demand
    assert after["routine"]["count"] == before["routine"]["count"]
    assert after["travel"] != before["travel"]
    assert after["offers"]["made"] != before["offers"]["made"] or after["workload"] != before["workload"]


def _simday_databases(server_url: str) -> list[str]:
    with psycopg.connect(server_url, autocommit=True) as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'eldercare_simday_%'").fetchall()
    return [r[0] for r in rows]


def test_the_command_prints_the_table_and_writes_json_and_chart(
    pg_server_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ELDERCARE_DATABASE_URL", pg_server_url)
    before = _simday_databases(pg_server_url)
    out = tmp_path / "day"
    result = runner.invoke(
        app,
        ["simulate", "day", "--elders", "120", "--caregivers", "14", "--seed", "2", "--out", str(out), "--quiet"],
    )
    assert result.exit_code == 0, result.output
    assert "smart" in result.output and "nearest" in result.output
    assert "Attended within 60 min                  >= 100.0%" in result.output
    assert "Alarms answered within 60 s              >= 97.5%" in result.output
    assert "Wall time" in result.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert set(report["dispatchers"]) == {"smart", "nearest"}
    assert report["weights"]["nearest"]["emergency"] == {
        "eta": 0.0,
        "distance": 1.0,
        "load": 0.0,
        "rating": 0.0,
        "continuity": 0.0,
        "worked": 0.0,
    }
    assert report["weights"]["nearest"]["whereabouts_minutes"] == 0
    assert report["weights"]["smart"]["whereabouts_minutes"] == 60
    assert set(report["verdict"]["goal"]) == {
        "smart_meets_every_target",
        "smart_beats_nearest_attended_30",
        "smart_beats_nearest_spread",
    }
    png = (out / "attendance.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    assert _simday_databases(pg_server_url) == before  # its databases are dropped afterwards


def test_bad_parameters_stop_the_command_before_any_work(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[dispatcher]\nemergency_offer_seconds = 2\n")
    result = runner.invoke(app, ["simulate", "day", "--elders", "50", "--params", str(path), "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "[dispatcher] section" in result.output and "emergency_offer_seconds" in result.output
    path.write_text("[travel]\nspeed = 3\n")
    result = runner.invoke(app, ["simulate", "day", "--elders", "50", "--params", str(path), "--out", str(tmp_path)])
    assert result.exit_code == 2 and "travel.speed" in result.output
    path.write_bytes(b"\xdd\xff\x00")
    result = runner.invoke(app, ["simulate", "day", "--elders", "50", "--params", str(path), "--out", str(tmp_path)])
    assert result.exit_code == 2 and "is not text" in result.output
    assert not (tmp_path / "report.json").exists()


def test_the_day_runs_on_an_embedded_postgresql_of_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ELDERCARE_DATABASE_URL", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    out = tmp_path / "day"
    args = ["simulate", "day", "--elders", "60", "--caregivers", "8", "--dispatcher", "nearest", "--out", str(out)]
    result = runner.invoke(app, [*args, "--quiet"])
    assert result.exit_code == 0, result.output
    assert list(json.loads((out / "report.json").read_text())["dispatchers"]) == ["nearest"]
    assert not list(tmp_path.glob("eldercare-simday-*"))  # the temporary server is gone with its folder


def test_the_planned_dispatcher_plans_the_evening_before_and_its_caregivers_keep_the_plan(pg_server_url: str) -> None:
    """``planned``: the planner runs at the scheduler's hour the evening before, on the day's data; recurring
    orders go to their planned caregivers as they fall due, and the report says what the plan was."""
    request = Request(elders=240, caregivers=24, seed=3, dispatchers=("smart", "planned"))
    report, _ = simulate(request, parameters.load(), _settings(), server_url=pg_server_url)
    planned, smart = report["dispatchers"]["planned"], report["dispatchers"]["smart"]
    plan = planned["plan"]
    assert plan["visits"] == plan["assigned"] + plan["unassigned"] > 0
    assert plan["assigned"] > 0 and not plan["timed_out"]
    assert "plan" not in smart
    assert planned["routine"]["count"] == smart["routine"]["count"]  # the same demand
    # planned visits are not offered one by one: fewer offers than the dispatcher that offers every visit
    assert planned["offers"]["made"] < smart["offers"]["made"]
    assert "Booked visits planned ahead" in table(report)
    # the orders missed, by where the evening plan had them: every miss counted once; a dispatcher that does not
    # plan has them all outside any plan, the planned one none outside its plan but those ordered on the day
    causes = ("missed_planned", "missed_no_room", "missed_unplannable", "missed_not_in_plan")
    for routine in (planned["routine"], smart["routine"]):
        missed = routine["count"] - round(routine["count"] * routine["served_in_window"])
        assert sum(routine[cause] for cause in causes) == missed
    assert smart["routine"]["missed_not_in_plan"] == sum(smart["routine"][cause] for cause in causes)
    ordered_on_the_day = planned["routine"]["by_source"].get("simulation", 0)
    assert planned["routine"]["missed_not_in_plan"] <= ordered_on_the_day
    assert planned["routine"]["missed_no_room"] + planned["routine"]["missed_unplannable"] <= plan["unassigned"]


def test_an_out_that_is_a_file_stops_the_command_before_the_day_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ELDERCARE_DATABASE_URL", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    taken = tmp_path / "taken"
    taken.write_text("a file\n")
    args = ["simulate", "day", "--elders", "60", "--caregivers", "8", "--dispatcher", "nearest", "--out", str(taken)]
    result = runner.invoke(app, [*args, "--quiet"])
    assert result.exit_code == 2, result.output
    assert f"--out {taken} cannot hold the report: it is a file" in result.output
    assert taken.read_text() == "a file\n"


def test_fewer_caregivers_than_providers_stop_the_command_before_any_work(tmp_path: Path) -> None:
    result = runner.invoke(app, ["simulate", "day", "--elders", "20", "--caregivers", "3", "--out", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "3 caregivers cannot staff 6 providers" in result.output
    assert not (tmp_path / "report.json").exists()
