"""The caregiver's page: a signed link, the right buttons for the moment, and it works at a phone's width."""

from __future__ import annotations

import re

import httpx
import pytest

from dispatcher.links import page_url, read_token, token_for
from tests.dispatcher.test_texts_language import chinese_page_problems
from tests.dispatcher.town import CENTER, offset
from tests.waiting import patience

# emergencies offered one caregiver at a time: these tests follow one offer after another (races: test_race.py)
HARNESS_DISPATCH = {"emergency_race_size": 1}


@pytest.fixture
def offered(conn, clock, town, harness):
    provider = town.provider()
    first = town.caregiver(provider, offset(0.3, 0))
    other = town.caregiver(provider, offset(0.9, 0))
    elder = town.elder(contacts=1)
    conn.execute(
        "INSERT INTO alarm (elder_id, type, severity, raised_at, last_raised_at) "
        "VALUES (%s, 'fall', 'critical', %s, %s)",
        (elder, clock.now(), clock.now()),
    )
    conn.commit()
    harness.drive()
    order = harness.one("SELECT id FROM service_order")
    return first, other, order


def test_the_offer_sms_carries_the_signed_link(offered, harness) -> None:
    first, _, order = offered
    body = harness.standin.wait_for(to=harness.phone(first), timeout=patience(10))[0].body
    link = re.search(r"(http://\S+/m/(\S+))$", body)
    assert link and link.group(1).startswith(f"{harness.web.url}/m/")
    grant = read_token(harness.config, link.group(2))
    assert (grant.order_id, grant.caregiver_id) == (order, first)


def test_bad_links_are_refused(offered, harness) -> None:
    first, _, order = offered
    token = token_for(harness.config, order, first)
    assert httpx.get(f"{harness.web.url}/m/{token[:-2]}xx").status_code == 403
    assert httpx.post(f"{harness.web.url}/m/garbage/accept").status_code == 403
    assert httpx.post(f"{harness.web.url}/m/{token}/explode").status_code == 404


def test_someone_else_with_a_link_of_their_own_cannot_accept(offered, harness) -> None:
    first, other, order = offered
    page = httpx.post(f"{harness.web.url}/m/{token_for(harness.config, order, other)}/accept")
    assert page.status_code == 200 and "不是派给您的" in page.text
    assert harness.offers(order) == [(first, "sent")]


def test_accept_set_off_arrive_finish_on_a_phone(offered, harness, browser) -> None:
    first, _, order = offered
    url = page_url(harness.config, order, first)
    context = browser.new_context(
        viewport={"width": 360, "height": 640},
        is_mobile=True,
        has_touch=True,
        permissions=["geolocation"],
        geolocation={"latitude": CENTER[0], "longitude": CENTER[1], "accuracy": 20},
    )
    try:
        page = context.new_page()
        page.goto(url)
        assert page.locator("[data-status]").get_attribute("data-status") == "offered"
        for label, status in (
            ("接单", "accepted"),
            ("出发", "en_route"),
            ("已到达", "arrived"),
            ("服务完成", "closed"),  # done: the order is over, and the page no longer names the elder
        ):
            button = page.get_by_role("button", name=label)
            box = button.bounding_box()
            assert box is not None and box["width"] >= 300 and box["height"] >= 44  # easy to hit with a thumb
            button.click()
            # arriving and finishing first ask the phone for its location, then send the form
            page.wait_for_selector(f'[data-status="{status}"]', timeout=patience(10) * 1000)
            # nothing wider than the phone
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
        assert "已完成" in page.locator("[role=status]").inner_text()
        assert page.get_by_role("button").count() == 0
    finally:
        context.close()
    assert harness.one("SELECT status FROM service_order WHERE id = %s", order) == "completed"
    via = [
        r
        for (r,) in harness.all(
            "SELECT reason FROM order_event WHERE order_id = %s AND actor_kind = 'caregiver' ORDER BY id", order
        )
    ]
    assert via == ["accepted by C00001 (page)", "en_route (page)", "arrived (page)", "completed (page)"]
    checks = harness.one("SELECT arrival_check, completion_check, status FROM visit WHERE order_id = %s", order)
    assert checks == ("near", "near", "verified")


def test_care_notes_are_shown_only_to_the_caregiver_holding_a_live_order(offered, conn, harness) -> None:
    first, other, order = offered
    conn.execute(
        "UPDATE elder SET medical_notes = '高血压', allergies = '青霉素', home_access_notes = '钥匙盒密码 4821' "
        "WHERE id = (SELECT elder_id FROM service_order WHERE id = %s)",
        (order,),
    )
    conn.commit()
    mine = f"{harness.web.url}/m/{token_for(harness.config, order, first)}"
    theirs = f"{harness.web.url}/m/{token_for(harness.config, order, other)}"
    # offered, not yet accepted: no notes, to anyone
    assert "4821" not in httpx.get(mine).text
    accepted = httpx.post(f"{mine}/accept").text
    assert 'id="care-notes"' in accepted and "钥匙盒密码 4821" in accepted and "青霉素" in accepted
    assert "4821" not in httpx.get(theirs).text  # a caregiver not holding the order
    for action in ("arrive", "finish"):
        httpx.post(f"{mine}/{action}")
    assert harness.one("SELECT status FROM service_order WHERE id = %s", order) == "completed"
    done = httpx.get(mine).text
    assert "4821" not in done and "青霉素" not in done  # the order is over: the notes are gone


ELDER_NAME, ADDRESS = "王秀英", "金桂路12号"  # the town's elder


def _shows_the_elder(page: httpx.Response) -> bool:
    assert page.status_code == 200, page.text
    return ELDER_NAME in page.text or ADDRESS in page.text


def test_the_elder_is_named_only_to_whoever_holds_the_offer_or_the_order(offered, clock, harness) -> None:
    from datetime import timedelta

    first, other, order = offered
    mine = f"{harness.web.url}/m/{token_for(harness.config, order, first)}"
    theirs = f"{harness.web.url}/m/{token_for(harness.config, order, other)}"
    assert _shows_the_elder(httpx.get(mine))  # a live offer: they decide knowing where to go
    assert not _shows_the_elder(httpx.get(theirs))  # never offered this order
    # the offer expires and moves on: the first sees the offer is closed, the second now holds it
    clock.advance(harness.config.dispatch.accept_window(True) + timedelta(seconds=1))
    harness.drive()
    assert harness.offers(order) == [(first, "expired"), (other, "sent")]
    closed = httpx.get(mine)
    assert not _shows_the_elder(closed) and "已关闭" in closed.text
    assert _shows_the_elder(httpx.get(theirs))
    taken = httpx.post(f"{theirs}/accept")
    assert _shows_the_elder(taken)
    assert not _shows_the_elder(httpx.get(mine))  # taken by someone else
    for action in ("arrive", "finish"):
        httpx.post(f"{theirs}/{action}")
    assert harness.one("SELECT status FROM service_order WHERE id = %s", order) == "completed"
    assert not _shows_the_elder(httpx.get(theirs))  # the order is closed


def test_every_step_of_the_page_reads_in_chinese(offered, harness, conn) -> None:
    first, other, order = offered
    code = harness.one("SELECT code FROM service_order WHERE id = %s", order)
    conn.execute(
        "UPDATE elder SET medical_notes = '高血压', medications = '降压药', allergies = '青霉素', "
        "home_access_notes = '钥匙在门卫' WHERE id = (SELECT elder_id FROM service_order WHERE id = %s)",
        (order,),
    )
    conn.commit()
    page = f"{harness.web.url}/m/{token_for(harness.config, order, first)}"
    shown = [httpx.get(page, timeout=10).text]
    shown += [httpx.post(f"{page}/{step}", timeout=10).text for step in ("accept", "set_off", "arrive", "finish")]
    shown.append(httpx.get(f"{harness.web.url}/m/{token_for(harness.config, order, other)}", timeout=10).text)
    assert "青霉素" in shown[1] and 'data-status="closed"' in shown[-1]
    problems = [problem for html in shown for problem in chinese_page_problems(html, code)]
    assert problems == []
