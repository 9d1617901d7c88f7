"""A visit long not reported done is on the operators' board, saying who arrived when, in the reader's language."""

from __future__ import annotations

from datetime import timedelta

import httpx
import psycopg

import dispatcher
from dispatcher.escalation import NO_ACCEPTANCE, escalate
from dispatcher.lifecycle import load_order
from dispatcher.sweep import chase_unfinished
from eldercare.config import Settings
from tests.dashboard.conftest import City
from tests.dashboard.test_language import signed_in


def test_the_board_shows_a_visit_long_not_reported_done(city: City, client: httpx.Client) -> None:
    config = dispatcher.Config(Settings(timezone="Asia/Shanghai"), dispatcher.DispatcherSettings())
    with psycopg.connect(city.url) as conn:
        row = conn.execute(
            "SELECT c.id, c.provider_id, c.name, e.id FROM caregiver c CROSS JOIN elder e WHERE c.active "
            "ORDER BY c.id, e.id LIMIT 1"
        ).fetchone()
        assert row is not None
        caregiver, provider, name, elder = row
        order = dispatcher.create_order(
            conn, city.clock, elder_id=elder, service_type="cleaning", actor="operator", config=config
        )
        arrived = city.clock.now() - timedelta(hours=4)  # 10:00 in Asia/Shanghai
        conn.execute(
            "UPDATE service_order SET status = 'arrived', caregiver_id = %s, provider_id = %s, accepted_at = %s, "
            "arrived_at = %s WHERE id = %s",
            (caregiver, provider, arrived, arrived, order.id),
        )
        assert chase_unfinished(conn, city.clock, config) == 1
        minutes = conn.execute("SELECT duration_min FROM service_order WHERE id = %s", (order.id,)).fetchone()
        assert minutes is not None
    base = str(client.base_url)
    chinese = signed_in(base, "operator")
    board = chinese.get("/alarms").text
    assert "服务未报完成" in board
    assert f"{name}于 10:00 到达，服务时长 {minutes[0]} 分钟，至今未报完成" in board
    # the order's timeline says it too (a system row in the platform's words is shown in the reader's language)
    story = chinese.get(f"/orders/{order.id}").text
    assert "超过预约服务时长很久仍未报完成：已提醒护理员，并告知调度员" in story
    english = signed_in(base, "operator")
    english.cookies.set("eldercare_lang", "en")
    board = english.get("/alarms").text
    assert f"{name} arrived at 10:00 for a visit of {minutes[0]} min and has not reported it done" in board
    assert "the caregiver was reminded and the operators alerted" in english.get(f"/orders/{order.id}").text


def test_the_order_page_says_why_the_platform_escalated_an_order(city: City, client: httpx.Client) -> None:
    """A system row of the timeline in the platform's words is shown in the reader's language; one written for
    the log is not."""
    config = dispatcher.Config(Settings(timezone="Asia/Shanghai"), dispatcher.DispatcherSettings())
    with psycopg.connect(city.url) as conn:
        elder = conn.execute("SELECT min(id) FROM elder").fetchone()
        assert elder is not None
        order = dispatcher.create_order(
            conn, city.clock, elder_id=elder[0], service_type="cleaning", actor="operator", config=config
        )
        locked = load_order(conn, order.id, lock=True)
        escalate(conn, city.clock, config, locked, NO_ACCEPTANCE)
    story = signed_in(str(client.base_url), "operator").get(f"/orders/{order.id}").text
    assert "无人接单" in story
