"""Supervision's refusals read in the reader's language: a plan drawn twice, a plan naming the wrong place, a
photo of the wrong kind, a complaint about nobody, a closed rectification, a standing without a reason; English
when the reader asks for it, and on the plan form's page in the language chosen with the switch."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import psycopg

from dashboard.server import DashboardServer
from tests.dashboard.conftest import NOW, PASSWORD, City

ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}


def signed_in(server: DashboardServer, language: str) -> httpx.Client:
    """An administrator's browser session, the language chosen with the switch (its cookie)."""
    http = httpx.Client(base_url=server.url, timeout=30, cookies={"eldercare_lang": language})
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', http.get("/login").text)
    assert csrf is not None
    signed = http.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": csrf.group(1)})
    assert signed.status_code == 303, signed.text[:300]
    return http


def test_supervision_refuses_in_the_readers_language(
    city: City, server: DashboardServer, client: httpx.Client, headers: dict[str, dict[str, str]]
) -> None:
    admin, operator = headers["admin"], headers["operator"]
    week = NOW.date().isoformat()
    monday = (NOW.date() - timedelta(days=NOW.weekday())).isoformat()
    plan = {"period": "week", "period_start": week, "level": "city", "elder_calls": 2, "seed": 5}
    assert client.post("/api/v1/supervision/plans", json=plan, headers=admin).status_code == 201
    twice = client.post("/api/v1/supervision/plans", json=plan, headers=admin)
    assert twice.status_code == 422
    assert twice.json()["detail"][0]["msg"] == f"{monday} 所在周已有市级督查计划"
    twice = client.post("/api/v1/supervision/plans", json=plan, headers=admin | ENGLISH)
    assert twice.json()["detail"][0]["msg"] == f"there is a City plan for the week of {monday} already"

    # the plan's own check (a pydantic validator) keeps its field in loc, its msg in the reader's language
    nowhere = client.post("/api/v1/supervision/plans", json={**plan, "level": "township"}, headers=admin)
    assert nowhere.status_code == 422
    error = nowhere.json()["detail"][0]
    assert error["loc"][-1] == "level"
    assert error["msg"] == "乡镇街道督查计划须指定乡镇街道（township_id），不指定社区"
    nowhere = client.post("/api/v1/supervision/plans", json={**plan, "level": "township"}, headers=admin | ENGLISH)
    assert nowhere.json()["detail"][0]["msg"] == "a township plan names its township_id and no community"

    # a place that does not exist: the database's refusal, said with the field and the value given
    unknown = {**plan, "level": "township", "township_id": 999, "period_start": "2026-01-05"}
    nothing = client.post("/api/v1/supervision/plans", json=unknown, headers=admin)
    assert nothing.status_code == 422 and nothing.json()["detail"][0]["msg"] == "township_id 为 999，但没有这条记录"
    nothing = client.post("/api/v1/supervision/plans", json=unknown, headers=admin | ENGLISH)
    assert nothing.json()["detail"][0]["msg"] == "township_id 999 names no record that exists"

    check = client.get("/api/v1/supervision/checks", headers=operator).json()[0]["id"]
    photos = f"/api/v1/supervision/checks/{check}/photos"
    gif = {"photo": ("a.gif", b"GIF89a", "image/gif")}
    photo = client.post(photos, headers=operator, files=gif)
    assert photo.status_code == 422
    assert photo.json()["detail"][0]["msg"] == "照片须为 JPEG、PNG 或 WebP 格式，不能是 image/gif"
    photo = client.post(photos, headers=operator | ENGLISH, files=gif)
    assert photo.json()["detail"][0]["msg"] == "a photo is JPEG, PNG or WebP, not image/gif"

    nobody = {"elder_id": 10**9, "body": "没有送餐"}
    complaint = client.post("/api/v1/supervision/complaints", json=nobody, headers=operator)
    assert complaint.status_code == 422 and complaint.json()["detail"][0]["msg"] == "没有编号为 1000000000 的老人"
    complaint = client.post("/api/v1/supervision/complaints", json=nobody, headers=operator | ENGLISH)
    assert complaint.json()["detail"][0]["msg"] == "no elder with id 1000000000"
    with psycopg.connect(city.url) as conn:
        elder, others = conn.execute(
            "SELECT e.id, (SELECT min(o.id) FROM service_order o WHERE o.elder_id <> e.id) FROM elder e LIMIT 1"
        ).fetchone()  # type: ignore[misc]
    theirs = {"elder_id": elder, "order_id": others, "body": "没有送餐"}
    complaint = client.post("/api/v1/supervision/complaints", json=theirs, headers=operator | ENGLISH)
    assert complaint.status_code == 422
    assert (
        complaint.json()["detail"][0]["msg"]
        == f"order {others} is not one of elder {elder}'s orders; name one of theirs, or none"
    )
    closing = {"answer": "送到了"}
    nothing = client.post("/api/v1/supervision/complaints/999999/close", json=closing, headers=operator | ENGLISH)
    assert nothing.status_code == 404 and nothing.json()["detail"] == "no complaint with id 999999"

    missing = client.post("/api/v1/supervision/rectifications/999999/answer", json={"answer": "x"}, headers=operator)
    assert missing.status_code == 404 and missing.json()["detail"] == "没有编号为 999999 的整改"
    missing = client.post(
        "/api/v1/supervision/rectifications/999999/answer", json={"answer": "x"}, headers=operator | ENGLISH
    )
    assert missing.json()["detail"] == "no rectification with id 999999"

    provider = client.get("/api/v1/providers", headers=admin).json()[0]["id"]
    why = {"standing": "black", "reason": "   "}
    bare = client.post(f"/api/v1/providers/{provider}/standing", json=why, headers=admin)
    assert bare.status_code == 422 and bare.json()["detail"][0]["msg"] == "请说明理由：调整红黑名单须附理由"
    bare = client.post(f"/api/v1/providers/{provider}/standing", json=why, headers=admin | ENGLISH)
    assert bare.json()["detail"][0]["msg"] == "say why: a standing is decided with a reason"

    # the plan form: the page that refuses it says why in the language chosen with the switch
    for language, said, unsaid, township in (
        ("zh", "所在周已有市级督查计划", "there is a", "乡镇街道督查计划须指定乡镇街道"),
        ("en", "there is a City plan for the week of", "督查计划", "a township plan names its township_id"),
    ):
        http = signed_in(server, language)
        try:
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', http.get("/supervision").text)
            assert csrf is not None
            form = {"csrf_token": csrf.group(1), "period": "week", "period_start": week, "level": "city"}
            page = http.post("/supervision/plans", data=form)
            assert page.status_code == 422 and said in page.text and unsaid not in page.text
            page = http.post("/supervision/plans", data={**form, "level": "township"})
            assert page.status_code == 422 and township in page.text
        finally:
            http.close()
