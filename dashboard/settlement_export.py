"""The settlement as files a finance office opens: CSV (with a byte-order mark) and .xlsx, headed in Chinese."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime

from openpyxl import Workbook

from dashboard.settlement import Line, Settlement, Total

LINE_HEADER = (
    "类型", "工单号", "老人", "服务", "服务日期", "到达时间", "完成时间", "到达核验", "完成核验", "核验状态",
    "享受类别", "使用额度", "价格(元)", "补贴(元)", "自付(元)",
)  # fmt: skip
TOTAL_HEADER = ("汇总", "项目", "服务次数", "价格(元)", "补贴(元)", "自付(元)")
_KIND = {"visit": "服务", "correction": "更正"}


def _yuan(fen: int) -> str:
    return f"{fen / 100:.2f}"


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def _line(line: Line) -> tuple[object, ...]:
    return (
        _KIND[line.kind], line.order_code, line.elder_name, line.service_type, line.visit_day.isoformat(),
        _iso(line.arrived_at), _iso(line.completed_at),
        line.arrival_check or "", line.completion_check or "", line.verification, line.category,
        line.entitlement_used, _yuan(line.price_fen), _yuan(line.subsidy_fen), _yuan(line.copayment_fen),
    )  # fmt: skip


def _totals(report: Settlement) -> Iterator[tuple[object, ...]]:
    groups: tuple[tuple[str, list[Total]], ...] = (("按服务", report.by_service), ("按类别", report.by_category))
    for name, totals in groups:
        for t in totals:
            yield (name, t.key, t.visits, _yuan(t.price_fen), _yuan(t.subsidy_fen), _yuan(t.copayment_fen))
    yield ("合计", "", "", "", _yuan(report.subsidy_fen), _yuan(report.copayment_fen))


def as_csv(report: Settlement) -> str:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(LINE_HEADER)
    writer.writerows(_line(line) for line in report.lines)
    writer.writerow(())
    writer.writerow(TOTAL_HEADER)
    writer.writerows(_totals(report))
    return out.getvalue()


def as_xlsx(report: Settlement) -> bytes:
    book = Workbook(write_only=True)
    lines = book.create_sheet("明细")
    lines.append(LINE_HEADER)
    for line in report.lines:
        lines.append(_line(line))
    totals = book.create_sheet("汇总")
    totals.append((f"结算月份 {report.month}", f"服务商 {report.provider_id}", f"状态 {report.status}"))
    totals.append(TOTAL_HEADER)
    for row in _totals(report):
        totals.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
