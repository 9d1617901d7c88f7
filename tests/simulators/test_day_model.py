"""The simulated day's model on its own, without a database: parameters, randomness, demand, caregivers,
the operators' desk and the report's arithmetic."""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import pytest

from simulators.citysim import params as parameters
from simulators.citysim.demand import Elder, adhoc, emergencies
from simulators.citysim.desk import Call, Desk
from simulators.citysim.draws import Draws
from simulators.citysim.figures import gini
from simulators.citysim.report import meets, table
from simulators.citysim.world import Job, Worker, World


@pytest.fixture(scope="module")
def params() -> parameters.Params:
    return parameters.load()


# -- parameters ---------------------------------------------------------------------------------------------
def test_defaults_load_and_a_file_changes_only_what_it_names(tmp_path: Path, params) -> None:
    path = tmp_path / "p.toml"
    path.write_text("[caregivers.decline]\nemergency_busy = 0.5\n[dispatcher]\nemergency_offer_seconds = 60\n")
    changed = parameters.load(path)
    assert changed.caregivers.decline.emergency_busy == 0.5
    assert changed.caregivers.decline.emergency_idle == params.caregivers.decline.emergency_idle
    assert changed.dispatcher == {"emergency_offer_seconds": 60}
    assert changed.travel == params.travel


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[caregivers]\nreply_sigmaa = 1\n", "caregivers.reply_sigmaa"),
        ("[emergencies]\ntypes = { flood = 1.0 }\n", "unknown alarm types ['flood']"),
        ("[adhoc]\ntypes = { emergency = 1.0 }\n", "unknown or emergency service types"),
        ("[caregivers.no_answer]\nroutine_idle = -0.1\n", "greater than or equal to 0"),
        ("[day\n", "not valid TOML"),
        ('[day]\ndate = "9999-12-31"\n', "day.date: Input should be less than or equal to 2099-12-31"),
        ("[adhoc]\nhours = [18.0, 8.0]\n", "adhoc.hours: Value error, expected [from, until]"),
        ("[emergencies.types]\nsos = 0\nfall = 0\nsmoke = 0\ngas = 0\n", "emergencies.types: Value error, weights"),
        ("[emergencies]\nhourly_profile = " + str([0] * 24) + "\n", "emergencies.hourly_profile: Value error"),
        ("[adhoc.types]\nmedical = 0\nmobility = 0\ncare = 0\nbathing = -1\n", "adhoc.types: Value error"),
        ("[caregivers]\nset_off_seconds = [120.0, 30.0]\n", "caregivers.set_off_seconds: Value error"),
        ("[emergencies]\nability_factor = [1.0, -1.5, 2.0, 3.0, 4.0]\n", "emergencies.ability_factor.1"),
        ("[operators]\non_duty = " + str([2] * 23 + [-1]) + "\n", "operators.on_duty.23"),
        ("[travel.speed_kmh]\nwalk = 0\n", "travel.speed_kmh.walk"),
        ("[travel.setup_minutes]\ncar = -3\n", "travel.setup_minutes.car"),
        ("[travel.speed_kmh]\nbike = 15.0\n", "travel.speed_kmh: Value error, expected a value for each of car, ebike"),
    ],
)
def test_a_bad_parameters_file_is_refused_saying_where(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(parameters.ParamsError) as caught:
        parameters.load(path)
    assert says in str(caught.value) and str(path) in str(caught.value)


def test_a_missing_parameters_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(parameters.ParamsError, match="does not exist"):
        parameters.load(tmp_path / "nope.toml")


def test_a_parameters_file_that_is_not_text_is_named(tmp_path: Path) -> None:
    path = tmp_path / "binary.toml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xdd\xff date = 1")
    with pytest.raises(parameters.ParamsError, match="is not text"):
        parameters.load(path)
    with pytest.raises(parameters.ParamsError, match="cannot be read: Is a directory"):
        parameters.load(tmp_path)


# -- randomness and demand ----------------------------------------------------------------------------------
def test_keyed_draws_depend_on_the_key_alone() -> None:
    replies = Draws(7, "replies")
    first = [replies.keyed("R12@0700", 3).random() for _ in range(2)]
    replies.stream.random()  # using the concern's stream moves nothing keyed
    assert [Draws(7, "replies").keyed("R12@0700", 3).random() for _ in range(2)] == first
    assert Draws(7, "travel").keyed("R12@0700", 3).random() != first[0]
    assert Draws(8, "replies").keyed("R12@0700", 3).random() != first[0]


def _elders(count: int, level: int, alone: bool, first_id: int = 1) -> dict[int, Elder]:
    devices = {"watch": "w", "fall_detector": "f", "smoke": "s"}
    return {i: Elder(i, 29.7, 113.9, level, alone, devices) for i in range(first_id, first_id + count)}


def test_frail_elders_living_alone_raise_more_emergencies(params) -> None:
    fit = emergencies(_elders(5000, 0, False), params, seed=1)
    frail = emergencies(_elders(5000, 4, True), params, seed=1)
    expected_fit = 5000 * params.emergencies.per_elder_per_day
    assert abs(len(fit) - expected_fit) < 4 * math.sqrt(expected_fit)
    ratio = params.emergencies.ability_factor[4] * params.emergencies.alone_factor
    assert abs(len(frail) / len(fit) - ratio) < 0.2 * ratio
    assert {e.alarm_type for e in frail} <= {"sos", "fall", "smoke"}  # no gas sensor, no gas alarm
    assert all(0 <= e.at < 86_400 for e in frail)
    night = sum(1 for e in frail if e.at < 5 * 3600) / len(frail)
    morning = sum(1 for e in frail if 6 * 3600 <= e.at < 11 * 3600) / len(frail)
    assert morning > 2 * night  # the hourly profile: mornings busy, nights quiet


def test_demand_is_the_same_for_the_same_seed(params) -> None:
    elders = _elders(800, 2, False)
    assert emergencies(elders, params, 5) == emergencies(elders, params, 5)
    assert adhoc(elders, params, 5) == adhoc(elders, params, 5)
    assert emergencies(elders, params, 5) != emergencies(elders, params, 6)
    for order in adhoc(elders, params, 5):
        assert params.adhoc.hours[0] * 3600 <= order.at <= params.adhoc.hours[1] * 3600
        assert order.window_end - order.window_start == params.adhoc.window_minutes * 60


# -- caregivers ---------------------------------------------------------------------------------------------
class Diary:
    """The engine's side for the world alone: a list of scheduled steps and of platform calls."""

    def __init__(self) -> None:
        self.steps: list[tuple[float, Callable[[Worker, int], None], Worker, int]] = []
        self.calls: list[tuple[str, int, int]] = []
        self.batch: set[int] = set()  # the orders the platform has collected with a meal set off for

    def at(self, when: float, action: Any, worker: Worker) -> None:
        self.steps.append((when, action, worker, worker.token))

    def set_off(self, worker: Worker, job: Job) -> Collection[int]:
        self.calls.append(("set_off", worker.id, job.order_id))
        return self.batch

    def arrive(self, worker: Worker, job: Job) -> None:
        self.calls.append(("arrive", worker.id, job.order_id))

    def finish(self, worker: Worker, job: Job) -> None:
        self.calls.append(("finish", worker.id, job.order_id))

    def run_until(self, until: float) -> float:
        """Run the pending steps in time order up to ``until``; returns the time reached."""
        now = 0.0
        while self.steps:
            self.steps.sort(key=lambda s: s[0])
            if self.steps[0][0] > until:
                break
            now, action, worker, token = self.steps.pop(0)
            action(worker, token)
        return now


def _world(params) -> tuple[World, Worker, Diary]:
    diary = Diary()
    worker = Worker(1, "ebike", (29.70, 113.90), 29.70, 113.90)
    return World({1: worker}, params, 1, diary), worker, diary


def test_a_booked_visit_is_left_for_in_time_and_served(params) -> None:
    world, worker, diary = _world(params)
    visit = Job(10, "R1@x", "meal", 29.71, 113.91, window_start=11 * 3600, window_end=11.5 * 3600)
    world.take(9 * 3600, worker, visit)
    assert worker.phase == "planned"
    diary.run_until(24 * 3600)
    assert [c[0] for c in diary.calls] == ["set_off", "arrive", "finish"]
    assert worker.phase == "idle" and (worker.lat, worker.lon) == worker.home  # back at base
    (start, end), *_ = worker.busy
    assert start < 11 * 3600 < end  # on the road before the window opened, busy through the visit
    assert worker.km_to_orders > 1.0 and worker.km > worker.km_to_orders  # there and back


def test_meals_of_the_plan_are_collected_at_their_kitchen_together_then_delivered_in_the_plans_order(
    params,
) -> None:
    world, worker, diary = _world(params)
    kitchen = (29.69, 113.89)
    # the plan delivers the later-booked meal first: the caregiver keeps to the plan, not to the windows
    second = Job(10, "R1@x", "meal", 29.71, 113.91, 11 * 3600, 11.5 * 3600, planned=11.3 * 3600)
    first = Job(11, "R2@x", "meal", 29.705, 113.905, 11 * 3600, 11.5 * 3600, planned=11 * 3600)
    for job in (second, first):
        job.kitchen, job.pickup = kitchen, 10.6 * 3600
        world.take(9 * 3600, worker, job)
    diary.run_until(10.5 * 3600)
    assert worker.phase == "travel" and worker.leg is not None
    assert (worker.leg.lat1, worker.leg.lon1) == kitchen  # to the kitchen first
    diary.run_until(24 * 3600)
    assert first.collected and second.collected
    assert [(c[0], c[2]) for c in diary.calls] == [
        ("set_off", 11),
        ("arrive", 11),
        ("finish", 11),
        ("set_off", 10),
        ("arrive", 10),
        ("finish", 10),
    ]
    assert (first.departures, second.departures) == (2, 1)  # one batch, one stop at the kitchen


def test_meals_the_platform_collects_with_the_first_are_taken_at_the_kitchen_whatever_their_times(params) -> None:
    """A re-plan after the caregiver set off gives the rest of their batch no kitchen stop (they carry them): at
    the kitchen they take what the platform says they collect, not only the meals due within the hour."""
    world, worker, diary = _world(params)
    kitchen = (29.69, 113.89)
    first = Job(11, "R2@x", "meal", 29.705, 113.905, 11 * 3600, 11.5 * 3600, planned=11 * 3600)
    first.kitchen, first.pickup = kitchen, 10.3 * 3600
    later = Job(12, "R3@x", "meal", 29.71, 113.91, 12.5 * 3600, 13 * 3600, planned=12.5 * 3600)
    later.kitchen = kitchen  # carried: no pickup time of its own, due well over an hour after the kitchen stop
    diary.batch = {11, 12}
    for job in (first, later):
        world.take(9 * 3600, worker, job)
    diary.run_until(24 * 3600)
    assert diary.calls[0] == ("set_off", 1, 11)  # on leaving for the kitchen
    assert later.batched and later.collected
    assert later.departures == 1  # straight from the first elder, not by the kitchen again


def test_an_emergency_turns_a_caregiver_round_on_the_way_to_a_booked_visit(params) -> None:
    world, worker, diary = _world(params)
    visit = Job(10, "R1@x", "cleaning", 29.80, 113.99, window_start=600.0, window_end=7800.0)
    world.take(0.0, worker, visit)
    diary.run_until(700.0)  # on the way
    assert worker.phase == "travel" and worker.job is visit
    emergency = Job(11, "E0001", "emergency", 29.69, 113.89, window_start=700.0, window_end=2500.0)
    world.take(700.0, worker, emergency)
    assert worker.job is emergency and worker.queue == [visit]
    diary.run_until(86_400.0)
    order = [(c[0], c[2]) for c in diary.calls]
    assert order == [("set_off", 10), ("set_off", 11), ("arrive", 11), ("finish", 11), ("arrive", 10), ("finish", 10)]


def test_an_emergency_accepted_during_a_visit_cuts_it_short(params) -> None:
    world, worker, diary = _world(params)
    visit = Job(10, "R1@x", "cleaning", 29.70, 113.90, window_start=0.0, window_end=7200.0)
    world.take(0.0, worker, visit)
    diary.run_until(1200.0)
    assert worker.phase == "serve"
    ends = worker.until
    world.take(1200.0, worker, Job(11, "E0001", "emergency", 29.71, 113.90, 1200.0, 3000.0))
    assert worker.until == min(ends, 1200.0 + params.caregivers.wrap_up_minutes * 60)
    assert world.on_emergency(worker)


def test_someone_at_an_emergency_rarely_takes_another(params) -> None:
    world, worker, _ = _world(params)
    world.take(0.0, worker, Job(11, "E0001", "emergency", 29.71, 113.90, 0.0, 1800.0))
    second = Job(12, "E0002", "emergency", 29.70, 113.91, 60.0, 1860.0)
    takes = sum(world.accepts(60.0, worker, second, n / 1000) for n in range(1000))
    assert takes == pytest.approx(1000 * (1 - params.caregivers.decline_on_emergency), abs=2)


def test_a_visit_that_cannot_be_reached_in_its_window_is_mostly_declined(params) -> None:
    world, worker, _ = _world(params)
    far = Job(13, "R9@x", "meal", 30.30, 114.60, window_start=600.0, window_end=2400.0)  # about 95 km away
    takes = sum(world.accepts(0.0, worker, far, n / 1000) for n in range(1000))
    assert takes == pytest.approx(1000 * (1 - params.caregivers.decline_unreachable), abs=2)


# -- the desk -----------------------------------------------------------------------------------------------
def test_the_board_never_delays_an_elders_call(params) -> None:
    schedule: list[tuple[float, Callable[..., None], tuple[Any, ...]]] = []
    acknowledged: list[tuple[str, float]] = []
    desk = Desk(
        params,
        1,
        lambda when, fn, *args: schedule.append((when, fn, args)),
        lambda c, at: acknowledged.append((c.key, at)),
    )
    for n in range(20):
        desk.ring(0.0, Call(f"X{n}", n, 0.0, escalation=True))
    desk.ring(0.0, Call("E1", 100, 0.0, escalation=False))
    desk.ring(0.0, Call("E2", 101, 0.0, escalation=False))
    desk.ring(0.0, Call("E3", 102, 0.0, escalation=False))  # 2 operators at midnight: E3 waits for one
    while schedule:
        schedule.sort(key=lambda s: s[0])
        when, fn, args = schedule.pop(0)
        fn(when, *args)
    assert set(desk.answered) == {"E1", "E2", "E3"} and desk.escalations == 20
    assert desk.answered["E1"] < 60 and desk.answered["E2"] < 60
    assert desk.answered["E3"] > 60  # after a whole call of a few minutes
    assert len(acknowledged) == 23


# -- the report's arithmetic --------------------------------------------------------------------------------
def test_gini() -> None:
    assert gini([]) == 0.0 and gini([0, 0]) == 0.0 and gini([5, 5, 5]) == 0.0
    assert gini([0, 0, 3]) == pytest.approx(2 / 3)
    assert gini([1, 2, 3, 4]) == pytest.approx(0.25)


def _figures(a45: float | None, a60: float | None, s60: float, s180: float) -> dict[str, Any]:
    return {
        "emergencies": {
            "count": 10,
            "attended_45": a45,
            "attended_60": a60,
            "answered_60": s60,
            "answered_180": s180,
        }
    }


def test_targets_are_met_only_in_full() -> None:
    assert meets(_figures(0.9, 1.0, 0.975, 0.99)) == dict.fromkeys(
        ("attended_45", "attended_60", "answered_60", "answered_180"), True
    )
    missed = meets(_figures(0.8999, 0.99, 1.0, 0.0))
    assert missed == {"attended_45": False, "attended_60": False, "answered_60": True, "answered_180": False}
    assert not meets(_figures(None, None, 1.0, 1.0))["attended_45"]


def test_the_table_marks_each_target() -> None:
    from simulators.citysim.report import ROWS, verdict

    figures = {section: {key: 0.5 for _, s, key, *_ in ROWS if s == section} for _, section, *_ in ROWS}
    figures["emergencies"].update(_figures(0.95, 1.0, 1.0, 1.0)["emergencies"])
    figures["workload"]["gini_busy_minutes"] = 0.3
    worse = {k: dict(v) for k, v in figures.items()}
    worse["emergencies"].update(_figures(0.5, 0.6, 1.0, 1.0)["emergencies"])
    worse["workload"]["gini_busy_minutes"] = 0.4
    dispatchers = {"smart": figures, "nearest": worse}
    report = {"day": "2026-01-07", "elders": 10, "caregivers": 2, "seed": 1, "dispatchers": dispatchers}
    report["verdict"] = verdict(dispatchers)
    text = table(report)
    assert "Attended within 45 min                   >= 90.0%" in text
    line = next(row for row in text.splitlines() if row.startswith("Attended within 60 min"))
    assert line.split()[-4:] == ["100.0%", "ok", "60.0%", "!!"]
    assert "smart meets every target: yes" in text and "on workload spread: yes" in text
