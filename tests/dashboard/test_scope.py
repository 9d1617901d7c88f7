"""Accounts limited to a township: every API route and page, found from the app's router, against outside records.

A route added later is covered without a change here: it names records by the names of ``dashboard.scope.OWNERS``
(checked), lists them (must be marked ``area_filtered``, and is checked for outside rows), or is refused. Routes
that are the same for the whole city are listed below with the reason; a route marked city-wide but not listed
here fails the test.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from psycopg import sql
from pydantic import BaseModel

from dashboard import scope
from dashboard.server import DashboardServer
from eldercare import users
from eldercare.supervision import checks, complaints
from eldercare.supervision.checks import CheckRecord, PlanInput
from eldercare.supervision.complaints import ComplaintInput
from tests.dashboard.conftest import NOW, PASSWORD, City, make_app, token
from tests.waiting import patience

ROSTER = "providers and caregivers serve several townships; editing them is for administrators"
CITY_WIDE: dict[str, str] = {
    "GET /api/v1/me": "who is asking",
    "POST /logout": "signing out",
    "GET /api/v1/providers": ROSTER,
    "GET /api/v1/providers/{provider_id}": ROSTER,
    "POST /api/v1/providers": ROSTER,
    "PATCH /api/v1/providers/{provider_id}": ROSTER,
    "GET /api/v1/caregivers": ROSTER,
    "GET /api/v1/caregivers/{caregiver_id}": ROSTER,
    "POST /api/v1/caregivers": ROSTER,
    "PATCH /api/v1/caregivers/{caregiver_id}": ROSTER,
    "GET /api/v1/caregivers/{caregiver_id}/eligibility": ROSTER + " (the elder it names is checked)",
    "GET /api/v1/caregivers/{caregiver_id}/readiness": ROSTER,
    "GET /providers": ROSTER,
    "GET /providers/{provider_id}/roster": ROSTER,
    "GET /providers/new": ROSTER,
    "GET /providers/{provider_id}/edit": ROSTER,
    "GET /caregivers/new": ROSTER,
    "GET /caregivers/{caregiver_id}/edit": ROSTER,
    "GET /supervision/credit": "providers' credit is the bureau's, for every township alike",
    "GET /api/v1/supervision/credit": "providers' credit is the bureau's, for every township alike",
    "GET /api/v1/supervision/credit.csv": "providers' credit is the bureau's, for every township alike",
    "GET /api/v1/supervision/credit.xlsx": "providers' credit is the bureau's, for every township alike",
    "POST /api/v1/supervision/credit/compute": "providers' credit is the bureau's (administrators only)",
    "POST /api/v1/providers/{provider_id}/standing": "a provider's standing is decided by administrators",
    "POST /supervision/credit": "providers' credit is the bureau's (administrators only)",
    "POST /providers/{provider_id}/standing": "a provider's standing is decided by administrators",
}


@dataclass(frozen=True)
class Ids:
    by_name: dict[str, object]
    elder_codes: set[str]


OWNED_BY_ELDERS = {
    "order_id": "service_order",
    "alarm_id": "alarm",
    "recurring_id": "recurring_service",
    "device_id": "device",
    "check_id": "spot_check",
    "complaint_id": "complaint",
    "rectification_id": "rectification",
}
ELDERS = "FROM elder e JOIN community c ON c.id = e.community_id WHERE (c.township_id = %(t)s) = %(inside)s"


def _ids(conn: psycopg.Connection, township_id: int, inside: bool) -> Ids:
    owned = sql.SQL("SELECT x.id FROM {} x WHERE x.elder_id IN (SELECT e.id {})")
    one: dict[str, sql.Composable] = {
        "elder_id": sql.SQL("SELECT e.id {}").format(sql.SQL(ELDERS)),
        **{name: owned.format(sql.Identifier(table), sql.SQL(ELDERS)) for name, table in OWNED_BY_ELDERS.items()},
        "community_id": sql.SQL("SELECT c.id FROM community c WHERE (c.township_id = %(t)s) = %(inside)s"),
        "township_id": sql.SQL("SELECT c.id FROM township c WHERE (c.id = %(t)s) = %(inside)s"),
    }
    values = {"t": township_id, "inside": inside}
    found: dict[str, object] = {}
    for name, query in one.items():
        row = conn.execute(sql.Composed([query, sql.SQL(" ORDER BY 1 LIMIT 1")]), values).fetchone()
        if row is not None:
            found[name] = row[0]
    codes = conn.execute(sql.SQL("SELECT e.code {}").format(sql.SQL(ELDERS)), values).fetchall()
    # any provider and caregiver: the roster is the whole city's
    found["provider_id"] = conn.execute("SELECT min(id) FROM provider").fetchone()[0]  # type: ignore[index]
    found["caregiver_id"] = conn.execute("SELECT min(id) FROM caregiver").fetchone()[0]  # type: ignore[index]
    return Ids(found, {c for (c,) in codes})


def _body_names(route: Route) -> set[str]:
    names: set[str] = set()
    for param in route.api.dependant.body_params:
        annotation = param.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= set(annotation.model_fields)
        else:
            names.add(param.name)
    return names


@dataclass(frozen=True)
class Route:
    path: str  # as served, with the routers' prefixes
    endpoint: Any
    api: APIRoute


def _routes(city: City) -> list[tuple[str, Route]]:
    """Every operator-facing route the app serves, with each of its methods."""
    routes: list[tuple[str, Route]] = []
    for context in iter_route_contexts(make_app(city).routes):
        api = context.original_route
        if not isinstance(api, APIRoute):
            continue
        path, endpoint = str(context.path), context.endpoint
        if not (path.startswith("/api/v1") or endpoint.__module__.startswith("dashboard.ui")):
            continue
        if scope.kind_of(endpoint) == scope.PUBLIC:
            continue
        route = Route(path, endpoint, api)
        routes.extend((method, route) for method in sorted(set(context.methods or ()) - {"HEAD"}))
    return routes


def _request(
    client: httpx.Client, headers: dict[str, str], method: str, route: Route, ids: dict[str, object]
) -> httpx.Response:
    path = route.path.format(**{p.name: ids.get(p.name, 1) for p in route.api.dependant.path_params})
    if method == "GET":
        return client.get(path, headers=headers)
    named = {name: ids[name] for name in _body_names(route) if name in scope.OWNERS and name in ids}
    if route.endpoint.__module__.startswith("dashboard.ui"):
        return client.request(method, path, headers=headers, data={k: str(v) for k, v in named.items()})
    return client.request(method, path, headers=headers, json=named)


@pytest.fixture
def township_operator(city: City) -> int:
    """An operator account ``area`` limited to the township of the first elder; the township's id."""
    with psycopg.connect(city.url) as conn:
        users.add_user(conn, "area", PASSWORD, users.Role.OPERATOR)
        code, township_id = conn.execute(
            "SELECT t.code, t.id FROM elder e JOIN community c ON c.id = e.community_id "
            "JOIN township t ON t.id = c.township_id ORDER BY e.id LIMIT 1"
        ).fetchone()  # type: ignore[misc]
        users.set_area(conn, "area", code, None)
        _supervise(conn, int(township_id))
    return int(township_id)


def _supervise(conn: psycopg.Connection, township_id: int) -> None:
    """Checks, a rectification and a complaint inside the township and outside it."""
    plan = PlanInput(period="week", period_start=NOW.date(), level="city", elder_calls=60, home_visits=30)
    plan_id = checks.create_plan(conn, plan, "admin", NOW, "Asia/Shanghai")
    for inside in (True, False):
        check_id, elder_id = conn.execute(
            "SELECT k.id, k.elder_id FROM spot_check k JOIN elder e ON e.id = k.elder_id "
            "JOIN community c ON c.id = e.community_id WHERE k.plan_id = %s AND (c.township_id = %s) = %s "
            "ORDER BY k.id LIMIT 1",
            (plan_id, township_id, inside),
        ).fetchone()  # type: ignore[misc]
        checks.record_check(conn, check_id, CheckRecord(reached=True, attitude="rude"), "admin", NOW)
        complaints.enter(conn, ComplaintInput(elder_id=elder_id, body="rude"), "admin", NOW)


def test_every_route_keeps_a_township_operator_inside(
    city: City,
    server: DashboardServer,
    client: httpx.Client,
    township_operator: int,
    headers: dict[str, dict[str, str]],
) -> None:
    auth = token(client, "area")
    with psycopg.connect(city.url) as conn:
        outside, inside = _ids(conn, township_operator, False), _ids(conn, township_operator, True)
    assert set(scope.OWNERS) == set(outside.by_name) & set(inside.by_name) - {"provider_id", "caregiver_id"}
    # a day with a plan in force, for the routes that read one
    day = (NOW.date() + timedelta(days=1)).isoformat()
    assert client.post("/api/v1/plans", json={"day": day}, headers=headers["operator"]).status_code == 201
    outside.by_name["day"] = inside.by_name["day"] = day

    problems: list[str] = []
    marked_city: set[str] = set()
    routes = _routes(city)
    assert len(routes) > 60
    statuses: dict[int, int] = {}
    for method, route in routes:
        key = f"{method} {route.path}"
        kind = scope.kind_of(route.endpoint)
        if kind == scope.CITY:
            marked_city.add(key)
        names = {p.name for p in route.api.dependant.path_params} | (_body_names(route) if method != "GET" else set())
        named = (names & set(scope.OWNERS)) & set(outside.by_name)
        answer = _request(client, auth, method, route, outside.by_name)
        statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
        if answer.status_code >= 500:
            problems.append(f"{key}: {answer.status_code}")
        elif named:
            if answer.status_code != 404:
                problems.append(f"{key} with outside {sorted(named)}: {answer.status_code}, expected 404")
        elif kind == scope.FILTERED:
            leaked = {code for code in outside.elder_codes if code in answer.text}
            if answer.status_code == 200 and leaked:
                problems.append(f"{key}: lists outside elders {sorted(leaked)[:3]}")
        elif kind is None and answer.status_code != 403:
            problems.append(f"{key} (no area filter, not city-wide): {answer.status_code}, expected 403")
        if method == "GET" and (named or kind == scope.FILTERED):
            inner = _request(client, auth, method, route, inside.by_name)
            if inner.status_code != 200:
                problems.append(f"{key} inside the township: {inner.status_code} {inner.text[:120]}")
    assert not problems, "\n".join(problems)
    assert statuses[404] > 20 and statuses[403] > 5, statuses
    assert marked_city <= set(CITY_WIDE), f"city-wide routes without a reason here: {marked_city - set(CITY_WIDE)}"


def test_filtered_lists_hold_only_the_township(
    city: City, server: DashboardServer, client: httpx.Client, township_operator: int
) -> None:
    auth = token(client, "area")
    with psycopg.connect(city.url) as conn:
        inside = _ids(conn, township_operator, True)
    elders: dict[str, Any] = client.get("/api/v1/elders", params={"limit": 500}, headers=auth).json()
    assert elders["total"] > 0 and {e["code"] for e in elders["items"]} <= inside.elder_codes
    orders = client.get("/api/v1/orders", params={"limit": 500}, headers=auth).json()
    assert orders["total"] > 0 and {o["elder_code"] for o in orders["items"]} <= inside.elder_codes
    alarms = client.get("/api/v1/alarms", params={"limit": 500}, headers=auth).json()
    assert {a["elder_code"] for a in alarms["items"]} <= inside.elder_codes
    kpis = client.get("/api/v1/kpis", headers=auth).json()
    assert kpis["by_township"] and {t["key"] for t in kpis["by_township"]} == {str(township_operator)}


def test_live_updates_name_nothing_to_an_account_limited_to_an_area(
    city: City, server: DashboardServer, client: httpx.Client, township_operator: int
) -> None:
    """The event stream's payloads name alarms and orders of the whole city: a limited account gets only the kind."""
    auth = token(client, "area")
    got: list[tuple[str, str]] = []
    ready = threading.Event()

    def listen() -> None:
        with httpx.stream("GET", f"{server.url}/events", headers=auth, timeout=patience(20)) as stream:
            kind = None
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind:
                    if kind == "ready":
                        ready.set()
                    else:
                        got.append((kind, line[6:]))
                        return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert ready.wait(patience(10))
    with psycopg.connect(city.url) as conn:
        conn.execute(
            "INSERT INTO alarm (elder_id, type, severity, raised_at, received_at, last_raised_at) "
            "SELECT e.id, 'fall', 'critical', now(), now(), now() FROM elder e "
            "JOIN community c ON c.id = e.community_id WHERE c.township_id <> %s ORDER BY e.id LIMIT 1",
            (township_operator,),
        )
    listener.join(patience(15))
    assert got == [("alarm", "{}")]
