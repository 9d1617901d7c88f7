"""``/api/v1/plans``: operators and admins plan a day on demand; viewers read the plan; bad days are refused."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import psycopg

from tests.dashboard.conftest import NOW, City

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
    past = client.post("/api/v1/plans", json={"day": (TODAY - timedelta(days=1)).isoformat()}, headers=h)
    assert past.status_code == 422 and "not for" in past.json()["detail"]
    far = client.post("/api/v1/plans", json={"day": (TODAY + timedelta(days=60)).isoformat()}, headers=h)
    assert far.status_code == 422
    assert client.post("/api/v1/plans", json={"day": "tomorrow"}, headers=h).status_code == 422
    assert client.post("/api/v1/plans", json={}, headers=h).status_code == 422
    missing = client.get(f"/api/v1/plans/{TODAY + timedelta(days=5)}", headers=h)
    assert missing.status_code == 404 and "POST /api/v1/plans" in missing.json()["detail"]
    assert NOW.date() == TODAY
