"""Webhooks refuse forgeries, handle a repeated delivery once, and answer strangers without changing anything."""

from __future__ import annotations

import httpx
import pytest

from tests.dispatcher.town import offset

# emergencies offered one caregiver at a time: these tests follow one offer after another (races: test_race.py)
HARNESS_DISPATCH = {"emergency_race_size": 1}


def _sos(conn, clock, elder: int) -> None:
    conn.execute(
        "INSERT INTO alarm (elder_id, type, severity, raised_at, last_raised_at) "
        "VALUES (%s, 'sos', 'critical', %s, %s)",
        (elder, clock.now(), clock.now()),
    )


@pytest.fixture
def offered(conn, clock, town, harness):
    provider = town.provider()
    caregivers = [town.caregiver(provider, offset(km, 0)) for km in (0.3, 0.8)]
    _sos(conn, clock, town.elder(contacts=0))
    conn.commit()
    harness.drive()
    order, code = harness.one("SELECT id, code FROM service_order")
    return caregivers, order, code


def _state(harness, order: int):
    return (
        harness.one("SELECT status, offers_made FROM service_order WHERE id = %s", order),
        harness.offers(order),
        harness.one("SELECT count(*) FROM order_event WHERE order_id = %s", order),
    )


def test_forged_reply_is_refused_recorded_and_changes_nothing(offered, harness) -> None:
    (first, _), order, code = offered
    before = _state(harness, order)
    response = harness.standin.reply(harness.phone(first), f"Y {code}", forge=True)
    assert response.status_code == 403
    unsigned = httpx.post(f"{harness.web.url}/sms/inbound", data={"MessageSid": "SMx", "From": "+1", "Body": "Y"})
    assert unsigned.status_code == 403
    assert _state(harness, order) == before
    letters = harness.all("SELECT source, reason, detail FROM dead_letter ORDER BY id")
    assert [(s, r) for s, r, _ in letters] == [("sms", "bad_signature")] * 2
    assert "/sms/inbound" in letters[0][2]
    assert harness.one("SELECT count(*) FROM sms_message WHERE direction = 'inbound'") == 0


def test_a_signature_for_another_url_is_refused(offered, harness) -> None:
    (first, _), _order, _ = offered
    params = {"MessageSid": "SM" + "a" * 32, "From": harness.phone(first), "Body": "Y", "To": "+8610690000"}
    signature = harness.standin.sign("https://evil.example/sms/inbound", params)
    response = httpx.post(f"{harness.web.url}/sms/inbound", data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


def test_replayed_message_is_handled_once(offered, harness) -> None:
    (first, second), order, code = offered
    sid = "SM" + "b" * 32
    assert "已拒绝" in harness.standin.reply(harness.phone(first), f"N {code}", sid=sid).text
    after_first = _state(harness, order)
    replay = harness.standin.reply(harness.phone(first), f"N {code}", sid=sid)
    assert replay.status_code == 200 and "<Message>" not in replay.text
    assert _state(harness, order) == after_first
    assert harness.offers(order) == [(first, "declined"), (second, "pending")]
    assert harness.one("SELECT count(*) FROM sms_message WHERE twilio_sid = %s", sid) == 1


def test_unknown_number_gets_a_helpful_answer_and_nothing_changes(offered, harness) -> None:
    _, order, code = offered
    before = _state(harness, order)
    response = harness.standin.reply("+8613999999999", f"Y {code}")
    assert (
        response.status_code == 200 and "not registered as a caregiver" in response.text and "未登记" in response.text
    )
    assert _state(harness, order) == before


def test_someone_elses_order_is_refused_politely(offered, harness) -> None:
    (first, second), order, code = offered
    before = _state(harness, order)
    assert "不是派给您的" in harness.standin.reply(harness.phone(second), f"Y {code}").text
    assert "没有找到工单" in harness.standin.reply(harness.phone(first), "Y ZZZZZZ").text
    assert "没有待回复" in harness.standin.reply(harness.phone(second), "Y").text
    assert "没有进行中" in harness.standin.reply(harness.phone(second), "DONE").text
    assert "回复 Y/1/接" in harness.standin.reply(harness.phone(first), "what is this?").text
    assert _state(harness, order) == before


def test_several_open_offers_need_the_code(conn, clock, town, harness) -> None:
    provider = town.provider()
    caregiver = town.caregiver(provider, offset(0.1, 0), max_load=3)
    for _ in range(2):
        _sos(conn, clock, town.elder(contacts=0))
    conn.commit()
    harness.drive()
    codes = [c for (c,) in harness.all("SELECT code FROM service_order ORDER BY id")]
    answer = harness.standin.reply(harness.phone(caregiver), "Y").text
    assert "多个工单" in answer and all(code in answer for code in codes)
    assert harness.one("SELECT count(*) FROM offer WHERE status = 'accepted'") == 0
    assert "已接单" in harness.standin.reply(harness.phone(caregiver), f"接{codes[1]}").text
    assert "已接单" in harness.standin.reply(harness.phone(caregiver), "Y").text  # only one left open


def test_stop_marks_the_opt_out_and_moves_the_offer_start_undoes_it(offered, harness) -> None:
    (first, second), order, _ = offered
    assert "退订" in harness.standin.reply(harness.phone(first), "STOP").text
    assert harness.one("SELECT sms_opt_out FROM caregiver WHERE id = %s", first) is True
    assert harness.offers(order) == [(first, "failed"), (second, "pending")]
    assert "恢复" in harness.standin.reply(harness.phone(first), "START").text
    assert harness.one("SELECT sms_opt_out FROM caregiver WHERE id = %s", first) is False
    actions = [a for (a,) in harness.all("SELECT action FROM audit_log WHERE target_kind = 'caregiver' ORDER BY id")]
    assert actions == ["caregiver.sms_opt_out", "caregiver.sms_opt_in"]


def test_malformed_and_forged_status_callbacks_are_recorded(offered, harness) -> None:
    params = {"MessageSid": "SMnope", "MessageStatus": "delivered"}
    forged = httpx.post(f"{harness.web.url}/sms/status", data=params, headers={"X-Twilio-Signature": "bad"})
    assert forged.status_code == 403
    url = f"{harness.web.url}/sms/status"
    unknown = httpx.post(url, data=params, headers={"X-Twilio-Signature": harness.standin.sign(url, params)})
    assert unknown.status_code == 204
    inbound = f"{harness.web.url}/sms/inbound"
    empty = {"Body": "Y"}
    malformed = httpx.post(inbound, data=empty, headers={"X-Twilio-Signature": harness.standin.sign(inbound, empty)})
    assert malformed.status_code == 400
    reasons = [r for (r,) in harness.all("SELECT reason FROM dead_letter ORDER BY id")]
    assert reasons == ["bad_signature", "unknown_message", "malformed"]


def test_a_late_status_callback_never_moves_a_message_back(offered, harness) -> None:
    (first, _), _, _ = offered
    harness.wait_until(
        "SELECT status FROM sms_message WHERE caregiver_id = %s AND purpose = 'offer'", first, expect="delivered"
    )
    sid = harness.one("SELECT twilio_sid FROM sms_message WHERE caregiver_id = %s AND purpose = 'offer'", first)
    url = f"{harness.web.url}/sms/status"
    params = {"MessageSid": sid, "MessageStatus": "sent"}
    assert (
        httpx.post(url, data=params, headers={"X-Twilio-Signature": harness.standin.sign(url, params)}).status_code
        == 204
    )
    assert harness.one("SELECT status FROM sms_message WHERE twilio_sid = %s", sid) == "delivered"


def test_a_family_contact_complains_by_sms_keyword(offered, conn, town, harness) -> None:
    elder = town.elder(contacts=1)
    conn.commit()
    contact = harness.one("SELECT phone FROM emergency_contact WHERE elder_id = %s", elder)
    response = harness.standin.reply(contact, "投诉：送餐晚了两个小时")
    assert response.status_code == 200 and "投诉已收到" in response.text and "complaint was received" in response.text
    complaint = harness.one("SELECT elder_id, source, body, from_phone FROM complaint")
    assert complaint == (elder, "sms", "送餐晚了两个小时", contact)
    # a stranger's complaint is not taken: the usual answer to an unknown number
    assert "未登记" in harness.standin.reply("+8613999999999", "COMPLAINT nobody came").text
    assert harness.one("SELECT count(*) FROM complaint") == 1


def test_a_status_callback_with_an_error_code_no_message_can_keep_is_applied_without_it(offered, harness) -> None:
    """An ErrorCode past what the message's column holds (a 500 before, and the status lost) or written in other
    digits (a ValueError) does not cost the status it came with."""
    for k, code in enumerate(("99999999999", "３０００３", "²", "30003")):
        harness.one(
            "INSERT INTO sms_message (direction, twilio_sid, to_phone, from_phone, body, purpose, status, created_at, "
            "updated_at) VALUES ('outbound', %s, '+8613800000000', '+10000000000', 'x', 'family', 'sent', now(), "
            "now()) RETURNING id",
            f"SMerror{k}",
        )
        url = f"{harness.web.url}/sms/status"
        params = {"MessageSid": f"SMerror{k}", "MessageStatus": "undelivered", "ErrorCode": code}
        answer = httpx.post(url, data=params, headers={"X-Twilio-Signature": harness.standin.sign(url, params)})
        assert answer.status_code == 204, (code, answer.text)
        stored = harness.one("SELECT status, error_code FROM sms_message WHERE twilio_sid = %s", f"SMerror{k}")
        assert stored == ("undelivered", 30003 if code == "30003" else None), code
