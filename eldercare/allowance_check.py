"""The age-allowance cross-check (高龄津贴比对): the allowance roll (ID number, name, amount) against the register.

Lists what needs a person's attention: rows that cannot be read, ID numbers the register does not know, the same
ID number twice, elders deceased or moved away who are still paid, elders under the age threshold, and elders
with no sign of life (devices, services) for a number of days, who are listed for a home visit, never judged.
Nothing is written: a roll with bad rows is reported whole, row by row.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

import psycopg
from openpyxl import load_workbook

from eldercare.i18n import N_
from eldercare.labels import Message, carried
from eldercare.register.identity import check_resident_id, mask_resident_id

MAX_ROWS = 200_000
HEADERS = {
    "resident_id": ("身份证号", "身份证号码", "公民身份号码", "id_number", "resident_id"),
    "name": ("姓名", "name"),
    "amount": ("金额", "发放金额", "津贴金额", "amount"),
}
KINDS = ("bad_row", "unknown_id", "duplicate", "deceased", "moved_away", "under_age", "no_sign_of_life")


@dataclass(frozen=True, slots=True)
class RollRow:
    line: int  # as a spreadsheet numbers it (the header is line 1)
    resident_id: str
    name: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    line: int | None
    resident_id: str | None  # masked
    name: str
    elder_id: int | None = None
    detail: str | Message = ""  # a sentence of the catalogue, said in the reader's language where it is shown


@dataclass
class Roll:
    rows: list[RollRow] = field(default_factory=list)
    bad: list[Finding] = field(default_factory=list)


class RollError(ValueError):
    """The file cannot be read as a roll at all (not its rows: those are findings)."""


def _cells(content: bytes, filename: str) -> list[list[str]]:
    if filename.lower().endswith(".xlsx"):
        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
            try:
                sheet = book.worksheets[0]  # IndexError: a workbook without worksheets
                sheet.reset_dimensions()  # the size a sheet declares may be too small: read every row it has
                return [["" if c is None else str(c).strip() for c in row] for row in sheet.iter_rows(values_only=True)]
            finally:
                book.close()
        except Exception as err:  # openpyxl raises many kinds for a damaged file, opening it or reading its rows
            raise RollError(
                Message.of(
                    N_("%(file)s is not a readable .xlsx file (%(error)s); save it again as .xlsx or CSV (UTF-8)"),
                    file=filename,
                    error=type(err).__name__,
                )
            ) from err
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("gb18030")
        except UnicodeDecodeError as err:
            raise RollError(
                Message.of(
                    N_("%(file)s is neither UTF-8 nor GB18030 text; save it as CSV (UTF-8) or .xlsx"), file=filename
                )
            ) from err
    try:
        return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]
    except csv.Error as err:  # a field longer than any roll has, a quote left open
        raise RollError(
            Message.of(
                N_("%(file)s is not a readable CSV file (%(error)s); save it again as CSV (UTF-8) or .xlsx"),
                file=filename,
                error=err,
            )
        ) from err


def read_roll(content: bytes, filename: str) -> Roll:
    """The roll's rows, and each row that cannot be read with the reason."""
    cells = _cells(content, filename)
    if not cells:
        raise RollError(
            Message.of(N_("%(file)s is empty; expected a header row with 身份证号, 姓名, 金额"), file=filename)
        )
    header = [h.lower() for h in cells[0]]
    columns = {}
    for key, names in HEADERS.items():
        found = [i for i, h in enumerate(header) if h in names]
        if not found:
            raise RollError(
                Message.of(
                    N_("%(file)s has no %(column)s column; the header row must name 身份证号, 姓名 and 金额"),
                    file=filename,
                    column=names[0],
                )
            )
        columns[key] = found[0]
    if len(cells) - 1 > MAX_ROWS:
        raise RollError(
            Message.of(
                N_("%(file)s has %(rows)s rows; at most %(most)s are checked at once"),
                file=filename,
                rows=len(cells) - 1,
                most=MAX_ROWS,
            )
        )
    roll = Roll()
    for line, row in enumerate(cells[1:], start=2):
        if not any(row):
            continue
        padded = row + [""] * (len(header) - len(row))
        raw_id, name, raw_amount = (padded[columns[k]] for k in ("resident_id", "name", "amount"))
        try:
            number = check_resident_id(raw_id)
        except ValueError as err:
            masked = mask_resident_id(raw_id) if len(raw_id) == 18 else "*" * len(raw_id)
            said = carried(err) or str(err)
            roll.bad.append(Finding("bad_row", line, masked or None, name, detail=said))
            continue
        try:
            amount = Decimal(raw_amount)
            if not amount.is_finite() or amount < 0:
                raise InvalidOperation
        except InvalidOperation:
            roll.bad.append(
                Finding(
                    "bad_row",
                    line,
                    mask_resident_id(number),
                    name,
                    detail=Message.of(N_("the amount %(amount)r is not a sum of money"), amount=raw_amount[:20]),
                )
            )
            continue
        roll.rows.append(RollRow(line, number, name, amount))
    return roll


_REGISTER = """
SELECT e.id, e.resident_id, e.birth_date, e.inactive_reason,
       greatest((SELECT max(d.last_seen_at) FROM device d WHERE d.elder_id = e.id),
                (SELECT max(x.ts) FROM device_event x WHERE x.elder_id = e.id),
                (SELECT max(so.completed_at) FROM service_order so WHERE so.elder_id = e.id))
FROM elder e WHERE e.resident_id = ANY(%s)
"""


def check(conn: psycopg.Connection, roll: Roll, on: date, *, age: int = 80, silent_days: int = 30) -> list[Finding]:
    """Every mismatch between the roll and the register on day ``on``."""
    findings = list(roll.bad)
    register = {row[1]: row for row in conn.execute(_REGISTER, ([r.resident_id for r in roll.rows],))}
    seen: dict[str, int] = {}
    silent_since = on - timedelta(days=silent_days)
    for row in roll.rows:
        masked = mask_resident_id(row.resident_id)
        if row.resident_id in seen:
            findings.append(
                Finding(
                    "duplicate",
                    row.line,
                    masked,
                    row.name,
                    detail=Message.of(N_("also on line %(line)s"), line=seen[row.resident_id]),
                )
            )
            continue
        seen[row.resident_id] = row.line
        known = register.get(row.resident_id)
        if known is None:
            findings.append(Finding("unknown_id", row.line, masked, row.name))
            continue
        elder_id, _, born, inactive, last_sign = known
        if inactive in ("deceased", "moved_away"):
            findings.append(Finding(inactive, row.line, masked, row.name, elder_id))
            continue
        years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
        if years < age:
            aged = Message.of(N_("%(years)s years old, under %(age)s"), years=years, age=age)
            findings.append(Finding("under_age", row.line, masked, row.name, elder_id, detail=aged))
        if last_sign is None or last_sign.date() < silent_since:
            last = (
                Message.of(N_("last sign of life on %(day)s"), day=last_sign.date().isoformat())
                if last_sign
                else Message.of(N_("no sign of life ever"))
            )
            findings.append(Finding("no_sign_of_life", row.line, masked, row.name, elder_id, detail=last))
    return findings
