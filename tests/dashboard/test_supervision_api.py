"""The supervision API end to end: plans, records, refusals, complaints, the circular and credit as files."""

from __future__ import annotations

import csv
import io

import httpx
import psycopg
from openpyxl import load_workbook

from dashboard.server import DashboardServer
from tests.dashboard.conftest import NOW, City


def test_plans_records_complaints_and_the_circular(
    city: City, server: DashboardServer, client: httpx.Client, headers: dict[str, dict[str, str]]
) -> None:
    admin, operator, viewer = headers["admin"], headers["operator"], headers["viewer"]
    plan = {"period": "week", "period_start": NOW.date().isoformat(), "level": "city", "home_visits": 4, "seed": 5}
    assert client.post("/api/v1/supervision/plans", json=plan, headers=operator).status_code == 403
    made = client.post("/api/v1/supervision/plans", json=plan, headers=admin)
    assert made.status_code == 201 and made.json()["checks"] == 4
    assert client.post("/api/v1/supervision/plans", json=plan, headers=admin).status_code == 422  # one per week
    bad = {**plan, "level": "township"}
    assert client.post("/api/v1/supervision/plans", json=bad, headers=admin).status_code == 422

    drawn = client.get("/api/v1/supervision/checks", headers=viewer).json()
    assert len(drawn) == 4 and all("****" in c["elder_phone"] for c in drawn if c["elder_phone"])
    check = drawn[0]["id"]
    record = {"reached": True, "delivered": "no", "fee_asked_fen": 2000, "satisfaction": 1}
    assert client.post(f"/api/v1/supervision/checks/{check}/record", json=record, headers=viewer).status_code == 403
    assert (
        client.post(
            f"/api/v1/supervision/checks/{check}/record", json={**record, "satisfaction": 9}, headers=operator
        ).status_code
        == 422
    )
    opened = client.post(f"/api/v1/supervision/checks/{check}/record", json=record, headers=operator)
    assert opened.status_code == 200 and len(opened.json()["rectifications"]) == 2
    assert client.post(f"/api/v1/supervision/checks/{check}/record", json=record, headers=operator).status_code == 422
    assert client.post("/api/v1/supervision/checks/999999/record", json=record, headers=operator).status_code == 404
    photo = client.post(
        f"/api/v1/supervision/checks/{check}/photos",
        headers=operator,
        files={"photo": ("a.gif", b"GIF89a", "image/gif")},
    )
    assert photo.status_code == 422

    rect = client.get("/api/v1/supervision/rectifications", headers=operator).json()[0]["id"]
    answer = client.post(
        f"/api/v1/supervision/rectifications/{rect}/answer", json={"answer": "refunded"}, headers=operator
    )
    assert answer.status_code == 204
    elder = drawn[0]["elder_id"]
    complaint = client.post(
        "/api/v1/supervision/complaints", json={"elder_id": elder, "body": "no meal"}, headers=operator
    )
    assert complaint.status_code == 201
    assert (
        client.post(
            "/api/v1/supervision/complaints", json={"elder_id": 10**9, "body": "x"}, headers=operator
        ).status_code
        == 422
    )
    cid = complaint.json()["complaint_id"]
    assert (
        client.post(
            f"/api/v1/supervision/complaints/{cid}/close", json={"answer": "delivered again"}, headers=operator
        ).status_code
        == 204
    )

    rows = client.get("/api/v1/supervision/circular", headers=viewer).json()
    assert sum(r["planned"] for r in rows) == 4 and sum(r["done"] for r in rows) == 1
    assert sum(r["findings"].get("illegal_charge", 0) for r in rows) == 1 and sum(r["complaints"] for r in rows) == 1
    book = client.get("/api/v1/supervision/circular.xlsx", headers=viewer)
    sheet = load_workbook(io.BytesIO(book.content)).active
    assert sheet is not None and sheet.max_row == len(rows) + 1


def test_credit_is_computed_exported_and_a_standing_decided(
    city: City, server: DashboardServer, client: httpx.Client, headers: dict[str, dict[str, str]]
) -> None:
    admin, operator = headers["admin"], headers["operator"]
    assert client.post("/api/v1/supervision/credit/compute?month=2026-02", headers=operator).status_code == 403
    scores = client.post("/api/v1/supervision/credit/compute?month=2026-02", headers=admin).json()
    assert scores and all(0 <= s["score"] <= 100 for s in scores)
    text = client.get("/api/v1/supervision/credit.csv?month=2026-02", headers=operator).text
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert table[0][:3] == ["provider", "month", "score"] and len(table) == len(scores) + 1
    book = load_workbook(
        io.BytesIO(client.get("/api/v1/supervision/credit.xlsx?month=2026-02", headers=operator).content)
    )
    assert book.active is not None and book.active.max_row == len(scores) + 1

    provider = scores[-1]["provider_id"]
    decision = {"standing": "black", "reason": "two unsafe findings", "month": "2026-02-01"}
    assert client.post(f"/api/v1/providers/{provider}/standing", json=decision, headers=operator).status_code == 403
    assert (
        client.post(
            f"/api/v1/providers/{provider}/standing", json={**decision, "reason": ""}, headers=admin
        ).status_code
        == 422
    )
    assert client.post(f"/api/v1/providers/{provider}/standing", json=decision, headers=admin).status_code == 204
    assert client.get(f"/api/v1/providers/{provider}", headers=operator).json()["standing"] == "black"
    with psycopg.connect(city.url) as conn:
        assert conn.execute("SELECT reason FROM standing_decision").fetchall() == [("two unsafe findings",)]
