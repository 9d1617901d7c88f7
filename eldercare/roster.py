"""The roster register: writing providers (area, services and prices, contract) and caregivers (skills,
shifts, absences), checked, in one place that the API, the dashboard's forms, imports and the seed share.

Functions take a connection and do not commit; each change goes to the audit log with before and after.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import psycopg
from psycopg import sql
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from eldercare import audit
from eldercare.db import INT_MAX
from eldercare.i18n import N_
from eldercare.labels import Coded, Listed, Message
from eldercare.vocabulary import AbsenceKind, ServiceType, Standing, TravelMode


class RosterError(Exception):
    """A roster write that cannot be done; the message says why and what to do."""


class Unknown(RosterError):
    """A record named in the request does not exist."""


class Clash(RosterError):
    """The write clashes with an existing record (a code or a phone number in use)."""


class Refused(RosterError):
    """The request is well formed but names something impossible (an unknown township, say)."""


_E164 = r"^\+[1-9][0-9]{6,14}$"


def _mainland(phone: str, *, landline: bool) -> str:
    """Mainland China numbers (+86) must be a mobile number (1[3-9] and 9 digits), or a landline where allowed."""
    if not phone.startswith("+86"):
        return phone
    national = phone[3:]
    mobile = len(national) == 11 and national[0] == "1" and national[1] in "3456789"
    fixed = landline and national[0] in "23456789" and 9 <= len(national) <= 11
    if not (mobile or fixed):
        wanted = (
            N_(
                "%(phone)s is not a mainland number that can be reached; expected a mobile number such as "
                "+8613812345678 or a landline with area code"
            )
            if landline
            else N_(
                "%(phone)s is not a mainland number that can be reached; expected a mobile number such as "
                "+8613812345678"
            )
        )
        raise ValueError(Message.of(wanted, phone=phone))
    return phone


def _mobile(phone: str) -> str:
    return _mainland(phone, landline=False)


def _any_line(phone: str) -> str:
    return _mainland(phone, landline=True)


E164 = Annotated[str, StringConstraints(pattern=_E164, strip_whitespace=True)]
MobilePhone = Annotated[E164, AfterValidator(_mobile)]
Phone = Annotated[E164, AfterValidator(_any_line)]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{2,32}$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
ClockTime = Annotated[
    str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$"), Field(description="local time, HH:MM")
]
Place = Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]


def _each_once(skills: list[ServiceType]) -> list[ServiceType]:
    repeated = sorted({s.value for s in skills if skills.count(s) > 1})
    if repeated:
        repeats = Listed(tuple(Coded("service", code) for code in repeated))
        raise ValueError(Message.of(N_("list each service once; repeated: %(repeated)s"), repeated=repeats))
    return skills


Skills = Annotated[list[ServiceType], AfterValidator(_each_once)]


class Shift(BaseModel):
    """A weekly shift in local time; one whose end is not after its start runs past midnight."""

    weekday: int = Field(ge=1, le=7, description="ISO weekday: 1 Monday .. 7 Sunday")
    starts: ClockTime
    ends: ClockTime

    @model_validator(mode="after")
    def _not_empty(self) -> Shift:
        if self.starts == self.ends:
            raise ValueError(
                Message.of(
                    N_("a shift must start and end at different times (an overnight shift ends before it starts)")
                )
            )
        return self


class Absence(BaseModel):
    """Whole local days a caregiver is away (leave or sick)."""

    kind: AbsenceKind
    first_day: date
    last_day: date
    note: str = Field("", max_length=200)

    @model_validator(mode="after")
    def _ordered(self) -> Absence:
        if self.last_day < self.first_day:
            said = N_("an absence cannot end (%(last_day)s) before it starts (%(first_day)s)")
            raise ValueError(Message.of(said, last_day=self.last_day, first_day=self.first_day))
        return self


def _offer(value: Any) -> Any:
    return {"service": value} if isinstance(value, str) else value


class ServiceOffer(BaseModel):
    """A service a provider sells, and its price in fen (None where the contract sets none)."""

    service: ServiceType
    price_fen: int | None = Field(None, ge=0, le=10_000_000)


Offers = Annotated[list[Annotated[ServiceOffer, BeforeValidator(_offer)]], Field(min_length=1)]


class Area(BaseModel):
    """Where a provider serves: whole townships and single communities, by code or name."""

    townships: list[Place] = Field(default_factory=list)
    communities: list[Place] = Field(default_factory=list)

    @model_validator(mode="after")
    def _somewhere(self) -> Area:
        if not self.townships and not self.communities:
            raise ValueError(Message.of(N_("a provider must serve somewhere: name at least one township or community")))
        return self


class KitchenPlace(BaseModel):
    """Where a provider's meals are cooked: the planner's meal routes collect them there."""

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Strict(BaseModel):
    """A body whose unknown fields are refused, not dropped: a misspelt field (``activ``) would otherwise change
    nothing and say nothing."""

    model_config = ConfigDict(extra="forbid")


def _contract(starts: date | None, ends: date | None) -> None:
    if starts and ends and ends < starts:
        raise ValueError(
            Message.of(N_("the contract cannot end (%(ends)s) before it starts (%(starts)s)"), ends=ends, starts=starts)
        )


class ProviderCreate(Strict):
    code: Code
    name: Text
    phone: Phone
    manager_name: Text
    manager_phone: MobilePhone
    capacity: int = Field(50, ge=0, le=100_000)
    services: Offers = Field(description='services sold: ["meal", ...] or [{"service": "meal", "price_fen": 1500}]')
    area: Area
    contract_starts: date | None = None
    contract_ends: date | None = None
    standing: Standing = Standing.NORMAL
    standing_note: str = Field("", max_length=500)
    kitchen: KitchenPlace | None = Field(None, description="where its meals are cooked; none: from caregivers' homes")

    @model_validator(mode="after")
    def _dates(self) -> ProviderCreate:
        _contract(self.contract_starts, self.contract_ends)
        _each_once([o.service for o in self.services])
        return self


class ProviderUpdate(Strict):
    """Fields to change; those left out stay as they are."""

    name: Text | None = None
    phone: Phone | None = None
    manager_name: Text | None = None
    manager_phone: MobilePhone | None = None
    capacity: int | None = Field(None, ge=0, le=100_000)
    standing: Standing | None = None
    standing_note: str | None = Field(None, max_length=500)
    active: bool | None = None
    services: Offers | None = None
    area: Area | None = None
    contract_starts: date | None = None
    contract_ends: date | None = None
    kitchen: KitchenPlace | None = Field(None, description="where its meals are cooked; null clears it")

    @model_validator(mode="after")
    def _dates(self) -> ProviderUpdate:
        _contract(self.contract_starts, self.contract_ends)
        if self.services is not None:
            _each_once([o.service for o in self.services])
        return self


class CaregiverCreate(Strict):
    code: Code
    provider_id: int = Field(ge=1, le=INT_MAX)
    name: Text
    gender: Annotated[str, StringConstraints(pattern=r"^[FM]$")]
    phone: MobilePhone
    language: Annotated[str, StringConstraints(pattern=r"^(zh|en)$")] = "zh"
    home_lat: float = Field(ge=-90, le=90, description="base location: where the caregiver sets out from")
    home_lon: float = Field(ge=-180, le=180)
    travel_mode: TravelMode = TravelMode.EBIKE
    max_load: int = Field(2, ge=1, le=20)
    skills: Annotated[Skills, Field(min_length=1)]
    shifts: list[Shift] = Field(min_length=1, max_length=50)
    absences: list[Absence] = Field(default_factory=list, max_length=100)


class CaregiverUpdate(Strict):
    """Fields to change; those left out stay as they are. Shifts and absences, when given, replace all."""

    provider_id: int | None = Field(None, ge=1, le=INT_MAX)
    name: Text | None = None
    gender: Annotated[str, StringConstraints(pattern=r"^[FM]$")] | None = None
    phone: MobilePhone | None = None
    language: Annotated[str, StringConstraints(pattern=r"^(zh|en)$")] | None = None
    home_lat: float | None = Field(None, ge=-90, le=90)
    home_lon: float | None = Field(None, ge=-180, le=180)
    travel_mode: TravelMode | None = None
    max_load: int | None = Field(None, ge=1, le=20)
    active: bool | None = None
    skills: Annotated[Skills | None, Field(min_length=1)] = None  # as on creation: at least one of each
    shifts: list[Shift] | None = Field(None, min_length=1, max_length=50)
    absences: list[Absence] | None = Field(None, max_length=100)


def communities_of(conn: psycopg.Connection, area: Area) -> list[int]:
    """The community ids an area names; refuses naming every unknown township or community at once."""
    ids: set[int] = set()
    unknown: list[Message] = []
    for township in area.townships:
        rows = conn.execute(
            "SELECT c.id FROM community c JOIN township t ON t.id = c.township_id WHERE t.code = %s OR t.name = %s",
            (township, township),
        ).fetchall()
        if (
            not rows
            and not conn.execute("SELECT 1 FROM township WHERE code = %s OR name = %s", (township, township)).fetchone()
        ):
            unknown.append(Message.of(N_("township %(name)r"), name=township))
        ids.update(r[0] for r in rows)
    for community in area.communities:
        row = conn.execute("SELECT id FROM community WHERE code = %s OR name = %s", (community, community)).fetchone()
        if row is None:
            unknown.append(Message.of(N_("community %(name)r"), name=community))
        else:
            ids.add(row[0])
    if unknown:
        raise Refused(
            Message.of(
                N_("unknown %(names)s; use a code or name from the list of townships and communities"),
                names=Listed(tuple(unknown)),
            )
        )
    return sorted(ids)


def provider_state(conn: psycopg.Connection, provider_id: int) -> dict[str, Any]:
    """The provider as the audit log records it before and after a change."""
    row = conn.execute(
        "SELECT code, name, phone, manager_name, manager_phone, capacity, standing, standing_note, active, "
        "contract_starts::text, contract_ends::text, kitchen_lat, kitchen_lon FROM provider WHERE id = %s",
        (provider_id,),
    ).fetchone()
    if row is None:
        raise Unknown(Message.of(N_("no provider with id %(id)s; pick one from the list of providers"), id=provider_id))
    keys = ("code", "name", "phone", "manager_name", "manager_phone", "capacity", "standing", "standing_note")
    state: dict[str, Any] = dict(zip((*keys, "active", "contract_starts", "contract_ends"), row[:11], strict=True))
    state["kitchen"] = {"lat": row[11], "lon": row[12]} if row[11] is not None else None
    state["services"] = [
        {"service": s, "price_fen": p}
        for s, p in conn.execute(
            "SELECT service_type, price_fen FROM provider_service WHERE provider_id = %s ORDER BY service_type",
            (provider_id,),
        )
    ]
    state["communities"] = [
        r[0]
        for r in conn.execute(
            "SELECT c.code FROM provider_area pa JOIN community c ON c.id = pa.community_id "
            "WHERE pa.provider_id = %s ORDER BY c.code",
            (provider_id,),
        )
    ]
    return state


def _set_offers(conn: psycopg.Connection, provider_id: int, offers: list[ServiceOffer]) -> None:
    conn.execute("DELETE FROM provider_service WHERE provider_id = %s", (provider_id,))
    for offer in offers:
        conn.execute(
            "INSERT INTO provider_service (provider_id, service_type, price_fen) VALUES (%s, %s, %s)",
            (provider_id, offer.service.value, offer.price_fen),
        )


def _set_area(conn: psycopg.Connection, provider_id: int, area: Area) -> None:
    communities = communities_of(conn, area)
    conn.execute("DELETE FROM provider_area WHERE provider_id = %s", (provider_id,))
    for community_id in communities:
        conn.execute(
            "INSERT INTO provider_area (provider_id, community_id) VALUES (%s, %s)", (provider_id, community_id)
        )


def _set_kitchen(conn: psycopg.Connection, provider_id: int, kitchen: KitchenPlace | None) -> None:
    place = (kitchen.lat, kitchen.lon) if kitchen else (None, None)
    conn.execute("UPDATE provider SET kitchen_lat = %s, kitchen_lon = %s WHERE id = %s", (*place, provider_id))


_PROVIDER_COLUMNS = (
    "name",
    "phone",
    "manager_name",
    "manager_phone",
    "capacity",
    "standing",
    "standing_note",
    "active",
    "contract_starts",
    "contract_ends",
)


def create_provider(conn: psycopg.Connection, data: ProviderCreate, actor: str) -> int:
    row = conn.execute(
        "INSERT INTO provider (code, name, phone, manager_name, manager_phone, capacity, standing, standing_note, "
        "contract_starts, contract_ends) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (code) DO NOTHING RETURNING id",
        (
            data.code,
            data.name,
            data.phone,
            data.manager_name,
            data.manager_phone,
            data.capacity,
            data.standing.value,
            data.standing_note,
            data.contract_starts,
            data.contract_ends,
        ),
    ).fetchone()
    if row is None:
        raise Clash(Message.of(N_("a provider with code %(code)r exists already; choose another code"), code=data.code))
    provider_id = int(row[0])
    _set_offers(conn, provider_id, data.services)
    _set_area(conn, provider_id, data.area)
    _set_kitchen(conn, provider_id, data.kitchen)
    after = provider_state(conn, provider_id)
    audit.record(conn, actor, "provider.create", "provider", provider_id, {"before": None, "after": after})
    return provider_id


def update_provider(conn: psycopg.Connection, provider_id: int, data: ProviderUpdate, actor: str) -> None:
    before = provider_state(conn, provider_id)
    given = data.model_dump(exclude_unset=True, exclude_none=True, mode="json")
    changes = {k: v for k, v in given.items() if k in _PROVIDER_COLUMNS}
    try:
        _contract(
            date.fromisoformat(changes.get("contract_starts") or before["contract_starts"] or "0001-01-01"),
            date.fromisoformat(changes.get("contract_ends") or before["contract_ends"] or "9999-12-31"),
        )
    except ValueError as exc:
        raise Refused(Message.of(N_("%(problem)s; change both dates together"), problem=exc.args[0])) from None
    if changes:
        # one statement, so the contract's two dates are checked together by the database too; the column
        # names come from _PROVIDER_COLUMNS, never from the request
        assignments = sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(column)) for column in changes)
        conn.execute(
            sql.SQL("UPDATE provider SET {} WHERE id = %s").format(assignments), (*changes.values(), provider_id)
        )
    if data.services is not None:
        _set_offers(conn, provider_id, data.services)
    if data.area is not None:
        _set_area(conn, provider_id, data.area)
    if "kitchen" in data.model_fields_set:  # given as null: the kitchen is cleared
        _set_kitchen(conn, provider_id, data.kitchen)
    after = provider_state(conn, provider_id)
    action = "provider.standing" if before["standing"] != after["standing"] else "provider.update"
    audit.record(conn, actor, action, "provider", provider_id, {"before": before, "after": after})


def caregiver_state(conn: psycopg.Connection, caregiver_id: int) -> dict[str, Any]:
    """The caregiver as the audit log records it before and after a change."""
    row = conn.execute(
        "SELECT code, provider_id, name, gender, phone, language, home_lat, home_lon, travel_mode, max_load, active "
        "FROM caregiver WHERE id = %s",
        (caregiver_id,),
    ).fetchone()
    if row is None:
        raise Unknown(
            Message.of(N_("no caregiver with id %(id)s; pick one from the list of caregivers"), id=caregiver_id)
        )
    keys = ("code", "provider_id", "name", "gender", "phone", "language", "home_lat", "home_lon", "travel_mode")
    state: dict[str, Any] = dict(zip((*keys, "max_load", "active"), row, strict=True))
    state["skills"] = [
        r[0]
        for r in conn.execute(
            "SELECT service_type FROM caregiver_skill WHERE caregiver_id = %s ORDER BY service_type", (caregiver_id,)
        )
    ]
    state["shifts"] = [
        {"weekday": w, "starts": s, "ends": e}
        for w, s, e in conn.execute(
            "SELECT weekday, to_char(starts, 'HH24:MI'), to_char(ends, 'HH24:MI') FROM caregiver_shift "
            "WHERE caregiver_id = %s ORDER BY weekday, starts",
            (caregiver_id,),
        )
    ]
    state["absences"] = [
        {"kind": k, "first_day": f.isoformat(), "last_day": last.isoformat(), "note": n}
        for k, f, last, n in conn.execute(
            "SELECT kind, first_day, last_day, note FROM caregiver_absence WHERE caregiver_id = %s ORDER BY first_day",
            (caregiver_id,),
        )
    ]
    return state


def _set_skills(conn: psycopg.Connection, caregiver_id: int, skills: list[ServiceType]) -> None:
    conn.execute("DELETE FROM caregiver_skill WHERE caregiver_id = %s", (caregiver_id,))
    for skill in skills:
        conn.execute("INSERT INTO caregiver_skill (caregiver_id, service_type) VALUES (%s, %s)", (caregiver_id, skill))


def _set_shifts(conn: psycopg.Connection, caregiver_id: int, shifts: list[Shift]) -> None:
    conn.execute("DELETE FROM caregiver_shift WHERE caregiver_id = %s", (caregiver_id,))
    for s in shifts:
        conn.execute(
            "INSERT INTO caregiver_shift (caregiver_id, weekday, starts, ends) VALUES (%s, %s, %s, %s)",
            (caregiver_id, s.weekday, s.starts, s.ends),
        )


def _set_absences(conn: psycopg.Connection, caregiver_id: int, absences: list[Absence]) -> None:
    conn.execute("DELETE FROM caregiver_absence WHERE caregiver_id = %s", (caregiver_id,))
    for a in absences:
        conn.execute(
            "INSERT INTO caregiver_absence (caregiver_id, kind, first_day, last_day, note) VALUES (%s, %s, %s, %s, %s)",
            (caregiver_id, a.kind.value, a.first_day, a.last_day, a.note),
        )


def _require_provider(conn: psycopg.Connection, provider_id: int) -> None:
    if conn.execute("SELECT 1 FROM provider WHERE id = %s", (provider_id,)).fetchone() is None:
        raise Unknown(Message.of(N_("no provider with id %(id)s; pick one from the list of providers"), id=provider_id))


def create_caregiver(conn: psycopg.Connection, data: CaregiverCreate, actor: str) -> int:
    _require_provider(conn, data.provider_id)
    row = conn.execute(  # a code or phone in use, even by someone added at this moment, inserts nothing
        "INSERT INTO caregiver (code, provider_id, name, gender, phone, language, home_lat, home_lon, travel_mode, "
        "max_load) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING id",
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
    if row is None:
        clash = conn.execute(
            "SELECT code FROM caregiver WHERE code = %s OR phone = %s", (data.code, data.phone)
        ).fetchone()
        raise Clash(
            Message.of(
                N_("caregiver %(code)s has this code or phone number already; check you are not adding them twice"),
                code=clash[0] if clash else data.code,
            )
        )
    caregiver_id = int(row[0])
    _set_skills(conn, caregiver_id, data.skills)
    _set_shifts(conn, caregiver_id, data.shifts)
    _set_absences(conn, caregiver_id, data.absences)
    after = caregiver_state(conn, caregiver_id)
    audit.record(conn, actor, "caregiver.create", "caregiver", caregiver_id, {"before": None, "after": after})
    return caregiver_id


_CAREGIVER_COLUMNS = (
    "provider_id",
    "name",
    "gender",
    "phone",
    "language",
    "home_lat",
    "home_lon",
    "travel_mode",
    "max_load",
    "active",
)


def update_caregiver(conn: psycopg.Connection, caregiver_id: int, data: CaregiverUpdate, actor: str) -> None:
    before = caregiver_state(conn, caregiver_id)
    changes = {
        k: v
        for k, v in data.model_dump(exclude_unset=True, exclude_none=True, mode="json").items()
        if k in _CAREGIVER_COLUMNS
    }
    if "provider_id" in changes:
        _require_provider(conn, changes["provider_id"])
    for column, value in changes.items():
        try:
            with conn.transaction():  # a phone in use, even by someone given it at this moment, changes nothing
                # column names come from _CAREGIVER_COLUMNS, never from the request
                conn.execute(f"UPDATE caregiver SET {column} = %s WHERE id = %s", (value, caregiver_id))  # noqa: S608
        except psycopg.errors.UniqueViolation:
            clash = conn.execute(
                "SELECT code FROM caregiver WHERE phone = %s AND id <> %s", (changes["phone"], caregiver_id)
            ).fetchone()
            raise Clash(
                Message.of(
                    N_("caregiver %(code)s has this phone number; each caregiver needs their own"),
                    code=clash[0] if clash else "?",
                )
            ) from None
    if data.skills is not None:
        _set_skills(conn, caregiver_id, data.skills)
    if data.shifts is not None:
        _set_shifts(conn, caregiver_id, data.shifts)
    if data.absences is not None:
        _set_absences(conn, caregiver_id, data.absences)
    after = caregiver_state(conn, caregiver_id)
    audit.record(conn, actor, "caregiver.update", "caregiver", caregiver_id, {"before": before, "after": after})
