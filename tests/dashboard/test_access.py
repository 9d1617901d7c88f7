"""Who may do what: every endpoint against every role, sign-in limits, CSRF, masking, the audit trail."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import psycopg
import pytest

from dashboard.auth import ROLE_PERMISSIONS, Permission
from dashboard.logins import LoginPolicy, LoginRefused, sign_in
from dashboard.server import DashboardServer
from eldercare.embedded import free_port
from eldercare.users import Role
from tests.dashboard.conftest import PASSWORD, City, make_app


def open_alarm(url: str) -> int:
    """A fresh open alarm (a type the history never uses, on an elder with none live)."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "INSERT INTO alarm (elder_id, type, severity, raised_at, received_at, last_raised_at) "
            "SELECT e.id, 'geofence_exit', 'warning', now(), now(), now() FROM elder e "
            "WHERE NOT EXISTS (SELECT 1 FROM alarm a WHERE a.elder_id = e.id AND a.type = 'geofence_exit' "
            "AND a.status <> 'resolved') ORDER BY e.id LIMIT 1 RETURNING id"
        ).fetchone()
        assert row is not None
        return int(row[0])


_counter = iter(range(1, 10_000))


@dataclass(frozen=True)
class Call:
    permission: Permission
    method: str
    path: Callable[[City], str]
    body: Callable[[], Any] | None = None


def fixed(path: str) -> Callable[[City], str]:
    return lambda city: path


def order_in(url: str, *statuses: str) -> int:
    """An order of the history, a different one each call, in one of ``statuses``."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT id FROM service_order WHERE status = ANY(%s) AND id > %s ORDER BY id LIMIT 1",
            (list(statuses), next(_counter) * 3),
        ).fetchone()
        assert row is not None
        return int(row[0])


CALLS = [
    *(
        Call(Permission.READ, "GET", fixed(p))
        for p in (
            "/api/v1/me",
            "/api/v1/alarms?status=open&status=acknowledged",
            "/api/v1/alarms/live",
            "/api/v1/alarms/1",
            "/api/v1/orders?status=completed",
            "/api/v1/orders/1",
            "/api/v1/elders?q=E0000",
            "/api/v1/elders/1",
            "/api/v1/elders/1/readings",
            "/api/v1/elders/1/readings/hourly?days=7",
            "/api/v1/devices?problem=offline",
            "/api/v1/devices/summary",
            "/api/v1/providers",
            "/api/v1/providers/1",
            "/api/v1/caregivers?provider_id=1",
            "/api/v1/caregivers/1",
            "/api/v1/recurring-services",
            "/api/v1/kpis?from=2026-02-01&to=2026-03-10",
            "/api/v1/reports/monthly?month=2026-02",
            "/api/v1/reports/monthly.csv?month=2026-02",
            "/api/v1/return-visits/sample?week=2026-W09",
        )
    ),
    Call(
        Permission.ACT,
        "POST",
        lambda city: f"/api/v1/alarms/{open_alarm(city.url)}/acknowledge",
        lambda: {"note": "on it"},
    ),
    Call(
        Permission.ACT,
        "POST",
        lambda city: f"/api/v1/alarms/{open_alarm(city.url)}/resolve",
        lambda: {"outcome": "test", "note": "drill"},
    ),
    Call(Permission.ACT, "POST", lambda city: f"/api/v1/alarms/{open_alarm(city.url)}/take"),
    Call(
        Permission.ACT,
        "POST",
        lambda city: f"/api/v1/alarms/{open_alarm(city.url)}/notes",
        lambda: {"text": "called the son, no answer"},
    ),
    Call(
        Permission.ACT,
        "POST",
        fixed("/api/v1/recurring-services"),
        lambda: {"elder_id": 2, "service_type": "meal", "schedule": "0 11 * * *"},
    ),
    Call(Permission.ACT, "PATCH", fixed("/api/v1/recurring-services/1"), lambda: {"notes": "no salt"}),
    Call(
        Permission.ADMINISTER,
        "POST",
        fixed("/api/v1/providers"),
        lambda: {
            "code": f"NEW{next(_counter)}",
            "name": "新服务商",
            "phone": "+8671512345678",
            "manager_name": "张经理",
            "manager_phone": "+8613912345678",
            "services": ["meal"],
            "area": {"townships": ["蒲圻街道"]},
        },
    ),
    Call(
        Permission.ADMINISTER,
        "PATCH",
        fixed("/api/v1/providers/1"),
        lambda: {"standing": "black", "standing_note": f"complaints {next(_counter)}"},
    ),
    Call(Permission.ACT, "PATCH", fixed("/api/v1/providers/1"), lambda: {"capacity": 60, "manager_name": "李经理"}),
    Call(
        Permission.ACT,
        "POST",
        fixed("/api/v1/caregivers"),
        lambda: {
            "code": f"CG{next(_counter)}",
            "provider_id": 1,
            "name": "王芳",
            "gender": "F",
            "phone": f"+861390000{next(_counter):04d}",
            "home_lat": 29.7,
            "home_lon": 113.9,
            "skills": ["meal"],
            "shifts": [{"weekday": 1, "starts": "08:00", "ends": "18:00"}],
        },
    ),
    Call(Permission.ACT, "PATCH", fixed("/api/v1/caregivers/1"), lambda: {"max_load": 3}),
]


def test_every_role_can_do_what_it_should_and_nothing_more(
    city: City, client: httpx.Client, headers: dict[str, dict[str, str]]
) -> None:
    for call in CALLS:
        for role in Role:
            body = call.body() if call.body else None
            response = client.request(call.method, call.path(city), json=body, headers=headers[role.value])
            allowed = call.permission in ROLE_PERMISSIONS[role]
            where = f"{role} {call.method} {call.path}"
            if allowed:
                assert response.status_code in (200, 201), (where, response.text[:500])
            else:
                assert response.status_code == 403, (where, response.text[:500])
                assert "角色不能" in response.json()["detail"]  # in the reader's language, Chinese by default
        anonymous = client.request(call.method, call.path(city), json=call.body() if call.body else None)
        assert anonymous.status_code == 401
        assert anonymous.headers["www-authenticate"] == "Bearer"


def test_actions_are_in_the_audit_log_with_the_actor(
    city: City, client: httpx.Client, headers: dict[str, dict[str, str]]
) -> None:
    alarm = open_alarm(city.url)
    assert client.post(f"/api/v1/alarms/{alarm}/acknowledge", headers=headers["operator"]).status_code == 200
    again = client.post(f"/api/v1/alarms/{alarm}/acknowledge", headers={**headers["admin"], "Accept-Language": "en"})
    assert again.status_code == 409 and "acknowledged already" in again.json()["detail"]
    assert client.patch("/api/v1/providers/2", json={"standing": "red"}, headers=headers["admin"]).status_code == 200
    with psycopg.connect(city.url) as conn:
        rows = conn.execute(
            "SELECT actor, action, target_kind, target_id FROM audit_log WHERE action NOT LIKE 'auth.%' "
            "AND actor <> 'seed' ORDER BY id"
        ).fetchall()
    assert rows == [
        ("operator", "alarm.acknowledge", "alarm", str(alarm)),
        ("admin", "provider.standing", "provider", "2"),
    ]


def test_viewers_see_phones_and_addresses_masked(client: httpx.Client, headers: dict[str, dict[str, str]]) -> None:
    full = client.get("/api/v1/elders/1", headers=headers["operator"]).json()
    masked = client.get("/api/v1/elders/1", headers=headers["viewer"]).json()
    assert full["phone"].startswith("+86") and "*" not in full["phone"]
    assert masked["phone"] == full["phone"][:6] + "****" + full["phone"][-4:]
    assert masked["address"].endswith("****") and masked["address"] != full["address"]
    assert all("****" in c["phone"] for c in masked["contacts"])
    assert masked["name"] == full["name"]
    providers = client.get("/api/v1/providers", headers=headers["viewer"]).json()
    assert all("****" in p["manager_phone"] for p in providers)
    live = client.get("/api/v1/orders?limit=5", headers=headers["viewer"]).json()["items"]
    assert all(o["elder_address"].endswith("****") for o in live)


def test_viewers_do_not_see_how_to_get_into_a_home_on_the_board(
    city: City, client: httpx.Client, headers: dict[str, dict[str, str]]
) -> None:
    alarm = open_alarm(city.url)
    with psycopg.connect(city.url) as conn:
        conn.execute(
            "UPDATE elder SET home_access_notes = '钥匙盒密码 4821' "
            "FROM alarm a WHERE a.id = %s AND elder.id = a.elder_id",
            (alarm,),
        )
    seen = {r: client.get(f"/api/v1/alarms/{alarm}", headers=headers[r]).json() for r in ("operator", "viewer")}
    assert seen["operator"]["home_access_notes"] == "钥匙盒密码 4821"
    assert seen["viewer"]["home_access_notes"] == "****"


def test_tokens_are_signed_and_expire(client: httpx.Client, headers: dict[str, dict[str, str]]) -> None:
    good = headers["admin"]["Authorization"]
    forged = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    assert client.get("/api/v1/me", headers={"Authorization": forged}).status_code == 401
    me = client.get("/api/v1/me", headers=headers["admin"]).json()
    assert me == {
        "username": "admin",
        "display_name": "admin user",
        "role": "admin",
        "permissions": ["act", "administer", "read"],
    }


def test_failed_logins_are_limited_per_username_across_processes(city: City, client: httpx.Client) -> None:
    for n in range(5):
        wrong = client.post("/api/v1/token", data={"username": "operator", "password": "nope-nope"})
        assert wrong.status_code == 401
        if n == 0:  # in the reader's language: Chinese by default, English when asked for
            assert wrong.json()["detail"] == "用户名或密码错误"
    blocked = client.post("/api/v1/token", data={"username": "operator", "password": PASSWORD})
    assert blocked.status_code == 429
    wait = int(blocked.headers["retry-after"])
    assert wait > 0 and blocked.json()["detail"] == f"登录失败次数过多，请在 {wait} 秒后重试。"
    english = client.post(
        "/api/v1/token", data={"username": "operator", "password": PASSWORD}, headers={"Accept-Language": "en"}
    )
    assert english.status_code == 429 and english.json()["detail"].startswith("Too many failed sign-ins; try again")
    # another account from the same address is not blocked yet; the count lives in the database
    assert client.post("/api/v1/token", data={"username": "viewer", "password": PASSWORD}).status_code == 200
    with psycopg.connect(city.url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM login_attempt WHERE username = 'operator' AND NOT succeeded"
        ).fetchone()
        assert row == (5,)


def test_session_posts_need_the_csrf_token(city: City, client: httpx.Client) -> None:
    login_page = client.get("/login")
    csrf = login_page.text.split('name="csrf_token" value="')[1].split('"')[0]
    without = client.post("/login", data={"username": "operator", "password": PASSWORD})
    assert without.status_code == 403
    signed_in = client.post("/login", data={"username": "operator", "password": PASSWORD, "csrf_token": csrf})
    assert signed_in.status_code == 303
    board = client.get("/alarms")
    assert board.status_code == 200
    session_csrf = board.text.split('name="csrf-token" content="')[1].split('"')[0]
    alarm = open_alarm(city.url)
    refused = client.post(f"/api/v1/alarms/{alarm}/acknowledge", json={})
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    accepted = client.post(f"/api/v1/alarms/{alarm}/acknowledge", json={}, headers={"X-CSRF-Token": session_csrf})
    assert accepted.status_code == 200


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        ("/api/v1/alarms?status=burning", "status"),
        ("/api/v1/orders?limit=0", "limit"),
        ("/api/v1/kpis?from=2026-03-10&to=2026-03-01", "swap them"),
        ("/api/v1/reports/monthly?month=2026-13", "month"),
        ("/api/v1/alarms/notanumber", "alarm_id"),
    ],
)
def test_bad_requests_say_what_was_wrong(
    client: httpx.Client, headers: dict[str, dict[str, str]], path: str, detail: str
) -> None:
    response = client.get(path, headers={**headers["viewer"], "Accept-Language": "en"})
    assert response.status_code == 422
    assert detail in response.text


def test_malformed_and_out_of_range_bodies_are_rejected(
    client: httpx.Client, headers: dict[str, dict[str, str]]
) -> None:
    h = {**headers["operator"], "Content-Type": "application/json"}
    assert client.post("/api/v1/alarms/1/resolve", content=b"{not json", headers=h).status_code == 422
    wrong = client.post("/api/v1/alarms/1/resolve", json={"outcome": "meh"}, headers=h)
    assert wrong.status_code == 422 and "outcome" in wrong.text
    assert client.post("/api/v1/alarms/999999/acknowledge", json={}, headers=h).status_code == 404
    cron = client.post(
        "/api/v1/recurring-services", json={"elder_id": 1, "service_type": "meal", "schedule": "0 25 * * *"}, headers=h
    )
    assert cron.status_code == 422 and "crontab" in cron.text


def test_failed_logins_are_limited_per_address_too(city: City) -> None:
    policy = LoginPolicy(window=timedelta(minutes=15), per_user=5, per_ip=3)
    now = city.clock.now()
    with psycopg.connect(city.url) as conn:
        for name in ("alice", "bob", "carol"):
            with pytest.raises(LoginRefused) as wrong:
                sign_in(conn, policy, now, name, "guess-guess", "192.0.2.7")
            assert wrong.value.retry_after is None
        with pytest.raises(LoginRefused) as blocked:
            sign_in(conn, policy, now, "operator", PASSWORD, "192.0.2.7")
        assert blocked.value.retry_after is not None and blocked.value.retry_after <= 15 * 60 + 1
        assert sign_in(conn, policy, now, "operator", PASSWORD, "192.0.2.8").username == "operator"
        later = now + timedelta(minutes=16)
        assert sign_in(conn, policy, later, "operator", PASSWORD, "192.0.2.7").username == "operator"


def test_nul_characters_are_refused_not_crashed_on(client: httpx.Client, headers: dict[str, dict[str, str]]) -> None:
    assert client.post("/api/v1/token", data={"username": "oper\x00ator", "password": PASSWORD}).status_code == 401
    search = client.get("/api/v1/elders", params={"q": "王\x00"}, headers=headers["viewer"])
    assert search.status_code == 422 and "NUL" in search.text


def test_wrong_guesses_lock_the_account_only_from_that_address_and_the_admin_is_told(
    city: City, client: httpx.Client
) -> None:
    policy = LoginPolicy(window=timedelta(minutes=15), per_user=5, per_ip=20)
    now = city.clock.now()
    with psycopg.connect(city.url) as conn:
        for _ in range(5):
            with pytest.raises(LoginRefused):
                sign_in(conn, policy, now, "operator", "guess-guess", "198.51.100.23")
        with pytest.raises(LoginRefused) as blocked:
            sign_in(conn, policy, now, "operator", PASSWORD, "198.51.100.23")
        assert blocked.value.retry_after is not None
        # the account's owner, elsewhere, still signs in
        assert sign_in(conn, policy, now, "operator", PASSWORD, "192.0.2.44").username == "operator"
        locks = conn.execute(
            "SELECT actor, details->>'username', details->>'scope', host(client_ip) FROM audit_log "
            "WHERE action = 'auth.locked'"
        ).fetchall()
    assert locks == [("system", "operator", "account", "198.51.100.23")]
    admin = _signed_in(client, "admin")
    board = admin.get("/alarms")
    assert "Sign-in locked" in board.text or "登录失败过多" in board.text
    assert "198.51.100.23" in board.text
    operator_board = _signed_in(httpx.Client(base_url=str(client.base_url)), "operator").get("/alarms")
    assert "198.51.100.23" not in operator_board.text  # only administrators are told


def _signed_in(client: httpx.Client, username: str) -> httpx.Client:
    page = client.get("/login")
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    done = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf})
    assert done.status_code == 303, done.text
    return client


def _recorded_address(url: str) -> str | None:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT host(client_ip) FROM login_attempt ORDER BY id DESC LIMIT 1").fetchone()
    return row[0] if row else None


def test_forwarded_addresses_are_believed_only_from_configured_proxies(city: City) -> None:
    spoofed = {"X-Forwarded-For": "203.0.113.9"}
    for proxies, expected in (("", "127.0.0.1"), ("127.0.0.1", "203.0.113.9")):
        server = DashboardServer(make_app(city, trusted_proxies=proxies), "127.0.0.1", free_port())
        server.start()
        try:
            with httpx.Client(base_url=server.url, timeout=30) as client:
                answer = client.post("/api/v1/token", data={"username": "viewer", "password": "x"}, headers=spoofed)
                assert answer.status_code == 401
        finally:
            server.stop()
        assert _recorded_address(city.url) == expected, proxies


def test_a_skill_listed_twice_is_refused_with_a_reason(
    client: httpx.Client, headers: dict[str, dict[str, str]]
) -> None:
    h = headers["admin"]
    new = {
        "code": "CG-TWICE",
        "provider_id": 1,
        "name": "王芳",
        "gender": "F",
        "phone": "+8613900009999",
        "home_lat": 29.72,
        "home_lon": 113.9,
        "skills": ["meal", "meal", "care"],
        "shifts": [{"weekday": 1, "starts": "08:00", "ends": "18:00"}],
    }
    created = client.post("/api/v1/caregivers", json=new, headers=h)
    assert created.status_code == 422 and "重复的有：助餐" in created.text  # Chinese, the default
    updated = client.patch("/api/v1/caregivers/1", json={"skills": ["care", "care"]}, headers=h)
    assert updated.status_code == 422 and "重复的有：护理" in updated.text
    assert client.patch("/api/v1/caregivers/1", json={"skills": ["care", "meal"]}, headers=h).status_code == 200


def test_operators_keep_a_provider_current_but_its_contract_prices_and_standing_are_for_admins(
    city: City, client: httpx.Client, headers: dict[str, dict[str, str]]
) -> None:
    provider = client.get("/api/v1/providers/3", headers=headers["operator"]).json()
    # what the provider form sends: every field, the admin's ones unchanged
    unchanged = {
        "name": provider["name"],
        "services": provider["offers"],
        "contract_starts": provider["contract_starts"],
        "contract_ends": provider["contract_ends"],
    }
    saved = client.patch(
        "/api/v1/providers/3",
        json={**unchanged, "manager_phone": "+8613700001111", "area": {"townships": ["蒲圻街道"]}},
        headers=headers["operator"],
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["manager_phone"] == "+8613700001111"
    for change in (
        {"name": "改名服务中心"},
        {"services": [{"service": "meal", "price_fen": 1}]},
        {"contract_ends": "2026-01-31"},
        {"standing": "red"},
        {"active": False},
    ):
        english = {**headers["operator"], "Accept-Language": "en"}
        refused = client.patch("/api/v1/providers/3", json={**unchanged, **change}, headers=english)
        assert refused.status_code == 403, (change, refused.text)
        assert next(iter(change)) in refused.json()["detail"] and "administrator" in refused.json()["detail"]
        assert client.patch("/api/v1/providers/3", json=change, headers=headers["admin"]).status_code == 200, change
    missing = client.patch("/api/v1/providers/999", json={"name": "x"}, headers=headers["operator"])
    assert missing.status_code == 404
