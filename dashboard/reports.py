"""The monthly settlement report of government-purchased services, per provider and service type."""

from __future__ import annotations

import csv
import gettext
import io
import re
from datetime import date

import psycopg
from psycopg.rows import class_row
from pydantic import BaseModel

from dashboard.errors import Invalid
from eldercare.clock import FIRST_DAY, LAST_DAY
from eldercare.i18n import N_
from eldercare.labels import Message

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class ReportLine(BaseModel):
    provider_id: int
    provider_code: str
    provider_name: str
    service_type: str
    service_name_zh: str
    service_name_en: str
    orders: int
    completed: int
    hours: float
    subsidy_per_hour_fen: int
    subsidy_fen: int


class MonthlyReport(BaseModel):
    month: str
    lines: list[ReportLine]
    total_orders: int
    total_completed: int
    total_hours: float
    total_subsidy_fen: int


def month_bounds(month: str) -> tuple[date, date]:
    """The first day of ``YYYY-MM`` and of the month after."""
    match = MONTH.match(month)
    if not match:
        raise Invalid(Message.of(N_("month must be written YYYY-MM, e.g. 2026-01, not %(month)r"), month=month))
    year, number = int(match.group(1)), int(match.group(2))
    if not FIRST_DAY.year <= year <= LAST_DAY.year:
        raise Invalid(
            Message.of(
                N_("month %(month)s is out of range: years %(first)s-%(last)s"),
                month=month,
                first=FIRST_DAY.year,
                last=LAST_DAY.year,
            )
        )
    first = date(year, number, 1)
    return first, date(year + (number == 12), number % 12 + 1, 1)


def monthly(conn: psycopg.Connection, month: str, provider_id: int | None = None) -> MonthlyReport:
    """Orders created in the month (local days), by provider and type; hours and subsidy of the completed ones."""
    first, after = month_bounds(month)
    with conn.cursor(row_factory=class_row(ReportLine)) as cur:
        lines = cur.execute(
            """
            SELECT p.id AS provider_id, p.code AS provider_code, p.name AS provider_name, r.service_type,
                   st.name_zh AS service_name_zh, st.name_en AS service_name_en, sum(r.orders)::int AS orders,
                   sum(r.completed)::int AS completed, round(sum(r.service_minutes) / 60.0, 2)::float AS hours,
                   st.subsidy_per_hour_fen, sum(r.subsidy_fen)::bigint AS subsidy_fen
            FROM kpi_order_daily r
            JOIN provider p ON p.id = r.provider_id
            JOIN service_type st ON st.code = r.service_type
            WHERE r.day >= %s AND r.day < %s AND (%s::int IS NULL OR r.provider_id = %s)
            GROUP BY p.id, r.service_type, st.name_zh, st.name_en, st.subsidy_per_hour_fen, st.sort_order
            ORDER BY p.code, st.sort_order
            """,
            (first, after, provider_id, provider_id),
        ).fetchall()
    return MonthlyReport(
        month=month,
        lines=lines,
        total_orders=sum(line.orders for line in lines),
        total_completed=sum(line.completed for line in lines),
        total_hours=round(sum(line.hours for line in lines), 2),
        total_subsidy_fen=sum(line.subsidy_fen for line in lines),
    )


# the columns, headed in the reader's language: the file is opened by people in a spreadsheet
CSV_HEADER = (
    N_("Month"),
    N_("Provider code"),
    N_("Provider"),
    N_("Service code"),
    N_("Service type"),
    N_("Order count"),
    N_("Completed"),
    N_("Hours"),
    N_("Subsidy per hour (CNY)"),
    N_("Subsidy (CNY)"),
)


def as_csv(report: MonthlyReport, words: gettext.NullTranslations) -> str:
    """The report as CSV with a byte-order mark, so spreadsheet programs read the Chinese names right."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([words.gettext(title) for title in CSV_HEADER])
    for line in report.lines:
        writer.writerow(
            (
                report.month,
                line.provider_code,
                line.provider_name,
                line.service_type,
                line.service_name_zh,
                line.orders,
                line.completed,
                f"{line.hours:.2f}",
                f"{line.subsidy_per_hour_fen / 100:.2f}",
                f"{line.subsidy_fen / 100:.2f}",
            )
        )
    writer.writerow(
        (
            report.month,
            words.gettext("Total"),
            "",
            "",
            "",
            report.total_orders,
            report.total_completed,
            f"{report.total_hours:.2f}",
            "",
            f"{report.total_subsidy_fen / 100:.2f}",
        )
    )
    return out.getvalue()
