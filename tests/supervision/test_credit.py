"""Providers' credit: a seeded month's score equals a direct computation; a black listing stops matching at once."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

import dispatcher
from dispatcher.planning.problem import load_staff
from eldercare.config import Settings
from eldercare.supervision import credit
from eldercare.vocabulary import ServiceType
from tests.supervision.conftest import NOW

TZ = "Asia/Shanghai"
MONTH = date(2026, 2, 1)


def _in_month(at: datetime | None) -> bool:
    return at is not None and at.astimezone(ZoneInfo(TZ)).date().replace(day=1) == MONTH


def _direct(conn: psycopg.Connection, provider_id: int) -> float:
    """The documented formula, from the raw rows, without the module's SQL."""
    offers = [
        (status, created)
        for status, created in conn.execute(
            "SELECT f.status, f.created_at FROM offer f JOIN caregiver c ON c.id = f.caregiver_id "
            "WHERE c.provider_id = %s",
            (provider_id,),
        ).fetchall()
        if _in_month(created)
    ]
    answered = [s for s, _ in offers if s in ("accepted", "declined", "expired")]
    orders = [
        row
        for row in conn.execute(
            "SELECT created_at, arrived_at, coalesce(arrival_due_at, window_end), satisfaction FROM service_order "
            "WHERE provider_id = %s",
            (provider_id,),
        ).fetchall()
        if _in_month(row[0])
    ]
    arrived = [o for o in orders if o[1] is not None]
    reviewed = [o[3] for o in orders if o[3] is not None]
    findings = sum(
        _in_month(at)
        for (at,) in conn.execute(
            "SELECT opened_at FROM rectification WHERE provider_id = %s AND check_id IS NOT NULL", (provider_id,)
        ).fetchall()
    )
    complaints = sum(
        _in_month(at)
        for (at,) in conn.execute("SELECT received_at FROM complaint WHERE provider_id = %s", (provider_id,)).fetchall()
    )
    acceptance = answered.count("accepted") / len(answered) if answered else 1
    punctuality = sum(o[1] <= o[2] for o in arrived) / len(arrived) if arrived else 1
    satisfaction = (sum(reviewed) / len(reviewed) - 1) / 4 if reviewed else 1
    raw = 40 * acceptance + 30 * punctuality + 30 * satisfaction - 5 * findings - 5 * complaints
    return round(min(100, max(0, raw)), 1)


def test_the_score_of_a_seeded_month_equals_a_direct_computation(city_url: str) -> None:
    with psycopg.connect(city_url) as conn:
        provider = conn.execute("SELECT min(provider_id) FROM service_order WHERE provider_id IS NOT NULL").fetchone()[
            0
        ]  # type: ignore[index]
        elder = conn.execute("SELECT min(id) FROM elder").fetchone()[0]  # type: ignore[index]
        february = datetime(2026, 2, 10, 3, 0, tzinfo=ZoneInfo("UTC"))
        conn.execute(
            "INSERT INTO complaint (elder_id, provider_id, source, body, received_at) VALUES (%s, %s, 'operator', "
            "'late again', %s), (%s, %s, 'operator', 'in March', %s)",
            (elder, provider, february, elder, provider, NOW),
        )
        results = {c.provider_id: c for c in credit.compute(conn, MONTH, TZ, NOW)}
        measured = credit.measure(conn, MONTH, TZ)
        assert measured[provider].complaints == 1 and measured[provider].offers_answered > 0
        for provider_id, result in results.items():
            assert result.score == pytest.approx(_direct(conn, provider_id)), provider_id
        assert results[provider].score < 100
        # computing again replaces the month's scores
        assert len(credit.compute(conn, MONTH, TZ, NOW + timedelta(hours=1))) == len(results)


def test_a_black_listing_removes_the_provider_from_matching_at_once(city_url: str) -> None:
    config = dispatcher.Config.load(Settings(timezone=TZ))
    with psycopg.connect(city_url) as conn:
        elder = conn.execute("SELECT min(id) FROM elder").fetchone()[0]  # type: ignore[index]
        before = dispatcher.elder_verdicts(conn, config, elder, ServiceType.MEAL, NOW)
        assert before is not None
        eligible = {v.candidate.provider_id for v in before if v.eligible}
        assert eligible
        provider = min(eligible)
        day, zone = NOW.date(), ZoneInfo(TZ)
        assert any(s.usable for s in load_staff(conn, day, zone) if s.provider_id == provider)
        with pytest.raises(ValueError):
            credit.decide(conn, provider, "black", "  ", "admin", NOW)
        credit.decide(conn, provider, "black", "three findings in February", "admin", NOW, MONTH)
        after = dispatcher.elder_verdicts(conn, config, elder, ServiceType.MEAL, NOW)
        assert after is not None
        assert provider not in {v.candidate.provider_id for v in after if v.eligible}
        # and the day's planning leaves its caregivers out, reading the same standing
        assert not any(s.usable for s in load_staff(conn, day, zone) if s.provider_id == provider)
        audit = conn.execute(
            "SELECT details->>'to', details->>'reason' FROM audit_log WHERE action = 'provider.standing' "
            "AND target_id = %s",
            (str(provider),),
        ).fetchone()
        assert audit == ("black", "three findings in February")
        with pytest.raises(credit.NoSuchProvider):
            credit.decide(conn, 10**6, "red", "good work", "admin", NOW)
