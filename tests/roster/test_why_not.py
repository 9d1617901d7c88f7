"""Why a caregiver is not offered an order: every rule named, through the API, and the eligible ranked."""

from __future__ import annotations

from datetime import time

from dispatcher.orders import create_order
from tests.dispatcher.town import CENTER, offset


def test_the_candidates_of_an_order_are_ranked_with_the_reasons_of_the_others(api, conn, clock, config, town) -> None:
    provider = town.provider()
    near = town.caregiver(provider, offset(0.2, 0), skills=("meal",))
    far = town.caregiver(provider, offset(1.5, 0), skills=("meal",))
    off_shift = town.caregiver(provider, offset(0.1, 0), skills=("meal",), shifts=[(1, time(8), time(9))])
    elsewhere = town.provider(communities=(town.community("C02"),))
    outside = town.caregiver(elsewhere, offset(0.1, 0), skills=("meal",))
    town.absent(far, "2026-01-06", "2026-01-08")
    elder = town.elder(at=CENTER)
    order = create_order(conn, clock, elder_id=elder, service_type="meal", actor="t", config=config)
    conn.commit()

    listed = api.get(f"/api/v1/orders/{order.id}/candidates")
    assert listed.status_code == 200, listed.text
    by_id = {v["caregiver_id"]: v for v in listed.json()}
    assert listed.json()[0]["caregiver_id"] == near and by_id[near]["rank"] == 1 and by_id[near]["eligible"]
    assert [r["code"] for r in by_id[far]["reasons"]] == ["absent"]
    assert [r["code"] for r in by_id[off_shift]["reasons"]] == ["off_shift"]
    # the particulars in the reader's language (the picker on the order page shows them as they come)
    assert by_id[far]["reasons"][0]["detail"] == "不在岗（病假）2026-01-06 至 2026-01-08"
    assert by_id[off_shift]["reasons"][0]["detail"].startswith("每周排班不含周")
    english = {
        v["caregiver_id"]: v
        for v in api.get(f"/api/v1/orders/{order.id}/candidates", headers={"Accept-Language": "en-GB,en;q=0.9"}).json()
    }
    assert english[far]["reasons"][0]["detail"] == "away (Sick) 2026-01-06 to 2026-01-08"
    # the moment wanted in the city's time (the clock's 02:00 UTC is 10:00 in Asia/Shanghai), not the database's UTC
    assert english[off_shift]["reasons"][0]["detail"] == "no weekly shift covering Wed 10:00 (local time)"
    assert outside not in by_id  # the picker weighs only providers serving the community

    one = api.get(f"/api/v1/caregivers/{outside}/eligibility", params={"order_id": order.id})
    assert one.status_code == 200, one.text
    assert [r["code"] for r in one.json()["reasons"]] == ["outside_area"] and not one.json()["eligible"]

    planned = api.get(
        f"/api/v1/caregivers/{near}/eligibility",
        params={"elder_id": elder, "service_type": "cleaning"},
    )
    assert planned.status_code == 200, planned.text
    assert [r["code"] for r in planned.json()["reasons"]] == ["no_skill"]


def test_readiness_says_what_a_new_caregiver_will_be_offered_or_why_not(api, conn, town) -> None:
    conn.commit()
    provider = api.post(
        "/api/v1/providers",
        json={
            "code": "RP",
            "name": "服务中心",
            "phone": "+8671512345678",
            "manager_name": "李经理",
            "manager_phone": "+8613912345678",
            "services": ["meal"],
            "area": {"communities": ["C01"]},
        },
    ).json()["id"]
    body = {
        "code": "RC",
        "provider_id": provider,
        "name": "王芳",
        "gender": "F",
        "phone": "+8613977770011",
        "home_lat": CENTER[0],
        "home_lon": CENTER[1],
        "skills": ["meal", "bathing"],
        "shifts": [{"weekday": 3, "starts": "08:00", "ends": "18:00"}],
    }
    caregiver = api.post("/api/v1/caregivers", json=body).json()["id"]
    ready = api.get(f"/api/v1/caregivers/{caregiver}/readiness").json()
    assert ready["will_be_offered"] and ready["services"] == ["meal"] and ready["communities"] == 1
    assert [r["code"] for r in ready["reasons"]] == ["provider_service"] and "不提供助浴" in ready["reasons"][0][
        "detail"
    ]
    api.patch(f"/api/v1/providers/{provider}", json={"standing": "black"})
    blocked = api.get(f"/api/v1/caregivers/{caregiver}/readiness").json()
    assert not blocked["will_be_offered"] and "provider_black" in [r["code"] for r in blocked["reasons"]]


def test_search_finds_by_name_code_and_phone_and_masks_for_viewers(api, conn, town, dashboard) -> None:
    import httpx

    from tests.roster.conftest import PASSWORD

    provider = town.provider()
    caregiver = town.caregiver(provider, CENTER, number="+8613955551234")
    elder = town.elder()
    conn.commit()
    assert [h["id"] for h in api.get("/api/v1/search", params={"kind": "caregiver", "q": "5551234"}).json()] == [
        caregiver
    ]
    code = f"E{elder:06d}"
    hits = api.get("/api/v1/search", params={"kind": "elder", "q": code}).json()
    assert hits[0]["id"] == elder and hits[0]["detail"] == "社区C01"
    assert api.get("/api/v1/search", params={"kind": "provider", "q": "服务中心"}).json()[0]["id"] == provider
    assert api.get("/api/v1/search", params={"kind": "ghost", "q": "x"}).status_code == 422
    with httpx.Client(base_url=dashboard.url, timeout=30) as viewer:
        token = viewer.post("/api/v1/token", data={"username": "viewer", "password": PASSWORD}).json()
        viewer.headers["Authorization"] = f"Bearer {token['access_token']}"
        assert viewer.get("/api/v1/search", params={"kind": "caregiver", "q": "5551234"}).json() == []
        named = viewer.get("/api/v1/search", params={"kind": "caregiver", "q": f"C{caregiver:05d}"}).json()
        assert named[0]["phone"] == "+86139****1234"


def test_an_operator_may_hand_an_order_to_someone_away_and_is_warned(api, conn, clock, config, town) -> None:
    provider = town.provider()
    away = town.caregiver(provider, offset(0.2, 0), skills=("meal",))
    town.absent(away, "2026-01-07", "2026-01-07", kind="leave")
    order = create_order(conn, clock, elder_id=town.elder(), service_type="meal", actor="t", config=config)
    conn.commit()
    response = api.post(f"/api/v1/orders/{order.id}/reassign", json={"caregiver_id": away})
    assert response.status_code == 200, response.text
    reasons = conn.execute("SELECT reasons FROM offer WHERE order_id = %s", (order.id,)).fetchone()[0]
    assert reasons["warnings"] == ["away (Leave) 2026-01-07 to 2026-01-07"]
