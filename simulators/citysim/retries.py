"""Skipping the dispatcher's retries that cannot succeed, and writing what they would have written.

An escalated order nobody holds, with no live offer, whose last search found no caregiver, is searched for
again every ``retry_offer_minutes``. In a busy simulated hour hundreds of orders wait like that, and each
search is several queries: most of a day's database work. A search can only find someone new after a
caregiver who might take the order gets a hand free (an order of theirs completed or was cancelled) or a
shift starts; until then it fails again, and a failed search of an escalated order writes one thing, its
next ``next_offer_at``. So the engine skips those retries and, before each sweep and at each such change,
writes the ``next_offer_at`` the skipped ones would have left, following the dispatcher's own rhythm: a
retry happens at the first sweep at or after ``next_offer_at`` (a cadence tick, or an earlier sweep woken
by NOTIFY), and moves ``next_offer_at`` to that moment plus the interval. The decisions are the
dispatcher's and the same either way (``tests/simulators/test_day_engine.py`` checks the two timelines are
identical); only the work is saved.

The order's last chance is kept in a temporary table of the session (``simday_reset``): a retry is futile
when it was scheduled (failed) after the order's last chance.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg
from psycopg import sql

from eldercare.vocabulary import HELD_SQL, LIVE_OFFER_SQL

# The retry is futile: the order failed its last search after its last chance (and skipping is on).
FUTILE = sql.SQL("""so.status = 'escalated' AND so.caregiver_id IS NULL AND so.next_offer_at IS NOT NULL
    AND %(skipping)s
    AND so.next_offer_at - %(retry)s > coalesce(
        (SELECT r.at FROM pg_temp.simday_reset r WHERE r.order_id = so.id), '-infinity')
    AND NOT EXISTS (SELECT 1 FROM offer o WHERE o.order_id = so.id AND o.status IN {live})""").format(
    live=sql.SQL(LIVE_OFFER_SQL)
)

# Orders a caregiver whose hands just came free might now be offered: those they have the skill for, in a
# community their provider serves, that they were not offered yet (shifts are not looked at: it is enough
# that nothing is missed); or any their provider sells there, when the provider was at its capacity.
_RELEVANT = sql.SQL("""EXISTS (SELECT 1 FROM caregiver c JOIN elder e ON e.id = so.elder_id
    JOIN provider p ON p.id = c.provider_id
    WHERE c.id = %(caregiver)s
      AND EXISTS (SELECT 1 FROM provider_area pa WHERE pa.provider_id = p.id AND pa.community_id = e.community_id)
      AND EXISTS (SELECT 1 FROM provider_service ps WHERE ps.provider_id = p.id AND ps.service_type = so.service_type)
      AND ((EXISTS (SELECT 1 FROM caregiver_skill s WHERE s.caregiver_id = c.id AND s.service_type = so.service_type)
            AND NOT EXISTS (SELECT 1 FROM offer o WHERE o.order_id = so.id AND o.caregiver_id = c.id))
           OR (SELECT count(*) FROM service_order h WHERE h.provider_id = p.id AND {held})
               + 1 >= p.capacity))""").format(held=sql.SQL(HELD_SQL))

# The first cadence tick at or after the order's next_offer_at, in seconds after the day's start (as the
# engine plans its sweeps).
_TICK = sql.SQL("ceil(extract(epoch FROM so.next_offer_at - %(start)s) / %(cadence)s - 1e-9) * %(cadence)s")

# Before a sweep at `now`: each skipped retry happened at the first sweep at or after next_offer_at, which is
# this one when it comes before the tick (woken by NOTIFY), else the tick and every interval after it.
_BEFORE_SWEEP = sql.SQL("""
WITH due AS (SELECT so.id, {tick} AS t1 FROM service_order so WHERE {futile} AND so.next_offer_at <= %(now)s)
UPDATE service_order so SET next_offer_at = CASE
    WHEN due.t1 > %(now_s)s THEN %(now)s + %(retry)s
    ELSE %(start)s + make_interval(secs => due.t1 + (floor((%(now_s)s - due.t1) / %(retry_s)s) + 1) * %(retry_s)s)
    END
FROM due WHERE so.id = due.id
""").format(tick=_TICK, futile=FUTILE)

# A chance at `now` (an event, which comes before any sweep at the same moment): retries on ticks before it
# were skipped; the next one, at or after `now`, will be made. From now on the order is not futile.
_CHANCE = sql.SQL("""
WITH due AS (SELECT so.id, {tick} AS t1 FROM service_order so WHERE {futile} AND {relevant}),
moved AS (
    UPDATE service_order so SET next_offer_at = CASE
        WHEN due.t1 >= %(now_s)s THEN so.next_offer_at
        ELSE %(start)s + make_interval(secs => due.t1 + ceil((%(now_s)s - due.t1) / %(retry_s)s) * %(retry_s)s)
        END
    FROM due WHERE so.id = due.id
    RETURNING so.id
)
INSERT INTO pg_temp.simday_reset (order_id, at) SELECT id, %(now)s FROM moved
ON CONFLICT (order_id) DO UPDATE SET at = EXCLUDED.at
""")


class Retries:
    """The futile retries of one simulated day, on its connection; ``enabled`` False runs every retry."""

    def __init__(
        self, conn: psycopg.Connection, start: datetime, cadence: float, retry: timedelta, enabled: bool
    ) -> None:
        self.conn = conn
        self.enabled = enabled
        self.start = start
        self.params: dict[str, object] = {
            "start": start,
            "cadence": cadence,
            "retry": retry,
            "retry_s": retry.total_seconds(),
            "skipping": enabled,
        }
        conn.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS simday_reset (order_id bigint PRIMARY KEY, at timestamptz NOT NULL)"
        )

    def _at(self, now: datetime) -> dict[str, object]:
        return {**self.params, "now": now, "now_s": (now - self.start).total_seconds()}

    def before_sweep(self, now: datetime) -> None:
        if self.enabled:
            self.conn.execute(_BEFORE_SWEEP, self._at(now))

    def freed(self, now: datetime, caregiver_id: int) -> None:
        """``caregiver_id`` holds one order fewer from ``now``: orders they might take get a chance."""
        if self.enabled:
            statement = _CHANCE.format(tick=_TICK, futile=FUTILE, relevant=_RELEVANT)
            self.conn.execute(statement, {**self._at(now), "caregiver": caregiver_id})

    def everyone(self, now: datetime) -> None:
        """A shift started at ``now``: every waiting order gets a chance."""
        if self.enabled:
            self.conn.execute(_CHANCE.format(tick=_TICK, futile=FUTILE, relevant=sql.SQL("true")), self._at(now))
