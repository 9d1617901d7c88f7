"""What a day's plan is made of, read from the database: the booked visits of a local day, the caregivers on
shift as the vehicles that may take them, and for each visit nobody may take, why (in eligibility's words).

Booked visits are the day's occurrences of active recurring services and the orders with a window on that day
that nobody holds yet (no caregiver, not an emergency). The rules are the matching's: the skill, a provider that
sells the service, serves the elder's community, is active, not black-listed and under contract, a weekly shift
that day and no absence. A caregiver whose shifts leave a gap is one vehicle per shift.

A meal is cooked in a kitchen: when a provider whose caregivers may take it has one, the nearest such kitchen to
the elder is the meal's, and only that provider's caregivers may take it (they collect it there and deliver it);
the other such kitchens, nearest first, are kept for the solver to fall back on. Without any such kitchen the
meal is taken from the caregiver's home, as any other visit.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql

from dispatcher.candidates import MAY_WORK, Checked, at_kitchen, located
from dispatcher.eligibility import Reason
from dispatcher.matching import distance_floor_km
from dispatcher.recurring import occurrences, trigger_for
from dispatcher.settings import TravelModel
from eldercare.i18n import N_
from eldercare.labels import Coded
from eldercare.priority import BOOKED, priorities
from eldercare.vocabulary import LIVE_OFFER, ServiceType


@dataclass(frozen=True, slots=True)
class Kitchen:
    """Where a provider's meals are cooked and collected."""

    provider_id: int
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Visit:
    """One booked visit: whose, what, where, and the window its start must fall in."""

    elder_id: int
    service_type: str
    community_id: int
    lat: float
    lon: float
    window_start: datetime
    window_end: datetime
    duration_min: int
    recurring_service_id: int | None = None
    occurrence_at: datetime | None = None
    order_id: int | None = None
    # caregivers who served the elder before or are their usual one: the plan prefers them
    regulars: frozenset[int] = frozenset()
    # the caregiver the visit must stay with (a confirmed route, an operator's pin), when still eligible
    pinned_to: int | None = None
    # an operator's pin: it stays with that caregiver even when they have no room (a confirmed route's visit is
    # planned over the others then)
    pin_firm: bool = False
    # the caregiver who holds its order already: it stays with them, or nobody
    held_by: int | None = None
    # promised by a caregiver who may no longer take it (away, off shift, no longer allowed): it gives way to
    # promises their caregivers still keep
    gives_way: bool = False
    # the elder's place when capacity is short (eldercare.priority: lower first, BOOKED for nobody's group)
    priority: int = BOOKED
    # a meal collected at this kitchen before it is delivered (None: nothing to collect)
    kitchen: Kitchen | None = None
    # a meal its caregiver has collected already (set off for its batch): delivered from where they are
    carried: bool = False

    @property
    def promised(self) -> bool:
        """Its caregiver holds its order, or has it on a confirmed route or by an operator's pin."""
        return self.pinned_to is not None or self.held_by is not None

    @property
    def key(self) -> tuple[int | None, datetime | None, int | None]:
        """What names the visit across plans: its occurrence, or its order."""
        if self.recurring_service_id is not None:
            return (self.recurring_service_id, self.occurrence_at, None)
        return (None, None, self.order_id)


@dataclass(frozen=True, slots=True)
class Worker:
    """A caregiver for one stretch of work on the day (a shift), as a vehicle of the routing problem."""

    caregiver_id: int
    code: str
    provider_id: int
    travel_mode: str
    lat: float
    lon: float
    starts: datetime
    ends: datetime
    serves: frozenset[tuple[int, str]] = field(default_factory=frozenset)  # (community, service)
    # where the day ends when the worker starts elsewhere (a re-plan during the day: at a visit): home
    home: tuple[float, float] | None = None


@dataclass(slots=True)
class Problem:
    """A day to plan: visits, workers, who may take what, and why nobody may take some."""

    day: date
    midnight: datetime  # local midnight starting the day, timezone-aware
    visits: list[Visit]
    workers: list[Worker]
    allowed: list[list[int]]  # per visit: the indexes of workers who may take it
    unservable: dict[int, Reason]  # visit index -> why nobody may take it
    # meal index -> the kitchens it may come from, nearest first, each with the workers who may take it from there
    kitchen_choices: dict[int, list[tuple[Kitchen, list[int]]]] = field(default_factory=dict)
    # a visit held by its caregiver (its order) or kept with them (a confirmed route) -> the workers who may take it
    # over should that caregiver have no room (a held order then moves to them)
    others: dict[int, list[int]] = field(default_factory=dict)
    # held visits whose caregivers cannot take them that day: planned over the others, or released; each with the
    # code of the rule its holder breaks (``_why_nobody``'s: absent, off_shift, busy, ...), or ``pinned`` (an operator
    # pinned it to another caregiver)
    given_up: dict[int, str] = field(default_factory=dict)

    def workers_who_may(self, index: int) -> set[int]:
        """The workers (indexes) who may take the visit: those the problem allows, and for a meal the staff of every
        kitchen that may cook it, not only of the one it is planned from."""
        return set(self.allowed[index]).union(*(cooks for _, cooks in self.kitchen_choices.get(index, [])))

    def caregivers_who_may(self, index: int) -> set[int]:
        """The caregivers behind ``workers_who_may`` (a caregiver with two shifts that day is two workers)."""
        return {self.workers[w].caregiver_id for w in self.workers_who_may(index)}

    def move_to_kitchen(self, index: int, choice: int) -> None:
        """Plan a meal from another of its kitchens: only that kitchen's staff may take it."""
        kitchen, may = self.kitchen_choices[index][choice]
        self.visits[index] = replace(self.visits[index], kitchen=kitchen)
        self.allowed[index] = may

    def seconds(self, at: datetime) -> int:
        """A moment as seconds after the day's local midnight (the solver's clock)."""
        return int((at - self.midnight).total_seconds())

    def at(self, seconds: float) -> datetime:
        return self.midnight + timedelta(seconds=seconds)


@dataclass(slots=True)
class Staff:
    """Everything about one caregiver the rules look at."""

    id: int
    code: str
    provider_id: int
    travel_mode: str
    lat: float
    lon: float
    usable: bool  # active, reachable by SMS, provider active, in good standing and under contract
    black: bool
    services: frozenset[str]  # skills the provider also sells
    communities: frozenset[int]
    absent: bool
    kitchen: Kitchen | None = None  # the provider's
    spans: list[tuple[datetime, datetime]] = field(default_factory=list)
    home: tuple[float, float] | None = None  # set when (lat, lon) is no longer home but where they are
    # their shifts as rostered, where a same-day re-plan keeps in ``spans`` only the time they are free
    rostered: list[tuple[datetime, datetime]] | None = None


_STAFF = sql.SQL("""
SELECT c.id, c.code, c.provider_id, c.travel_mode, c.home_lat, c.home_lon,
       {may_work},
       p.standing = 'black',
       ARRAY(SELECT s.service_type FROM caregiver_skill s JOIN provider_service ps
             ON ps.provider_id = p.id AND ps.service_type = s.service_type WHERE s.caregiver_id = c.id),
       ARRAY(SELECT pa.community_id FROM provider_area pa WHERE pa.provider_id = p.id),
       EXISTS (SELECT 1 FROM caregiver_absence ab WHERE ab.caregiver_id = c.id
               AND ab.first_day <= %(day)s AND ab.last_day >= %(day)s),
       p.kitchen_lat, p.kitchen_lon
FROM caregiver c JOIN provider p ON p.id = c.provider_id
ORDER BY c.id
""").format(may_work=sql.SQL(MAY_WORK))

_SHIFTS = "SELECT caregiver_id, weekday, starts, ends FROM caregiver_shift WHERE weekday IN (%s, %s)"

_RECURRING = """
SELECT rs.id, rs.elder_id, rs.service_type, rs.schedule, rs.duration_min, rs.starts_on, rs.ends_on,
       rs.preferred_caregiver_id, e.community_id, e.lat, e.lon
FROM recurring_service rs JOIN elder e ON e.id = rs.elder_id
WHERE rs.active AND e.active AND rs.starts_on <= %(day)s AND (rs.ends_on IS NULL OR rs.ends_on >= %(day)s)
  AND rs.service_type <> 'emergency'
ORDER BY rs.id
"""

# Orders of the day already made: an occurrence's order (the plan takes it over while nobody holds it) and
# orders with a window that nobody holds yet.
_ORDERS = """
SELECT o.id, o.elder_id, o.service_type, o.window_start, o.window_end, o.duration_min, o.recurring_service_id,
       o.occurrence_at, o.caregiver_id,
       CASE WHEN EXISTS (SELECT 1 FROM offer f WHERE f.order_id = o.id AND f.status = ANY(%(live)s)) THEN 'offered'
            ELSE o.status END,
       e.community_id, e.lat, e.lon, o.collected_at IS NOT NULL
FROM service_order o JOIN elder e ON e.id = o.elder_id
WHERE o.window_start >= %(start)s AND o.window_start < %(end)s AND o.alarm_id IS NULL
  AND o.service_type <> 'emergency' AND o.status <> 'cancelled'
ORDER BY o.id
"""  # an order with an offer out is the offer's to settle, not the plan's: it counts as offered

# Where caregivers are during a re-plan: on a visit under way (set off for, or being served) until it ends, on the
# way with meals they carry, or after the last visit they finished since the day began.
_UNDER_WAY = """
SELECT o.caregiver_id, o.service_type, o.duration_min, o.window_start, o.accepted_at, o.en_route_at, o.arrived_at,
       o.completed_at,
       o.collected_at IS NOT NULL, e.lat, e.lon,
       (SELECT min(n.accepted_at) FROM service_order n WHERE n.caregiver_id = o.caregiver_id AND n.status = 'accepted'),
       way.kitchen_lat, way.kitchen_lon
FROM service_order o JOIN elder e ON e.id = o.elder_id
-- the meal that collected its batch when they set off for it: they go by their provider's kitchen first
LEFT JOIN caregiver c ON c.id = o.caregiver_id AND o.service_type = 'meal' AND o.collected_at = o.en_route_at
LEFT JOIN provider way ON way.id = c.provider_id
WHERE o.caregiver_id IS NOT NULL
  AND (o.status IN ('en_route', 'arrived') OR (o.completed_at >= %(since)s AND o.completed_at <= %(now)s))
"""

_REGULARS = """
SELECT DISTINCT elder_id, caregiver_id FROM service_order
WHERE elder_id = ANY(%s) AND caregiver_id IS NOT NULL AND status IN ('completed', 'reviewed')
"""


def _spans(day: date, tz: ZoneInfo, weekday_rows: Sequence[tuple[int, time, time]]) -> list[tuple[datetime, datetime]]:
    """The stretches of work a caregiver has on the local ``day`` from their weekly shifts (an overnight shift
    of the day before counts until it ends); touching stretches are joined."""
    midnight = datetime.combine(day, time(0), tzinfo=tz)
    today, yesterday = day.isoweekday(), (day - timedelta(days=1)).isoweekday()
    spans = []
    for weekday, starts, ends in weekday_rows:
        overnight = ends <= starts
        if weekday == today:
            start = datetime.combine(day, starts, tzinfo=tz)
            end = datetime.combine(day + timedelta(days=1) if overnight else day, ends, tzinfo=tz)
            spans.append((start, end))
        if weekday == yesterday and overnight:
            spans.append((midnight, datetime.combine(day, ends, tzinfo=tz)))
    spans.sort()
    joined: list[tuple[datetime, datetime]] = []
    for start, end in spans:
        if joined and start <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(joined[-1][1], end))
        else:
            joined.append((start, end))
    return joined


def load_staff(conn: psycopg.Connection, day: date, tz: ZoneInfo) -> list[Staff]:
    """Every caregiver with what the rules look at on the local ``day``."""
    staff = [
        Staff(
            cid,
            code,
            provider,
            mode,
            lat,
            lon,
            usable,
            black,
            frozenset(services),
            frozenset(area),
            absent,
            Kitchen(provider, k_lat, k_lon) if k_lat is not None else None,
        )
        for cid, code, provider, mode, lat, lon, usable, black, services, area, absent, k_lat, k_lon in conn.execute(
            _STAFF, {"day": day}
        ).fetchall()
    ]
    weekly: dict[int, list[tuple[int, time, time]]] = {}
    yesterday = (day - timedelta(days=1)).isoweekday()
    for caregiver_id, weekday, starts, ends in conn.execute(_SHIFTS, (day.isoweekday(), yesterday)).fetchall():
        weekly.setdefault(caregiver_id, []).append((weekday, starts, ends))
    for member in staff:
        member.spans = _spans(day, tz, weekly.get(member.id, []))
    return staff


def load_visits(conn: psycopg.Connection, day: date, tz: ZoneInfo) -> list[tuple[Visit, bool]]:
    """The day's booked visits, each with whether the plan may still place it (nobody holds it yet)."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = start + timedelta(days=1)
    found: list[tuple[Visit, bool]] = []
    made: set[tuple[int, datetime]] = set()
    for row in conn.execute(_ORDERS, {"start": start, "end": end, "live": [s.value for s in LIVE_OFFER]}).fetchall():
        (order_id, elder, service, w_start, w_end, minutes, rs_id, occurrence, holder, status, community) = row[:11]
        lat, lon, collected = row[11:]
        if rs_id is not None:
            made.add((rs_id, occurrence))
        visit = Visit(elder, service, community, lat, lon, w_start, w_end, minutes, rs_id, occurrence, order_id)
        if status == "accepted" or (status == "en_route" and collected):
            # held and not under way yet, or a meal of the batch its caregiver set off with (the one they set off
            # for first is not always the first they bring): it stays with its caregiver, and takes their time
            found.append((replace(visit, held_by=holder, carried=collected), True))
        else:
            found.append((visit, holder is None and status in ("created", "escalated")))
    for row in conn.execute(_RECURRING, {"day": day}).fetchall():
        rs_id, elder, service, schedule, minutes, _, _, preferred, community, lat, lon = row
        try:
            trigger = trigger_for(schedule, tz)
        except ValueError:
            continue  # the recurring scheduler warns about it
        regulars = frozenset({preferred}) if preferred is not None else frozenset()
        for when in occurrences(trigger, start, end):
            if (rs_id, when) not in made:
                window_end = when + timedelta(minutes=minutes)
                visit = Visit(
                    elder, service, community, lat, lon, when, window_end, minutes, rs_id, when, None, regulars
                )
                found.append((visit, True))
    first = priorities(conn, {visit.elder_id for visit, _ in found}, day)
    return [(replace(visit, priority=first[visit.elder_id]), free) for visit, free in found]


def _whereabouts(
    conn: psycopg.Connection, day: date, tz: ZoneInfo, now: datetime, minutes_on_site: Mapping[str, int]
) -> dict[int, tuple[datetime, Checked, Checked | None, datetime | None]]:
    """Caregiver -> when they are free and the order that says where they are: the visit they are on, free at its
    end (one set off for is taken as reached by the time its window opens, or now); out with a batch of meals
    (set off for one they carry), free now, on the way (the meals are visits of the plan, ``load_visits``) from
    where they were when they set off (after the last visit they had finished by then, if any, else from home), by
    the kitchen when the meal they set off for collected the batch; else the last visit they finished today, free
    now; ``located`` reckons where they are, with when they took the order they wait to set off for, if any.
    Caregivers not found are at home."""
    since = datetime.combine(day, time(0), tzinfo=tz)
    found: dict[int, tuple[datetime, datetime, Checked, datetime | None]] = {}  # -> (free, as of, order, waiting)
    finished: dict[int, list[tuple[datetime, Checked]]] = {}  # -> (completed, the order), visits done today
    for row in conn.execute(_UNDER_WAY, {"since": since, "now": now}).fetchall():
        caregiver_id, service, minutes, opens, accepted, set_off, arrived, completed, carried, lat, lon = row[:11]
        waiting, via_lat, via_lon = row[11:]
        via = None if via_lat is None else (via_lat, via_lon)
        on_the_way = carried and arrived is None  # out with meals they carry
        if completed is not None:
            free, as_of = now, completed
            visit = Checked((lat, lon), accepted, completed=completed)
            finished.setdefault(caregiver_id, []).append((completed, visit))
        elif on_the_way:
            free, as_of = now, now
        else:
            starts = arrived if arrived is not None else max(now, opens)
            free, as_of = max(now, starts + timedelta(minutes=minutes_on_site.get(service, minutes))), now
        if caregiver_id not in found or (free, as_of) > found[caregiver_id][:2]:
            order = Checked((lat, lon), accepted, set_off=set_off if on_the_way else None, completed=completed, via=via)
            found[caregiver_id] = (free, as_of, order, waiting)
    where = {}
    for caregiver_id, (free, _, order, waiting) in found.items():
        before = None
        if order.set_off is not None:  # where they set off from: after the last visit they had finished by then
            earlier = [(at, visit) for at, visit in finished.get(caregiver_id, []) if at <= order.set_off]
            before = max(earlier, key=lambda item: item[0])[1] if earlier else None
        where[caregiver_id] = (free, order, before, waiting)
    return where


NO_ROOM = Reason.of("no_room", N_("no eligible caregiver's day has room to reach it inside its window"))


def _rostered(member: Staff) -> list[tuple[datetime, datetime]]:
    return member.spans if member.rostered is None else member.rostered


def _why_nobody(visit: Visit, staff: Sequence[Staff], tz: ZoneInfo, now: datetime | None = None) -> Reason:
    """The first rule, in the order a person would put things right, that leaves nobody for the visit (times in
    the day's local time, whichever zone the visit's window was read in); in a same-day re-plan (``now``), a
    window already past comes first: nobody can serve it in time any more."""
    service, community = visit.service_type, visit.community_id
    opens, closes = visit.window_start.astimezone(tz), visit.window_end.astimezone(tz)

    def during(spans: list[tuple[datetime, datetime]]) -> bool:
        return any(a < visit.window_end and b > visit.window_start for a, b in spans)

    if now is not None and visit.window_end <= now:
        return Reason.of(
            "window_past", N_("its window ended at %(closes)s, before this plan"), closes=f"{closes:%H:%M}"
        )
    skill = Coded("service", service)
    rules: list[tuple[Reason, object]] = [
        (
            Reason.of("no_skill", N_("no caregiver has the %(service)s skill at a provider selling it"), service=skill),
            lambda s: service in s.services,
        ),
        (
            Reason.of(
                "outside_area",
                N_("no provider selling %(service)s serves the elder's community %(community)s"),
                service=skill,
                community=community,
            ),
            lambda s: community in s.communities,
        ),
        (
            Reason.of(
                "provider_black" if any(s.black for s in staff) else "inactive",
                N_(
                    "the caregivers who could go are inactive, opted out of SMS, or their provider is inactive, "
                    "black-listed or out of contract"
                ),
            ),
            lambda s: s.usable,
        ),
        (
            Reason.of(
                "off_shift",
                N_("nobody eligible works between %(opens)s and %(closes)s that day"),
                opens=f"{opens:%H:%M}",
                closes=f"{closes:%H:%M}",
            ),
            lambda s: during(_rostered(s)),
        ),
        (Reason.of("absent", N_("everyone who could go is away (leave or sick) that day")), lambda s: not s.absent),
        (
            Reason.of(
                "busy",
                N_("nobody who could go is free before %(closes)s: they are busy with visits under way"),
                closes=f"{closes:%H:%M}",
            ),
            lambda s: during(s.spans),
        ),
    ]
    left = list(staff)
    for reason, keep in rules:
        left = [s for s in left if keep(s)]  # type: ignore[operator]
        if not left:
            return reason
    return NO_ROOM


def _why_given_up(visit: Visit, holder: Sequence[Staff], tz: ZoneInfo) -> str:
    """Why the caregiver holding a visit (``holder``: them, or nobody when they are gone) may not keep it: the code
    of the first rule they break (``_why_nobody``'s), or ``pinned`` when they break none (an operator pinned the
    visit to someone else)."""
    code = _why_nobody(visit, holder, tz).code if holder else "inactive"
    return "pinned" if code == NO_ROOM.code and visit.pinned_to is not None else code


def _kitchen_choices(
    visit: Visit, may: Sequence[int], workers: Sequence[Worker], kitchens: Mapping[int, Kitchen]
) -> list[tuple[Kitchen, list[int]]]:
    """The kitchens a meal may be collected at, nearest to the elder first: those of the providers who may take
    it, each with its staff among them (a meal is delivered by the staff of the kitchen that cooks it)."""
    if visit.service_type != ServiceType.MEAL or visit.carried:
        return []
    near = [kitchens[p] for p in sorted({workers[i].provider_id for i in may}) if p in kitchens]
    near.sort(key=lambda k: distance_floor_km(visit.lat, visit.lon, k.lat, k.lon))
    return [(k, [i for i in may if workers[i].provider_id == k.provider_id]) for k in near]


def build(
    day: date,
    tz: ZoneInfo,
    staff: Sequence[Staff],
    visits: Sequence[Visit],
    served: dict[int, set[int]],
    now: datetime | None = None,
) -> Problem:
    """The routing problem of ``visits`` over ``staff`` (``served``: elder -> caregivers who served them; ``now``:
    the time of a same-day re-plan)."""
    workers = [
        Worker(
            s.id,
            s.code,
            s.provider_id,
            s.travel_mode,
            s.lat,
            s.lon,
            a,
            b,
            frozenset((c, service) for c in s.communities for service in s.services),
            s.home,
        )
        for s in staff
        if s.usable and not s.absent
        for a, b in s.spans
    ]
    kitchens = {s.provider_id: s.kitchen for s in staff if s.kitchen is not None}
    problem_visits: list[Visit] = []
    allowed: list[list[int]] = []
    unservable: dict[int, Reason] = {}
    kitchen_choices: dict[int, list[tuple[Kitchen, list[int]]]] = {}
    others: dict[int, list[int]] = {}
    given_up: dict[int, str] = {}
    member = {s.id: s for s in staff}
    for visit in visits:
        regulars = visit.regulars | frozenset(served.get(visit.elder_id, ()))
        visit = replace(visit, regulars=regulars)
        may = [
            i
            for i, w in enumerate(workers)
            if (visit.community_id, visit.service_type) in w.serves
            and w.starts < visit.window_end
            and w.ends > visit.window_start
        ]
        anyone, theirs, kept = may, [], False
        holder = [member[visit.held_by]] if visit.held_by in member else []  # nobody when they are gone
        if visit.pinned_to is not None and any(workers[i].caregiver_id == visit.pinned_to for i in may):
            may = [i for i in may if workers[i].caregiver_id == visit.pinned_to]
            kept = not visit.pin_firm
        elif visit.pinned_to is not None:
            visit = replace(visit, gives_way=True)
        if visit.held_by is not None:
            theirs = [i for i in may if workers[i].caregiver_id == visit.held_by]
            # a holder away or off that day gives the visit up to the plan (its order moves), unless they carry it
            may = theirs if theirs or visit.carried else may
            if not theirs and not visit.carried:
                why = given_up[len(problem_visits)] = _why_given_up(visit, holder, tz)
                # one an operator pinned to someone else keeps its weight: their decision, not a broken promise
                visit = replace(visit, gives_way=why != "pinned")
        choices = _kitchen_choices(visit, may, workers, kitchens)
        if choices:
            kitchen_choices[len(problem_visits)] = choices
            visit, may = replace(visit, kitchen=choices[0][0]), choices[0][1]
        if (theirs or kept) and may and not visit.carried:
            # should its holder (or the caregiver of its confirmed route) have no room: the others who may take it
            # (a meal: from the same kitchen)
            cooks = None if visit.kitchen is None else visit.kitchen.provider_id
            others[len(problem_visits)] = [i for i in anyone if cooks is None or workers[i].provider_id == cooks]
        if not may:
            unservable[len(problem_visits)] = _why_nobody(
                visit, holder if visit.held_by is not None else staff, tz, now
            )
        problem_visits.append(visit)
        allowed.append(may)
    midnight = datetime.combine(day, time(0), tzinfo=tz)
    return Problem(day, midnight, problem_visits, workers, allowed, unservable, kitchen_choices, others, given_up)


def load(
    conn: psycopg.Connection,
    day: date,
    tz: ZoneInfo,
    *,
    pins: Mapping[tuple[int | None, datetime | None, int | None], int] | None = None,
    firm: Collection[tuple[int | None, datetime | None, int | None]] = (),
    leave_out: Collection[int] = (),
    not_before: datetime | None = None,
    minutes_on_site: Mapping[str, int] | None = None,
    travel: TravelModel | None = None,
) -> Problem:
    """The problem of planning the local ``day`` (``pins``: visit key -> the caregiver it should stay with;
    ``firm``: the pins operators made, kept even when their caregiver has no room;
    ``leave_out``: caregivers not to plan, such as those who did not confirm their day by the cutoff;
    ``not_before``: a re-plan during the day plans nobody's time before now, and a caregiver with a visit under
    way only from its end, where it is (``minutes_on_site`` by service type, else its booked duration), and one
    who finished a visit from where they are reckoned to be by ``travel``)."""
    staff = load_staff(conn, day, tz)
    same_day = not_before is not None and not_before >= datetime.combine(day, time(0), tzinfo=tz)
    busy = _whereabouts(conn, day, tz, not_before, minutes_on_site or {}) if not_before is not None and same_day else {}
    for member in staff:
        if member.id in leave_out:
            member.spans = []
        elif not_before is not None:
            free, order, before, waiting = busy.get(member.id, (not_before, None, None, None))
            if order is not None:  # they set out from where they are, and still go home at the end
                member.home = (member.lat, member.lon)
                reckoning = travel or TravelModel()
                # on their way to collect a batch: planned from the kitchen, once there
                collecting = at_kitchen(reckoning, member.travel_mode, member.home, order, before=before)
                if collecting is not None:
                    free = max(free, collecting)
                place = located(
                    reckoning, member.travel_mode, member.home, order, free, before=before, waiting_since=waiting
                )
                member.lat, member.lon = place
            member.rostered = member.spans
            member.spans = [(max(a, free), b) for a, b in member.spans if b > free]
    placeable = [v for v, free in load_visits(conn, day, tz) if free]
    if pins:
        placeable = [replace(v, pinned_to=pins.get(v.key), pin_firm=v.key in firm) for v in placeable]
    served: dict[int, set[int]] = {}
    elders = sorted({v.elder_id for v in placeable})
    for elder, caregiver in conn.execute(_REGULARS, (elders,)).fetchall():
        served.setdefault(elder, set()).add(caregiver)
    return build(day, tz, staff, placeable, served, not_before if same_day else None)
