"""Who comes first when capacity is short: elders in extreme poverty (特困), disabled (失能), solitary (孤寡) and
very old (高龄) are served before others. The one rule the dispatcher's queue and the route planner both use."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import psycopg

from eldercare.entitlements import categories
from eldercare.vocabulary import EligibilityCategory as C

FIRST = frozenset({C.EXTREME_POVERTY, C.DISABLED, C.SOLITARY, C.VERY_OLD})
EMERGENCY = 0  # always ahead of every booked service
BOOKED = 5  # a booked service for an elder in none of the groups


def booked_priority(elder_categories: Iterable[str]) -> int:
    """A booked order's place in the queue (``service_order.priority``, lower first): 5, one step ahead for each
    priority group the elder is in, so 1 for an elder in all four."""
    return BOOKED - len(FIRST & set(elder_categories))


def priorities(conn: psycopg.Connection, elder_ids: Iterable[int], on: date) -> dict[int, int]:
    """Each elder's booked priority on day ``on`` (from decided and derived categories)."""
    ids = list(elder_ids)
    found = categories(conn, ids, on)
    return {elder_id: booked_priority(found.get(elder_id, set())) for elder_id in ids}
