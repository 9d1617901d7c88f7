"""Every page and message in Chinese: no untranslated message, no internal code where a word should be."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import cast

import httpx
import psycopg
import pytest
from babel.messages.pofile import read_po

from dashboard.server import DashboardServer
from dashboard.ui.rendering import TEMPLATES
from eldercare.i18n import LOCALE_DIR, translations
from tests.dashboard.conftest import PASSWORD, City, token
from tests.dashboard.visible import foreign_words, visible_texts

CATALOGUE = LOCALE_DIR / "zh_Hans" / "LC_MESSAGES" / "eldercare.po"


def test_why_a_meal_went_to_a_caregiver_says_it_is_by_their_kitchen() -> None:
    """The order page's sentence on an offer: for a meal its distance and time are by the caregiver's kitchen (the
    matching's ``via``), and it says so, in Chinese as in English."""
    choice_reason = cast(Callable[..., str], TEMPLATES.env.globals["choice_reason"])
    meal = SimpleNamespace(rank=1, distance_km=9.0, eta_min=37.0, reasons={"distance_km": 9.0, "eta_min": 37.0,
                                                                           "load": 0, "via": "kitchen"})  # fmt: skip
    other = SimpleNamespace(rank=1, distance_km=3.0, eta_min=13.0, reasons={"distance_km": 3.0, "eta_min": 13.0})
    zh, en = ({"i18n": translations(language)} for language in ("zh", "en"))
    assert choice_reason(zh, meal).endswith("；途经其服务商厨房取餐")
    assert choice_reason(en, meal).endswith("; by their provider's kitchen, where the meal is collected")
    assert "厨房" not in choice_reason(zh, other)


def test_why_an_emergency_went_to_a_caregiver_out_on_an_order_says_where_they_were_reckoned_to_be() -> None:
    """A caregiver out on an order is ranked from where they are reckoned to be (``candidates.located``), not from
    home: the operator reads that the distance is reckoned, in Chinese as in English."""
    choice_reason = cast(Callable[..., str], TEMPLATES.env.globals["choice_reason"])
    out = SimpleNamespace(rank=1, distance_km=1.2, eta_min=6.0, reasons={"distance_km": 1.2, "eta_min": 6.0,
                                                                         "from": "last_order"})  # fmt: skip
    home = SimpleNamespace(rank=2, distance_km=3.0, eta_min=13.0, reasons={"from": "home"})
    zh, en = ({"i18n": translations(language)} for language in ("zh", "en"))
    assert choice_reason(en, out).endswith("; from where they are reckoned to be since their last check-in on an order")
    assert choice_reason(zh, out).endswith("；按其上次工单签到推算的当前位置计")
    assert "推算" not in choice_reason(zh, home) and "reckoned" not in choice_reason(en, home)


def english_messages() -> set[str]:
    with CATALOGUE.open("rb") as file:
        catalog = read_po(file)
    return {m.id for m in catalog if isinstance(m.id, str) and m.id and re.search("[A-Za-z]{3}", m.id)}


def test_a_reason_is_put_into_the_readers_language_with_its_values_and_codes() -> None:
    from dispatcher.eligibility import Reason
    from eldercare.labels import Coded

    reason = Reason.of(
        "provider_service",
        "provider %(provider)s does not sell %(service)s",
        provider="福寿服务中心",
        service=Coded("service", "bathing"),
    )
    assert reason.words(translations("zh")) == "服务商 福寿服务中心 不提供助浴"
    assert reason.detail == reason.words(translations("en")) == "provider 福寿服务中心 does not sell Bathing"
    # a sentence the catalogue lacks reads in English rather than failing
    assert Reason.of("x", "nothing %(n)s here", n=3).words(translations("zh")) == "nothing 3 here"


def test_the_catalogue_is_complete() -> None:
    with CATALOGUE.open("rb") as file:
        catalog = read_po(file)
    missing = [m.id for m in catalog if m.id and not (m.string if isinstance(m.string, str) else all(m.string or ()))]
    assert missing == []


def signed_in(base: str, username: str) -> httpx.Client:
    http = httpx.Client(base_url=base, timeout=60, cookies={"eldercare_lang": "zh"}, follow_redirects=True)
    form = http.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    response = http.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token.group(1), "next": "/alarms"}
    )
    assert response.status_code == 200 and response.url.path == "/alarms", response.text[:300]
    return http


def pages(url: str) -> list[str]:
    """Every page of the dashboard, with ids of rows the seeded city has (an order with offers and a timeline)."""
    with psycopg.connect(url) as conn:

        def one(sql: str) -> int:
            row = conn.execute(sql).fetchone()
            assert row is not None, sql
            return int(row[0])

        order = one("SELECT order_id FROM offer GROUP BY order_id ORDER BY count(*) DESC, order_id LIMIT 1")
        elder = one("SELECT elder_id FROM alarm GROUP BY elder_id ORDER BY count(*) DESC LIMIT 1")
        provider = one("SELECT min(id) FROM provider")
        caregiver = one("SELECT min(id) FROM caregiver")
    return [
        "/alarms",
        "/orders",
        f"/orders/{order}",
        "/orders-new",
        "/plans",
        "/plans?day=2026-03-11",
        "/elders",
        f"/elders/{elder}",
        "/elders-new",
        f"/elders/{elder}/edit",
        "/devices",
        "/kpis",
        "/map",
        "/visits",
        "/reports",
        "/imports",
        "/providers",
        f"/providers/{provider}/roster",
        "/providers/new",
        f"/providers/{provider}/edit",
        "/caregivers/new",
        f"/caregivers/{caregiver}/edit",
        "/no-such-page",
        "/orders/987654321",
    ]


@pytest.fixture
def readers(server: DashboardServer) -> Iterator[dict[str, httpx.Client]]:
    clients = {role: signed_in(server.url, role) for role in ("admin", "operator")}
    try:
        yield clients
    finally:
        for http in clients.values():
            http.close()


def test_an_orders_story_reads_in_chinese_and_keeps_a_persons_own_words(city: City, server: DashboardServer) -> None:
    http = signed_in(server.url, "operator")
    h = token(http, "operator")
    made = http.post("/api/v1/orders", json={"elder_id": 5, "service_type": "meal"}, headers=h).json()
    assert http.post(f"/api/v1/orders/{made['id']}/reassign", json={"caregiver_id": None}, headers=h).is_success
    said = "家属已到，100% 不用去了"
    assert http.post(f"/api/v1/orders/{made['id']}/cancel", json={"reason": said}, headers=h).is_success
    page = http.get(f"/orders/{made['id']}").text
    # the platform's own account of each step in the reader's language, the operator's words as they wrote them
    assert "通过接口创建" in page and "改派给下一位最合适的护理员" in page and page.count(said) == 2
    assert "created through" not in page and "reassigned" not in page
    # a coded reason, stored in English (an alarm stood down as false), reads in Chinese
    other = http.post("/api/v1/orders", json={"elder_id": 6, "service_type": "meal"}, headers=h).json()
    coded = {"reason": "the alarm was found to be a false alarm"}
    assert http.post(f"/api/v1/orders/{other['id']}/cancel", json=coded, headers=h).is_success
    page = http.get(f"/orders/{other['id']}").text
    assert "告警经核实为误报" in page and "false alarm" not in page
    http.close()


@pytest.mark.slow
def test_every_page_reads_in_chinese(city: City, readers: dict[str, httpx.Client]) -> None:
    english = english_messages()
    problems: list[str] = []
    planner = token(readers["operator"], "operator")  # a plan for the plan board's day (2026-03-11)
    assert readers["operator"].post("/api/v1/plans", json={"day": "2026-03-11"}, headers=planner).status_code == 201
    for role, http in readers.items():
        for path in pages(city.url):
            response = http.get(path)
            assert "text/html" in response.headers["content-type"], f"{path}: {response.text[:200]}"
            texts = visible_texts(response.text)
            problems += [f"{role} {path}: untranslated {t!r}" for t in texts if t in english]
            problems += [f"{role} {path}: {w}" for w in foreign_words(texts)]
    assert not problems, "\n".join(sorted(set(problems)))
