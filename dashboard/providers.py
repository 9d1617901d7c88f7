"""Providers and their caregivers: the register admins keep, with red/black-list standing."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row
from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from dashboard.errors import Conflict, NotFound
from eldercare import audit
from eldercare.vocabulary import ServiceType, Standing

Phone = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{2,32}$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


class Provider(BaseModel):
    id: int
    code: str
    name: str
    phone: str
    manager_name: str
    manager_phone: str
    standing: Standing
    standing_note: str
    capacity: int
    active: bool
    services: list[str]
    caregivers: int
    orders_in_progress: int


class ProviderCreate(BaseModel):
    code: Code
    name: Text
    phone: Phone
    manager_name: Text
    manager_phone: Phone
    capacity: int = Field(50, ge=0, le=100_000)
    services: list[ServiceType] = Field(default_factory=list)


class ProviderUpdate(BaseModel):
    """Fields to change; those left out stay as they are."""

    name: Text | None = None
    phone: Phone | None = None
    manager_name: Text | None = None
    manager_phone: Phone | None = None
    capacity: int | None = Field(None, ge=0, le=100_000)
    standing: Standing | None = None
    standing_note: str | None = Field(None, max_length=500)
    active: bool | None = None


class Caregiver(BaseModel):
    id: int
    code: str
    provider_id: int
    provider_name: str
    name: str
    gender: str
    phone: str
    language: str
    travel_mode: str
    max_load: int
    rating: float
    sms_opt_out: bool
    active: bool
    home_lat: float
    home_lon: float
    skills: list[str]
    load: int = Field(description="orders accepted and not yet completed")


class TravelMode(StrEnum):
    WALK = "walk"
    EBIKE = "ebike"
    CAR = "car"


def _each_once(skills: list[ServiceType]) -> list[ServiceType]:
    repeated = sorted({s.value for s in skills if skills.count(s) > 1})
    if repeated:
        raise ValueError(f"list each service once; repeated: {', '.join(repeated)}")
    return skills


Skills = Annotated[list[ServiceType], AfterValidator(_each_once)]


class CaregiverCreate(BaseModel):
    code: Code
    provider_id: int = Field(ge=1)
    name: Text
    gender: Annotated[str, StringConstraints(pattern=r"^[FM]$")]
    phone: Phone
    language: Annotated[str, StringConstraints(pattern=r"^(zh|en)$")] = "zh"
    home_lat: float = Field(ge=-90, le=90)
    home_lon: float = Field(ge=-180, le=180)
    travel_mode: TravelMode = TravelMode.EBIKE
    max_load: int = Field(2, ge=1, le=20)
    skills: Skills = Field(default_factory=list)


class CaregiverUpdate(BaseModel):
    name: Text | None = None
    phone: Phone | None = None
    travel_mode: TravelMode | None = None
    max_load: int | None = Field(None, ge=1, le=20)
    active: bool | None = None
    skills: Skills | None = None


PROVIDER = """
SELECT p.id, p.code, p.name, p.phone, p.manager_name, p.manager_phone, p.standing, p.standing_note, p.capacity,
       p.active,
       coalesce((SELECT array_agg(ps.service_type ORDER BY ps.service_type) FROM provider_service ps
                 WHERE ps.provider_id = p.id), '{}') AS services,
       (SELECT count(*) FROM caregiver cg WHERE cg.provider_id = p.id AND cg.active)::int AS caregivers,
       (SELECT count(*) FROM service_order o WHERE o.provider_id = p.id
          AND o.status IN ('accepted', 'en_route', 'arrived'))::int AS orders_in_progress
FROM provider p
"""

CAREGIVER = """
SELECT cg.id, cg.code, cg.provider_id, p.name AS provider_name, cg.name, cg.gender, cg.phone, cg.language,
       cg.travel_mode, cg.max_load, cg.rating::float AS rating, cg.sms_opt_out, cg.active, cg.home_lat, cg.home_lon,
       coalesce((SELECT array_agg(s.service_type ORDER BY s.service_type) FROM caregiver_skill s
                 WHERE s.caregiver_id = cg.id), '{}') AS skills,
       (SELECT count(*) FROM service_order o WHERE o.caregiver_id = cg.id
          AND o.status IN ('accepted', 'en_route', 'arrived'))::int AS load
FROM caregiver cg JOIN provider p ON p.id = cg.provider_id
"""


def list_providers(conn: psycopg.Connection) -> list[Provider]:
    with conn.cursor(row_factory=class_row(Provider)) as cur:
        return cur.execute(f"{PROVIDER} ORDER BY p.code").fetchall()


def get_provider(conn: psycopg.Connection, provider_id: int) -> Provider:
    with conn.cursor(row_factory=class_row(Provider)) as cur:
        row = cur.execute(f"{PROVIDER} WHERE p.id = %s", (provider_id,)).fetchone()
    if row is None:
        raise NotFound(f"no provider with id {provider_id}")
    return row


def create_provider(conn: psycopg.Connection, data: ProviderCreate, actor: str) -> Provider:
    row = conn.execute(
        "INSERT INTO provider (code, name, phone, manager_name, manager_phone, capacity) "
        "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (code) DO NOTHING RETURNING id",
        (data.code, data.name, data.phone, data.manager_name, data.manager_phone, data.capacity),
    ).fetchone()
    if row is None:
        raise Conflict(f"a provider with code {data.code!r} exists already; choose another code")
    for service in data.services:
        conn.execute("INSERT INTO provider_service VALUES (%s, %s) ON CONFLICT DO NOTHING", (row[0], service.value))
    audit.record(conn, actor, "provider.create", "provider", row[0], data.model_dump(mode="json"))
    return get_provider(conn, row[0])


def _update(conn: psycopg.Connection, table: str, row_id: int, changes: dict[str, Any]) -> None:
    if not changes:
        return
    assignments = sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder()) for k in changes)
    conn.execute(
        sql.SQL("UPDATE {} SET {} WHERE id = %s").format(sql.Identifier(table), assignments),
        [*changes.values(), row_id],
    )


def update_provider(conn: psycopg.Connection, provider_id: int, data: ProviderUpdate, actor: str) -> Provider:
    before = get_provider(conn, provider_id)
    changes = data.model_dump(exclude_unset=True, exclude_none=True, mode="json")
    _update(conn, "provider", provider_id, changes)
    action = (
        "provider.standing" if "standing" in changes and changes["standing"] != before.standing else "provider.update"
    )
    audit.record(conn, actor, action, "provider", provider_id, {"changes": changes, "standing_was": before.standing})
    return get_provider(conn, provider_id)


def list_caregivers(
    conn: psycopg.Connection, provider_id: int | None, limit: int, offset: int
) -> tuple[list[Caregiver], int]:
    where, params = (" WHERE cg.provider_id = %s", [provider_id]) if provider_id is not None else ("", [])
    total = conn.execute(f"SELECT count(*) FROM caregiver cg{where}", params).fetchone()  # noqa: S608
    with conn.cursor(row_factory=class_row(Caregiver)) as cur:
        rows = cur.execute(
            f"{CAREGIVER}{where} ORDER BY cg.code LIMIT %s OFFSET %s",
            [*params, limit, offset],
        ).fetchall()
    return rows, int(total[0]) if total else 0


def get_caregiver(conn: psycopg.Connection, caregiver_id: int) -> Caregiver:
    with conn.cursor(row_factory=class_row(Caregiver)) as cur:
        row = cur.execute(f"{CAREGIVER} WHERE cg.id = %s", (caregiver_id,)).fetchone()
    if row is None:
        raise NotFound(f"no caregiver with id {caregiver_id}")
    return row


def _set_skills(conn: psycopg.Connection, caregiver_id: int, skills: list[ServiceType]) -> None:
    conn.execute("DELETE FROM caregiver_skill WHERE caregiver_id = %s", (caregiver_id,))
    for skill in skills:
        conn.execute("INSERT INTO caregiver_skill VALUES (%s, %s)", (caregiver_id, skill.value))


def create_caregiver(conn: psycopg.Connection, data: CaregiverCreate, actor: str) -> Caregiver:
    get_provider(conn, data.provider_id)
    clash = conn.execute("SELECT code FROM caregiver WHERE code = %s OR phone = %s", (data.code, data.phone)).fetchone()
    if clash:
        raise Conflict("a caregiver with this code or phone number exists already")
    row = conn.execute(
        "INSERT INTO caregiver (code, provider_id, name, gender, phone, language, home_lat, home_lon, travel_mode, "
        "max_load) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (
            data.code,
            data.provider_id,
            data.name,
            data.gender,
            data.phone,
            data.language,
            data.home_lat,
            data.home_lon,
            data.travel_mode.value,
            data.max_load,
        ),
    ).fetchone()
    assert row is not None
    _set_skills(conn, row[0], data.skills)
    audit.record(conn, actor, "caregiver.create", "caregiver", row[0], data.model_dump(mode="json"))
    return get_caregiver(conn, row[0])


def update_caregiver(conn: psycopg.Connection, caregiver_id: int, data: CaregiverUpdate, actor: str) -> Caregiver:
    get_caregiver(conn, caregiver_id)
    changes = data.model_dump(exclude_unset=True, exclude_none=True, mode="json")
    skills = changes.pop("skills", None)
    if "phone" in changes:
        clash = conn.execute(
            "SELECT 1 FROM caregiver WHERE phone = %s AND id <> %s", (changes["phone"], caregiver_id)
        ).fetchone()
        if clash:
            raise Conflict("another caregiver has this phone number")
    _update(conn, "caregiver", caregiver_id, changes)
    if skills is not None and data.skills is not None:
        _set_skills(conn, caregiver_id, data.skills)
    audit.record(conn, actor, "caregiver.update", "caregiver", caregiver_id, {"changes": {**changes, "skills": skills}})
    return get_caregiver(conn, caregiver_id)
