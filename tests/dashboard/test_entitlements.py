"""Entitlements: the bureau's table through the API (admins only, audited, bad input refused), an elder's packages
with the month's balance, and where operators see them (the elder page, the new-order page)."""

from __future__ import annotations

import httpx
import psycopg

from tests.dashboard.conftest import City
from tests.dashboard.test_access import _signed_in

NEW = {
    "category": "low_income",
    "min_ability_level": 0,
    "service_type": "bathing",
    "unit": "visits",
    "monthly_amount": 2,
    "subsidy_share": 0.6,
}


def test_the_table_is_edited_by_admins_only(client: httpx.Client, headers, city: City) -> None:
    table = client.get("/api/v1/entitlements", headers=headers["viewer"]).json()
    assert table and all(p["example"] for p in table)
    assert client.post("/api/v1/entitlements", json=NEW, headers=headers["operator"]).status_code == 403
    added = client.post("/api/v1/entitlements", json=NEW, headers=headers["admin"])
    assert added.status_code == 201
    row = next(p for p in added.json() if p["category"] == "low_income")
    assert row["copayment_share"] == 0.4 and not row["example"]
    assert client.post("/api/v1/entitlements", json=NEW, headers=headers["admin"]).status_code == 409
    for bad in ({"subsidy_share": 1.5}, {"monthly_amount": 0}, {"category": "rich"}, {"unit": "days"}):
        assert client.post("/api/v1/entitlements", json={**NEW, **bad}, headers=headers["admin"]).status_code == 422
    example = table[0]
    edited = client.put(
        f"/api/v1/entitlements/{example['id']}", json={**example, "monthly_amount": 8}, headers=headers["admin"]
    )
    assert edited.status_code == 200
    assert next(p for p in edited.json() if p["id"] == example["id"])["example"] is False
    clash = client.put(f"/api/v1/entitlements/{example['id']}", json=NEW, headers=headers["admin"])
    assert clash.status_code == 409
    assert client.delete("/api/v1/entitlements/999999", headers=headers["admin"]).status_code == 404
    with psycopg.connect(city.url) as conn:
        actions = [a for (a,) in conn.execute("SELECT action FROM audit_log WHERE action LIKE 'entitlement.%'")]
    assert sorted(actions) == ["entitlement.add", "entitlement.edit"]


def test_an_elders_packages_follow_from_their_categories(client: httpx.Client, headers, city: City) -> None:
    with psycopg.connect(city.url) as conn:
        elder = conn.execute(
            "SELECT id FROM elder e WHERE NOT EXISTS (SELECT 1 FROM elder_eligibility g WHERE "
            "g.elder_id = e.id) ORDER BY id LIMIT 1"
        ).fetchone()
        assert elder is not None
        conn.execute("INSERT INTO elder_eligibility VALUES (%s, 'extreme_poverty', '2025-01-01', 'doc-1')", elder)
    got = client.get(f"/api/v1/elders/{elder[0]}/entitlements", headers=headers["operator"]).json()
    meal = next(b for b in got["balances"] if b["service_type"] == "meal")
    assert (meal["category"], meal["subsidy_share"], meal["monthly_amount"]) == ("extreme_poverty", 1.0, 30.0)
    assert client.get("/api/v1/elders/999999/entitlements", headers=headers["operator"]).status_code == 404
    assert (
        client.get(f"/api/v1/elders/{elder[0]}/entitlements?month=2026-13", headers=headers["operator"]).status_code
        == 422
    )


def test_operators_see_entitlements_where_they_take_orders(client: httpx.Client, city: City) -> None:
    operator = _signed_in(httpx.Client(base_url=str(client.base_url)), "operator")
    with psycopg.connect(city.url) as conn:
        row = conn.execute("SELECT id FROM elder WHERE active ORDER BY id LIMIT 1").fetchone()
    assert row is not None
    elder = row[0]
    for url in (f"/elders/{elder}", f"/orders-new?elder_id={elder}"):
        page = operator.get(url)
        assert page.status_code == 200 and 'id="entitlements"' in page.text, url
    table = operator.get("/entitlements")
    assert table.status_code == 200 and "示例" in table.text and "<button>" not in table.text  # admins edit
    admin = _signed_in(httpx.Client(base_url=str(client.base_url)), "admin")
    assert "entitlement-form" in admin.get("/entitlements").text
    queue = operator.get("/visit-exceptions?state=all")
    assert queue.status_code == 200 and "没有待处理的核验异常" in queue.text
    assert operator.get("/visit-exceptions?state=bogus").status_code == 422
