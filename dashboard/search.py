"""Finding an elder, caregiver or provider by name, code or phone (an elder also by resident ID number), for the
pickers that replace raw ids."""

from __future__ import annotations

import re
from enum import StrEnum

import psycopg
from psycopg.rows import class_row
from pydantic import BaseModel, Field


class Kind(StrEnum):
    ELDER = "elder"
    CAREGIVER = "caregiver"
    PROVIDER = "provider"


class Hit(BaseModel):
    """One record a picker may offer: its id (what forms send), code and name, and a line to tell it apart."""

    kind: Kind
    id: int
    code: str
    name: str
    phone: str | None
    detail: str = Field(description="community, provider or manager: what tells two namesakes apart")
    active: bool
    resident_id: str | None = Field(None, description="an elder's resident ID number, masked except to admins")


_ID_TAIL = re.compile(r"[0-9]{3,17}[0-9X]")

# Names and codes match anywhere in the text; phones by their digits, so "138 1234" finds "+8613812345678".
_MATCH = (
    "({name} ILIKE %(like)s OR {code} ILIKE %(like)s OR (%(phones)s AND %(digits)s <> '' AND {phone} LIKE %(dlike)s))"
)

_QUERIES = {
    # the whole ID number, or its last digits (at least four), as read off an ID card over the phone
    Kind.ELDER: "SELECT 'elder' AS kind, e.id, e.code, e.name, e.phone, c.name AS detail, e.active, e.resident_id "
    "FROM elder e JOIN community c ON c.id = e.community_id WHERE "
    + _MATCH.format(name="e.name", code="e.code", phone="e.phone")
    + " OR (%(phones)s AND length(%(id_tail)s) >= 4 AND e.resident_id LIKE '%%' || %(id_tail)s)",
    Kind.CAREGIVER: "SELECT 'caregiver' AS kind, cg.id, cg.code, cg.name, cg.phone, p.name AS detail, cg.active "
    "FROM caregiver cg JOIN provider p ON p.id = cg.provider_id WHERE "
    + _MATCH.format(name="cg.name", code="cg.code", phone="cg.phone"),
    Kind.PROVIDER: "SELECT 'provider' AS kind, p.id, p.code, p.name, p.phone, p.manager_name AS detail, p.active "
    "FROM provider p WHERE "
    + _MATCH.format(name="p.name", code="p.code", phone="p.phone")
    + " OR p.manager_name ILIKE %(like)s",
}


def search(conn: psycopg.Connection, kind: Kind, text: str, *, by_phone: bool, limit: int) -> list[Hit]:
    """Records of ``kind`` matching ``text``: exact codes first, then active before inactive, then by name.
    ``by_phone`` False (viewers) matches names and codes only, so a masked phone or ID number cannot be confirmed."""
    id_tail = text.strip().upper().replace(" ", "")
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    digits = "".join(ch for ch in text if ch.isdigit())
    params = {
        "like": f"%{escaped}%",
        "exact": text.strip(),
        "phones": by_phone,
        "digits": digits,
        "dlike": f"%{digits}%",
        "id_tail": id_tail if _ID_TAIL.fullmatch(id_tail) else "",
        "limit": limit,
    }
    # the query's text is one of the constants above; only params carry the request's words
    query = f"SELECT * FROM ({_QUERIES[kind]}) hit ORDER BY code <> %(exact)s, NOT active, name, id LIMIT %(limit)s"  # noqa: S608
    with conn.cursor(row_factory=class_row(Hit)) as cur:
        return cur.execute(query.encode(), params).fetchall()
