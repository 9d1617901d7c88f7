"""Reading the register: an elder's record as the forms and the API show it, and the assessment history."""

from __future__ import annotations

from datetime import date

import psycopg
from psycopg.rows import class_row
from pydantic import BaseModel

from eldercare.i18n import N_
from eldercare.labels import Message
from eldercare.vocabulary import EligibilityCategory, InactiveReason, LivingSituation


class NoSuchElder(LookupError):
    pass


class Assessment(BaseModel):
    id: int
    assessed_on: date
    level: int
    assessors: list[str]
    scores: dict[str, int]
    notes: str
    recorded_by: str


_RECORD = """
SELECT e.id, e.code, e.name, e.gender, e.birth_date, e.resident_id, e.phone, e.language, t.name AS township,
       c.name AS community, e.address, e.lat, e.lon, e.living_situation, e.medical_notes, e.medications,
       e.allergies, e.home_access_notes, e.notes, e.thresholds, e.ability_level, e.active, e.inactive_reason,
       e.inactive_since,
       coalesce((SELECT jsonb_agg(jsonb_build_object('category', g.category, 'decided_on', g.decided_on,
                                                     'document_no', g.document_no) ORDER BY g.category)
                 FROM elder_eligibility g WHERE g.elder_id = e.id), '[]') AS eligibility,
       coalesce((SELECT jsonb_agg(jsonb_build_object('name', k.name, 'relation', k.relation, 'phone', k.phone,
                                                     'language', k.language, 'notify_sms', k.notify_sms,
                                                     'liaison', k.is_liaison)
                                  ORDER BY k.priority, k.id)
                 FROM emergency_contact k WHERE k.elder_id = e.id), '[]') AS contacts
FROM elder e JOIN community c ON c.id = e.community_id JOIN township t ON t.id = c.township_id
WHERE e.id = %s
"""


def get_record(conn: psycopg.Connection, elder_id: int, *, lock: bool = False) -> ElderRecord:
    if lock:
        conn.execute("SELECT 1 FROM elder WHERE id = %s FOR UPDATE", (elder_id,))
    with conn.cursor(row_factory=class_row(ElderRecord)) as cur:
        row = cur.execute(_RECORD, (elder_id,)).fetchone()
    if row is None:
        raise NoSuchElder(Message.of(N_("no elder with id %(id)s"), id=elder_id))
    return row


class EligibilityView(BaseModel):
    category: EligibilityCategory
    decided_on: date
    document_no: str


class ContactView(BaseModel):
    name: str
    relation: str
    phone: str
    language: str
    notify_sms: bool
    liaison: bool = False


class ElderRecord(BaseModel):
    """An elder as the register keeps it (read as written: checks apply to what is written, not to reading)."""

    id: int
    code: str
    name: str
    gender: str
    birth_date: date
    resident_id: str | None
    phone: str | None
    language: str
    township: str
    community: str
    address: str
    lat: float
    lon: float
    living_situation: LivingSituation
    medical_notes: str
    medications: str
    allergies: str
    home_access_notes: str
    notes: str
    thresholds: dict[str, float]
    ability_level: int
    active: bool
    inactive_reason: InactiveReason | None
    inactive_since: date | None
    eligibility: list[EligibilityView]
    contacts: list[ContactView]


def assessments(conn: psycopg.Connection, elder_id: int) -> list[Assessment]:
    """The elder's assessments, latest first."""
    with conn.cursor(row_factory=class_row(Assessment)) as cur:
        return cur.execute(
            "SELECT id, assessed_on, level, assessors, scores, notes, recorded_by FROM assessment "
            "WHERE elder_id = %s ORDER BY assessed_on DESC, id DESC",
            (elder_id,),
        ).fetchall()
