"""Importing the bureau's spreadsheets: areas, elders, devices, providers and caregivers.

Each row goes through the same register code as the forms and the API (``eldercare.register``,
``eldercare.device_register``, ``eldercare.roster``, ``eldercare.areas``); a dry run does the same work in a
transaction it rolls back, and a commit keeps the whole file or nothing. See docs/import.md.
"""

from __future__ import annotations

import psycopg

from eldercare.imports.areas import Areas
from eldercare.imports.cells import Column, knows_any
from eldercare.imports.devices import Devices
from eldercare.imports.elders import Elders
from eldercare.imports.messages import ImportFailed, Problem
from eldercare.imports.roster import Caregivers, Providers
from eldercare.imports.run import Context, Kind, Progress, Report, run_import
from eldercare.imports.sheet import read_table, write_csv, write_xlsx

# in the order a new city is filled: places first, people and devices after
KINDS: dict[str, Kind] = {kind.name: kind for kind in (Areas(), Providers(), Caregivers(), Elders(), Devices())}


def kind_of(name: str) -> Kind:
    """The import kind of that name, or ValueError listing the kinds."""
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"no import kind {name!r}; the kinds are {', '.join(KINDS)}") from None


def template(name: str, file_format: str = "xlsx", language: str = "zh") -> bytes:
    """The empty template of a kind: the header (Chinese by default) and one example row."""
    kind = kind_of(name)
    header = [column.header(language) + ("*" if column.required else "") for column in kind.columns]
    example = [column.example for column in kind.columns]
    if file_format == "csv":
        return write_csv(header, [example])
    return write_xlsx(header, [column.note for column in kind.columns], [example])


def import_file(
    conn: psycopg.Connection,
    name: str,
    file_name: str,
    content: bytes,
    context: Context,
    *,
    dry_run: bool,
    progress: Progress | None = None,
) -> Report:
    """Read ``content`` and import it as kind ``name`` (see ``run_import``)."""
    kind = kind_of(name)
    try:
        table = read_table(file_name, content, kind.titles, lambda header: knows_any(kind.columns, header))
    except ImportFailed as err:
        return run_import(conn, kind, file_name, None, context, dry_run=dry_run, failure=err)
    return run_import(conn, kind, file_name, table, context, dry_run=dry_run, progress=progress)


def header_of(kind: Kind, column: str, language: str) -> str:
    """The header a problem's column goes by in ``language`` (``file`` for the file as a whole)."""
    for candidate in kind.columns:
        if candidate.key == column:
            return candidate.header(language)
    return "文件" if language == "zh" else "file"


__all__ = [
    "KINDS",
    "Column",
    "Context",
    "ImportFailed",
    "Kind",
    "Problem",
    "Report",
    "header_of",
    "import_file",
    "kind_of",
    "template",
]
