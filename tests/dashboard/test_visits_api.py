"""Over HTTP, by role: the allowance cross-check (a roll uploaded, a bad file refused with why) and the settlement
(read, exported, confirmed, approved and locked)."""

from __future__ import annotations

import httpx

from eldercare.register.identity import resident_id_check_char


def test_a_roll_is_checked_and_a_bad_file_refused(client: httpx.Client, headers) -> None:
    unknown = "42128119300101099" + resident_id_check_char("42128119300101099")
    roll = f"身份证号,姓名,金额\r\n{unknown},李四,100\r\n12345,王五,100\r\n".encode()
    files = {"roll": ("roll.csv", roll, "text/csv")}
    assert client.post("/api/v1/allowance-check", files=files, headers=headers["viewer"]).status_code == 403
    done = client.post("/api/v1/allowance-check", files=files, data={"age": "80"}, headers=headers["operator"])
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["rows"] == 2 and [(f["kind"], f["line"]) for f in body["findings"]] == [
        ("bad_row", 3),
        ("unknown_id", 2),
    ]
    assert any(f["kind"] == "bad_row" and f["line"] == 3 for f in body["findings"])
    bad = client.post(
        "/api/v1/allowance-check", files={"roll": ("roll.xlsx", b"junk", "application/octet-stream")},
        headers=headers["operator"],
    )  # fmt: skip
    assert bad.status_code == 422 and "xlsx" in bad.text
    assert (
        client.post("/api/v1/allowance-check", files=files, data={"age": "7"}, headers=headers["operator"]).status_code
        == 422
    )


def test_a_file_that_is_no_roll_is_refused_in_the_readers_language(client: httpx.Client, headers) -> None:
    files = {"roll": ("名册.csv", "姓名,金额\r\n王,1\r\n".encode(), "text/csv")}
    refused = client.post("/api/v1/allowance-check", files=files, headers=headers["operator"])
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["msg"] == "名册.csv 缺少“身份证号”列；表头须包含身份证号、姓名和金额"
    english = headers["operator"] | {"Accept-Language": "en"}
    refused = client.post("/api/v1/allowance-check", files=files, headers=english)
    assert refused.json()["detail"][0]["msg"] == (
        "名册.csv has no 身份证号 column; the header row must name 身份证号, 姓名 and 金额"
    )
    files = {"roll": ("名册.csv", b"", "text/csv")}
    refused = client.post("/api/v1/allowance-check", files=files, headers=headers["operator"])
    assert refused.json()["detail"][0]["msg"] == "名册.csv 是空文件；第一行须为表头，包含身份证号、姓名、金额"


def test_a_rows_finding_says_why_in_the_readers_language(client: httpx.Client, headers) -> None:
    unknown = "42128119300101099" + resident_id_check_char("42128119300101099")
    roll = f"身份证号,姓名,金额\r\n{unknown},李四,100\r\n{unknown},李四,100\r\n12345,王五,100\r\n".encode()
    files = {"roll": ("roll.csv", roll, "text/csv")}
    details = {
        language: {
            f["kind"]: f["detail"]
            for f in client.post("/api/v1/allowance-check", files=files, headers=headers["operator"] | asked).json()[
                "findings"
            ]
        }
        for language, asked in (("zh", {}), ("en", {"Accept-Language": "en"}))
    }
    assert details["zh"]["duplicate"] == "与第 2 行重复"
    assert details["zh"]["bad_row"] == "身份证号为 18 位：17 位数字加一位数字或 X（填写的是 5 位）"
    assert details["en"]["duplicate"] == "also on line 2"
    assert details["en"]["bad_row"].startswith("a resident ID number has 18 characters")


def test_the_settlement_over_http_by_role(client: httpx.Client, headers) -> None:
    month = "2026-02"  # over by the test city's day (2026-03-10)
    provider = client.get("/api/v1/providers", headers=headers["viewer"]).json()[0]["id"]
    seen = client.get(f"/api/v1/settlements/{provider}/{month}", headers=headers["viewer"])
    assert seen.status_code == 200 and seen.json()["status"] == "draft"
    for fmt, kind in (("xlsx", "spreadsheetml"), ("csv", "text/csv")):
        got = client.get(f"/api/v1/settlements/{provider}/{month}/export?format={fmt}", headers=headers["viewer"])
        assert got.status_code == 200 and kind in got.headers["content-type"]
    assert client.post(f"/api/v1/settlements/{provider}/{month}/confirm", headers=headers["viewer"]).status_code == 403
    assert (
        client.post(f"/api/v1/settlements/{provider}/2026-03/confirm", headers=headers["operator"]).status_code == 422
    )
    assert (
        client.post(f"/api/v1/settlements/{provider}/{month}/confirm", headers=headers["operator"]).status_code == 200
    )
    assert (
        client.post(f"/api/v1/settlements/{provider}/{month}/approve", headers=headers["operator"]).status_code == 403
    )
    approved = client.post(f"/api/v1/settlements/{provider}/{month}/approve", headers=headers["admin"])
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert client.post(f"/api/v1/settlements/{provider}/{month}/approve", headers=headers["admin"]).status_code == 409
    assert client.get(f"/api/v1/settlements/{provider}/2026-13", headers=headers["viewer"]).status_code == 422
