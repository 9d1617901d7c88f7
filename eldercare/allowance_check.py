"""The age-allowance cross-check (高龄津贴比对): the allowance roll (ID number, name, amount) against the register.

Lists what needs a person's attention: rows that cannot be read, ID numbers the register does not know, the same
ID number twice, elders deceased or moved away who are still paid, elders under the age threshold, and elders
with no sign of life (devices, services) for a number of days, who are listed for a home visit, never judged.
Nothing is written: a roll with bad rows is reported whole, row by row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

import psycopg

from eldercare.i18n import N_
from eldercare.imports.messages import MESSAGES, ImportFailed
from eldercare.imports.sheet import Table, read_table
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


def _table(content: bytes, filename: str) -> Table:
    """The roll as the imports read a sheet (.xlsx, or CSV in UTF-8 or GBK; blank lines skipped, a damaged file
    or one over ``MAX_ROWS`` rows refused as the limit is passed), what the file cannot be read as said the same."""
    try:
        return read_table(filename, content, max_rows=MAX_ROWS)
    except ImportFailed as failed:
        problem = failed.problems[0]
        if problem.code == "empty_file":
            raise RollError(
                Message.of(N_("%(file)s is empty; expected a header row with 身份证号, 姓名, 金额"), file=filename)
            ) from None
        if problem.code == "too_many_rows":
            raise RollError(
                Message.of(
                    N_("%(file)s has more than %(most)s rows, more than are checked at once; split it"),
                    file=filename,
                    most=MAX_ROWS,
                )
            ) from None
        raise RollError(Message.of(MESSAGES[problem.code], **problem.params)) from None


def read_roll(content: bytes, filename: str) -> Roll:
    """The roll's rows, and each row that cannot be read with the reason."""
    table = _table(content, filename)
    header = [h.lower() for h in table.header]
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
    roll = Roll()
    for line, row in zip(table.numbers, table.rows, strict=True):  # rows padded to the header's width
        raw_id, name, raw_amount = (row[columns[k]] for k in ("resident_id", "name", "amount"))
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
