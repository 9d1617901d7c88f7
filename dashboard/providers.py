"""Providers and their caregivers: the register admins keep, with red/black-list standing."""

from __future__ import annotations

from datetime import date

import psycopg
from psycopg.rows import class_row
from pydantic import BaseModel, Field

from dashboard.errors import NotFound
from eldercare import roster
from eldercare.i18n import N_
from eldercare.labels import Message
from eldercare.roster import (
    Absence,
    CaregiverCreate,
    CaregiverUpdate,
    KitchenPlace,
    ProviderCreate,
    ProviderUpdate,
    ServiceOffer,
    Shift,
)
from eldercare.vocabulary import HELD_SQL, Standing

__all__ = ["CaregiverCreate", "CaregiverUpdate", "ProviderCreate", "ProviderUpdate"]


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
    offers: list[ServiceOffer] = Field(description="services sold with their prices in fen")
    communities: list[str] = Field(description="codes of the communities served")
    townships: list[str] = Field(description="codes of the townships the served communities lie in")
    contract_starts: date | None
    contract_ends: date | None
    kitchen: KitchenPlace | None = Field(description="where its meals are cooked (none: from caregivers' homes)")


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
    shifts: list[Shift]
    absences: list[Absence]


PROVIDER = f"""
SELECT p.id, p.code, p.name, p.phone, p.manager_name, p.manager_phone, p.standing, p.standing_note, p.capacity,
       p.active,
       coalesce((SELECT array_agg(ps.service_type ORDER BY ps.service_type) FROM provider_service ps
                 WHERE ps.provider_id = p.id), '{{}}') AS services,
       (SELECT count(*) FROM caregiver cg WHERE cg.provider_id = p.id AND cg.active)::int AS caregivers,
       (SELECT count(*) FROM service_order o WHERE o.provider_id = p.id AND {HELD_SQL})::int AS orders_in_progress,
       coalesce((SELECT json_agg(json_build_object('service', ps.service_type, 'price_fen', ps.price_fen)
                                 ORDER BY ps.service_type)
                 FROM provider_service ps WHERE ps.provider_id = p.id), '[]') AS offers,
       coalesce((SELECT array_agg(c.code ORDER BY c.code) FROM provider_area pa
                 JOIN community c ON c.id = pa.community_id WHERE pa.provider_id = p.id), '{{}}') AS communities,
       coalesce((SELECT array_agg(DISTINCT t.code) FROM provider_area pa JOIN community c ON c.id = pa.community_id
                 JOIN township t ON t.id = c.township_id WHERE pa.provider_id = p.id), '{{}}') AS townships,
       p.contract_starts, p.contract_ends,
       CASE WHEN p.kitchen_lat IS NOT NULL THEN json_build_object('lat', p.kitchen_lat, 'lon', p.kitchen_lon) END
           AS kitchen
FROM provider p
"""  # noqa: S608 (a constant)

CAREGIVER = f"""
SELECT cg.id, cg.code, cg.provider_id, p.name AS provider_name, cg.name, cg.gender, cg.phone, cg.language,
       cg.travel_mode, cg.max_load, cg.rating::float AS rating, cg.sms_opt_out, cg.active, cg.home_lat, cg.home_lon,
       coalesce((SELECT array_agg(s.service_type ORDER BY s.service_type) FROM caregiver_skill s
                 WHERE s.caregiver_id = cg.id), '{{}}') AS skills,
       (SELECT count(*) FROM service_order o WHERE o.caregiver_id = cg.id AND {HELD_SQL})::int AS load,
       coalesce((SELECT json_agg(json_build_object('weekday', sh.weekday, 'starts', to_char(sh.starts, 'HH24:MI'),
                                                   'ends', to_char(sh.ends, 'HH24:MI'))
                                 ORDER BY sh.weekday, sh.starts)
                 FROM caregiver_shift sh WHERE sh.caregiver_id = cg.id), '[]') AS shifts,
       coalesce((SELECT json_agg(json_build_object('kind', ab.kind, 'first_day', ab.first_day,
                                                   'last_day', ab.last_day, 'note', ab.note) ORDER BY ab.first_day)
                 FROM caregiver_absence ab WHERE ab.caregiver_id = cg.id), '[]') AS absences
FROM caregiver cg JOIN provider p ON p.id = cg.provider_id
"""  # noqa: S608 (a constant)


def list_providers(conn: psycopg.Connection) -> list[Provider]:
    with conn.cursor(row_factory=class_row(Provider)) as cur:
        return cur.execute(f"{PROVIDER} ORDER BY p.code").fetchall()


def get_provider(conn: psycopg.Connection, provider_id: int) -> Provider:
    with conn.cursor(row_factory=class_row(Provider)) as cur:
        row = cur.execute(f"{PROVIDER} WHERE p.id = %s", (provider_id,)).fetchone()
    if row is None:
        raise NotFound(Message.of(N_("no provider with id %(id)s"), id=provider_id))
    return row


def create_provider(conn: psycopg.Connection, data: ProviderCreate, actor: str) -> Provider:
    return get_provider(conn, roster.create_provider(conn, data, actor))


def update_provider(conn: psycopg.Connection, provider_id: int, data: ProviderUpdate, actor: str) -> Provider:
    roster.update_provider(conn, provider_id, data, actor)
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
        raise NotFound(Message.of(N_("no caregiver with id %(id)s"), id=caregiver_id))
    return row


def create_caregiver(conn: psycopg.Connection, data: CaregiverCreate, actor: str) -> Caregiver:
    return get_caregiver(conn, roster.create_caregiver(conn, data, actor))


def update_caregiver(conn: psycopg.Connection, caregiver_id: int, data: CaregiverUpdate, actor: str) -> Caregiver:
    roster.update_caregiver(conn, caregiver_id, data, actor)
    return get_caregiver(conn, caregiver_id)
