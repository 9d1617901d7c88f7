"""A refusal reads in the reader's language: the API's detail for an order in a state that forbids the action or
an unknown order; English when the reader asks for it."""

from __future__ import annotations

from tests.dispatcher.town import offset

ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}


def test_an_order_the_state_forbids_is_refused_in_the_readers_language(api, conn, town) -> None:
    town.caregiver(town.provider(), offset(0.3, 0))
    elder = town.elder()
    conn.commit()
    order = api.post("/api/v1/orders", json={"elder_id": elder, "service_type": "meal"}).json()
    code = order["code"]
    cancel = f"/api/v1/orders/{order['id']}/cancel"
    assert api.post(cancel, json={"reason": "家属已到"}).status_code == 200

    again = api.post(cancel, json={"reason": "again"})
    assert again.status_code == 409
    assert again.json()["detail"] == f"工单 {code} 当前为“已取消”，不能取消；该状态已是最终状态"
    english = api.post(cancel, json={"reason": "again"}, headers=ENGLISH)
    assert english.status_code == 409
    assert english.json()["detail"] == f"order {code} is cancelled and cannot be cancelled; it is final"

    reassign = f"/api/v1/orders/{order['id']}/reassign"
    refused = api.post(reassign, json={"caregiver_id": None})
    assert refused.status_code == 409 and refused.json()["detail"].endswith("不能改派；该状态已是最终状态")
    refused = api.post(reassign, json={"caregiver_id": None}, headers=ENGLISH)
    assert refused.json()["detail"].endswith("cannot be reassigned; it is final")

    # a live order: the states it may go to are listed in the reader's words
    live = api.post("/api/v1/orders", json={"elder_id": elder, "service_type": "cleaning"}).json()
    review = api.post(f"/api/v1/orders/{live['id']}/review", json={"satisfaction": 5, "note": ""})
    assert review.status_code == 409
    assert review.json()["detail"] == (
        f"工单 {live['code']} 当前为“已创建”，不能回访；“已创建”的工单只能变为：已接单、已取消、已升级、已派单"
    )

    # a 422 keeps FastAPI's shape, its msg in the reader's language
    blank = api.post(f"/api/v1/orders/{live['id']}/cancel", json={"reason": "   "})
    assert blank.status_code == 422 and blank.json()["detail"][0]["msg"] == "请说明取消工单的原因（原因为空）"
    blank = api.post(f"/api/v1/orders/{live['id']}/cancel", json={"reason": "   "}, headers=ENGLISH)
    assert blank.json()["detail"][0]["msg"] == "say why the order is cancelled (reason is empty)"


def test_an_unknown_order_is_not_found_in_the_readers_language(api) -> None:
    missing = api.post("/api/v1/orders/987654/cancel", json={"reason": "x"})
    assert missing.status_code == 404
    assert missing.json()["detail"] == "没有编号为 987654 的工单；请核对编号，或在工单列表中查找"
    english = api.post("/api/v1/orders/987654/cancel", json={"reason": "x"}, headers=ENGLISH)
    assert english.json()["detail"] == "there is no order with id 987654; check the id, or list orders to find it"
