"""The KPI figures from the rollups match a direct computation over the raw orders and alarms."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest

from dashboard import kpi_rollup, kpis
from dashboard.kpis import KpiFilter
from tests.dashboard.conftest import NOW, City
from tests.services import on_both_backends

ZONE = ZoneInfo("Asia/Shanghai")
FROM, TO = date(2026, 2, 5), date(2026, 3, 9)


def percentile_cont(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    position = p * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def local_day(ts: datetime) -> date:
    return ts.astimezone(ZONE).date()


def direct(url: str, key: str, service_type: str | None = None) -> dict[str, dict[str, Any]]:
    """Every figure per group, computed in Python from the raw rows (an independent implementation)."""
    with psycopg.connect(url) as conn:
        orders = conn.execute(
            """
            SELECT o.created_at, o.accepted_at, o.arrived_at, o.window_start, o.status,
                   o.satisfaction, o.service_type, coalesce(o.provider_id, 0)::text, c.township_id::text
            FROM service_order o JOIN elder e ON e.id = o.elder_id JOIN community c ON c.id = e.community_id
            """
        ).fetchall()
        alarms = conn.execute(
            """
            SELECT a.received_at, a.acknowledged_at, a.severity, c.township_id::text
            FROM alarm a JOIN elder e ON e.id = a.elder_id JOIN community c ON c.id = e.community_id
            """
        ).fetchall()
    groups: dict[str, dict[str, Any]] = defaultdict(lambda: defaultdict(list))
    for created, accepted, arrived, window_start, status, satisfaction, service, provider, town in orders:
        day = local_day(created)
        if not FROM <= day <= TO or service_type not in (None, service):
            continue
        group = {"all": "all", "service_type": service, "provider": provider, "township": town, "day": str(day)}[key]
        g = groups[group]
        g["orders"].append(1)
        if accepted:
            g["accept"].append(max(0.0, (accepted - created).total_seconds()))
        if arrived or (accepted and status in ("cancelled", "escalated")):
            minutes = (arrived - max(created, window_start)).total_seconds() / 60 if arrived else math.inf
            g["arrival"].append(minutes)
        g["completed"].append(status in ("completed", "reviewed"))
        g["closed"].append(status in ("completed", "reviewed", "cancelled", "escalated"))
        if satisfaction is not None:
            g["satisfaction"].append(satisfaction)
    if key in ("all", "township", "day") and service_type is None:
        for received, acknowledged, severity, town in alarms:
            day = local_day(received)
            if severity == "info" or not FROM <= day <= TO:
                continue
            group = {"all": "all", "township": town, "day": str(day)}[key]
            seconds = (acknowledged - received).total_seconds() if acknowledged else math.inf
            groups[group]["ack"].append(seconds)
    figures = {}
    for group, g in groups.items():
        arrival, ack = g["arrival"], g["ack"]
        figures[group] = {
            "orders": len(g["orders"]),
            "accepted": len(g["accept"]),
            "accept_p50_s": percentile_cont(g["accept"], 0.5),
            "accept_p90_s": percentile_cont(g["accept"], 0.9),
            "arrived_45": sum(m <= 45 for m in arrival) / len(arrival) if arrival else None,
            "arrived_60": sum(m <= 60 for m in arrival) / len(arrival) if arrival else None,
            "fulfilment": sum(g["completed"]) / sum(g["closed"]) if sum(g["closed"]) else None,
            "satisfaction": sum(g["satisfaction"]) / len(g["satisfaction"]) if g["satisfaction"] else None,
            "alarms": len(ack) if ack else None,
            "ack_60": sum(s <= 60 for s in ack) / len(ack) if ack else None,
            "ack_180": sum(s <= 180 for s in ack) / len(ack) if ack else None,
            "ack_p50_s": percentile_cont([s for s in ack if s != math.inf], 0.5) if ack else None,
        }
    return figures


def assert_matches(rolled: kpis.Figures, expected: dict[str, Any], where: str) -> None:
    for name, value in expected.items():
        got = getattr(rolled, name)
        if value is None or got is None:
            assert got == value, (where, name, got, value)
        elif name.endswith("_s"):
            # the rollup keeps whole seconds
            assert abs(got - value) <= 1.0, (where, name, got, value)
        else:
            assert got == pytest.approx(value, abs=1e-9), (where, name, got, value)


@on_both_backends
def test_kpis_from_rollups_match_a_direct_computation(city: City) -> None:
    with psycopg.connect(city.url) as conn:
        kpi_rollup.ensure_timezone(conn, "Asia/Shanghai")
        assert kpi_rollup.refresh(conn) > 30
        report = kpis.report(conn, KpiFilter(from_day=FROM, to_day=TO))
    assert report.total.orders > 500 and report.total.alarms and report.total.alarms > 100
    assert_matches(report.total, direct(city.url, "all")["all"], "total")
    for key, rows in (
        ("service_type", report.by_service_type),
        ("provider", report.by_provider),
        ("township", report.by_township),
        ("day", report.by_day),
    ):
        expected = direct(city.url, key)
        assert {r.key for r in rows} == set(expected), key
        for row in rows:
            assert_matches(row, expected[row.key], f"{key}={row.key}")


def test_an_alarm_nobody_answered_counts_against_the_answer_targets(city: City) -> None:
    with psycopg.connect(city.url) as conn:
        conn.execute(
            "INSERT INTO alarm (elder_id, type, severity, raised_at, received_at, last_raised_at) "
            "SELECT e.id, 'gas', 'critical', t, t, t FROM elder e, (SELECT %s::timestamptz AS t) n "
            "WHERE NOT EXISTS (SELECT 1 FROM alarm a WHERE a.elder_id = e.id AND a.type = 'gas' "
            "AND a.status <> 'resolved') ORDER BY e.id LIMIT 5",
            (NOW - timedelta(days=1),),
        )
        kpi_rollup.refresh(conn)
        report = kpis.report(conn, KpiFilter(from_day=FROM, to_day=TO))
    expected = direct(city.url, "all")["all"]
    assert_matches(report.total, expected, "total")
    assert report.total.acknowledged is not None and report.total.alarms is not None
    assert report.total.acknowledged <= report.total.alarms - 5
    assert report.total.ack_180 is not None and report.total.ack_180 <= 1 - 5 / report.total.alarms


def test_filtered_kpis_from_the_fine_rollup_match_too(city: City) -> None:
    with psycopg.connect(city.url) as conn:
        kpi_rollup.refresh(conn)
        report = kpis.report(conn, KpiFilter(from_day=FROM, to_day=TO, service_type="meal"))
    assert report.total.alarms is None  # alarms have no service type
    assert_matches(report.total, direct(city.url, "all", "meal")["all"], "total meal")
    for key, rows in (("provider", report.by_provider), ("township", report.by_township), ("day", report.by_day)):
        expected = direct(city.url, key, "meal")
        assert {r.key for r in rows} == set(expected), key
        for row in rows:
            assert_matches(row, expected[row.key], f"meal {key}={row.key}")


@on_both_backends
def test_rollups_follow_changes_incrementally(
    city: City, client: httpx.Client, headers: dict[str, dict[str, str]]
) -> None:
    params = {"from": "2026-03-09", "to": "2026-03-09"}
    before = client.get("/api/v1/kpis", params=params, headers=headers["viewer"]).json()["total"]
    with psycopg.connect(city.url) as conn:
        conn.execute(
            "UPDATE service_order SET status = 'cancelled', cancelled_at = created_at + interval '1 minute', "
            "cancel_reason = 'test' WHERE id = (SELECT id FROM service_order WHERE status = 'completed' "
            "AND (created_at AT TIME ZONE 'Asia/Shanghai')::date = '2026-03-09' ORDER BY id LIMIT 1)"
        )
        dirty = conn.execute("SELECT kind, day FROM kpi_dirty_day").fetchall()
    assert dirty == [("order", date(2026, 3, 9))]
    after = client.get("/api/v1/kpis", params=params, headers=headers["viewer"]).json()["total"]
    assert after["completed"] == before["completed"] - 1
    assert after["cancelled"] == before["cancelled"] + 1
    with psycopg.connect(city.url) as conn:
        assert conn.execute("SELECT count(*) FROM kpi_dirty_day").fetchone() == (0,)


def test_monthly_report_and_csv(city: City, client: httpx.Client, headers: dict[str, dict[str, str]]) -> None:
    report = client.get("/api/v1/reports/monthly", params={"month": "2026-02"}, headers=headers["viewer"]).json()
    with psycopg.connect(city.url) as conn:
        row = conn.execute(
            """
            SELECT count(*) FILTER (WHERE o.status IN ('completed', 'reviewed')),
                   sum(round(coalesce(round(extract(epoch FROM o.completed_at - o.arrived_at) / 60), o.duration_min)
                             * st.subsidy_per_hour_fen / 60.0)) FILTER (WHERE o.status IN ('completed', 'reviewed'))
            FROM service_order o JOIN service_type st ON st.code = o.service_type
            WHERE o.provider_id IS NOT NULL
              AND (o.created_at AT TIME ZONE 'Asia/Shanghai')::date BETWEEN '2026-02-01' AND '2026-02-28'
            """
        ).fetchone()
    assert row is not None
    assert report["total_completed"] == row[0]
    assert report["total_subsidy_fen"] == row[1]
    csv = client.get("/api/v1/reports/monthly.csv", params={"month": "2026-02"}, headers=headers["viewer"])
    assert csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    lines = csv.text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("月份,服务商编号")  # headed for people, in their language
    english = client.get(
        "/api/v1/reports/monthly.csv",
        params={"month": "2026-02"},
        headers={**headers["viewer"], "Accept-Language": "en"},
    )
    assert english.text.lstrip("\ufeff").startswith("Month,Provider code")
    assert lines[-1].split(",")[-1] == f"{row[1] / 100:.2f}"


def test_return_visit_sample_is_stable_within_a_week(client: httpx.Client, headers: dict[str, dict[str, str]]) -> None:
    first = client.get("/api/v1/return-visits/sample", params={"week": "2026-W09"}, headers=headers["operator"]).json()
    second = client.get("/api/v1/return-visits/sample", params={"week": "2026-W09"}, headers=headers["admin"]).json()
    other = client.get("/api/v1/return-visits/sample", params={"week": "2026-W08"}, headers=headers["admin"]).json()
    assert [o["id"] for o in first] == [o["id"] for o in second] and len(first) == 10
    assert {o["id"] for o in first}.isdisjoint({o["id"] for o in other})
    assert all(o["status"] in ("completed", "reviewed") for o in first)


def test_every_kpi_card_says_what_it_counts_with_the_percentage_s_own_denominator(
    city: City, client: httpx.Client
) -> None:
    """履约率 88.9% once read "8 / 10" (completed / orders); each card now shows its numerator and denominator, so
    that numerator / denominator is the percentage shown, and the target where one is published."""
    import re

    from tests.dashboard.test_access import _signed_in

    with psycopg.connect(city.url) as conn:
        kpi_rollup.refresh(conn)
    page = _signed_in(client, "viewer").get("/kpis", params={"from": str(FROM), "to": str(TO)})
    assert page.status_code == 200, page.text
    tiles = dict(re.findall(r'data-kpi="(\w+)">(.*?)</div>', page.text, re.S))
    rates = ("ack_60", "ack_180", "arrived_30", "arrived_45", "arrived_60", "fulfilment")
    assert set(tiles) == {*rates, "accept", "satisfaction"}
    for name in rates:
        shown = re.search(r"<strong>([\d.]+)%</strong>", tiles[name])
        counts = re.search(r'class="counts">(\d+) / (\d+) ', tiles[name])
        assert shown and counts, (name, tiles[name])
        numerator, denominator = int(counts[1]), int(counts[2])
        assert 0 < denominator and float(shown[1]) == pytest.approx(100 * numerator / denominator, abs=0.05), name
        assert ("目标" in tiles[name]) == (name in kpis.TARGETS), name
    fulfilment = re.search(r'class="counts">(\d+) / (\d+) ', tiles["fulfilment"])
    assert fulfilment
    with psycopg.connect(city.url) as conn:
        report = kpis.report(conn, KpiFilter(from_day=FROM, to_day=TO))
    assert (int(fulfilment[1]), int(fulfilment[2])) == (report.total.completed, report.total.closed)
    assert report.total.closed != report.total.orders  # the old card's denominator would not have agreed
    assert report.total.rates["fulfilment"].value == report.total.fulfilment
