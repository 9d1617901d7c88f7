"""The pickers' search: elders by resident ID number (whole or last digits), masked except to admins; caregivers
by code and phone; viewers find by name and code only."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from eldercare.register.identity import resident_id_check_char
from tests.dispatcher.town import CENTER
from tests.roster.conftest import PASSWORD

FIRST17 = "42128119400501002"  # born 1940-05-01, a woman (even 17th digit), as the town's elders are
RESIDENT_ID = FIRST17 + resident_id_check_char(FIRST17)
MASKED = "421281********" + RESIDENT_ID[-4:]


@pytest.fixture
def signed_in(dashboard) -> Iterator[dict[str, httpx.Client]]:
    clients = {}
    for role in ("admin", "operator", "viewer"):
        client = httpx.Client(base_url=dashboard.url, timeout=30)
        token = client.post("/api/v1/token", data={"username": role, "password": PASSWORD}).json()
        client.headers["Authorization"] = f"Bearer {token['access_token']}"
        clients[role] = client
    yield clients
    for client in clients.values():
        client.close()


def _find(client: httpx.Client, kind: str, q: str) -> list[dict]:
    response = client.get("/api/v1/search", params={"kind": kind, "q": q})
    assert response.status_code == 200, response.text
    return response.json()


def test_elders_are_found_by_resident_id_number_and_shown_masked_except_to_admins(conn, town, signed_in) -> None:
    elder = town.elder()
    town.elder()  # a namesake without an ID number
    conn.execute("UPDATE elder SET resident_id = %s WHERE id = %s", (RESIDENT_ID, elder))
    conn.commit()
    admin, operator, viewer = signed_in["admin"], signed_in["operator"], signed_in["viewer"]

    for q in (RESIDENT_ID, RESIDENT_ID[-4:], RESIDENT_ID[-6:].lower(), f" {RESIDENT_ID[-8:]} "):
        hits = _find(admin, "elder", q)
        assert [h["id"] for h in hits] == [elder], q
        assert hits[0]["resident_id"] == RESIDENT_ID
    assert [(h["id"], h["resident_id"]) for h in _find(operator, "elder", RESIDENT_ID[-4:])] == [(elder, MASKED)]
    # too few digits, or digits from the middle, find nothing; viewers cannot confirm a number
    assert _find(admin, "elder", RESIDENT_ID[-3:]) == []
    assert _find(admin, "elder", RESIDENT_ID[2:8]) == []
    assert _find(viewer, "elder", RESIDENT_ID) == []
    assert _find(viewer, "elder", f"E{elder:06d}")[0]["resident_id"] == MASKED
    # malformed or hostile text is a search, not an error
    for q in ("%", "_", "\\", "' OR 1=1 --", "X" * 50):
        assert admin.get("/api/v1/search", params={"kind": "elder", "q": q}).status_code == 200
    assert admin.get("/api/v1/search", params={"kind": "elder", "q": "1" * 51}).status_code == 422


def test_caregivers_are_found_by_code_and_phone_digits(conn, town, signed_in) -> None:
    provider = town.provider()
    caregiver = town.caregiver(provider, CENTER, number="+8613955557777")
    other = town.caregiver(provider, CENTER, number="+8613955558888")
    conn.commit()
    operator = signed_in["operator"]
    assert [h["id"] for h in _find(operator, "caregiver", f"C{caregiver:05d}")][:1] == [caregiver]
    assert [h["id"] for h in _find(operator, "caregiver", "139 5555 7777")] == [caregiver]
    assert {h["id"] for h in _find(operator, "caregiver", "3955558")} == {other}
    assert _find(operator, "caregiver", "+8613955557777")[0]["phone"] == "+8613955557777"
    assert _find(signed_in["viewer"], "caregiver", "7777") == []
    assert _find(operator, "caregiver", "7777")[0]["resident_id"] is None
