"""``/api/v1/plans``: operators and admins plan a day on demand; viewers read the plan; bad days are refused."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import psycopg

from eldercare import users
from tests.dashboard.conftest import NOW, PASSWORD, City, token

ENGLISH = {"Accept-Language": "en"}

TODAY = date(2026, 3, 10)  # NOW in Asia/Shanghai


def test_operators_plan_a_day_and_everyone_reads_it(
    city: City, client: httpx.Client, headers: dict[str, dict[str, str]]
) -> None:
    tomorrow = TODAY + timedelta(days=1)
    made = client.post("/api/v1/plans", json={"day": tomorrow.isoformat()}, headers=headers["operator"])
    assert made.status_code == 201, made.text
    plan = made.json()
    assert plan["day"] == tomorrow.isoformat() and plan["made_by"] == "operator" and plan["timed_out"] is False
    figures = plan["figures"]
    assert figures["visits"] == len(plan["visits"]) > 0  # the seeded city books meals every day
    assert figures["assigned"] + figures["unassigned"] == figures["visits"]
    for visit in plan["visits"]:
        assert (visit["caregiver_id"] is None) == (visit["unassigned_reason"] is not None)
    read = client.get(f"/api/v1/plans/{tomorrow}", headers=headers["viewer"])
    assert read.status_code == 200 and read.json()["id"] == plan["id"]
    again = client.post("/api/v1/plans", json={"day": tomorrow.isoformat()}, headers=headers["admin"])
    assert again.status_code == 201 and again.json()["id"] != plan["id"]
    with psycopg.connect(city.url) as conn:
        in_force = conn.execute("SELECT count(*) FROM plan WHERE day = %s AND superseded_at IS NULL", (tomorrow,))
        assert in_force.fetchone() == (1,)
        audited = conn.execute("SELECT count(*) FROM audit_log WHERE action = 'plan.make'").fetchone()
        assert audited == (2,)


def test_viewers_may_not_plan_and_bad_days_are_refused(
    client: httpx.Client, headers: dict[str, dict[str, str]]
) -> None:
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    assert client.post("/api/v1/plans", json={"day": tomorrow}, headers=headers["viewer"]).status_code == 403
    assert client.post("/api/v1/plans", json={"day": tomorrow}).status_code == 401
    h = headers["operator"]
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    past = client.post("/api/v1/plans", json={"day": yesterday}, headers=h)
    assert past.status_code == 422
    assert past.json()["detail"][0]["msg"] == f"排班计划只能为今天（{TODAY}）到 14 天后制定，不能为 {yesterday} 制定"
    past = client.post("/api/v1/plans", json={"day": yesterday}, headers=h | ENGLISH)
    assert (
        past.json()["detail"][0]["msg"]
        == f"a plan is made for today ({TODAY}) up to 14 days ahead, not for {yesterday}"
    )
    far = client.post("/api/v1/plans", json={"day": (TODAY + timedelta(days=60)).isoformat()}, headers=h)
    assert far.status_code == 422
    assert client.post("/api/v1/plans", json={"day": "tomorrow"}, headers=h).status_code == 422
    assert client.post("/api/v1/plans", json={}, headers=h).status_code == 422
    missing = client.get(f"/api/v1/plans/{TODAY + timedelta(days=5)}", headers=h)
    assert missing.status_code == 404
    assert missing.json()["detail"] == f"{TODAY + timedelta(days=5)} 还没有排班计划；请用 POST /api/v1/plans 制定"
    missing = client.get(f"/api/v1/plans/{TODAY + timedelta(days=5)}", headers=h | ENGLISH)
    assert "no plan has been made for" in missing.json()["detail"]
    assert NOW.date() == TODAY


def choices(html: str, visit_id: int) -> list[int]:
    """The caregivers the board offers to pin a visit to."""
    form = re.search(rf'data-visit="{visit_id}"><select[^>]*>(.*?)</select>', html, re.S)
    assert form is not None, f"no pin form for visit {visit_id}"
    return [int(v) for v in re.findall(r'value="(\d+)"', form.group(1))]


def span(visit: dict[str, Any]) -> float:
    """A planned visit's window, in seconds."""
    return (datetime.fromisoformat(visit["window_end"]) - datetime.fromisoformat(visit["window_start"])).total_seconds()


def a_move(url: str, html: str, plan: dict[str, Any], day: date) -> tuple[dict[str, Any], int]:
    """A planned visit and a caregiver with nothing planned the board offers to pin it to (the widest window
    first); their day on ``day`` is made long enough to reach it from home, so the next plan can keep the pin."""
    load = Counter(v["caregiver_id"] for v in plan["visits"])
    visit, other = min(
        (
            (v, c)
            for v in plan["visits"]
            if v["caregiver_id"] is not None
            for c in choices(html, v["id"])
            if not load[c]
        ),
        key=lambda pair: (-span(pair[0]), pair[0]["id"], pair[1]),
    )
    with psycopg.connect(url) as conn:
        conn.execute(
            "WITH gone AS (DELETE FROM caregiver_shift WHERE caregiver_id = %(c)s AND weekday = %(d)s) "
            "INSERT INTO caregiver_shift (caregiver_id, weekday, starts, ends) VALUES (%(c)s, %(d)s, '07:00', '21:00')",
            {"c": other, "d": day.isoweekday()},
        )
    return visit, other


def same_visit(plan: dict[str, Any], visit: dict[str, Any]) -> dict[str, Any]:
    """The visit in another plan of the day: the same occurrence, or the same order."""
    keys = ("recurring_service_id", "occurrence_at", "order_id")
    return next(v for v in plan["visits"] if all(v[k] == visit[k] for k in keys))


def faraway_visit(url: str) -> int:
    """A daily lunch booked for an elder who moved to a new community no provider serves yet: every plan leaves
    it unassigned (outside the area)."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO community (township_id, code, name, lat, lon) "
            "SELECT township_id, 'FARAWAY', '远山村', lat + 0.01, lon + 0.01 FROM community ORDER BY id LIMIT 1"
        )
        row = conn.execute(
            "WITH moved AS (UPDATE elder SET community_id = (SELECT id FROM community WHERE code = 'FARAWAY') "
            "  WHERE id = (SELECT min(id) FROM elder WHERE active) RETURNING id) "
            "INSERT INTO recurring_service (elder_id, service_type, schedule, duration_min, starts_on) "
            "SELECT id, 'meal', '0 11 * * *', 30, %s FROM moved RETURNING id",
            (TODAY,),
        ).fetchone()
        assert row is not None
        return int(row[0])


def small_hours_visit(url: str) -> int:
    """A daily cleaning booked at 02:00 in a city whose night shifts are dropped: every plan leaves it unassigned
    (nobody works then)."""
    with psycopg.connect(url) as conn:
        conn.execute("DELETE FROM caregiver_shift WHERE ends <= starts")  # the responders' nights
        row = conn.execute(
            "INSERT INTO recurring_service (elder_id, service_type, schedule, duration_min, starts_on) "
            "SELECT id, 'cleaning', '0 2 * * *', 30, %s FROM elder WHERE active ORDER BY id DESC LIMIT 1 RETURNING id",
            (TODAY,),
        ).fetchone()
        assert row is not None
        return int(row[0])


def test_the_board_shows_routes_unassigned_visits_and_figures(
    city: City, client: httpx.Client, headers: dict[str, dict[str, str]]
) -> None:
    tomorrow = TODAY + timedelta(days=1)
    night = faraway_visit(city.url)
    small_hours = small_hours_visit(city.url)
    empty = client.get(f"/plans?day={tomorrow}", headers=headers["operator"])
    assert empty.status_code == 200 and 'id="plan-now"' in empty.text and 'class="plan-box' not in empty.text
    plan = client.post("/api/v1/plans", json={"day": tomorrow.isoformat()}, headers=headers["operator"]).json()
    lost = [v for v in plan["visits"] if v["recurring_service_id"] == night]
    assert [v["unassigned_reason"] for v in lost] == ["outside_area"]
    page = client.get("/plans", headers=headers["operator"])  # tomorrow's plan, once made, is the default
    assert page.status_code == 200, page.text[:300]
    html = page.text
    assigned = [v for v in plan["visits"] if v["caregiver_id"] is not None]
    assert html.count('class="plan-box') == len(assigned) > 0
    assert f'data-visit="{lost[0]["id"]}"' in html and 'data-reason="outside_area"' in html
    assert "提供该服务的服务商都不覆盖老人所在社区" in html  # the reason in words (Chinese, the default)
    # with its particulars where they tell the operator more than the label: here the hours nobody works
    off = next(v for v in plan["visits"] if v["recurring_service_id"] == small_hours)
    assert off["unassigned_reason"] == "off_shift"
    row = html[html.index(f'<tr data-visit="{off["id"]}">') :]
    assert '<div class="muted particulars">当天 02:00 至 02:30 没有符合条件的人上班</div>' in row[: row.index("</tr>")]
    assert html.count('class="muted particulars"') == 1  # not under the label that says it all (outside_area)
    assert html.count('class="inline pin-form"') == len(plan["visits"])
    assert f"{plan['figures']['assigned']} / {plan['figures']['visits']}" in html
    viewer = client.get(f"/plans?day={tomorrow}", headers=headers["viewer"])
    assert viewer.status_code == 200 and 'class="plan-box' in viewer.text
    assert "pin-form" not in viewer.text and 'id="plan-now"' not in viewer.text


def test_a_pin_holds_through_the_next_plan_and_bad_pins_are_refused(
    city: City, client: httpx.Client, headers: dict[str, dict[str, str]]
) -> None:
    tomorrow = TODAY + timedelta(days=1)
    night = faraway_visit(city.url)
    h = headers["operator"]
    plan = client.post("/api/v1/plans", json={"day": tomorrow.isoformat()}, headers=h).json()
    html = client.get(f"/plans?day={tomorrow}", headers=h).text
    visit, other = a_move(city.url, html, plan, tomorrow)
    may = choices(html, visit["id"])
    url = f"/api/v1/plans/{tomorrow}/visits/{visit['id']}/pin"
    assert client.post(url, json={"caregiver_id": other}, headers=headers["viewer"]).status_code == 403
    pinned = client.post(url, json={"caregiver_id": other}, headers=h)
    assert pinned.status_code == 200 and pinned.json()["pinned_to"] == other
    again = client.post("/api/v1/plans", json={"day": tomorrow.isoformat()}, headers=h).json()
    moved = same_visit(again, visit)
    assert moved["caregiver_id"] == other and moved["pinned_to"] == other  # the pin is carried to the new plan
    # bad pins: a caregiver who may not serve it, an unknown visit, a superseded plan's visit, wrong types
    with psycopg.connect(city.url) as conn:
        nobody = conn.execute("SELECT max(id) FROM caregiver").fetchone()
    assert nobody is not None
    stranger = set(range(1, nobody[0] + 2)) - set(may)
    refused = client.post(
        url.replace(str(visit["id"]), str(moved["id"])), json={"caregiver_id": min(stranger)}, headers=h
    )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["msg"].endswith("（技能、服务区域、班次或请假不符）")
    refused = client.post(
        url.replace(str(visit["id"]), str(moved["id"])), json={"caregiver_id": min(stranger)}, headers=h | ENGLISH
    )
    assert "may not serve" in refused.json()["detail"][0]["msg"]
    assert client.post(url, json={"caregiver_id": other}, headers=h).status_code == 404  # superseded
    assert (
        client.post(
            f"/api/v1/plans/{tomorrow}/visits/987654321/pin", json={"caregiver_id": other}, headers=h
        ).status_code
        == 404
    )
    assert client.post(url, json={"caregiver_id": "someone"}, headers=h).status_code == 422
    assert client.post(url, json={"caregiver_id": 0}, headers=h).status_code == 422
    lost = next(v for v in again["visits"] if v["recurring_service_id"] == night)
    stays = client.post(url.replace(str(visit["id"]), str(lost["id"])), json={"caregiver_id": other}, headers=h)
    assert stays.status_code == 422  # nobody may serve the faraway visit: nobody may be pinned to it
    unpinned = client.post(url.replace(str(visit["id"]), str(moved["id"])), json={"caregiver_id": None}, headers=h)
    assert unpinned.status_code == 200 and unpinned.json()["pinned_to"] is None
    with psycopg.connect(city.url) as conn:
        audited = conn.execute("SELECT count(*) FROM audit_log WHERE action = 'plan.pin'").fetchone()
        assert audited == (2,)


def test_the_board_shows_one_service_or_the_caregivers_named(
    city: City, client: httpx.Client, headers: dict[str, dict[str, str]]
) -> None:
    tomorrow = TODAY + timedelta(days=1)
    h = headers["operator"]
    plan = client.post("/api/v1/plans", json={"day": tomorrow.isoformat()}, headers=h).json()
    visits = plan["visits"]
    routes = Counter(v["caregiver_id"] for v in visits if v["caregiver_id"] is not None)
    meals = [v for v in visits if v["service_type"] == "meal"]
    assert meals and len(meals) < len(visits)  # the seeded city books other services too
    page = client.get(f"/plans?day={tomorrow}&service=meal", headers=h)
    assert page.status_code == 200, page.text[:300]
    html = page.text
    boxes = re.findall(r'class="plan-box service-(\w+)', html)
    assert boxes == ["meal"] * sum(1 for v in meals if v["caregiver_id"] is not None)
    assert html.count('class="inline pin-form"') == len(meals)
    assert f'href="?day={tomorrow - timedelta(days=1)}&amp;service=meal"' in html  # the filter goes with the day
    # one caregiver, by a part of their code
    busiest = routes.most_common(1)[0][0]
    with psycopg.connect(city.url) as conn:
        code = conn.execute("SELECT code FROM caregiver WHERE id = %s", (busiest,)).fetchone()[0]  # type: ignore[index]
    html = client.get(f"/plans?day={tomorrow}&who={code.lower()}", headers=h).text
    assert re.findall(r'class="plan-row" data-caregiver="(\d+)"', html) == [str(busiest)]
    assert html.count('class="plan-box') == routes[busiest]
    shown = re.search(r"显示 1 / (\d+) 名服务人员", html)  # of every caregiver with a route
    assert shown is not None and int(shown[1]) >= len(routes)
    nobody = client.get(f"/plans?day={tomorrow}&who=nobody-by-this-name", headers=h).text
    assert "没有符合筛选条件的服务人员路线" in nobody
    assert client.get(f"/plans?day={tomorrow}&service=flying", headers=h).status_code == 422


def area_account_for_busiest_township(url: str, plan_id: int) -> set[int]:
    """An operator account ``area`` limited to the township with the most visits of the plan; those visits."""
    with psycopg.connect(url) as conn:
        township = conn.execute(
            "SELECT c.township_id, t.code FROM plan_visit v JOIN elder e ON e.id = v.elder_id "
            "JOIN community c ON c.id = e.community_id JOIN township t ON t.id = c.township_id "
            "WHERE v.plan_id = %s GROUP BY 1, 2 ORDER BY count(*) DESC, 1 LIMIT 1",
            (plan_id,),
        ).fetchone()
        assert township is not None
        users.add_user(conn, "area", PASSWORD, users.Role.OPERATOR)
        users.set_area(conn, "area", township[1], None)
        rows = conn.execute(
            "SELECT v.id FROM plan_visit v JOIN elder e ON e.id = v.elder_id "
            "JOIN community c ON c.id = e.community_id WHERE v.plan_id = %s AND c.township_id = %s",
            (plan_id, township[0]),
        ).fetchall()
    return {visit for (visit,) in rows}


def test_an_account_limited_to_a_township_reads_its_elders_part_of_the_plan_and_changes_nothing(
    city: City, client: httpx.Client, headers: dict[str, dict[str, str]]
) -> None:
    """Visits of the township's elders and the caregivers who bring them, without the whole city's figures; no
    pins, no plan made (they change every township's routes). Before, the board and the plan were refused (403)."""
    tomorrow = TODAY + timedelta(days=1)
    plan = client.post("/api/v1/plans", json={"day": tomorrow.isoformat()}, headers=headers["operator"]).json()
    inside = area_account_for_busiest_township(city.url, plan["id"])
    assert 0 < len(inside) < len(plan["visits"])  # some visits outside the township too
    auth = token(client, "area")
    read = client.get(f"/api/v1/plans/{tomorrow}", headers=auth)
    assert read.status_code == 200, read.text
    assert {v["id"] for v in read.json()["visits"]} == inside and read.json()["figures"] == {}
    page = client.get(f"/plans?day={tomorrow}", headers=auth)
    assert page.status_code == 200, page.text[:300]
    shown = {int(v) for v in re.findall(r'data-visit="(\d+)"', page.text)}
    assert shown == inside
    rows = page.text.count('class="plan-row" data-caregiver=')
    routes = {v["caregiver_id"] for v in read.json()["visits"] if v["caregiver_id"] is not None}
    assert rows == len(routes) > 0  # only those who bring the township's visits
    assert 'id="plan-area"' in page.text and 'id="plan-figures"' not in page.text
    assert "pin-form" not in page.text and 'id="plan-now"' not in page.text
    visit = min(inside)
    pin = client.post(f"/api/v1/plans/{tomorrow}/visits/{visit}/pin", json={"caregiver_id": None}, headers=auth)
    assert pin.status_code == 403
    assert client.post("/api/v1/plans", json={"day": tomorrow.isoformat()}, headers=auth).status_code == 403
    # a city-wide account still sees the whole plan and its figures
    whole = client.get(f"/api/v1/plans/{tomorrow}", headers=headers["viewer"]).json()
    assert len(whole["visits"]) == len(plan["visits"]) and whole["figures"] == plan["figures"]
