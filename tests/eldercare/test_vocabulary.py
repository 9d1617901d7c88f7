"""The Python vocabularies (eldercare.vocabulary) say what the migrated database's lookup rows, CHECK
constraints and partial indexes say."""

from __future__ import annotations

import re
from enum import StrEnum

import psycopg
import pytest

from eldercare.vocabulary import (
    EMERGENCY_ALARMS,
    LIVE_OFFER,
    LIVE_OFFER_SQL,
    AlarmOutcome,
    AlarmStatus,
    AlarmType,
    EligibilityCategory,
    InactiveReason,
    InputSource,
    LivingSituation,
    OfferStatus,
    OrderStatus,
    ServiceType,
    Severity,
    Standing,
)

_ONE_COLUMN_IN = re.compile(r"^CHECK \(\((\w+) = ANY \(ARRAY\[(.*)\]\)\)\)$")


def _checked_values(conn: psycopg.Connection, table: str) -> dict[str, set[str]]:
    """Each column of ``table`` with a ``CHECK (column IN (...))`` constraint, and the values it allows."""
    found: dict[str, set[str]] = {}
    for (definition,) in conn.execute(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'c'",
        (table,),
    ):
        match = _ONE_COLUMN_IN.match(definition)
        if match:
            found[match[1]] = set(re.findall(r"'([^']*)'::text", match[2]))
    return found


@pytest.mark.parametrize(
    ("table", "column", "vocabulary"),
    [
        ("alarm", "status", AlarmStatus),
        ("alarm", "outcome", AlarmOutcome),
        ("alarm", "severity", Severity),
        ("alarm_type", "severity", Severity),
        ("service_order", "status", OrderStatus),
        ("offer", "status", OfferStatus),
        ("provider", "standing", Standing),
        ("dead_letter", "source", InputSource),
        ("elder", "living_situation", LivingSituation),
        ("elder", "inactive_reason", InactiveReason),
        ("elder_eligibility", "category", EligibilityCategory),
    ],
)
def test_enums_are_the_check_constraints(database_url: str, table: str, column: str, vocabulary: type[StrEnum]) -> None:
    with psycopg.connect(database_url) as conn:
        allowed = _checked_values(conn, table)
    assert allowed.get(column) == {v.value for v in vocabulary}, f"{table}.{column}: {allowed.get(column)}"


def test_service_and_alarm_types_are_the_lookup_rows(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        services = [r[0] for r in conn.execute("SELECT code FROM service_type ORDER BY sort_order")]
        alarm_types: dict[str, str] = dict(conn.execute("SELECT code, severity FROM alarm_type").fetchall())
    assert services == [s.value for s in ServiceType]
    assert set(alarm_types) == {a.value for a in AlarmType}
    assert {alarm_types[a] for a in EMERGENCY_ALARMS} == {Severity.CRITICAL}


def test_a_live_offer_is_what_the_partial_indexes_say(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        predicates = [
            r[0]
            for r in conn.execute(
                "SELECT pg_get_expr(indpred, indrelid) FROM pg_index "
                "WHERE indrelid = 'offer'::regclass AND indpred IS NOT NULL"
            )
        ]
    assert len(predicates) == 2
    for predicate in predicates:
        assert set(re.findall(r"'([^']*)'::text", predicate)) == {s.value for s in LIVE_OFFER}, predicate
    assert LIVE_OFFER_SQL == "('pending', 'sent')"


def test_tables_keyed_by_a_vocabulary_cover_it() -> None:
    from dispatcher.texts import SERVICE_NAMES
    from eldercare.seed.history import MINUTES

    assert set(SERVICE_NAMES) == set(ServiceType)
    assert set(MINUTES) == set(ServiceType)
