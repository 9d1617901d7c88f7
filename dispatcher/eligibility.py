"""Why a caregiver is or is not offered a need: every matching rule of ``candidates`` checked one by one, so
that a person can see what to change (a skill, a shift, the provider's area), and the eligible ranked.

The rules are the same SQL fragments the dispatcher's selection uses (``ON_SHIFT``'s parts, ``UNDER_CONTRACT``).
"""

from __future__ import annotations

import gettext
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import cast
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql

from dispatcher.candidates import (
    ABSENT,
    LOAD,
    ROOM_IN_PLAN,
    UNDER_CONTRACT,
    WEEKLY_SHIFT,
    WORKED_HOURS,
    Need,
    need_of,
    shift_params,
    worked_params,
)
from dispatcher.lifecycle import load_order
from dispatcher.offers import ranking_now
from dispatcher.ranking import Candidate, Ranked, Ranking
from dispatcher.settings import Config
from eldercare.i18n import N_
from eldercare.labels import Coded, Message
from eldercare.vocabulary import HELD_SQL, ServiceType

_CHECKS = sql.SQL("""
SELECT c.id, c.code, c.provider_id, c.home_lat, c.home_lon, c.travel_mode, c.rating::float8,
       {load} AS load,
       c.max_load::int,
       EXISTS (SELECT 1 FROM service_order h
               WHERE h.elder_id = %(elder)s AND h.caregiver_id = c.id AND h.status IN ('completed', 'reviewed')),
       c.name, c.phone, c.language,
       c.active, c.sms_opt_out, p.active, p.standing, p.name, {under_contract},
       EXISTS (SELECT 1 FROM provider_service ps WHERE ps.provider_id = p.id AND ps.service_type = %(service)s),
       EXISTS (SELECT 1 FROM caregiver_skill s WHERE s.caregiver_id = c.id AND s.service_type = %(service)s),
       EXISTS (SELECT 1 FROM provider_area pa WHERE pa.provider_id = p.id AND pa.community_id = %(community)s),
       {weekly}, {absent},
       (SELECT ARRAY[ab.kind, ab.first_day::text, ab.last_day::text] FROM caregiver_absence ab
        WHERE ab.caregiver_id = c.id AND ab.first_day <= %(day)s AND ab.last_day >= %(day)s LIMIT 1),
       (SELECT count(*) FROM service_order so WHERE so.provider_id = p.id
          AND {held}) >= p.capacity,
       EXISTS (SELECT 1 FROM offer o WHERE o.order_id = %(order)s AND o.caregiver_id = c.id),
       CASE WHEN %(meal)s THEN p.kitchen_lat END, CASE WHEN %(meal)s THEN p.kitchen_lon END,
       {room},
       {worked}
FROM caregiver c JOIN provider p ON p.id = c.provider_id
WHERE {scope}
ORDER BY c.id
""")

# Whom a picker weighs: caregivers with the skill, or of a provider serving the community.
_NEARBY = """(c.id = ANY(%(caregivers)s) OR (%(wide)s AND c.active AND (
    EXISTS (SELECT 1 FROM caregiver_skill s WHERE s.caregiver_id = c.id AND s.service_type = %(service)s)
    AND EXISTS (SELECT 1 FROM provider_area pa WHERE pa.provider_id = c.provider_id
                AND pa.community_id = %(community)s))))"""


@dataclass(frozen=True, slots=True)
class Reason:
    """One rule a caregiver breaks: a stable code (for programs) and the particulars, a sentence put into the
    reader's language where it is shown (``words``; ``detail`` is the English)."""

    code: str
    message: Message

    @classmethod
    def of(cls, code: str, text: str, **values: object) -> Reason:
        return cls(code, Message.of(text, **values))

    @property
    def detail(self) -> str:
        return str(self.message)

    def words(self, translations: gettext.NullTranslations) -> str:
        return self.message.words(translations)


@dataclass(frozen=True, slots=True)
class Verdict:
    """One caregiver against one need: eligible when there are no reasons; ranked when eligible."""

    candidate: Candidate
    provider_name: str
    reasons: tuple[Reason, ...]
    ranked: Ranked

    @property
    def eligible(self) -> bool:
        return not self.reasons


def _standing(
    active: object, opted_out: object, provider_active: object, standing: object, provider: object, contract: object
) -> list[Reason]:
    """What rules out a caregiver whatever the need: their own state and their provider's."""
    found: list[Reason] = []
    if not active:
        found.append(Reason.of("inactive", N_("the caregiver is marked inactive")))
    if opted_out:
        found.append(Reason.of("opted_out", N_("opted out of SMS offers (they can reply START)")))
    if not provider_active:
        found.append(Reason.of("provider_inactive", N_("provider %(provider)s is inactive"), provider=provider))
    if standing == "black":
        found.append(Reason.of("provider_black", N_("provider %(provider)s is black-listed"), provider=provider))
    if not contract:
        found.append(
            Reason.of(
                "provider_contract", N_("provider %(provider)s has no contract covering the day"), provider=provider
            )
        )
    return found


def _unsold(provider: object, service: str) -> Reason:
    return Reason.of(
        "provider_service",
        N_("provider %(provider)s does not sell %(service)s"),
        provider=provider,
        service=Coded("service", service),
    )


def _fit(sells: object, skill: object, area: object, provider: object, service: str) -> list[Reason]:
    """What rules out a caregiver for a service to an elder, whatever the day: the skill, what their provider sells
    and where it serves."""
    found: list[Reason] = []
    if not sells:
        found.append(_unsold(provider, service))
    if not skill:
        found.append(Reason.of("no_skill", N_("no %(service)s skill"), service=Coded("service", service)))
    if not area:
        found.append(
            Reason.of(
                "outside_area", N_("provider %(provider)s does not serve the elder's community"), provider=provider
            )
        )
    return found


_LASTING = """
SELECT c.code, c.active, p.active, p.standing, p.name,
       EXISTS (SELECT 1 FROM provider_service ps WHERE ps.provider_id = p.id AND ps.service_type = %(service)s),
       EXISTS (SELECT 1 FROM caregiver_skill s WHERE s.caregiver_id = c.id AND s.service_type = %(service)s),
       EXISTS (SELECT 1 FROM provider_area pa JOIN elder e ON e.community_id = pa.community_id
               WHERE pa.provider_id = p.id AND e.id = %(elder)s)
FROM caregiver c JOIN provider p ON p.id = c.provider_id
WHERE c.id = %(caregiver)s
"""


def lasting_reasons(
    conn: psycopg.Connection, caregiver_id: int, elder_id: int, service: str
) -> tuple[str, list[Reason]] | None:
    """The caregiver's code and what rules them out of ``service`` to the elder whatever the day (their and their
    provider's state, the skill, what the provider sells and where it serves; not the shift, an absence, the load,
    a contract's dates or an SMS opt-out, which pass); None: no such caregiver. For a standing choice of caregiver,
    such as a recurring service's preferred one."""
    row = conn.execute(_LASTING, {"caregiver": caregiver_id, "elder": elder_id, "service": service}).fetchone()
    if row is None:
        return None
    code, active, provider_active, standing, provider, sells, skill, area = row
    found = _standing(active, False, provider_active, standing, provider, True)
    return str(code), found + _fit(sells, skill, area, provider, service)


def _away(absence: object) -> Reason:
    """The absence that keeps a caregiver away: its row's [kind, first day, last day]."""
    kind, first_day, last_day = cast("list[str]", absence)
    return Reason.of(
        "absent",
        N_("away (%(kind)s) %(first_day)s to %(last_day)s"),
        kind=Coded("absence", kind),
        first_day=first_day,
        last_day=last_day,
    )


def _reasons(row: tuple[object, ...], need: Need, timezone: ZoneInfo) -> tuple[Reason, ...]:
    (active, opted_out, provider_active, standing, provider_name, contract, sells, skill, area, weekly, absent) = row[
        13:24
    ]
    absence, provider_full, offered = row[24:27]
    room = row[29]
    load, max_load = row[7], row[8]
    found = _standing(active, opted_out, provider_active, standing, provider_name, contract)
    found += _fit(sells, skill, area, provider_name, need.service_type)
    if not weekly:
        local = need.wanted_at.astimezone(timezone)
        found.append(
            Reason.of(
                "off_shift",
                N_("no weekly shift covering %(weekday)s %(time)s (local time)"),
                weekday=Coded("weekday", local.isoweekday()),
                time=f"{local:%H:%M}",
            )
        )
    if absent:
        found.append(_away(absence))
    if load >= max_load:  # type: ignore[operator]
        found.append(Reason.of("max_load", N_("holds %(load)s of %(max_load)s orders"), load=load, max_load=max_load))
    if provider_full:
        found.append(
            Reason.of(
                "provider_full",
                N_("provider %(provider)s is at its capacity of orders in progress"),
                provider=provider_name,
            )
        )
    if not room:
        found.append(
            Reason.of(
                "plan_busy",
                N_("their day (the plan in force, the visit they are at) leaves no gap for it inside its window"),
            )
        )
    if offered:
        found.append(Reason.of("offered", N_("was offered this order already")))
    return tuple(found)


def judge(
    conn: psycopg.Connection,
    need: Need,
    ranking: Ranking,
    timezone: ZoneInfo,
    *,
    caregivers: Sequence[int] = (),
    nearby: bool = False,
) -> list[Verdict]:
    """Verdicts on the given caregivers (and, with ``nearby``, everyone with the skill whose provider serves the
    community): eligible first by the ranking's cost, then the others by distance."""
    params = {
        **shift_params(need.wanted_at, timezone),
        "elder": need.elder_id,
        "service": need.service_type,
        "community": need.community_id,
        "order": need.order_id,
        "caregivers": list(caregivers),
        "wide": nearby,
        "routine": not need.emergency,
        "meal": need.service_type == ServiceType.MEAL,
        **worked_params(need.wanted_at),
        **need.room_params(),
    }
    query = _CHECKS.format(
        load=sql.SQL(LOAD),
        held=sql.SQL(HELD_SQL),
        under_contract=sql.SQL(UNDER_CONTRACT),
        weekly=sql.SQL(WEEKLY_SHIFT),
        absent=sql.SQL(ABSENT),
        scope=sql.SQL(_NEARBY),
        room=sql.SQL(ROOM_IN_PLAN),
        worked=sql.SQL(WORKED_HOURS),
    )
    verdicts = []
    for row in conn.execute(query, params).fetchall():
        candidate = replace(Candidate(*row[:13]), via_lat=row[27], via_lon=row[28], worked_hours=row[30])
        ranked = ranking.rank(candidate, need.lat, need.lon)
        reasons = _reasons(row, need, timezone)
        if not ranking.in_time(ranked):
            reasons += (_too_late(ranked, ranking),)
        verdicts.append(Verdict(candidate, str(row[17]), reasons, ranked))
    verdicts.sort(key=lambda v: (not v.eligible, v.ranked.key if v.eligible else (v.ranked.distance_km, 0)))
    return verdicts


def _too_late(ranked: Ranked, ranking: Ranking) -> Reason:
    return Reason.of(
        "too_late",
        N_("would be there in about %(eta)s minutes, later than the %(within)s minutes it must be reached in"),
        eta=round(ranked.eta_min),
        within=round(ranking.arrive_within_min or 0),
    )


# Reasons that forbid handing an order to a caregiver by hand; the others are noted as warnings.
REFUSALS = frozenset({"inactive", "opted_out", "provider_inactive", "provider_black"})


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """One caregiver against one need, for an offer made by hand: what forbids it (sentences for the reader), and
    what is unusual (English, kept with the offer's reasons)."""

    verdict: Verdict | None
    refusals: tuple[Message, ...]
    warnings: tuple[str, ...]


def diagnose(
    conn: psycopg.Connection, need: Need, ranking: Ranking, caregiver_id: int, timezone: ZoneInfo
) -> Diagnosis:
    """Whether this caregiver may be offered the need by hand (an operator's choice, an elder's usual caregiver),
    by the same rules as ``judge``: the hard ones refuse, the rest are warnings."""
    verdicts = judge(conn, need, ranking, timezone, caregivers=[caregiver_id])
    if not verdicts:
        return Diagnosis(None, (Message.of(N_("there is no caregiver with id %(id)s"), id=caregiver_id),), ())
    verdict = verdicts[0]
    code = verdict.candidate.code
    return Diagnosis(
        verdict,
        tuple(
            Message.of(N_("caregiver %(code)s: %(reason)s"), code=code, reason=r.message)
            for r in verdict.reasons
            if r.code in REFUSALS
        ),
        tuple(r.detail for r in verdict.reasons if r.code not in REFUSALS),
    )


def order_verdicts(
    conn: psycopg.Connection, now: datetime, config: Config, order_id: int, *, caregivers: Sequence[int] = ()
) -> list[Verdict]:
    """Verdicts for an order (raises ``OrderNotFound``): the given caregivers and everyone nearby in the sense of
    ``judge``, ranked as the dispatcher would rank them now."""
    order = load_order(conn, order_id)
    need = need_of(conn, order, now)
    return judge(conn, need, ranking_now(config, order, now), config.timezone, caregivers=caregivers, nearby=True)


def elder_verdicts(
    conn: psycopg.Connection,
    config: Config,
    elder_id: int,
    service: ServiceType,
    at: datetime,
    *,
    caregivers: Sequence[int] = (),
    nearby: bool = True,
) -> list[Verdict] | None:
    """Verdicts for a service an elder might order at ``at`` (None: no such elder)."""
    row = conn.execute("SELECT community_id, lat, lon FROM elder WHERE id = %s", (elder_id,)).fetchone()
    if row is None:
        return None
    need = Need(0, elder_id, row[0], service.value, row[1], row[2], at)
    emergency = service == ServiceType.EMERGENCY
    ranking = Ranking(config.dispatch.weights(emergency), config.dispatch.travel, emergency)
    return judge(conn, need, ranking, config.timezone, caregivers=caregivers, nearby=nearby)


_READINESS = sql.SQL("""
SELECT c.active, c.sms_opt_out, p.active, p.standing, p.name, {under_contract},
       ARRAY(SELECT s.service_type FROM caregiver_skill s JOIN provider_service ps
             ON ps.provider_id = p.id AND ps.service_type = s.service_type
             WHERE s.caregiver_id = c.id ORDER BY s.service_type),
       ARRAY(SELECT s.service_type FROM caregiver_skill s WHERE s.caregiver_id = c.id AND NOT EXISTS (
             SELECT 1 FROM provider_service ps WHERE ps.provider_id = p.id AND ps.service_type = s.service_type)
             ORDER BY s.service_type),
       (SELECT count(*) FROM provider_area pa WHERE pa.provider_id = p.id)::int,
       (SELECT count(*) FROM caregiver_shift sh WHERE sh.caregiver_id = c.id)::int,
       (SELECT ARRAY[ab.kind, ab.first_day::text, ab.last_day::text] FROM caregiver_absence ab
        WHERE ab.caregiver_id = c.id AND ab.first_day <= %(day)s AND ab.last_day >= %(day)s LIMIT 1)
FROM caregiver c JOIN provider p ON p.id = c.provider_id
WHERE c.id = %(caregiver)s
""").format(under_contract=sql.SQL(UNDER_CONTRACT))


@dataclass(frozen=True, slots=True)
class Readiness:
    """What a caregiver will be offered, in general: the services, how many communities, and what stands in the
    way (``blocked``: nothing at all will be offered until the reasons are put right)."""

    services: tuple[str, ...]
    communities: int
    reasons: tuple[Reason, ...]

    @property
    def blocked(self) -> bool:
        partial = {"provider_service", "absent"}
        return not self.services or not self.communities or any(r.code not in partial for r in self.reasons)


def readiness(conn: psycopg.Connection, caregiver_id: int, at: datetime, timezone: ZoneInfo) -> Readiness | None:
    """Whether the caregiver can be offered anything (None: no such caregiver), checked at ``at`` for the
    provider's contract and the caregiver's absences."""
    row = conn.execute(_READINESS, {**shift_params(at, timezone), "caregiver": caregiver_id}).fetchone()
    if row is None:
        return None
    active, opted_out, provider_active, standing, provider, contract, services, unsold, area, shifts, absence = row
    found = _standing(active, opted_out, provider_active, standing, provider, contract)
    if not services and not unsold:
        found.append(Reason.of("no_skill", N_("no skills: add the services they can do")))
    found += [_unsold(provider, service) for service in unsold]
    if not area:
        found.append(
            Reason.of(
                "outside_area", N_("provider %(provider)s serves no community yet: set its area"), provider=provider
            )
        )
    if not shifts:
        found.append(Reason.of("off_shift", N_("no weekly shifts: add when they work")))
    if absence:
        found.append(_away(absence))
    return Readiness(tuple(services), area, tuple(found))
