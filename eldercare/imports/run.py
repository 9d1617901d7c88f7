"""Running an import: every row through the register's own checks and writes, in one transaction that a dry
run rolls back and a commit keeps only when no row was refused."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

import psycopg

from eldercare import audit
from eldercare.config import CityBounds
from eldercare.imports.cells import CellProblems, Column, Row, match_header
from eldercare.imports.messages import ImportFailed, Problem
from eldercare.imports.sheet import Table

log = logging.getLogger(__name__)

# progress(rows done, rows in all)
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Context:
    """Who imports, and the clock and city the rows are checked against."""

    actor: str
    today: date
    now: datetime
    city: CityBounds


@dataclass(frozen=True, slots=True)
class Saved:
    """What one row did: ``created``, ``updated`` or ``unchanged``, and a device credential issued (shown once)."""

    action: str
    credential: tuple[str, str] | None = None


class Kind(Protocol):
    """One kind of record an import writes (elders, devices, ...)."""

    name: str
    titles: tuple[str, ...]  # the titles of its sheet in a workbook of several kinds
    columns: tuple[Column, ...]

    def natural_key(self, row: Row) -> tuple[str, str] | None:
        """(what, value) that names the record, to find a record listed twice in one file."""

    def save(self, conn: psycopg.Connection, row: Row, context: Context) -> Saved:
        """Write the row through the register (raising CellProblems for what is wrong)."""


@dataclass
class Report:
    """What an import found and did; ``committed`` only when there were no problems and it was not a dry run."""

    kind: str
    file_name: str
    rows: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)
    credentials: list[tuple[str, str]] = field(default_factory=list)
    dry_run: bool = True
    committed: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def run_import(
    conn: psycopg.Connection,
    kind: Kind,
    file_name: str,
    table: Table | None,
    context: Context,
    *,
    dry_run: bool,
    progress: Progress | None = None,
    failure: ImportFailed | None = None,
) -> Report:
    """Check (and unless ``dry_run`` write) every row of ``table``; all or nothing. Audited either way.

    ``failure`` is a file that could not be read at all: it is recorded and reported like a refused import.
    """
    report = Report(kind.name, file_name, dry_run=dry_run)
    try:
        if failure is not None:
            raise failure
        assert table is not None
        report.rows = len(table.rows)
        positions = match_header(kind.columns, table.header)
        with conn.transaction() as tx:
            _rows(conn, kind, table, positions, context, report, progress)
            if report.problems or dry_run:
                raise psycopg.Rollback(tx)
            report.committed = True
            audit.record(conn, context.actor, "import.commit", "import", kind.name, _audit_details(report))
    except ImportFailed as err:
        report.problems = err.problems
    if report.committed:
        report.credentials.sort()
        return report
    if not dry_run or report.problems:
        with conn.transaction():
            action = "import.dry_run" if dry_run else "import.refused"
            audit.record(conn, context.actor, action, "import", kind.name, _audit_details(report))
    report.credentials.clear()  # nothing was written: none of them was issued
    return report


def _rows(
    conn: psycopg.Connection,
    kind: Kind,
    table: Table,
    positions: dict[str, int],
    context: Context,
    report: Report,
    progress: Progress | None,
) -> None:
    seen: dict[tuple[str, str], int] = {}
    order = {column.key: index for index, column in enumerate(kind.columns)}  # a row's problems left to right
    total = len(table.rows)
    for index, line in enumerate(table.rows):
        number = table.numbers[index]
        row = Row({key: line[i] if i < len(line) else "" for key, i in positions.items()})
        key = kind.natural_key(row)
        if key is not None and key in seen:
            what, _value = key
            report.problems.append(Problem(what, "duplicate_in_file", {"other": seen[key], "what": what}, number))
        else:
            if key is not None:
                seen[key] = number
            try:
                with conn.transaction():
                    saved = kind.save(conn, row, context)
            except CellProblems as err:
                report.problems.extend(p.at(number) for p in sorted(err.problems, key=lambda p: order.get(p.column, 0)))
            else:
                report.counts[saved.action] += 1
                if saved.credential is not None:
                    report.credentials.append(saved.credential)
        if progress is not None:
            progress(index + 1, total)


def _audit_details(report: Report) -> dict[str, object]:
    return {
        "kind": report.kind,
        "file": report.file_name,
        "rows": report.rows,
        "counts": dict(report.counts),
        "problems": len(report.problems),
        "first_problems": [{"row": p.row, "column": p.column, "message": p.text("en")} for p in report.problems[:20]],
    }
