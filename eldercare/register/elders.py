"""Writing the register: create, change, deactivate and reactivate an elder, and record assessments.

Every function takes a connection, checks its input completely before writing (``Rejected`` names each
wrong field and nothing is written), writes an audit row with before and after, and does not commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from eldercare import audit
from eldercare.i18n import N_
from eldercare.labels import Coded, Listed, Message
from eldercare.register.model import (
    DISABILITY_LEVELS,
    AssessmentInput,
    Contact,
    Deactivation,
    ElderCreate,
    ElderFields,
    ElderPatch,
    Problem,
    Rejected,
    assessed_after_birth,
    dated_after_birth,
    validated,
)
from eldercare.register.record import Assessment, ElderRecord, NoSuchElder, assessments, get_record
from eldercare.vocabulary import EligibilityCategory, InactiveReason, LivingSituation, OrderStatus

# how far outside the outermost township or community a location may lie before it is called outside the city
CITY_MARGIN_DEGREES = 0.15
# orders deactivation cancels: not yet at the elder's door
OPEN_ORDERS = (
    OrderStatus.CREATED,
    OrderStatus.OFFERED,
    OrderStatus.ESCALATED,
    OrderStatus.ACCEPTED,
    OrderStatus.EN_ROUTE,
)

# cancel_order(conn, order_id, reason): the dispatcher's cancellation, which withdraws offers and tells caregivers
OrderCanceller = Callable[[psycopg.Connection, int, str], None]


@dataclass
class Saved:
    elder_id: int
    code: str
    warnings: list[Problem] = field(default_factory=list)
    cancelled_orders: list[str] = field(default_factory=list)


def community_id(conn: psycopg.Connection, township: str, community: str) -> int:
    """The community of that name in that township, or Rejected naming the known ones."""
    town = conn.execute("SELECT id FROM township WHERE name = %s", (township,)).fetchone()
    if town is None:
        known = [r[0] for r in conn.execute("SELECT name FROM township ORDER BY code").fetchall()]
        if not known:
            said = Message.of(N_("unknown township %(name)r; the register has no townships yet"), name=township)
        else:
            said = Message.of(
                N_("unknown township %(name)r; known: %(known)s"), name=township, known=Listed(tuple(known[:20]))
            )
        raise Rejected([Problem.of("township", said)])
    row = conn.execute("SELECT id FROM community WHERE township_id = %s AND name = %s", (town[0], community)).fetchone()
    if row is None:
        known = [r[0] for r in conn.execute("SELECT name FROM community WHERE township_id = %s ORDER BY code", town)]
        said = Message.of(
            N_("unknown community %(name)r in %(township)s; known there: %(known)s"),
            name=community,
            township=township,
            known=Listed(tuple(known[:40])),
        )
        raise Rejected([Problem.of("community", said)])
    return int(row[0])


def location_warnings(conn: psycopg.Connection, lat: float, lon: float) -> list[Problem]:
    """A warning when the location lies outside the city (its townships' and communities' extent, with margin)."""
    row = conn.execute(
        "SELECT min(lat), max(lat), min(lon), max(lon) FROM "
        "(SELECT lat, lon FROM township UNION ALL SELECT lat, lon FROM community) places"
    ).fetchone()
    if row is None or row[0] is None:
        return []
    m = CITY_MARGIN_DEGREES
    if row[0] - m <= lat <= row[1] + m and row[2] - m <= lon <= row[3] + m:
        return []
    return [
        Problem.of(
            "location",
            Message.of(
                N_(
                    "%(lat)s, %(lon)s lies outside the city (%(south)s-%(north)s N, %(west)s-%(east)s E); "
                    "check the location"
                ),
                lat=f"{lat:.5f}",
                lon=f"{lon:.5f}",
                south=f"{row[0] - m:.3f}",
                north=f"{row[1] + m:.3f}",
                west=f"{row[2] - m:.3f}",
                east=f"{row[3] + m:.3f}",
            ),
        )
    ]


def _check_disability(fields: ElderFields, level: int) -> None:
    for item in fields.eligibility:
        levels = DISABILITY_LEVELS.get(item.category)
        if levels is not None and level not in levels:
            raise Rejected(
                [
                    Problem.of(
                        "eligibility",
                        Message.of(
                            N_(
                                "%(category)s needs an ability level of %(low)s-%(high)s; the latest assessment "
                                "says %(level)s: record the new assessment first"
                            ),
                            category=Coded("eligibility", item.category.value),
                            low=levels.start,
                            high=levels.stop - 1,
                            level=level,
                        ),
                    )
                ]
            )


def _check_unique_id(conn: psycopg.Connection, resident_id: str | None, elder_id: int | None) -> None:
    if not resident_id:
        return
    row = conn.execute(
        "SELECT code, name FROM elder WHERE resident_id = %s AND id IS DISTINCT FROM %s", (resident_id, elder_id)
    ).fetchone()
    if row is not None:
        raise Rejected(
            [
                Problem.of(
                    "resident_id",
                    Message.of(
                        N_("this ID number is already registered to %(name)s (%(code)s); edit that elder instead"),
                        name=row[1],
                        code=row[0],
                    ),
                )
            ]
        )


def _economic_status(fields: ElderFields) -> str:
    categories = {item.category for item in fields.eligibility}
    for status in (EligibilityCategory.EXTREME_POVERTY, EligibilityCategory.MIN_ALLOWANCE):
        if status in categories:
            return status.value
    return "none"


def _columns(fields: ElderFields, community: int) -> dict[str, Any]:
    return {
        "name": fields.name,
        "gender": fields.gender.value,
        "birth_date": fields.birth_date,
        "resident_id": fields.resident_id,
        "phone": fields.phone,
        "language": fields.language.value,
        "community_id": community,
        "address": fields.address,
        "lat": fields.lat,
        "lon": fields.lon,
        "living_situation": fields.living_situation.value,
        "lives_alone": fields.living_situation is LivingSituation.ALONE,
        "left_behind": fields.living_situation is LivingSituation.LEFT_BEHIND,
        "economic_status": _economic_status(fields),
        "medical_notes": fields.medical_notes,
        "medications": fields.medications,
        "allergies": fields.allergies,
        "home_access_notes": fields.home_access_notes,
        "notes": fields.notes,
        "thresholds": Jsonb(fields.thresholds),
    }


def _write_eligibility(conn: psycopg.Connection, elder_id: int, fields: ElderFields) -> None:
    conn.execute("DELETE FROM elder_eligibility WHERE elder_id = %s", (elder_id,))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO elder_eligibility (elder_id, category, decided_on, document_no) VALUES (%s, %s, %s, %s)",
            [(elder_id, e.category.value, e.decided_on, e.document_no) for e in fields.eligibility],
        )


def _write_contacts(conn: psycopg.Connection, elder_id: int, contacts: list[Contact]) -> None:
    """The contacts in calling order; one with the same phone as before keeps its row (and its messages)."""
    existing = {
        phone: contact_id
        for contact_id, phone in conn.execute(
            "SELECT id, phone FROM emergency_contact WHERE elder_id = %s", (elder_id,)
        ).fetchall()
    }
    kept: list[int] = []
    for priority, contact in enumerate(contacts, start=1):
        values = (
            contact.name,
            contact.relation,
            contact.phone,
            contact.language.value,
            priority,
            contact.notify_sms,
            contact.liaison,
        )
        contact_id = existing.get(contact.phone)
        if contact_id is None:
            row = conn.execute(
                "INSERT INTO emergency_contact (name, relation, phone, language, priority, notify_sms, is_liaison, "
                "elder_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                (*values, elder_id),
            ).fetchone()
            assert row is not None
            contact_id = row[0]
        else:
            conn.execute(
                "UPDATE emergency_contact SET name = %s, relation = %s, phone = %s, language = %s, priority = %s, "
                "notify_sms = %s, is_liaison = %s WHERE id = %s",
                (*values, contact_id),
            )
        kept.append(contact_id)
    conn.execute("DELETE FROM emergency_contact WHERE elder_id = %s AND NOT (id = ANY(%s))", (elder_id, kept))


def _check_contacts(contacts: list[Contact]) -> None:
    seen: set[str] = set()
    for index, contact in enumerate(contacts):
        if contact.phone in seen:
            raise Rejected(
                [
                    Problem.of(
                        f"contacts.{index}.phone",
                        Message.of(N_("%(phone)s is listed twice; keep it once"), phone=contact.phone),
                    )
                ]
            )
        seen.add(contact.phone)


def _insert_assessment(conn: psycopg.Connection, elder_id: int, data: AssessmentInput, actor: str) -> int:
    row = conn.execute(
        "INSERT INTO assessment (elder_id, assessed_on, level, assessors, scores, notes, recorded_by) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (elder_id, data.assessed_on, data.level, data.assessors, Jsonb(data.scores), data.notes, actor),
    ).fetchone()
    assert row is not None
    # the elder's level is the latest assessment's (by date, then by when it was recorded)
    conn.execute(
        "UPDATE elder SET ability_level = (SELECT level FROM assessment WHERE elder_id = %(e)s "
        "ORDER BY assessed_on DESC, id DESC LIMIT 1), updated_at = now() WHERE id = %(e)s",
        {"e": elder_id},
    )
    return int(row[0])


def create_elder(conn: psycopg.Connection, data: Any, actor: str, today: date) -> Saved:
    """Register a new elder from ``data`` (an ElderCreate or its fields as a dict)."""
    elder = validated(ElderCreate, data.model_dump() if isinstance(data, BaseModel) else data, today)
    community = community_id(conn, elder.township, elder.community)
    _check_unique_id(conn, elder.resident_id, None)
    _check_contacts(elder.contacts)
    _check_disability(elder, elder.assessment.level if elder.assessment else 0)
    row = conn.execute("SELECT nextval(pg_get_serial_sequence('elder', 'id'))").fetchone()
    assert row is not None
    elder_id = int(row[0])
    code = f"E{elder_id:06d}"
    columns = {"code": code, **_columns(elder, community)}
    names = ", ".join(columns)
    conn.execute(
        f"INSERT INTO elder (id, {names}) OVERRIDING SYSTEM VALUE VALUES (%s, {', '.join(['%s'] * len(columns))})",  # noqa: S608 - fixed names
        (elder_id, *columns.values()),
    )
    _write_eligibility(conn, elder_id, elder)
    _write_contacts(conn, elder_id, elder.contacts)
    if elder.assessment:
        _insert_assessment(conn, elder_id, elder.assessment, actor)
    after = get_record(conn, elder_id)
    audit.record(conn, actor, "elder.create", "elder", elder_id, {"after": after.model_dump(mode="json")})
    return Saved(elder_id, code, location_warnings(conn, elder.lat, elder.lon))


def _changed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {"before": {k: before.get(k) for k in keys}, "after": {k: after[k] for k in keys}}


def update_elder(conn: psycopg.Connection, elder_id: int, data: Any, actor: str, today: date) -> Saved:
    """Change the fields given in ``data`` (an ElderPatch or a dict); the whole record is checked again."""
    patch = validated(ElderPatch, data.model_dump(exclude_unset=True) if isinstance(data, BaseModel) else data, today)
    current = get_record(conn, elder_id, lock=True)
    merged = {
        **current.model_dump(include=set(ElderFields.model_fields), mode="json"),
        **patch.model_dump(exclude_unset=True, mode="json"),
    }
    elder = validated(ElderFields, merged, today)
    community = community_id(conn, elder.township, elder.community)
    _check_unique_id(conn, elder.resident_id, elder_id)
    _check_contacts(elder.contacts)
    if "eligibility" in patch.model_fields_set:
        _check_disability(elder, current.ability_level)
    columns = _columns(elder, community)
    if "eligibility" not in patch.model_fields_set:
        del columns["economic_status"]  # kept as it is: records from before the register have no decisions
    assignments = ", ".join(f"{name} = %s" for name in columns)
    conn.execute(
        f"UPDATE elder SET {assignments}, updated_at = now() WHERE id = %s",  # noqa: S608 - fixed names
        (*columns.values(), elder_id),
    )
    _write_eligibility(conn, elder_id, elder)
    if "contacts" in patch.model_fields_set:
        _write_contacts(conn, elder_id, elder.contacts)
    after = get_record(conn, elder_id)
    audit.record(
        conn,
        actor,
        "elder.update",
        "elder",
        elder_id,
        _changed(current.model_dump(mode="json"), after.model_dump(mode="json")),
    )
    return Saved(elder_id, current.code, location_warnings(conn, elder.lat, elder.lon))


def add_assessment(conn: psycopg.Connection, elder_id: int, data: Any, actor: str, today: date) -> int:
    assessment = validated(AssessmentInput, data.model_dump() if isinstance(data, BaseModel) else data, today)
    before = get_record(conn, elder_id, lock=True)
    why = assessed_after_birth(assessment.assessed_on, before.birth_date)
    if why is not None:
        raise Rejected([Problem.of("assessed_on", why)])
    assessment_id = _insert_assessment(conn, elder_id, assessment, actor)
    after = get_record(conn, elder_id)
    audit.record(
        conn,
        actor,
        "elder.assess",
        "elder",
        elder_id,
        {
            "assessment": assessment.model_dump(mode="json"),
            "before": {"ability_level": before.ability_level},
            "after": {"ability_level": after.ability_level},
        },
    )
    return assessment_id


# why an inactive elder's open orders are cancelled: stored as the order's cancel reason and told to its caregiver,
# each in the reader's language (the date and the note are in the elder's record and the audit log)
WHY_CANCELLED = {
    InactiveReason.DECEASED: N_("the elder has passed away"),
    InactiveReason.MOVED_AWAY: N_("the elder has moved away"),
    InactiveReason.IN_HOSPITAL: N_("the elder is in hospital"),
    InactiveReason.IN_CARE_HOME: N_("the elder has moved into a care home"),
}


def deactivate(
    conn: psycopg.Connection, elder_id: int, data: Any, actor: str, today: date, cancel_order: OrderCanceller
) -> Saved:
    """Take the elder off the active register: no more recurring orders are made (the dispatcher orders only
    for active elders), and every open order is cancelled with the reason. Every record is kept."""
    change = validated(Deactivation, data.model_dump() if isinstance(data, BaseModel) else data, today)
    current = get_record(conn, elder_id, lock=True)
    if not current.active:
        raise Rejected(
            [
                Problem.of(
                    "elder",
                    Message.of(
                        N_("%(name)s (%(code)s) is already inactive (%(reason)s since %(since)s)"),
                        name=current.name,
                        code=current.code,
                        reason=Coded("inactive_reason", current.inactive_reason)
                        if current.inactive_reason
                        else Message.of(N_("no reason recorded")),
                        since=current.inactive_since,
                    ),
                )
            ]
        )
    born_after = dated_after_birth(
        change.since, current.birth_date, N_("the date %(day)s is before the elder was born (%(born)s)")
    )
    if born_after is not None:
        raise Rejected([Problem.of("since", born_after)])
    conn.execute(
        "UPDATE elder SET active = false, inactive_reason = %s, inactive_since = %s, updated_at = now() WHERE id = %s",
        (change.reason.value, change.since, elder_id),
    )
    reason = WHY_CANCELLED[change.reason]
    open_orders = conn.execute(
        "SELECT id, code FROM service_order WHERE elder_id = %s AND status = ANY(%s) ORDER BY id",
        (elder_id, [s.value for s in OPEN_ORDERS]),
    ).fetchall()
    for order_id, _code in open_orders:
        cancel_order(conn, order_id, reason)
    cancelled = [code for _id, code in open_orders]
    audit.record(
        conn,
        actor,
        "elder.deactivate",
        "elder",
        elder_id,
        {
            "before": {"active": True, "inactive_reason": None, "inactive_since": None},
            "after": {"active": False, "inactive_reason": change.reason.value, "inactive_since": str(change.since)},
            "note": change.note,
            "cancelled_orders": cancelled,
        },
    )
    return Saved(elder_id, current.code, cancelled_orders=cancelled)


def reactivate(conn: psycopg.Connection, elder_id: int, actor: str) -> Saved:
    """Put an inactive elder back on the register; recurring services resume from the next occurrence."""
    current = get_record(conn, elder_id, lock=True)
    if current.active:
        raise Rejected(
            [
                Problem.of(
                    "elder",
                    Message.of(N_("%(name)s (%(code)s) is already active"), name=current.name, code=current.code),
                )
            ]
        )
    conn.execute(
        "UPDATE elder SET active = true, inactive_reason = NULL, inactive_since = NULL, updated_at = now() "
        "WHERE id = %s",
        (elder_id,),
    )
    audit.record(
        conn,
        actor,
        "elder.reactivate",
        "elder",
        elder_id,
        {
            "before": {
                "active": False,
                "inactive_reason": current.inactive_reason,
                "inactive_since": str(current.inactive_since) if current.inactive_since else None,
            },
            "after": {"active": True, "inactive_reason": None, "inactive_since": None},
        },
    )
    return Saved(elder_id, current.code)


__all__ = [
    "Assessment",
    "ElderRecord",
    "NoSuchElder",
    "OrderCanceller",
    "Saved",
    "add_assessment",
    "assessments",
    "community_id",
    "create_elder",
    "deactivate",
    "get_record",
    "location_warnings",
    "reactivate",
    "update_elder",
]
