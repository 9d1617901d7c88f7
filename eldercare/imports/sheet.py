"""Reading a spreadsheet the bureau keeps (.xlsx, or .csv in UTF-8 with or without BOM, or GBK) as a header
and rows of text, and writing the empty template of a kind."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import PurePath
from typing import Any

from eldercare.imports.messages import ImportFailed, Problem

XLSX_MAGIC = b"PK\x03\x04"
MAX_ROWS = 50_000


@dataclass(frozen=True, slots=True)
class Table:
    """A sheet's header and its rows of text; ``numbers`` are the rows' numbers in the sheet (blank lines skipped)."""

    header: list[str]
    rows: list[list[str]]
    numbers: list[int]


def read_table(
    name: str,
    content: bytes,
    sheets: Sequence[str] = (),
    knows: Callable[[list[str]], bool] | None = None,
    *,
    max_rows: int = MAX_ROWS,
) -> Table:
    """The table in ``content``; the file's name says .xlsx or .csv (an .xlsx is also recognised by content).
    In a workbook, the sheet with one of the titles ``sheets`` is read, else the first. A CSV that is not UTF-8
    is read as GBK, and refused as of unknown encoding when ``knows`` recognises none of its header. More than
    ``max_rows`` rows are refused as the limit is passed, before the rest is read."""
    suffix = PurePath(name).suffix.lower()
    if suffix == ".xlsx" or content.startswith(XLSX_MAGIC):
        with closing(_xlsx_lines(content, sheets)) as lines:
            return _table(lines, max_rows)
    if suffix in (".csv", ".txt", ""):
        table = _table(_csv_lines(decode_csv(content)), max_rows)
        if knows is not None and not _utf8(content) and not knows(table.header):
            raise ImportFailed([Problem("file", "bad_encoding", {})])
        return table
    raise ImportFailed([Problem("file", "unsupported_file", {"name": name})])


def decode_csv(content: bytes) -> str:
    """The text of a CSV file: UTF-8 (with or without BOM), else GBK (GB 18030); anything else is refused."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in content[:4096]:
        raise ImportFailed([Problem("file", "bad_encoding", {})])
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("gb18030")
    except UnicodeDecodeError:
        raise ImportFailed([Problem("file", "bad_encoding", {})]) from None


def _utf8(content: bytes) -> bool:
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _csv_lines(text: str) -> Iterator[list[str]]:
    """The CSV's records, one by one; a cell longer than the csv module reads (a quote left open) is refused."""
    reader = csv.reader(io.StringIO(text, newline=""))
    record = 1
    try:
        for line in reader:
            yield line
            record += 1
    except csv.Error:
        raise ImportFailed([Problem("file", "bad_csv", {"max": csv.field_size_limit()}, record)]) from None


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _xlsx_lines(content: bytes, titles: Sequence[str]) -> Generator[list[str], None, None]:
    """The cells of the workbook's sheet, row by row as they are asked for, so a refusal stops the reading."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            wanted = {title.lower() for title in titles}
            titled = [ws for ws in book.worksheets if ws.title.strip().lower() in wanted]
            sheet = (titled or book.worksheets)[0]
            sheet.reset_dimensions()  # the size a sheet declares may be too small (openpyxl stops there)
            for row in sheet.iter_rows(values_only=True):
                yield [_cell(v) for v in row]
        finally:
            book.close()
    except Exception:
        # a damaged workbook fails in many ways, opening it or reading its rows: the zip (BadZipFile, zlib.error,
        # EOFError), its XML (ParseError), a part missing (KeyError), no worksheet at all (IndexError), ...
        raise ImportFailed([Problem("file", "bad_xlsx", {})]) from None


def _table(lines: Iterable[Sequence[str]], max_rows: int) -> Table:
    """Header and rows, blank lines skipped, cells trimmed; refused as soon as there are more than ``max_rows``
    rows, before the rest of the file is read."""
    header: list[str] | None = None
    rows: list[list[str]] = []
    numbers: list[int] = []
    for number, line in enumerate(lines, start=1):
        cells = [cell.strip() for cell in line]
        if not any(cells):
            continue
        if header is None:
            header = cells
            while header and not header[-1]:
                header.pop()
            continue
        if len(rows) == max_rows:
            raise ImportFailed([Problem("file", "too_many_rows", {"max": max_rows})])
        rows.append(cells + [""] * (len(header) - len(cells)))
        numbers.append(number)
    if header is None:
        raise ImportFailed([Problem("file", "empty_file", {})])
    return Table(header=header, rows=rows, numbers=numbers)


@dataclass(frozen=True, slots=True)
class Sheet:
    """A sheet to write: its title, header, the header cells' notes and the rows."""

    title: str
    header: list[str]
    notes: list[str]
    rows: Sequence[Sequence[object]] = ()


def write_xlsx(header: list[str], notes: list[str], rows: Sequence[Sequence[object]] = (), title: str = "") -> bytes:
    """An .xlsx with ``header`` in row 1 and ``rows`` below; ``notes`` become the header cells' comments."""
    return write_workbook([Sheet(title or "Sheet1", header, notes, rows)])


def write_workbook(sheets: Sequence[Sheet]) -> bytes:
    """An .xlsx of several sheets, each with its header in row 1."""
    from openpyxl import Workbook

    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for sheet in sheets:
        _fill(book.create_sheet(sheet.title), sheet)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _fill(sheet: Any, spec: Sheet) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    header, notes = spec.header, spec.notes
    sheet.append(header)
    for index, note in enumerate(notes, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True)
        if note:
            cell.comment = Comment(note, "eldercare")
        sheet.column_dimensions[get_column_letter(index)].width = max(12, 2 * len(header[index - 1]) + 2)
    for row in spec.rows:
        sheet.append(list(row))


def write_csv(header: list[str], rows: Sequence[Sequence[object]] = ()) -> bytes:
    """A UTF-8 CSV with BOM (so spreadsheet programs read its Chinese headers right)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")
