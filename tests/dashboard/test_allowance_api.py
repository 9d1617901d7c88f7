"""The allowance cross-check over HTTP: a roll uploaded by an operator; an unreadable file refused with why."""

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
