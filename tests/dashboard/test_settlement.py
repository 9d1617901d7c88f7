"""Settlement: a seeded month equals a direct computation from its visits; a locked month never changes and a
later correction lands in the next month; the files open with Chinese headers."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import openpyxl
import psycopg
import pytest

from dashboard import settlement, settlement_export
from dashboard.errors import Conflict, Invalid
from dispatcher.verification import resolve
from eldercare.clock import ManualClock
from tests.dispatcher.town import Town, offset

TZ = "Asia/Shanghai"
MONTH = "2026-01"
MEAL_PRICE = 1500


@pytest.fixture
def conn(database_url: str):
    with psycopg.connect(database_url) as connection:
        yield connection


def _visit(conn, provider, caregiver, elder, service, day, status="verified", minutes=40, arrived=None) -> int:
    # 11:00 local, a minute apart
    arrived = arrived or datetime(2026, 1, day, 3, 0, tzinfo=UTC) + timedelta(minutes=day)
    row = conn.execute(
        "INSERT INTO service_order (code, elder_id, service_type, status, priority, source, window_start, window_end, "
        "duration_min, created_at, created_by, updated_at, caregiver_id, provider_id, accepted_at, arrived_at, "
        "completed_at) VALUES ('T' || lpad(nextval('service_order_id_seq')::text, 7, '0'), %s, %s, 'completed', 5, "
        "'operator', %s, %s, %s, %s, 'op', %s, %s, %s, %s, %s, %s) RETURNING id",
        (
            elder,
            service,
            arrived,
            arrived + timedelta(hours=1),
            minutes,
            arrived,
            arrived,
            caregiver,
            provider,
            arrived,
            arrived,
            arrived + timedelta(minutes=minutes),
        ),
    ).fetchone()
    order_id = row[0]
    conn.execute(
        "INSERT INTO visit (order_id, caregiver_id, arrived_at, arrival_via, arrival_check, completed_at, "
        "completion_via, completion_check, status, verified_minutes) "
        "VALUES (%s, %s, %s, 'page', 'near', %s, 'page', 'near', %s, %s)",
        (order_id, caregiver, arrived, arrived + timedelta(minutes=minutes), status, minutes),
    )
    if status == "exception":
        conn.execute(
            "INSERT INTO visit_exception (order_id, kind, raised_at) VALUES (%s, 'far', %s)", (order_id, arrived)
        )
    return order_id


@pytest.fixture
def month(conn):
    """January: a poor elder (meals fully paid, 30 a month), an elder on the allowance (80 %), a very old elder
    with 12 meals (10 at 50 %, 2 self-paid), a younger elder with no entitlement, an unverified visit, care by
    the hour at the bureau's hourly rate, and a visit of another provider."""
    town = Town(conn)
    provider, other = town.provider(), town.provider()
    conn.execute("UPDATE provider_service SET price_fen = %s WHERE service_type = 'meal'", (MEAL_PRICE,))
    caregiver = town.caregiver(provider, offset(0.5, 0))
    elsewhere = town.caregiver(other, offset(0.5, 0))
    poor, allowance, old, young = (town.elder() for _ in range(4))
    conn.execute("UPDATE elder SET birth_date = '1960-01-01' WHERE id IN (%s, %s, %s)", (poor, allowance, young))
    for elder, category in ((poor, "extreme_poverty"), (allowance, "min_allowance")):
        conn.execute(
            "INSERT INTO elder_eligibility (elder_id, category, decided_on, document_no) VALUES (%s, %s, '2025-01-01', "
            "'赤民〔2025〕1号')",
            (elder, category),
        )
    conn.execute("UPDATE elder SET ability_level = 3 WHERE id = %s", (young,))  # disabled: care by the hour
    orders = {
        "poor": [_visit(conn, provider, caregiver, poor, "meal", d) for d in (2, 3)],
        "allowance": [_visit(conn, provider, caregiver, allowance, "meal", 4)],
        "old": [_visit(conn, provider, caregiver, old, "meal", d) for d in range(5, 17)],
        "young": [_visit(conn, provider, caregiver, young, "meal", 17)],
        "care": [_visit(conn, provider, caregiver, young, "care", 18, minutes=90)],
        "unverified": [_visit(conn, provider, caregiver, poor, "meal", 19, status="exception")],
        "other": [_visit(conn, other, elsewhere, poor, "meal", 20)],
        # 23:10-23:50 local on 31 January is January's; 00:10 local on 1 February is February's
        "last": [
            _visit(conn, provider, caregiver, allowance, "meal", 0, arrived=datetime(2026, 1, 31, 15, 10, tzinfo=UTC))
        ],
        "next": [
            _visit(conn, provider, caregiver, allowance, "meal", 0, arrived=datetime(2026, 1, 31, 16, 10, tzinfo=UTC))
        ],
    }
    conn.commit()
    return provider, orders


def _expected(conn, orders) -> dict[int, tuple[int, int]]:
    """(subsidy, co-payment) per order, worked out by hand from the rules."""
    care_rate = conn.execute("SELECT subsidy_per_hour_fen FROM service_type WHERE code = 'care'").fetchone()[0]
    care_price = round(care_rate * 90 / 60)
    want = {o: (MEAL_PRICE, 0) for o in orders["poor"]}
    want[orders["allowance"][0]] = (1200, 300)
    for n, o in enumerate(orders["old"]):
        want[o] = (750, 750) if n < 10 else (0, MEAL_PRICE)
    want[orders["young"][0]] = (0, MEAL_PRICE)
    want[orders["care"][0]] = (round(care_price * 0.9), care_price - round(care_price * 0.9))
    want[orders["unverified"][0]] = (0, 0)
    want[orders["last"][0]] = (1200, 300)
    return want


def test_the_month_equals_a_direct_computation(conn, month) -> None:
    provider, orders = month
    report = settlement.settlement(conn, provider, MONTH, TZ)
    got = {line.order_id: (line.subsidy_fen, line.copayment_fen) for line in report.lines}
    assert got == _expected(conn, orders)
    assert orders["other"][0] not in got and orders["next"][0] not in got
    assert orders["next"][0] in {x.order_id for x in settlement.settlement(conn, provider, "2026-02", TZ).lines}
    assert report.subsidy_fen == sum(s for s, _ in got.values())
    assert report.copayment_fen == sum(c for _, c in got.values())
    by_category = {t.key: (t.visits, t.subsidy_fen) for t in report.by_category}
    assert by_category["very_old"] == (10, 7500) and by_category["extreme_poverty"] == (2, 3000)
    assert by_category["min_allowance"] == (2, 2400)
    assert by_category["-"] == (4, 0)  # two self-paid meals, a younger elder's meal, the unverified one
    assert {t.key: t.visits for t in report.by_service} == {"care": 1, "meal": 18}
    line = next(x for x in report.lines if x.order_id == orders["care"][0])
    assert (line.category, line.entitlement_used, line.verification) == ("disabled", 1.5, "verified")


def test_a_locked_month_never_changes_and_a_correction_goes_to_the_next(conn, month) -> None:
    provider, orders = month
    clock = ManualClock(datetime(2026, 2, 3, 2, 0, tzinfo=UTC))
    with pytest.raises(Conflict, match="not confirmed"):
        settlement.approve(conn, clock, provider, MONTH, "admin", TZ)
    with pytest.raises(Invalid, match="not over yet"):
        settlement.confirm(conn, clock, provider, "2026-02", "operator", date(2026, 2, 3))
    settlement.confirm(conn, clock, provider, MONTH, "operator", date(2026, 2, 3))
    with pytest.raises(Conflict, match="already confirmed"):
        settlement.confirm(conn, clock, provider, MONTH, "operator", date(2026, 2, 3))
    approved = settlement.approve(conn, clock, provider, MONTH, "admin", TZ)
    assert approved.status == "approved"
    conn.commit()
    with pytest.raises(Conflict, match="already approved"):
        settlement.approve(conn, clock, provider, MONTH, "admin", TZ)

    # the unverified visit is confirmed by an operator after the approval
    exception_id = conn.execute(
        "SELECT id FROM visit_exception WHERE order_id = %s", (orders["unverified"][0],)
    ).fetchone()[0]
    assert resolve(conn, clock, exception_id, resolution="confirmed", reason="电话核实", actor="op") == "confirmed"
    conn.commit()
    again = settlement.settlement(conn, provider, MONTH, TZ)
    assert again.lines == approved.lines and again.subsidy_fen == approved.subsidy_fen
    with pytest.raises(psycopg.errors.RaiseException, match="never changed"):
        conn.execute("UPDATE settlement_line SET subsidy_fen = 0")
    conn.rollback()

    february = settlement.settlement(conn, provider, "2026-02", TZ)
    assert [(x.kind, x.order_id, x.subsidy_fen) for x in february.lines] == [
        ("visit", orders["next"][0], 1200),
        ("correction", orders["unverified"][0], MEAL_PRICE),
    ]
    # once February is approved, the correction is settled and not repeated
    settlement.confirm(conn, clock, provider, "2026-02", "operator", date(2026, 3, 2))
    settlement.approve(conn, clock, provider, "2026-02", "admin", TZ)
    assert settlement.settlement(conn, provider, "2026-03", TZ).lines == []


def test_the_files_have_chinese_headers_and_every_line(conn, month) -> None:
    provider, _ = month
    report = settlement.settlement(conn, provider, MONTH, TZ)
    book = openpyxl.load_workbook(io.BytesIO(settlement_export.as_xlsx(report)))
    assert book.sheetnames == ["明细", "汇总"]
    rows = list(book["明细"].iter_rows(values_only=True))
    assert rows[0][:4] == ("类型", "工单号", "老人", "服务") and len(rows) == 1 + len(report.lines)
    text = settlement_export.as_csv(report)
    parsed = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert parsed[0] == list(settlement_export.LINE_HEADER)
    assert Counter(r[0] for r in parsed[1 : 1 + len(report.lines)]) == {"服务": len(report.lines)}
    assert parsed[-1][0] == "合计" and parsed[-1][4] == f"{report.subsidy_fen / 100:.2f}"
