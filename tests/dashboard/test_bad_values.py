"""Values no one could mean get a 422 that says why, never a 500: JSON the reply could not echo, days at the
calendar's ends, order windows over or a year away, schedules every minute or never, a caregiver added twice at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import psycopg

from dashboard.server import DashboardServer
from tests.dashboard.conftest import City
from tests.dashboard.test_supervision_refusals import signed_in

ORDERS = "/api/v1/orders"


def test_json_the_refusal_cannot_echo_is_still_refused_with_a_422(
    client: httpx.Client, headers: dict[str, dict[str, str]]
) -> None:
    h = {**headers["operator"], "Content-Type": "application/json"}
    for body in (
        '{"elder_id": NaN, "service_type": "meal"}',
        '{"elder_id": 1e400, "service_type": "meal"}',
        '{"elder_id": 1, "service_type": "meal", "notes": "\\ud800"}',
        '{"elder_id": 1, "service_type": "\\ud800"}',
    ):
        refused = client.post(ORDERS, content=body, headers=h)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.json()["detail"][0]["loc"][0] == "body"


def test_order_windows_no_one_could_mean_are_refused_and_saying_why(
    city: City, client: httpx.Client, headers: dict[str, dict[str, str]]
) -> None:
    h = {**headers["operator"], "Accept-Language": "en"}
    now = city.clock.now()
    with psycopg.connect(city.url) as conn:
        (orders_before,) = conn.execute("SELECT count(*) FROM service_order").fetchone()  # type: ignore[misc]
    for start, end, said in (
        ("9999-12-31T23:00:00+00:00", "9999-12-31T23:59:59+00:00", "more than 366 days ahead"),
        ("9999-12-31T23:00:00+00:00", None, "more than 366 days ahead"),
        ("0001-01-01T00:00:00+00:00", "0001-01-01T02:00:00+00:00", "ended already"),
        ("2020-01-01T09:00:00+08:00", "2020-01-01T11:00:00+08:00", "ended already"),
        (now.isoformat(), "2027-12-31T00:00:00+00:00", "longer than 7 days"),
    ):
        body = {"elder_id": 1, "service_type": "cleaning", "window_start": start}
        if end is not None:
            body["window_end"] = end
        refused = client.post(ORDERS, json=body, headers=h)
        assert refused.status_code == 422 and said in refused.text, (start, end, refused.text)
    with psycopg.connect(city.url) as conn:
        assert conn.execute("SELECT count(*) FROM service_order").fetchone() == (orders_before,)
    days = {"window_start": now.isoformat(), "window_end": (now + timedelta(days=3)).isoformat()}
    within = client.post(ORDERS, json={"elder_id": 1, "service_type": "cleaning", **days}, headers=h)
    assert within.status_code == 201, within.text  # a window of three days, from now: meant


def test_days_at_the_calendars_ends_are_refused_on_pages_and_in_the_api(
    server: DashboardServer, client: httpx.Client, headers: dict[str, dict[str, str]]
) -> None:
    h = {**headers["admin"], "Accept-Language": "en"}
    for at in ("9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+00:00"):
        verdict = client.get(
            "/api/v1/caregivers/1/eligibility", params={"elder_id": 1, "service_type": "meal", "at": at}, headers=h
        )
        assert verdict.status_code == 422 and "out of range" in verdict.text, verdict.text
    browser = signed_in(server, "en")
    try:
        for path in (
            "/providers/1/roster?week=0001-01-01",
            "/providers/1/roster?week=9999-12-31",
            "/plans?day=0001-01-01",
            "/plans?day=9999-12-31",
        ):
            page = browser.get(path)
            assert page.status_code == 422, (path, page.status_code)
        assert browser.get("/plans?day=2026-03-11").status_code == 200
    finally:
        browser.close()


def test_schedules_every_minute_or_never_and_a_caregiver_without_skills_are_refused(
    client: httpx.Client, headers: dict[str, dict[str, str]]
) -> None:
    h = {**headers["operator"], "Accept-Language": "en"}
    for schedule, said in (
        ("* * * * *", "under 2 hours apart"),
        ("30 8,9 * * *", "under 2 hours apart"),
        ("0 9 31 2 *", "never comes round"),
    ):
        body = {"elder_id": 1, "service_type": "cleaning", "schedule": schedule}
        refused = client.post("/api/v1/recurring-services", json=body, headers=h)
        assert refused.status_code == 422 and said in refused.text, (schedule, refused.text)
    three_meals = {"elder_id": 1, "service_type": "meal", "schedule": "0 7,11,17 * * *", "duration_min": 30}
    assert client.post("/api/v1/recurring-services", json=three_meals, headers=h).status_code == 201
    for empty in ("skills", "shifts"):
        assert client.patch("/api/v1/caregivers/1", json={empty: []}, headers=headers["admin"]).status_code == 422


def test_a_caregiver_added_twice_at_once_is_added_once_and_the_others_are_told(
    city: City, client: httpx.Client, headers: dict[str, dict[str, str]]
) -> None:
    new = {
        "code": "CG-RACE",
        "provider_id": 1,
        "name": "王芳",
        "gender": "F",
        "phone": "+8613900008888",
        "home_lat": 29.72,
        "home_lon": 113.9,
        "skills": ["meal"],
        "shifts": [{"weekday": 1, "starts": "08:00", "ends": "18:00"}],
    }

    def add(_: int) -> int:
        return client.post("/api/v1/caregivers", json=new, headers=headers["admin"]).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(add, range(8)))
    assert statuses == [201] + [409] * 7, statuses
    with psycopg.connect(city.url) as conn:
        assert conn.execute("SELECT count(*) FROM caregiver WHERE code = 'CG-RACE'").fetchone() == (1,)


def test_a_settlement_of_no_provider_or_of_a_month_out_of_range_is_refused(
    client: httpx.Client, headers: dict[str, dict[str, str]]
) -> None:
    h = {**headers["admin"], "Accept-Language": "en"}
    nobody = client.get("/api/v1/settlements/999999/2026-02", headers=h)
    assert nobody.status_code == 404 and "there is no provider 999999" in nobody.text
    for month in ("1900-01", "2999-12"):
        far = client.post(f"/api/v1/settlements/1/{month}/confirm", headers=h)
        assert far.status_code == 422 and "years 2000-2099" in far.text, far.text
    assert client.get("/api/v1/settlements/1/2026-02", headers=h).status_code == 200


def test_a_phone_number_given_to_a_second_caregiver_is_refused_naming_whose_it_is(
    client: httpx.Client, headers: dict[str, dict[str, str]]
) -> None:
    h = {**headers["admin"], "Accept-Language": "en"}
    first = client.get("/api/v1/caregivers/1", headers=h).json()
    taken = client.patch("/api/v1/caregivers/2", json={"phone": first["phone"], "name": "改名"}, headers=h)
    assert taken.status_code == 409 and f"caregiver {first['code']} has this phone number" in taken.text
    assert client.get("/api/v1/caregivers/2", headers=h).json()["name"] != "改名"  # nothing of it kept


def test_a_recurring_service_for_an_inactive_elder_or_from_year_one_is_refused(
    city: City, client: httpx.Client, headers: dict[str, dict[str, str]]
) -> None:
    h = {**headers["operator"], "Accept-Language": "en"}
    weekly = {"elder_id": 1, "service_type": "cleaning", "schedule": "0 9 * * fri"}
    for field, day in (("starts_on", "0001-01-01"), ("starts_on", "9999-12-31"), ("ends_on", "9999-12-31")):
        refused = client.post("/api/v1/recurring-services", json={**weekly, field: day}, headers=h)
        assert refused.status_code == 422 and field in refused.text, (field, day, refused.text)
    with psycopg.connect(city.url) as conn:
        conn.execute("UPDATE elder SET active = false WHERE id = 2")
    inactive = client.post("/api/v1/recurring-services", json={**weekly, "elder_id": 2}, headers=h)
    assert inactive.status_code == 422 and "elder 2 is inactive" in inactive.text, inactive.text
    assert client.post("/api/v1/recurring-services", json=weekly, headers=h).status_code == 201


def test_a_preferred_caregiver_the_dispatcher_could_never_send_is_refused_saying_why(
    city: City, client: httpx.Client, headers: dict[str, dict[str, str]]
) -> None:
    """A recurring service's preferred caregiver who is inactive, of a black-listed provider, without the skill, or
    of a provider not serving the elder's community would stand on the record and never be sent: refused with what
    rules them out (before, only a caregiver that does not exist was)."""
    h = {**headers["operator"], "Accept-Language": "en"}
    with psycopg.connect(city.url) as conn:
        suited, code = conn.execute(
            "SELECT c.id, c.code FROM caregiver c JOIN elder e ON e.id = 1 "
            "JOIN provider_area pa ON pa.provider_id = c.provider_id AND pa.community_id = e.community_id "
            "JOIN provider_service ps ON ps.provider_id = c.provider_id AND ps.service_type = 'care' "
            "JOIN caregiver_skill s ON s.caregiver_id = c.id AND s.service_type = 'care' "
            "WHERE c.active ORDER BY c.id LIMIT 1"
        ).fetchone()  # type: ignore[misc]
    body = {"elder_id": 1, "service_type": "care", "schedule": "0 9 * * mon", "preferred_caregiver_id": suited}
    kept = client.post("/api/v1/recurring-services", json=body, headers=h)
    assert kept.status_code == 201, kept.text
    for breaking, said in (
        ("UPDATE caregiver SET active = false WHERE id = %(c)s", "the caregiver is marked inactive"),
        ("UPDATE provider SET standing = 'black' WHERE id = (SELECT provider_id FROM caregiver WHERE id = %(c)s)",
         "is black-listed"),
        ("DELETE FROM caregiver_skill WHERE caregiver_id = %(c)s AND service_type = 'care'", "no Personal care skill"),
        ("DELETE FROM provider_area WHERE provider_id = (SELECT provider_id FROM caregiver WHERE id = %(c)s)",
         "does not serve the elder's community"),
    ):  # fmt: skip
        with psycopg.connect(city.url) as conn:  # each on top of the ones before: the last is said among the rest
            conn.execute(breaking.encode(), {"c": suited})
        refused = client.post("/api/v1/recurring-services", json=body, headers=h)
        assert refused.status_code == 422, refused.text
        assert f"caregiver {code} cannot be preferred" in refused.text and said in refused.text, refused.text
    assert client.post("/api/v1/recurring-services", json={**body, "preferred_caregiver_id": 999999},
                       headers=h).status_code == 404  # fmt: skip


def test_a_misspelt_field_is_refused_not_dropped(
    city: City, client: httpx.Client, headers: dict[str, dict[str, str]]
) -> None:
    """``{"activ": false}`` changed nothing and said 200; a field the body does not have is a 422 naming it, on the
    providers', caregivers' and recurring services' changes and creations alike, and nothing is written."""
    h = headers["admin"]
    with psycopg.connect(city.url) as conn:
        (recurring,) = conn.execute("SELECT min(id) FROM recurring_service").fetchone()  # type: ignore[misc]
        before = conn.execute("SELECT count(*) FROM audit_log").fetchone()
    for method, url, body in (
        ("PATCH", "/api/v1/providers/1", {"activ": False}),
        ("PATCH", "/api/v1/caregivers/1", {"activ": False}),
        ("PATCH", f"/api/v1/recurring-services/{recurring}", {"activ": False}),
        ("POST", "/api/v1/recurring-services", {"elder_id": 1, "service_type": "meal", "schedule": "0 11 * * *",
                                                  "prefered_caregiver_id": 1}),
    ):  # fmt: skip
        refused = client.request(method, url, json=body, headers=h)
        assert refused.status_code == 422, (url, refused.text)
        (field,) = {k for k in body if k not in ("elder_id", "service_type", "schedule")}
        assert refused.json()["detail"][0]["loc"][-1] == field, refused.text
    with psycopg.connect(city.url) as conn:
        assert conn.execute("SELECT count(*) FROM audit_log").fetchone() == before
