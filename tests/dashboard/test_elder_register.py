"""The register through ``/api/v1/elders``: roles, masking, 422s naming the field, audit with before/after."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest

from eldercare.register.identity import resident_id_check_char
from tests.dashboard.conftest import City

FIRST17 = "42128119400501002"
RESIDENT_ID = FIRST17 + resident_id_check_char(FIRST17)


@pytest.fixture
def place(city: City) -> tuple[str, str, float, float]:
    with psycopg.connect(city.url) as conn:
        row = conn.execute(
            "SELECT t.name, c.name, c.lat, c.lon FROM community c JOIN township t ON t.id = c.township_id "
            "ORDER BY c.id LIMIT 1"
        ).fetchone()
    assert row is not None
    return row


def body(place: tuple[str, str, float, float], **changes: Any) -> dict[str, Any]:
    township, community, lat, lon = place
    data: dict[str, Any] = {
        "name": "王秀英",
        "gender": "F",
        "birth_date": "1940-05-01",
        "resident_id": RESIDENT_ID,
        "phone": "+8613812340000",
        "township": township,
        "community": community,
        "address": "金桂路12号",
        "lat": lat,
        "lon": lon,
        "living_situation": "alone",
        "home_access_notes": "钥匙盒密码 4821",
        "contacts": [{"name": "王强", "relation": "儿子", "phone": "+8613900000001"}],
        "assessment": {"assessed_on": "2026-01-05", "level": 1, "assessors": ["张医生", "刘护士"]},
    }
    data.update(changes)
    return data


def test_operators_register_edit_and_deactivate_viewers_read_masked(
    city: City, client: httpx.Client, headers: dict[str, dict[str, str]], place: tuple[str, str, float, float]
) -> None:
    assert client.post("/api/v1/elders", json=body(place), headers=headers["viewer"]).status_code == 403
    created = client.post("/api/v1/elders", json=body(place), headers=headers["operator"])
    assert created.status_code == 201, created.text
    elder = created.json()["elder"]
    assert created.json()["warnings"] == []
    assert elder["resident_id"] == "421281********" + RESIDENT_ID[-4:]  # operators see it masked
    assert elder["ability_level"] == 1
    path = f"/api/v1/elders/{elder['id']}"

    admin = client.get(f"{path}/record", headers=headers["admin"]).json()
    viewer = client.get(f"{path}/record", headers=headers["viewer"]).json()
    assert admin["resident_id"] == RESIDENT_ID and admin["home_access_notes"] == "钥匙盒密码 4821"
    assert viewer["resident_id"].count("*") == 8 and viewer["home_access_notes"] == "****"
    assert viewer["phone"] == "+86138****0000" and viewer["contacts"][0]["phone"] == "+86139****0001"

    changed = client.patch(path, json={"living_situation": "with_spouse"}, headers=headers["operator"])
    assert changed.status_code == 200 and changed.json()["elder"]["living_situation"] == "with_spouse"
    assert client.patch(path, json={"name": "x"}, headers=headers["viewer"]).status_code == 403

    assessed = client.post(
        f"{path}/assessments",
        json={"assessed_on": "2026-03-01", "level": 3, "assessors": ["张医生"]},
        headers=headers["operator"],
    )
    assert [a["level"] for a in assessed.json()] == [3, 1]
    assert client.get(f"{path}/assessments", headers=headers["viewer"]).status_code == 200

    gone = client.post(
        f"{path}/deactivate", json={"reason": "moved_away", "since": "2026-03-09"}, headers=headers["admin"]
    )
    assert gone.status_code == 200 and gone.json()["elder"]["active"] is False
    again = client.post(
        f"{path}/deactivate", json={"reason": "deceased", "since": "2026-03-09"}, headers=headers["admin"]
    )
    assert again.status_code == 422
    assert again.json()["detail"][0]["msg"].endswith("已不在册（自 2026-03-09 起，原因：迁出）")
    assert client.post(f"{path}/reactivate", headers=headers["operator"]).json()["elder"]["active"] is True

    with psycopg.connect(city.url) as conn:
        audit = conn.execute(
            "SELECT actor, action, details FROM audit_log WHERE target_kind = 'elder' AND target_id = %s ORDER BY id",
            (str(elder["id"]),),
        ).fetchall()
    assert [(a, b) for a, b, _ in audit] == [
        ("operator", "elder.create"),
        ("operator", "elder.update"),
        ("operator", "elder.assess"),
        ("admin", "elder.deactivate"),
        ("operator", "elder.reactivate"),
    ]
    assert audit[1][2] == {"before": {"living_situation": "alone"}, "after": {"living_situation": "with_spouse"}}
    assert audit[2][2]["before"] == {"ability_level": 1} and audit[2][2]["after"] == {"ability_level": 3}


@pytest.mark.parametrize(
    ("changes", "loc", "message", "chinese"),
    [
        (
            {"resident_id": FIRST17 + ("0" if RESIDENT_ID[-1] != "0" else "1")},
            ["body", "resident_id"],
            "check character",
            "的校验位应为",
        ),
        ({"phone": "+8612345678901"}, ["body", "phone"], "not a mainland mobile number", "不是大陆手机号"),
        (
            {"birth_date": "1941-05-01"},
            ["body", "resident_id"],
            "born on 1940-05-01",
            "身份证号显示出生于 1940-05-01，出生日期填的是 1941-05-01；请改正填错的一项",
        ),
        ({"township": "火星镇"}, ["body", "township"], "unknown township", "未知的乡镇街道 '火星镇'"),
        # pydantic's own checks read in the reader's language too
        ({"birth_date": "1941-13-01"}, ["body", "birth_date"], "Input should be a valid date", "应为有效日期"),
        ({"favourite_colour": "red"}, ["body", "favourite_colour"], "Extra inputs are not permitted", "不接受此字段"),
        ({"lat": "north"}, ["body", "lat"], "Input should be a valid number", "应为数字"),
        (
            {"thresholds": {"hr_high": 300}},
            ["body", "thresholds"],
            "outside the range",
            "hr_high 为 300，超出设备能上报的范围（",
        ),
    ],
)
def test_refusals_name_the_field_and_write_nothing(
    city: City,
    client: httpx.Client,
    headers: dict[str, dict[str, str]],
    place: tuple[str, str, float, float],
    changes: dict[str, Any],
    loc: list[str],
    message: str,
    chinese: str,
) -> None:
    """Each refusal names its field, in the reader's language (Chinese, or English when asked for)."""
    with psycopg.connect(city.url) as conn:
        before = conn.execute("SELECT count(*) FROM elder").fetchone()
    english = headers["admin"] | {"Accept-Language": "en"}
    response = client.post("/api/v1/elders", json=body(place, **changes), headers=english)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert any(d["loc"] == loc and message in d["msg"] for d in detail), detail
    response = client.post("/api/v1/elders", json=body(place, **changes), headers=headers["admin"])
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert any(d["loc"] == loc and chinese in d["msg"] for d in detail), detail
    with psycopg.connect(city.url) as conn:
        assert conn.execute("SELECT count(*) FROM elder").fetchone() == before


def test_a_location_outside_the_city_is_a_warning(
    client: httpx.Client, headers: dict[str, dict[str, str]], place: tuple[str, str, float, float]
) -> None:
    created = client.post("/api/v1/elders", json=body(place, lat=30.6, lon=114.3), headers=headers["admin"])
    assert created.status_code == 201
    warned = created.json()["warnings"]
    assert [w["field"] for w in warned] == ["location"]
    assert "30.60000, 114.30000 " in warned[0]["message"] and "市" in warned[0]["message"]  # Chinese, the default
    english = headers["admin"] | {"Accept-Language": "en"}
    again = client.patch(f"/api/v1/elders/{created.json()['elder']['id']}", json={"lat": 30.61}, headers=english)
    assert again.status_code == 200, again.text
    assert "lies outside the city" in again.json()["warnings"][0]["message"]


def test_the_routes_are_in_the_openapi_schema(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"post", "get"} <= set(paths["/api/v1/elders"]) or "post" in paths["/api/v1/elders"]
    assert "patch" in paths["/api/v1/elders/{elder_id}"]
    for action in ("deactivate", "reactivate", "assessments", "record"):
        assert f"/api/v1/elders/{{elder_id}}/{action}" in paths
