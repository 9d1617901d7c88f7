"""What the simulation reads of the dispatcher's tables while the day runs: when its sweep and its SMS sender
next have work, what an offered order is about, which booked visits are overdue, when shifts start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg
from psycopg import sql

from dispatcher.sweep import OFFERED_AT_NEXT, UNFINISHED, UNFINISHED_AT
from eldercare.vocabulary import LIVE_OFFER_SQL
from simulators.citysim.retries import FUTILE

# Each branch mirrors one step of dispatcher.sweep: what it would find due, at the earliest.
_NEXT_SWEEP = sql.SQL("""
SELECT least(
    (SELECT min(expires_at) FROM offer WHERE status IN {live}),
    (SELECT min(accept_due_at) FROM service_order WHERE status IN ('created', 'offered')),
    (SELECT min(arrival_due_at) FROM service_order WHERE status IN ('accepted', 'en_route')),
    (SELECT min(so.next_offer_at) FROM service_order so
      WHERE so.next_offer_at IS NOT NULL AND {offered_at_next} AND NOT ({futile})),
    (SELECT min({unfinished_at}) FROM service_order so WHERE {unfinished})
)
""").format(
    futile=FUTILE,
    live=sql.SQL(LIVE_OFFER_SQL),
    offered_at_next=sql.SQL(OFFERED_AT_NEXT),
    unfinished=sql.SQL(UNFINISHED),
    unfinished_at=sql.SQL(UNFINISHED_AT),
)


def next_sweep(conn: psycopg.Connection, retry: timedelta, skipping: bool, unfinished_minutes: int) -> datetime | None:
    """When the sweep next has work; with ``skipping``, retries that cannot succeed do not count (``retries``)."""
    row = conn.execute(_NEXT_SWEEP, {"retry": retry, "skipping": skipping, "grace": unfinished_minutes}).fetchone()
    return row[0] if row else None


@dataclass(frozen=True, slots=True)
class OrderFacts:
    id: int
    elder_id: int
    service_type: str
    source: str
    alarm_id: int | None
    recurring_service_id: int | None
    occurrence_at: datetime | None
    window_start: datetime
    window_end: datetime


def order_facts(conn: psycopg.Connection, order_id: int) -> OrderFacts:
    row = conn.execute(
        "SELECT id, elder_id, service_type, source, alarm_id, recurring_service_id, occurrence_at, window_start, "
        "window_end FROM service_order WHERE id = %s",
        (order_id,),
    ).fetchone()
    if row is None:
        raise LookupError(f"order {order_id} was offered but is not in the database")
    return OrderFacts(*row)


# the plan in force names a visit by its order, or by its occurrence before the order was made
_PLANNED_STOP = """
SELECT pv.planned_start, pv.pickup_at, pr.kitchen_lat, pr.kitchen_lon FROM service_order o
JOIN plan_visit pv ON pv.caregiver_id = o.caregiver_id
  AND (pv.order_id = o.id OR (pv.recurring_service_id = o.recurring_service_id AND pv.occurrence_at = o.occurrence_at))
JOIN plan p ON p.id = pv.plan_id AND p.superseded_at IS NULL
LEFT JOIN provider pr ON pr.id = pv.kitchen_provider_id
WHERE o.id = %s
LIMIT 1
"""


@dataclass(frozen=True, slots=True)
class PlannedStop:
    """A visit of a caregiver's day in the plan in force: when it starts and, for a meal collected from its
    kitchen, when and where."""

    start: datetime
    pickup_at: datetime | None
    kitchen: tuple[float, float] | None


def planned_stop(conn: psycopg.Connection, order_id: int) -> PlannedStop | None:
    """The order's visit in the plan in force with the caregiver who holds it; None when the plan did not give
    it to them."""
    row = conn.execute(_PLANNED_STOP, (order_id,)).fetchone()
    if row is None:
        return None
    start, pickup_at, lat, lon = row
    return PlannedStop(start, pickup_at, (lat, lon) if pickup_at is not None and lat is not None else None)


def carried(conn: psycopg.Connection, caregiver_id: int) -> set[int]:
    """The meal orders the platform has the caregiver carry (collected with a batch), not delivered yet."""
    rows = conn.execute(
        "SELECT id FROM service_order WHERE caregiver_id = %s AND collected_at IS NOT NULL "
        "AND status IN ('accepted', 'en_route')",
        (caregiver_id,),
    ).fetchall()
    return {row[0] for row in rows}


def kitchen_of(conn: psycopg.Connection, caregiver_id: int) -> tuple[float, float] | None:
    """Where the caregiver's provider cooks its meals; None when it has no kitchen."""
    row = conn.execute(
        "SELECT p.kitchen_lat, p.kitchen_lon FROM caregiver c JOIN provider p ON p.id = c.provider_id "
        "WHERE c.id = %s AND p.kitchen_lat IS NOT NULL",
        (caregiver_id,),
    ).fetchone()
    return (row[0], row[1]) if row else None


def told_now(conn: psycopg.Connection, now: datetime) -> list[int]:
    """Caregivers told of a changed route by the plan in force, made at ``now``."""
    rows = conn.execute(
        "SELECT r.caregiver_id FROM plan_route r JOIN plan p ON p.id = r.plan_id "
        "WHERE p.superseded_at IS NULL AND p.made_at = %s AND r.told_at = %s ORDER BY 1",
        (now, now),
    ).fetchall()
    return [int(r[0]) for r in rows]


def overdue_visits(conn: psycopg.Connection, before: datetime) -> list[int]:
    """Booked visits whose window ended before ``before`` and that nobody has reached yet."""
    rows = conn.execute(
        "SELECT id FROM service_order WHERE service_type <> 'emergency' AND window_end < %s AND arrived_at IS NULL "
        "AND status IN ('created', 'offered', 'escalated', 'accepted', 'en_route') ORDER BY id",
        (before,),
    ).fetchall()
    return [int(r[0]) for r in rows]


def shift_starts(conn: psycopg.Connection) -> list[tuple[int, float]]:
    """(ISO weekday, seconds after local midnight) at which some active caregiver's shift starts."""
    rows = conn.execute(
        "SELECT DISTINCT sh.weekday, sh.starts FROM caregiver_shift sh JOIN caregiver c ON c.id = sh.caregiver_id "
        "WHERE c.active ORDER BY 1, 2"
    ).fetchall()
    return [(int(day), t.hour * 3600.0 + t.minute * 60.0 + t.second) for day, t in rows]
