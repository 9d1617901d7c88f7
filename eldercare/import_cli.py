"""``eldercare import``: load the bureau's spreadsheets (a dry run first, then all or nothing) and write their
templates."""

from __future__ import annotations

import csv
import getpass
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import psycopg
import typer

from eldercare import imports
from eldercare.commands import command_group, command_infrastructure, command_settings, refuse_unwritable
from eldercare.i18n import LANGUAGES

app = command_group(
    "Import areas, providers, caregivers, elders or devices from an .xlsx or .csv file (UTF-8 or GBK). "
    "Fill a city in that order. Start with `eldercare import template KIND`; see docs/import.md."
)
Language = Annotated[str, typer.Option(help=f"language of the report: {' or '.join(LANGUAGES)}")]


@app.command()
def template(
    kind: Annotated[str, typer.Argument(help=f"one of {', '.join(imports.KINDS)}")],
    out: Annotated[Path | None, typer.Option(help="write it here (.xlsx or .csv); default KIND-template.xlsx")] = None,
    language: Language = "zh",
) -> None:
    """Write the empty template of a kind: its header (Chinese; English with --language en) and an example row."""
    if kind not in imports.KINDS:
        typer.echo(f"eldercare: no import kind {kind!r}; the kinds are {', '.join(imports.KINDS)}", err=True)
        raise typer.Exit(2)
    _refuse_unknown_language(language)
    target = out or Path(f"{kind}-template.xlsx")
    refuse_unwritable(target, "--out")
    try:
        target.write_bytes(imports.template(kind, "csv" if target.suffix.lower() == ".csv" else "xlsx", language))
    except OSError as err:
        typer.echo(f"eldercare: cannot write {target}: {err.strerror}. Give --out a file you may write.", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"template for {kind} written to {target}")


def _progress(total_step: int = 1000) -> imports.run.Progress:
    def show(done: int, total: int) -> None:
        if total >= total_step and (done % total_step == 0 or done == total):
            typer.echo(f"  {done:>6}/{total} rows", err=True)

    return show


def _refuse_unknown_language(language: str) -> None:
    """Exit 2 on a language the imports have no headers and messages in (any other would fall back to English)."""
    if language not in LANGUAGES:
        typer.echo(f"eldercare: --language must be {' or '.join(LANGUAGES)}", err=True)
        raise typer.Exit(2)


def _run(kind: str, file: Path, dry_run: bool, language: str, credentials: Path | None) -> None:
    _refuse_unknown_language(language)
    if credentials is not None:
        # the secrets are shown once: a file that cannot be written must stop the import before it saves anything
        refuse_unwritable(credentials, "--credentials")
    try:
        content = file.read_bytes()
    except OSError as err:
        typer.echo(f"eldercare: cannot read {file}: {err.strerror}", err=True)
        raise typer.Exit(2) from None
    settings = command_settings()
    now = datetime.now(UTC)
    context = imports.Context(
        actor=f"cli:{getpass.getuser()}",
        today=now.astimezone(ZoneInfo(settings.timezone)).date(),
        now=now,
        city=settings.city,
    )
    with command_infrastructure(settings, migrations=True) as infra, psycopg.connect(infra.database_url) as conn:
        report = imports.import_file(conn, kind, file.name, content, context, dry_run=dry_run, progress=_progress())
        if report.committed and kind == "devices":
            from eldercare import broker_sync

            broker_sync.sync_if_configured(conn)
    _report(report, language, credentials)


def _report(report: imports.Report, language: str, credentials: Path | None) -> None:
    kind = imports.kind_of(report.kind)
    if report.problems:
        for problem in report.problems:
            where = f"row {problem.row}, " if problem.row is not None else ""
            header = imports.header_of(kind, problem.column, language)
            typer.echo(f"{where}{header}: {problem.text(language)}", err=True)
        typer.echo(
            f"eldercare: {len(report.problems)} problems in {report.file_name} ({report.rows} rows); "
            "nothing was written. Correct the cells above and run again.",
            err=True,
        )
        raise typer.Exit(1)
    counts = ", ".join(f"{n} {action}" for action, n in sorted(report.counts.items())) or "no rows"
    verb = "would be written (dry run: nothing was written)" if report.dry_run else "written"
    typer.echo(f"{report.kind} from {report.file_name}: {report.rows} rows checked; {counts} {verb}")
    if report.credentials:
        _credentials(report.credentials, credentials)


def _credentials(issued: list[tuple[str, str]], target: Path | None) -> None:
    """The new devices' broker credentials, shown once: to a file when given, else to standard output."""
    if target is not None:
        try:
            handle = target.open("w", newline="", encoding="utf-8")
        except OSError as err:
            # the devices are saved already: the secrets must still be shown, here, or they are lost
            typer.echo(f"eldercare: cannot write {target}: {err.strerror}; the credentials follow here", err=True)
            target = None
    if target is None:
        typer.echo("new device credentials (shown once; put them into the devices now):")
        writer = csv.writer(sys.stdout)
    else:
        writer = csv.writer(handle)
    writer.writerow(["device_id", "secret"])
    writer.writerows(issued)
    if target is not None:
        handle.close()
        target.chmod(0o600)
        typer.echo(f"{len(issued)} new device credentials written to {target} (shown once; keep it safe)")


def _kind_command(kind: str) -> None:
    def command(
        file: Annotated[Path, typer.Argument(help="the .xlsx or .csv file")],
        dry_run: Annotated[bool, typer.Option("--dry-run", help="check every row and write nothing")] = False,
        language: Language = "zh",
        credentials: Annotated[
            Path | None, typer.Option(help="devices: write the new devices' credentials here instead of stdout")
        ] = None,
    ) -> None:
        _run(kind, file, dry_run, language, credentials)

    command.__doc__ = (
        f"Import {kind} from FILE: all rows or, with any bad cell, none (each listed; exit status 1). "
        "Re-importing updates by natural key."
    )
    app.command(name=kind)(command)


for _name in imports.KINDS:
    _kind_command(_name)
