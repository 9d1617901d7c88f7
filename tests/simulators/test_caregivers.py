"""Simulated caregivers answer offers through the stand-in, travel, arrive and finish."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from typer.testing import CliRunner

from dispatcher import texts
from dispatcher.component import Dispatcher
from eldercare.cli import app
from eldercare.component import Context
from simulators.caregivers import Behaviour, SimulatedCaregivers
from tests.dispatcher.town import offset
from tests.waiting import eventually


@pytest.fixture
def running(conn, town, harness):
    """Two caregivers, one elder; the dispatcher component running against the stand-in."""
    provider = town.provider()
    caregivers = [town.caregiver(provider, offset(km, 0)) for km in (0.4, 1.0)]
    elder = town.elder(contacts=1)
    conn.commit()
    config = replace(
        harness.config,
        dispatch=harness.config.dispatch.model_copy(update={"sweep_seconds": 0.2, "scheduler_enabled": False}),
    )
    dispatcher = Dispatcher(
        Context(config.platform, harness.database_url, "mqtt://127.0.0.1:1", clock=harness.clock), config
    )
    dispatcher.start()
    yield [harness.phone(c) for c in caregivers], elder
    dispatcher.stop()


def _crowd(harness, phones, behaviour):
    crowd = SimulatedCaregivers(harness.standin.url, phones, behaviour, seed=3)
    stop = threading.Event()
    thread = threading.Thread(target=crowd.run, args=(stop,), daemon=True)
    thread.start()
    return crowd, stop, thread


def _wait(harness, query: str, expect, timeout: float = 15.0) -> None:
    eventually(
        lambda: harness.one(query) == expect, lambda: f"{query} to be {expect!r} (is {harness.one(query)!r})", timeout
    )


def _sos(harness, elder: int) -> None:
    with harness.connect() as conn:
        conn.execute(
            "INSERT INTO alarm (elder_id, type, severity, raised_at, last_raised_at) "
            "VALUES (%s, 'sos', 'critical', now(), now())",
            (elder,),
        )


def test_willing_caregivers_take_the_order_arrive_and_finish(running, harness) -> None:
    phones, elder = running
    crowd, stop, thread = _crowd(
        harness, phones, Behaviour(accept=1.0, decline=0.0, delay_s=(0.05, 0.1), speed_factor=3000)
    )
    try:
        _sos(harness, elder)
        _wait(harness, "SELECT status FROM service_order", "completed")
    finally:
        stop.set()
        thread.join(5)
        crowd.close()
    # the emergency was raced: whoever said yes first took it; the other was told it is taken, if they said yes
    winner = harness.one("SELECT c.phone FROM service_order so JOIN caregiver c ON c.id = so.caregiver_id")
    assert [body.split()[0] for phone, body, _ in crowd.replies if phone == winner] == ["Y", "ARRIVED", "DONE"]
    late = [(body.split()[0], answer) for phone, body, answer in crowd.replies if phone != winner]
    assert all(word == "Y" and "已由他人接单" in answer for word, answer in late), late


def test_unwilling_caregivers_decline_until_the_order_escalates(running, harness) -> None:
    phones, elder = running
    crowd, stop, thread = _crowd(harness, phones, Behaviour(accept=0.0, decline=1.0, delay_s=(0.05, 0.1)))
    try:
        _sos(harness, elder)
        _wait(harness, "SELECT count(*) FROM offer WHERE status = 'declined'", 2)
        _wait(harness, "SELECT status FROM service_order", "escalated")
    finally:
        stop.set()
        thread.join(5)
        crowd.close()


def test_a_caregiver_told_the_order_is_taken_does_not_answer_it() -> None:
    crowd = SimulatedCaregivers("http://127.0.0.1:1", ["+8613800000001"], Behaviour(accept=1.0, delay_s=(0, 0)))
    try:
        phone = "+8613800000001"
        crowd._consider(
            phone, "【助急】工单ABCDEF：王秀英，金桂路12号，距您0.4公里。回复 Y ABCDEF 接单，N ABCDEF 拒绝。"
        )
        assert len(crowd.queue) == 1
        crowd._consider(phone, texts.text("taken_by_other", "zh", code="ABCDEF"))
        # nothing is posted (the stand-in's address above does not answer): the yes is dropped
        assert crowd.act() == 0 and crowd.replies == []
    finally:
        crowd.close()


def test_cli_refuses_impossible_probabilities(tmp_path) -> None:
    result = CliRunner().invoke(
        app, ["simulate", "caregivers", "--accept", "0.8", "--decline", "0.5", "--manifest", str(tmp_path / "m.json")]
    )
    assert result.exit_code == 2 and "at most 1" in result.output
    missing = CliRunner().invoke(app, ["simulate", "caregivers", "--manifest", str(tmp_path / "m.json")])
    assert missing.exit_code == 2 and "no manifest" in missing.output
    (tmp_path / "m.json").write_text('{"devices": [], "elders": [], "caregivers": []}', encoding="utf-8")
    nobody = CliRunner().invoke(app, ["simulate", "caregivers", "--manifest", str(tmp_path / "m.json")])
    assert nobody.exit_code == 2 and "holds no caregivers" in nobody.output
    (tmp_path / "m.json").write_bytes(b"\xdd\xff[")
    garbled = CliRunner().invoke(app, ["simulate", "caregivers", "--manifest", str(tmp_path / "m.json")])
    assert garbled.exit_code == 2 and "is not a manifest written by `eldercare seed`" in garbled.output
    helped = CliRunner().invoke(app, ["simulate", "twilio", "--help"])
    assert helped.exit_code == 0 and "stand-in" in helped.output
