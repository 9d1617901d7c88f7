"""Eligible caregivers for an order, straight from the database, optionally only those inside a box.

Eligible means: active, not opted out of SMS, has the skill; of an active provider that sells the service,
serves the elder's community, is not black-listed and is under its capacity; on shift at the time the
service is wanted (local time); holding fewer orders than their ``max_load``; for a booked service, a day in the
plan in force and the visit they are at that leave room for it (``ROOM_IN_PLAN``); not yet offered this order.

A meal is collected at the caregiver's provider's kitchen on the way (when it has one): their way to the elder
is by the kitchen (``Candidate.via``).

Where a caregiver is: at home, unless the need is an emergency and they checked in lately on an order: set off
for it, arrived, or finished it within ``whereabouts_minutes`` or while their ride home from it lasts by the travel
model, whichever is longer. Caregivers answer by SMS, so the platform knows
only those moments, and reckons from them (``located``): with the elder once arrived; once done, on the way home
until they take another order (then waiting where they are to set off for it); once set off, on the way there,
from where they were reckoned to be then, by their provider's kitchen first for a meal collected on the way (the
first of its batch, or one on its own). On the way, they are as far along the straight line as their trip would
have taken them by then at their travel mode's speed: a walker who set off half an hour ago for a visit 10 km
away is not next to it yet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from geopy.distance import geodesic
from psycopg import sql
from psycopg.types.json import Jsonb

from dispatcher.lifecycle import OrderRow
from dispatcher.matching import Box
from dispatcher.ranking import Candidate
from dispatcher.settings import TravelModel
from eldercare.vocabulary import HELD_SQL, ServiceType

# A caregiver's load for a need: the orders they hold and, for a booked service, the visits of their day in the
# plan in force not yet made orders (a caregiver on a planned route is not offered what would break it).
LOAD = f"""((SELECT count(*) FROM service_order h WHERE h.caregiver_id = c.id AND {HELD_SQL})
    + CASE WHEN %(routine)s THEN (
        SELECT count(*) FROM plan_visit pv JOIN plan pl ON pl.id = pv.plan_id
        WHERE pl.superseded_at IS NULL AND pl.day = %(day)s AND pv.caregiver_id = c.id
          AND NOT EXISTS (SELECT 1 FROM service_order so WHERE so.caregiver_id = c.id
                          AND (so.id = pv.order_id OR (so.recurring_service_id = pv.recurring_service_id
                                                       AND so.occurrence_at = pv.occurrence_at))))
      ELSE 0 END)::int"""  # noqa: S608 (constants)

# When an order ``o`` stopped (done or cancelled; never, while it runs): with its caregiver, the expression of the
# index ``service_order_caregiver_ended_idx``, so that a caregiver's recent orders are found without reading their
# whole history (a year of orders made an emergency's candidates take a second and more).
ENDED = "coalesce({o}.completed_at, {o}.cancelled_at, 'infinity'::timestamptz)"
# How far back a caregiver's orders can tell where they are or how long they worked.
RECENT = timedelta(hours=24)

# The hours a caregiver was busy on orders in the 24 hours up to %(now)s (``worked_params``): from setting off (or
# arriving, for one they went straight on to) to done, cancelled or now. Weighed by ``MatchWeights.worked``, it gives
# an emergency to the one who has worked less of the two about as near (balanced hours, as the plan does for booked
# visits).
WORKED_HOURS = f"""(SELECT coalesce(sum(extract(epoch FROM
        least(coalesce(d.completed_at, d.cancelled_at, %(now)s), %(now)s) - coalesce(d.en_route_at, d.arrived_at))), 0)
        / 3600.0
    FROM service_order d WHERE d.caregiver_id = c.id
      AND coalesce(d.en_route_at, d.arrived_at) > %(day_before)s
      AND coalesce(d.en_route_at, d.arrived_at) <= %(now)s
      -- implied (an order stops after it starts), and what the index finds them by
      AND {ENDED.format(o="d")} > %(day_before)s)::float8"""  # noqa: S608 (constants)


def worked_params(now: datetime) -> dict[str, object]:
    """The parameters of ``WORKED_HOURS`` for the moment ``now`` (the bounds computed here, so that the planner
    estimates the index range it reads)."""
    return {"now": now, "day_before": now - RECENT}


# The spans of time a caregiver is taken: the visits of their day in the plan in force, other than the order's own,
# from a meal's collection at its kitchen (or the visit's planned start) to the planned start plus the booked
# duration; and a visit they are at, from their arrival to its end by the booked duration.
_PLANNED_SPANS = """(SELECT coalesce(pv.pickup_at, pv.planned_start) AS busy_from,
           pv.planned_start + make_interval(mins => pv.duration_min) AS busy_until
    FROM plan_visit pv JOIN plan pl ON pl.id = pv.plan_id
    WHERE pl.superseded_at IS NULL AND pl.day = %(day)s AND pv.caregiver_id = c.id
      AND NOT coalesce(pv.order_id = %(order)s, false)
      AND NOT coalesce((pv.recurring_service_id, pv.occurrence_at) = (
          SELECT so.recurring_service_id, so.occurrence_at FROM service_order so WHERE so.id = %(order)s), false)
    UNION ALL
    SELECT u.arrived_at, u.arrived_at + make_interval(mins => u.duration_min)
    FROM service_order u WHERE u.caregiver_id = c.id AND u.status = 'arrived' AND u.id <> %(order)s)"""

# A booked service is offered to a caregiver only when their day leaves a gap as long as its duration that starts
# inside its window (at its opening, or as one of their planned visits or the visit they are at ends), travel left to
# the ranking: accepting it does not break a visit of their own, and they are not kept at another elder's past its
# window. Emergencies go first whatever the plan.
ROOM_IN_PLAN = f"""(NOT %(routine)s OR EXISTS (
    SELECT 1 FROM (
        SELECT %(opens)s::timestamptz AS t
        UNION ALL
        SELECT p.busy_until FROM {_PLANNED_SPANS} p WHERE p.busy_until > %(opens)s AND p.busy_until <= %(closes)s
    ) gap
    WHERE NOT EXISTS (
        SELECT 1 FROM {_PLANNED_SPANS} q WHERE q.busy_from < gap.t + %(takes)s AND q.busy_until > gap.t)))"""  # noqa: S608

# On shift at local weekday and time of day (parameters of ``shift_params``); a shift whose end is not after
# its start runs past midnight into the next day.
WEEKLY_SHIFT = """EXISTS (
          SELECT 1 FROM caregiver_shift sh WHERE sh.caregiver_id = c.id AND (
              (sh.starts < sh.ends AND sh.weekday = %(weekday)s AND %(tod)s >= sh.starts AND %(tod)s < sh.ends)
              OR (sh.ends <= sh.starts AND sh.weekday = %(weekday)s AND %(tod)s >= sh.starts)
              OR (sh.ends <= sh.starts AND sh.weekday = %(yesterday)s AND %(tod)s < sh.ends)))"""

# Away (leave, sick) on the local day.
ABSENT = """EXISTS (
          SELECT 1 FROM caregiver_absence ab WHERE ab.caregiver_id = c.id
              AND ab.last_day >= %(day)s AND ab.first_day <= %(day)s)"""

ON_SHIFT = f"({WEEKLY_SHIFT} AND NOT {ABSENT})"

# A provider's contract covers the local day (no dates: open-ended).
UNDER_CONTRACT = """((p.contract_starts IS NULL OR p.contract_starts <= %(day)s)
      AND (p.contract_ends IS NULL OR p.contract_ends >= %(day)s))"""

# A provider ``p`` whose caregivers may be given orders on the local day: active, off the black list, under contract.
PROVIDER_MAY_WORK = f"(p.active AND p.standing <> 'black' AND {UNDER_CONTRACT})"
# May be given orders at all on the local day (caregiver ``c`` of provider ``p``): the caregiver active and reachable
# by SMS, at such a provider.
MAY_WORK = f"(c.active AND NOT c.sms_opt_out AND {PROVIDER_MAY_WORK})"


def shift_params(at: datetime, timezone: ZoneInfo) -> dict[str, object]:
    """The parameters of ``ON_SHIFT`` for the moment ``at`` (timezone-aware) in ``timezone``."""
    local = at.astimezone(timezone)
    return {
        "weekday": local.isoweekday(),
        "yesterday": (local - timedelta(days=1)).isoweekday(),
        "tod": local.time().replace(tzinfo=None),
        "day": local.date(),
    }


# First, once per need: the providers whose caregivers may take it, and who has served the elder before.
_SETUP = sql.SQL("""
SELECT ARRAY(
    SELECT p.id FROM provider p
    WHERE {provider_may_work}
      AND EXISTS (SELECT 1 FROM provider_service ps WHERE ps.provider_id = p.id AND ps.service_type = %(service)s)
      AND EXISTS (SELECT 1 FROM provider_area pa WHERE pa.provider_id = p.id AND pa.community_id = %(community)s)
      AND (SELECT count(*) FROM service_order so WHERE so.provider_id = p.id AND {held}) < p.capacity
), ARRAY(
    SELECT DISTINCT caregiver_id FROM service_order
    WHERE elder_id = %(elder)s AND caregiver_id IS NOT NULL AND status IN ('completed', 'reviewed')
)
""").format(held=sql.SQL(HELD_SQL), provider_may_work=sql.SQL(PROVIDER_MAY_WORK))

# Then, per box: their caregivers who may take it. Kept to one table and correlated subqueries so that it
# plans in a fraction of a millisecond; the box predicate uses the GiST index on caregivers' homes.
_CANDIDATES = """
SELECT * FROM (
    SELECT c.id, c.code, c.provider_id, c.home_lat, c.home_lon, c.travel_mode, c.rating::float8,
           {load} AS load,
           c.max_load::int AS max_load,
           EXISTS (SELECT 1 FROM service_order h WHERE h.elder_id = %(elder)s AND h.caregiver_id = c.id
                   AND h.status IN ('completed', 'reviewed')),
           c.name, c.phone, c.language, here.lat IS NOT NULL AS away, kitchen.lat AS via_lat, kitchen.lon AS via_lon,
           {worked} AS worked_hours,
           here.lat, here.lon, here.accepted_at, here.en_route_at, here.arrived_at, here.completed_at, here.hurry,
           here.next_accepted_at, here.before_lat, here.before_lon, here.before_completed_at, here.via_lat, here.via_lon
    FROM caregiver c
    LEFT JOIN LATERAL (
        SELECT k.kitchen_lat AS lat, k.kitchen_lon AS lon FROM provider k WHERE %(meal)s AND k.id = c.provider_id
    ) kitchen ON true
    LEFT JOIN LATERAL (
        SELECT e.lat, e.lon, w.accepted_at, w.en_route_at, w.arrived_at, w.completed_at,
               w.service_type = 'emergency' AS hurry,
               (SELECT min(n.accepted_at) FROM service_order n WHERE n.caregiver_id = c.id AND n.status = 'accepted')
                   AS next_accepted_at,
               before.lat AS before_lat, before.lon AS before_lon, before.completed_at AS before_completed_at,
               way.kitchen_lat AS via_lat, way.kitchen_lon AS via_lon
        FROM service_order w JOIN elder e ON e.id = w.elder_id
        -- a meal set off for and not collected before (the first of its batch, or one on its own): by the kitchen
        LEFT JOIN provider way ON way.id = c.provider_id AND w.service_type = 'meal'
            AND (w.collected_at IS NULL OR w.collected_at = w.en_route_at)
        LEFT JOIN LATERAL (
            SELECT be.lat, be.lon, b.completed_at FROM service_order b JOIN elder be ON be.id = b.elder_id
            WHERE w.arrived_at IS NULL AND b.caregiver_id = c.id AND b.completed_at <= w.en_route_at
              AND b.completed_at > w.en_route_at - {ride_home_before}
              AND {ended_b} > w.en_route_at - %(recent)s
            ORDER BY b.completed_at DESC, b.id DESC
            LIMIT 1
        ) before ON true
        -- out on it: set off for it, or arrived without saying so (the second meal of a batch, a caregiver who
        -- goes straight on from one elder to the next)
        WHERE %(locate)s AND w.caregiver_id = c.id AND (w.en_route_at IS NOT NULL OR w.arrived_at IS NOT NULL)
          AND (w.completed_at IS NULL AND w.cancelled_at IS NULL OR w.completed_at > %(now)s - {ride_home_here})
          AND {ended_w} > %(since)s
        ORDER BY w.completed_at DESC NULLS FIRST, coalesce(w.en_route_at, w.arrived_at) DESC, w.id DESC
        LIMIT 1
    ) here ON true
    WHERE c.provider_id = ANY(%(providers)s) AND c.active AND NOT c.sms_opt_out
      AND EXISTS (SELECT 1 FROM caregiver_skill s WHERE s.caregiver_id = c.id AND s.service_type = %(service)s)
      AND {on_shift}
      AND NOT EXISTS (SELECT 1 FROM offer o WHERE o.order_id = %(order)s AND o.caregiver_id = c.id)
      AND {room}
      {box}
) eligible
WHERE load < max_load
"""
# Those looked at apart (``CandidateSource.apart``): who served the elder before, and who is reckoned away from home.
# Only a caregiver with an order running or stopped lately can be (``here``), which their row alone tells by the
# index of recent orders: the others' whereabouts are not worked out, on a city of a thousand caregivers a search.
_APART = f"""AND (c.id = ANY(%(regulars)s) OR here.lat IS NOT NULL)
      AND (c.id = ANY(%(regulars)s) OR EXISTS (
          SELECT 1 FROM service_order r WHERE r.caregiver_id = c.id AND {ENDED.format(o="r")} > %(since)s))"""  # noqa: S608

# How long after finishing an order at the elder ``e`` the caregiver ``c`` is looked for on the way home: their ride
# home by the travel model (the straight line on a local flat map, the detour, getting going, the mode's speed), and
# at least ``whereabouts``. Once the ride is over, ``located`` has them home anyway; a fixed hour had someone on a
# two-hour e-bike ride home reckoned home after one, and sent to an emergency near home from 20 km away. At most
# ``recent`` (a day, or ``whereabouts`` when longer): a home entered 500 km away is no ride to reckon with.
_RIDE_HOME = """LEAST(%(recent)s, GREATEST(%(whereabouts)s, make_interval(secs => 60 * (
    (%(setup_min)s::jsonb ->> c.travel_mode)::float8
    + 60 * %(detour)s * 111.2
      * sqrt(({e}.lat - c.home_lat) ^ 2 + (({e}.lon - c.home_lon) * cos(radians(c.home_lat))) ^ 2)
      / (%(speed_kmh)s::jsonb ->> c.travel_mode)::float8))))"""

_IN_BOX = "AND point(c.home_lon, c.home_lat) <@ box(point(%(lon_min)s, %(lat_min)s), point(%(lon_max)s, %(lat_max)s))"


@dataclass(frozen=True, slots=True)
class Need:
    """What an order needs: where, which service, for whom, and when (for shifts)."""

    order_id: int
    elder_id: int
    community_id: int
    service_type: str
    lat: float
    lon: float
    wanted_at: datetime  # timezone-aware
    # a booked service: the latest it may start (its window's end) and how long it takes
    until: datetime | None = None
    minutes: int = 0

    @property
    def emergency(self) -> bool:
        return self.service_type == ServiceType.EMERGENCY

    def room_params(self) -> dict[str, object]:
        """The parameters of ``ROOM_IN_PLAN`` (with ``shift_params``' day and the order)."""
        return {
            "opens": self.wanted_at,
            "closes": max(self.wanted_at, self.until or self.wanted_at),
            "takes": timedelta(minutes=self.minutes),
        }


def need_of(conn: psycopg.Connection, order: OrderRow, now: datetime) -> Need:
    """The order's need: at the alarm's position when the alarm has one, else at the elder's home."""
    row = conn.execute(
        "SELECT e.community_id, "
        "  CASE WHEN a.lat IS NOT NULL AND a.lon IS NOT NULL THEN a.lat ELSE e.lat END, "
        "  CASE WHEN a.lat IS NOT NULL AND a.lon IS NOT NULL THEN a.lon ELSE e.lon END "
        "FROM elder e LEFT JOIN alarm a ON a.id = %s WHERE e.id = %s",
        (order.alarm_id, order.elder_id),
    ).fetchone()
    if row is None:
        raise LookupError(f"elder {order.elder_id} of order {order.code} is missing")
    if order.is_emergency:
        return Need(order.id, order.elder_id, row[0], order.service_type, row[1], row[2], now)
    wanted = max(now, order.window_start)
    return Need(
        order.id,
        order.elder_id,
        row[0],
        order.service_type,
        row[1],
        row[2],
        wanted,
        order.window_end,
        order.duration_min,
    )


class SqlCandidates:
    """The eligible caregivers of one need, read per box with the GiST index on caregivers' homes."""

    def __init__(
        self,
        conn: psycopg.Connection,
        need: Need,
        timezone: ZoneInfo,
        *,
        whereabouts: timedelta = timedelta(0),
        travel: TravelModel | None = None,
    ) -> None:
        self.conn = conn
        self.now = need.wanted_at
        self.travel = travel or TravelModel()
        recent = max(whereabouts, RECENT)  # how far back their orders tell where they are
        self.params: dict[str, object] = {
            **shift_params(need.wanted_at, timezone),
            "elder": need.elder_id,
            "service": need.service_type,
            "community": need.community_id,
            "order": need.order_id,
            "routine": not need.emergency,
            "meal": need.service_type == ServiceType.MEAL,
            "locate": need.emergency and whereabouts > timedelta(0),
            **worked_params(need.wanted_at),
            "whereabouts": whereabouts,
            "recent": recent,
            "since": need.wanted_at - recent,
            "speed_kmh": Jsonb(self.travel.speed_kmh),
            "setup_min": Jsonb(self.travel.setup_min),
            "detour": self.travel.detour,
            **need.room_params(),
        }

    def within(self, box: Box | None) -> Sequence[Candidate]:
        if box is None:
            return self._select(sql.SQL(""), {})
        bounds = {"lat_min": box.lat_min, "lat_max": box.lat_max, "lon_min": box.lon_min, "lon_max": box.lon_max}
        return self._select(sql.SQL(_IN_BOX), bounds)

    def apart(self) -> Sequence[Candidate]:
        if not self.params["locate"]:
            self._setup()
            if not self.params["regulars"]:
                return []
        return self._select(sql.SQL(_APART), {})

    def _setup(self) -> None:
        if "providers" not in self.params:
            row = self.conn.execute(_SETUP, self.params).fetchone()
            self.params["providers"], self.params["regulars"] = row if row else ([], [])

    def _select(self, clause: sql.SQL, extra: Mapping[str, object]) -> list[Candidate]:
        self._setup()
        if not self.params["providers"]:
            return []
        rows = self.conn.execute(self.statement(clause), {**self.params, **extra}).fetchall()
        return [self._candidate(row) for row in rows]

    def statement(self, clause: sql.SQL | None = None) -> sql.Composed:
        """The query of the candidates (inside a box: ``clause``), whose parameters are ``params`` (once set up)."""
        return sql.SQL(_CANDIDATES).format(
            load=sql.SQL(LOAD),
            worked=sql.SQL(WORKED_HOURS),
            on_shift=sql.SQL(ON_SHIFT),
            room=sql.SQL(ROOM_IN_PLAN),
            box=clause or sql.SQL(""),
            ride_home_here=sql.SQL(_RIDE_HOME.format(e="e")),
            ride_home_before=sql.SQL(_RIDE_HOME.format(e="be")),
            ended_w=sql.SQL(ENDED.format(o="w")),
            ended_b=sql.SQL(ENDED.format(o="b")),
        )

    def _candidate(self, row: Sequence[Any]) -> Candidate:
        """A row of ``_CANDIDATES`` as a candidate: at home, or where they are reckoned to be (``located``)."""
        candidate = Candidate(*row[:17])
        if not candidate.away:
            return candidate
        lat, lon, accepted, set_off, arrived, completed, hurry, next_accepted, *before_row, via_lat, via_lon = row[17:]
        via = None if via_lat is None else (via_lat, via_lon)
        visit = Checked((lat, lon), accepted, set_off, arrived, completed, hurry, via)
        before_lat, before_lon, before_completed = before_row
        before = None if before_lat is None else Checked((before_lat, before_lon), completed=before_completed)
        home = (candidate.lat, candidate.lon)
        lat, lon = located(
            self.travel, candidate.travel_mode, home, visit, self.now, before=before, waiting_since=next_accepted
        )
        return replace(candidate, lat=lat, lon=lon)


@dataclass(frozen=True, slots=True)
class Checked:
    """What a caregiver told of one order: where it is, and when they took it, set off for it, arrived and finished."""

    place: tuple[float, float]
    accepted: datetime | None = None
    set_off: datetime | None = None
    arrived: datetime | None = None
    completed: datetime | None = None
    hurry: bool = False  # an emergency: people travel faster to it
    via: tuple[float, float] | None = None  # a meal collected on the way: the kitchen they go by first


def located(
    travel: TravelModel,
    mode: str,
    home: tuple[float, float],
    visit: Checked,
    now: datetime,
    *,
    before: Checked | None = None,
    waiting_since: datetime | None = None,
) -> tuple[float, float]:
    """Where a caregiver is reckoned to be at ``now`` from what they told of ``visit``: with the elder once arrived;
    once done, on the way home until they took another order to set off for (``waiting_since``: then they wait
    where they were, at the elder's if they took it before they were done); once set off, on the way there, from
    where they were reckoned to be then (at home, or after ``before``, an order they had finished), by the kitchen
    first for a meal collected on the way (``Checked.via``)."""
    if visit.completed is not None:
        stopped = now if waiting_since is None else min(now, max(waiting_since, visit.completed))
        return along(travel, mode, visit.place, home, stopped - visit.completed)
    if visit.arrived is not None or visit.set_off is None:
        return visit.place
    start = _set_out_from(travel, mode, home, visit, before)
    gone = now - visit.set_off
    if visit.via is not None:  # by the kitchen first, for a meal collected on the way
        way = to_kitchen(travel, mode, start, visit.via)
        if gone < way:
            return along(travel, mode, start, visit.via, gone, hurry=visit.hurry)
        start, gone = visit.via, gone - way
    return along(travel, mode, start, visit.place, gone, hurry=visit.hurry)


def at_kitchen(
    travel: TravelModel, mode: str, home: tuple[float, float], visit: Checked, *, before: Checked | None = None
) -> datetime | None:
    """When a caregiver who set off for a meal collected on the way (``Checked.via``) reaches the kitchen, by the
    travel model from where they set out (as ``located``); None for any other order."""
    if visit.via is None or visit.set_off is None or visit.arrived is not None or visit.completed is not None:
        return None
    return visit.set_off + to_kitchen(travel, mode, _set_out_from(travel, mode, home, visit, before), visit.via)


def _set_out_from(
    travel: TravelModel, mode: str, home: tuple[float, float], visit: Checked, before: Checked | None
) -> tuple[float, float]:
    """Where a caregiver set out for ``visit`` from: home, or where they were after ``before``, an order they
    finished first."""
    assert visit.set_off is not None
    return home if before is None else located(travel, mode, home, before, visit.set_off, waiting_since=visit.accepted)


def to_kitchen(travel: TravelModel, mode: str, start: tuple[float, float], kitchen: tuple[float, float]) -> timedelta:
    """The travel model's trip from ``start`` to the kitchen, as to a booked service (a meal is never hurried)."""
    return timedelta(minutes=travel.minutes(mode, geodesic(start, kitchen).km * travel.detour))


def along(
    travel: TravelModel,
    mode: str,
    start: tuple[float, float],
    end: tuple[float, float],
    gone: timedelta,
    *,
    hurry: bool = False,
) -> tuple[float, float]:
    """Where someone who left ``start`` for ``end`` ``gone`` ago is: as far along the straight line as the travel
    model's trip would have taken them by then (getting going first), at ``end`` once it is over."""
    speed = travel.speed_kmh[mode] * (travel.emergency_factor if hurry else 1.0)
    moving = geodesic(start, end).km * travel.detour / speed * 60.0
    minutes = gone.total_seconds() / 60.0 - travel.setup_min[mode]
    share = 1.0 if minutes >= moving else max(0.0, minutes / moving)
    return start[0] + (end[0] - start[0]) * share, start[1] + (end[1] - start[1]) * share


@dataclass(frozen=True, slots=True)
class Home:
    """Where an eligible caregiver lives, and how they travel."""

    lat: float
    lon: float
    travel_mode: str


_ELIGIBLE_IGNORING_LOAD = sql.SQL("""
SELECT c.home_lat, c.home_lon, c.travel_mode
FROM caregiver c JOIN provider p ON p.id = c.provider_id JOIN elder e ON e.id = %(elder)s
WHERE {may_work}
  AND EXISTS (SELECT 1 FROM caregiver_skill s WHERE s.caregiver_id = c.id AND s.service_type = %(service)s)
  AND EXISTS (SELECT 1 FROM provider_service ps WHERE ps.provider_id = p.id AND ps.service_type = %(service)s)
  AND EXISTS (SELECT 1 FROM provider_area pa WHERE pa.provider_id = p.id AND pa.community_id = e.community_id)
  AND {on_shift}
""").format(on_shift=sql.SQL(ON_SHIFT), may_work=sql.SQL(MAY_WORK))


def homes_ignoring_load(
    conn: psycopg.Connection, elder_id: int, service_type: str, at: datetime, timezone: ZoneInfo
) -> list[Home]:
    """The homes of every caregiver eligible for the elder's need at ``at``, were none of them busy: the
    roster's best case (capacities, loads and earlier offers left out), for a bound on what any dispatcher does."""
    params = {"elder": elder_id, "service": service_type, **shift_params(at, timezone)}
    return [Home(*row) for row in conn.execute(_ELIGIBLE_IGNORING_LOAD, params)]
