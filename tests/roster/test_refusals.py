"""A refusal reads in the reader's language: the API's detail, the toast's and the error page's, for an order in a
state that forbids the action, an unknown order or provider, a roster clash; English when the reader asks for it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from dashboard.server import DashboardServer
from tests.dispatcher.town import offset
from tests.roster.conftest import PASSWORD

ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}


def session(dashboard: DashboardServer, language: str) -> httpx.Client:
    """A browser's session: signed in through the login form, the language chosen with the switch (its cookie)."""
    http = httpx.Client(base_url=dashboard.url, timeout=30, cookies={"eldercare_lang": language})
    form = http.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert csrf is not None
    signed = http.post("/login", data={"username": "operator", "password": PASSWORD, "csrf_token": csrf.group(1)})
    assert signed.status_code == 303, signed.text[:300]
    return http


@pytest.fixture
def browsers(dashboard: DashboardServer) -> Iterator[dict[str, httpx.Client]]:
    clients = {language: session(dashboard, language) for language in ("zh", "en")}
    try:
        yield clients
    finally:
        for http in clients.values():
            http.close()


def test_an_order_the_state_forbids_is_refused_in_the_readers_language(api, conn, town) -> None:
    town.caregiver(town.provider(), offset(0.3, 0))
    elder = town.elder()
    conn.commit()
    order = api.post("/api/v1/orders", json={"elder_id": elder, "service_type": "meal"}).json()
    code = order["code"]
    cancel = f"/api/v1/orders/{order['id']}/cancel"
    assert api.post(cancel, json={"reason": "家属已到"}).status_code == 200

    again = api.post(cancel, json={"reason": "again"})
    assert again.status_code == 409
    assert again.json()["detail"] == f"工单 {code} 当前为“已取消”，不能取消；该状态已是最终状态"
    english = api.post(cancel, json={"reason": "again"}, headers=ENGLISH)
    assert english.status_code == 409
    assert english.json()["detail"] == f"order {code} is cancelled and cannot be cancelled; it is final"

    reassign = f"/api/v1/orders/{order['id']}/reassign"
    refused = api.post(reassign, json={"caregiver_id": None})
    assert refused.status_code == 409 and refused.json()["detail"].endswith("不能改派；该状态已是最终状态")
    refused = api.post(reassign, json={"caregiver_id": None}, headers=ENGLISH)
    assert refused.json()["detail"].endswith("cannot be reassigned; it is final")

    # a live order: the states it may go to are listed in the reader's words
    live = api.post("/api/v1/orders", json={"elder_id": elder, "service_type": "cleaning"}).json()
    review = api.post(f"/api/v1/orders/{live['id']}/review", json={"satisfaction": 5, "note": ""})
    assert review.status_code == 409
    assert review.json()["detail"] == (
        f"工单 {live['code']} 当前为“已创建”，不能回访；“已创建”的工单只能变为：已接单、已取消、已升级、已派单"
    )

    # a 422 keeps FastAPI's shape, its msg in the reader's language
    blank = api.post(f"/api/v1/orders/{live['id']}/cancel", json={"reason": "   "})
    assert blank.status_code == 422 and blank.json()["detail"][0]["msg"] == "请说明取消工单的原因（原因为空）"
    blank = api.post(f"/api/v1/orders/{live['id']}/cancel", json={"reason": "   "}, headers=ENGLISH)
    assert blank.json()["detail"][0]["msg"] == "say why the order is cancelled (reason is empty)"


def test_an_unknown_order_is_not_found_in_the_readers_language(api) -> None:
    missing = api.post("/api/v1/orders/987654/cancel", json={"reason": "x"})
    assert missing.status_code == 404
    assert missing.json()["detail"] == "没有编号为 987654 的工单；请核对编号，或在工单列表中查找"
    english = api.post("/api/v1/orders/987654/cancel", json={"reason": "x"}, headers=ENGLISH)
    assert english.json()["detail"] == "there is no order with id 987654; check the id, or list orders to find it"


def _caregiver(provider: int, code: str, **changes: object) -> dict[str, object]:
    """A new caregiver's record for the API, with ``changes``."""
    return {
        "code": code,
        "provider_id": provider,
        "name": "王芳",
        "gender": "F",
        "phone": "+8613977770021",
        "home_lat": offset(0.1, 0)[0],
        "home_lon": offset(0.1, 0)[1],
        "skills": ["meal"],
        "shifts": [{"weekday": 3, "starts": "08:00", "ends": "18:00"}],
        **changes,
    }


def test_a_roster_clash_is_refused_in_the_readers_language(api, conn, town) -> None:
    body = _caregiver(town.provider(), "RC1")
    conn.commit()
    first = api.post("/api/v1/caregivers", json=body)
    assert first.status_code == 201, first.text
    twice = api.post("/api/v1/caregivers", json={**body, "code": "RC2"})
    assert twice.status_code == 409
    assert twice.json()["detail"] == "护理员 RC1 已使用该编码或手机号；请确认没有重复添加"
    english = api.post("/api/v1/caregivers", json={**body, "code": "RC2"}, headers=ENGLISH)
    assert english.json()["detail"] == (
        "caregiver RC1 has this code or phone number already; check you are not adding them twice"
    )
    nowhere = api.post(
        "/api/v1/providers",
        json={
            "code": "RP9",
            "name": "服务中心",
            "phone": "+8671512345679",
            "manager_name": "李经理",
            "manager_phone": "+8613912345679",
            "services": ["meal"],
            "area": {"townships": ["火星街道"], "communities": ["C01"]},
        },
    )
    assert nowhere.status_code == 422
    assert nowhere.json()["detail"][0]["msg"] == "未知的乡镇街道 '火星街道'；请使用乡镇街道和社区列表中的编码或名称"


def test_the_rosters_own_field_checks_are_refused_in_the_readers_language(api, conn, town) -> None:
    body = _caregiver(
        town.provider(),
        "FC1",
        phone="+8671512345678",  # a landline: a caregiver answers orders by SMS
        skills=["meal", "care", "meal"],
        shifts=[{"weekday": 3, "starts": "08:00", "ends": "08:00"}],
        absences=[{"kind": "leave", "first_day": "2026-05-02", "last_day": "2026-05-01"}],
    )
    conn.commit()
    said = {
        language: api.post("/api/v1/caregivers", json=body, headers=headers)
        for language, headers in (("zh", {}), ("en", ENGLISH))
    }
    assert {r.status_code for r in said.values()} == {422}
    zh = {tuple(d["loc"][1:]): d["msg"] for d in said["zh"].json()["detail"]}
    en = {tuple(d["loc"][1:]): d["msg"] for d in said["en"].json()["detail"]}
    assert zh == {
        ("phone",): "+8671512345678 不是可拨通的大陆号码；应为手机号，例如 +8613812345678",
        ("skills",): "每项服务只填一次；重复的有：助餐",
        ("shifts", 0): "班次的开始和结束时间不能相同（跨夜班次的结束时间早于开始时间）",
        ("absences", 0): "缺勤的结束日期（2026-05-01）不能早于开始日期（2026-05-02）",
    }
    assert en[("skills",)] == "list each service once; repeated: Meal"
    assert en[("absences", 0)] == "an absence cannot end (2026-05-01) before it starts (2026-05-02)"
    assert conn.execute("SELECT count(*) FROM caregiver WHERE code = 'FC1'").fetchone() == (0,)  # nothing written


def test_the_pages_and_the_toasts_say_a_refusal_in_the_language_chosen(browsers, conn, town) -> None:
    elder = town.elder()
    conn.commit()
    zh, en = browsers["zh"], browsers["en"]
    # an error page: its headline and its detail in one language
    page = zh.get("/orders/987654")
    assert page.status_code == 404 and "没有编号为 987654 的工单" in page.text and "no order" not in page.text
    page = en.get("/orders/987654")
    assert page.status_code == 404 and "no order with id 987654" in page.text
    page = zh.get("/providers/987654/edit")
    assert page.status_code == 404 and "没有编号为 987654 的服务商" in page.text
    assert "no provider with id 987654" in en.get("/providers/987654/edit").text

    # the toast shows the API's detail: the page's fetch carries the session and its language cookie
    for http, said in ((zh, "不能取消"), (en, "cannot be cancelled")):
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', http.get("/orders").text)
        assert csrf is not None
        headers = {"X-CSRF-Token": csrf.group(1), "Accept": "application/json"}
        order = http.post("/api/v1/orders", json={"elder_id": elder, "service_type": "meal"}, headers=headers)
        assert order.status_code == 201, order.text
        cancel = f"/api/v1/orders/{order.json()['id']}/cancel"
        assert http.post(cancel, json={"reason": "家属已到"}, headers=headers).status_code == 200
        refused = http.post(cancel, json={"reason": "again"}, headers=headers)
        assert refused.status_code == 409 and said in refused.json()["detail"]
