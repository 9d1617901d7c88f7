"""Providers' monthly credit: a score from measured facts, the standing it proposes, and an admin's decision.

The formula (docs/supervision.md) in one place, ``score``: out of 100,

    40 x acceptance + 30 x punctuality + 30 x satisfaction
    - 5 per spot-check finding - 5 per complaint - 2 per verification exception, kept within 0..100

where acceptance is accepted / answered offers to the provider's caregivers, punctuality is arrivals by the
order's arrival deadline (else the end of its window) / arrivals, satisfaction is (mean return-visit score - 1) / 4;
a ratio with nothing to measure counts as 1 (no evidence against the provider). The month is the local month of
the order, offer, check or complaint. A score of at least ``red_at`` with no finding and no complaint proposes the
red list; below ``black_at``, the black list. The proposal is only that: ``decide`` (an admin, with a reason) sets
``provider.standing``, which matching and planning read, so a black listing takes effect at once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from eldercare import audit
from eldercare.i18n import N_
from eldercare.labels import Listed, Message

STANDINGS = ("red", "normal", "black")


@dataclass(frozen=True, slots=True)
class CreditRules:
    """The thresholds of the proposals (the weights are the formula's, written in ``score``)."""

    red_at: float = 90.0
    black_at: float = 60.0


@dataclass(frozen=True, slots=True)
class Facts:
    """What one provider's month measured."""

    offers_answered: int
    offers_accepted: int
    arrivals: int
    arrivals_on_time: int
    reviews: int
    satisfaction_sum: int
    findings: int
    complaints: int
    exceptions: int

    @property
    def acceptance(self) -> float:
        return self.offers_accepted / self.offers_answered if self.offers_answered else 1.0

    @property
    def punctuality(self) -> float:
        return self.arrivals_on_time / self.arrivals if self.arrivals else 1.0

    @property
    def satisfaction(self) -> float:
        return (self.satisfaction_sum / self.reviews - 1) / 4 if self.reviews else 1.0


@dataclass(frozen=True, slots=True)
class Credit:
    provider_id: int
    provider_code: str
    provider_name: str
    month: date
    score: float
    proposal: str
    standing: str  # as it stands now, decided by an admin
    facts: dict[str, Any]


def score(facts: Facts) -> float:
    """The month's score out of 100, to one decimal."""
    raw = 40 * facts.acceptance + 30 * facts.punctuality + 30 * facts.satisfaction
    raw -= 5 * facts.findings + 5 * facts.complaints + 2 * facts.exceptions
    return round(min(100.0, max(0.0, raw)), 1)


def propose(facts: Facts, value: float, rules: CreditRules) -> str:
    if value < rules.black_at:
        return "black"
    if value >= rules.red_at and not facts.findings and not facts.complaints:
        return "red"
    return "normal"


# one row per active provider: the month's facts; %(tz)s is the local time zone deciding the month
_FACTS = """
WITH bounds AS (
    SELECT (%(month)s::timestamp AT TIME ZONE %(tz)s) AS since,
           ((%(month)s::date + interval '1 month')::timestamp AT TIME ZONE %(tz)s) AS until
)
SELECT p.id,
       (SELECT count(*) FROM offer f JOIN caregiver c ON c.id = f.caregiver_id, bounds b
        WHERE c.provider_id = p.id AND f.status IN ('accepted', 'declined', 'expired')
          AND f.created_at >= b.since AND f.created_at < b.until)::int,
       (SELECT count(*) FROM offer f JOIN caregiver c ON c.id = f.caregiver_id, bounds b
        WHERE c.provider_id = p.id AND f.status = 'accepted'
          AND f.created_at >= b.since AND f.created_at < b.until)::int,
       (SELECT count(*) FROM service_order o, bounds b
        WHERE o.provider_id = p.id AND o.arrived_at IS NOT NULL
          AND o.created_at >= b.since AND o.created_at < b.until)::int,
       (SELECT count(*) FROM service_order o, bounds b
        WHERE o.provider_id = p.id AND o.arrived_at <= coalesce(o.arrival_due_at, o.window_end)
          AND o.created_at >= b.since AND o.created_at < b.until)::int,
       (SELECT count(*) FROM service_order o, bounds b
        WHERE o.provider_id = p.id AND o.satisfaction IS NOT NULL
          AND o.created_at >= b.since AND o.created_at < b.until)::int,
       (SELECT coalesce(sum(o.satisfaction), 0) FROM service_order o, bounds b
        WHERE o.provider_id = p.id AND o.created_at >= b.since AND o.created_at < b.until)::int,
       (SELECT count(*) FROM rectification r, bounds b
        WHERE r.provider_id = p.id AND r.check_id IS NOT NULL
          AND r.opened_at >= b.since AND r.opened_at < b.until)::int,
       (SELECT count(*) FROM complaint k, bounds b
        WHERE k.provider_id = p.id AND k.received_at >= b.since AND k.received_at < b.until)::int
FROM provider p
WHERE p.active
ORDER BY p.id
"""


def exceptions_by_provider(conn: psycopg.Connection, month: date, timezone: str) -> dict[int, int]:
    """Visits of the month that failed verification, per provider: the hook for the verification exceptions.

    Counted from ``visit_exception`` when that table exists (the visit verification adds it); none otherwise.
    """
    exists = conn.execute("SELECT to_regclass('visit_exception') IS NOT NULL").fetchone()
    if not (exists and exists[0]):
        return {}
    rows = conn.execute(
        """
        SELECT o.provider_id, count(*)::int FROM visit_exception x JOIN service_order o ON o.id = x.order_id
        WHERE o.provider_id IS NOT NULL
          AND o.created_at >= %(month)s::timestamp AT TIME ZONE %(tz)s
          AND o.created_at < (%(month)s::date + interval '1 month')::timestamp AT TIME ZONE %(tz)s
        GROUP BY o.provider_id
        """,
        {"month": month, "tz": timezone},
    ).fetchall()
    return {int(p): int(n) for p, n in rows}


def measure(conn: psycopg.Connection, month: date, timezone: str) -> dict[int, Facts]:
    """Each active provider's facts of ``month`` (its first day)."""
    exceptions = exceptions_by_provider(conn, month, timezone)
    rows = conn.execute(_FACTS, {"month": month, "tz": timezone}).fetchall()
    measured = (
        "offers_answered",
        "offers_accepted",
        "arrivals",
        "arrivals_on_time",
        "reviews",
        "satisfaction_sum",
        "findings",
        "complaints",
    )
    return {
        int(row[0]): Facts(
            **dict(zip(measured, map(int, row[1:]), strict=True)), exceptions=exceptions.get(int(row[0]), 0)
        )
        for row in rows
    }


def compute(
    conn: psycopg.Connection, month: date, timezone: str, now: datetime, rules: CreditRules | None = None
) -> list[Credit]:
    """Score every active provider for ``month`` and keep the scores (computing again replaces them)."""
    if month.day != 1:
        raise ValueError(Message.of(N_("a credit month starts on its first day, not %(day)s"), day=month))
    rules = rules or CreditRules()
    for provider_id, facts in measure(conn, month, timezone).items():
        value = score(facts)
        conn.execute(
            """
            INSERT INTO provider_credit (provider_id, month, score, facts, proposal, computed_at)
            VALUES (%s, %s, %s, %s, %s, %s)
            ON CONFLICT (provider_id, month) DO UPDATE SET score = EXCLUDED.score, facts = EXCLUDED.facts,
                proposal = EXCLUDED.proposal, computed_at = EXCLUDED.computed_at
            """,
            (provider_id, month, value, Jsonb(asdict(facts)), propose(facts, value, rules), now),
        )
    return credits(conn, month)


def credits(conn: psycopg.Connection, month: date) -> list[Credit]:
    """The kept scores of ``month``, best first."""
    with conn.cursor(row_factory=class_row(Credit)) as cur:
        return cur.execute(
            """
            SELECT p.id AS provider_id, p.code AS provider_code, p.name AS provider_name, k.month,
                   k.score::float8 AS score, k.proposal, p.standing, k.facts
            FROM provider_credit k JOIN provider p ON p.id = k.provider_id
            WHERE k.month = %s ORDER BY k.score DESC, p.code
            """,
            (month,),
        ).fetchall()


class NoSuchProvider(LookupError):
    """The provider named does not exist."""


def decide(
    conn: psycopg.Connection,
    provider_id: int,
    standing: str,
    reason: str,
    actor: str,
    now: datetime,
    month: date | None = None,
    client_ip: str | None = None,
) -> None:
    """An admin's decision on a provider's standing, with the reason; matching and planning follow it at once."""
    if standing not in STANDINGS:
        raise ValueError(
            Message.of(
                N_("the standing must be one of %(standings)s, not %(standing)r"),
                standings=Listed(tuple(STANDINGS)),
                standing=standing,
            )
        )
    if not reason.strip():
        raise ValueError(Message.of(N_("say why: a standing is decided with a reason")))
    row = conn.execute(
        "UPDATE provider SET standing = %s, standing_note = %s WHERE id = %s "
        "RETURNING (SELECT standing FROM provider WHERE id = %s)",
        (standing, reason.strip()[:500], provider_id, provider_id),
    ).fetchone()
    if row is None:
        raise NoSuchProvider(Message.of(N_("no provider with id %(id)s"), id=provider_id))
    conn.execute(
        "INSERT INTO standing_decision (provider_id, month, standing, reason, decided_by, decided_at) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        (provider_id, month, standing, reason.strip()[:500], actor, now),
    )
    details = {"from": row[0], "to": standing, "reason": reason.strip()[:500]}
    if month:
        details["month"] = month.isoformat()
    audit.record(conn, actor, "provider.standing", "provider", provider_id, details, client_ip)
