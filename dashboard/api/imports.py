"""``/api/v1/imports``: the bureau's spreadsheets, checked (dry run) and imported all or nothing (admins only).

Every row goes through ``eldercare.imports`` and so through the same register code as the forms; the report
names each bad cell by row and column header in the asker's language.
"""

from __future__ import annotations

from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Path, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from dashboard import i18n
from dashboard.auth import Administrator
from dashboard.runtime import Pool, RuntimeDep
from eldercare import broker_sync, imports

router = APIRouter(prefix="/imports", tags=["imports"])
KindName = Literal["areas", "providers", "caregivers", "elders", "devices"]
Kind = Annotated[KindName, Path(description="what the file holds; import areas, then providers, caregivers, ...")]
LanguageQuery = Annotated[
    Literal["zh", "en"] | None, Query(description="language of headers and messages; default the UI's")
]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ColumnOut(BaseModel):
    key: str
    zh: str
    en: str
    required: bool
    note: str


class KindOut(BaseModel):
    kind: str
    columns: list[ColumnOut]


class ProblemOut(BaseModel):
    row: int | None = Field(description="the row number in the sheet (1 is the header); none for the whole file")
    column: str = Field(description="the column's key, or 'file'")
    header: str = Field(description="the column's header in the report's language")
    code: str = Field(description="stable key of the kind of problem, e.g. duplicate_in_file, outside_city")
    message: str


class CredentialOut(BaseModel):
    """A new device's broker login, shown once: the platform keeps only a hash."""

    username: str
    secret: str


class ImportReport(BaseModel):
    kind: str
    file_name: str
    rows: int
    dry_run: bool
    committed: bool = Field(description="true only when every row was accepted and it was not a dry run")
    counts: dict[str, int] = Field(description="rows created, updated and unchanged (or that would be)")
    problems: list[ProblemOut]
    credentials: list[CredentialOut] = Field(description="devices: the credentials issued by this commit")
    broker_synced: bool = False


@router.get("/kinds", response_model=list[KindOut])
def kinds(principal: Administrator) -> list[KindOut]:
    """The kinds of file an import reads, in the order a new city is filled, with their columns."""
    return [
        KindOut(
            kind=name,
            columns=[ColumnOut(key=c.key, zh=c.zh, en=c.en, required=c.required, note=c.note) for c in kind.columns],
        )
        for name, kind in imports.KINDS.items()
    ]


@router.get(
    "/{kind}/template",
    response_class=Response,
    responses={200: {"content": {XLSX: {}, "text/csv": {}}, "description": "the template"}},
)
def template(
    kind: Kind,
    principal: Administrator,
    request: Request,
    file_format: Annotated[Literal["xlsx", "csv"], Query(alias="format")] = "xlsx",
    language: LanguageQuery = None,
) -> Response:
    """The empty template of a kind: the header (Chinese unless asked for English), notes and an example row."""
    content = imports.template(kind, file_format, language or i18n.choose(request))
    return Response(
        content,
        media_type=XLSX if file_format == "xlsx" else "text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{kind}-template.{file_format}"'},
    )


@router.post("/{kind}", response_model=ImportReport)
def run(
    kind: Kind,
    principal: Administrator,
    request: Request,
    pool: Pool,
    runtime: RuntimeDep,
    file: Annotated[UploadFile, File(description=".xlsx, or .csv in UTF-8 or GBK")],
    dry_run: Annotated[bool, Query(description="check every row and write nothing")] = True,
    language: LanguageQuery = None,
) -> ImportReport:
    """Check a file (``dry_run``, the default) or import it: all rows, or with any bad cell none. Audited."""
    chosen = language or i18n.choose(request)
    now = runtime.clock.now()
    context = imports.Context(
        actor=principal.username,
        today=now.astimezone(ZoneInfo(runtime.settings.timezone)).date(),
        now=now,
        city=runtime.settings.city,
    )
    content = file.file.read()
    synced = False
    with pool.connection() as conn:
        report = imports.import_file(conn, kind, file.filename or "upload", content, context, dry_run=dry_run)
        if report.committed and kind == "devices":
            synced = broker_sync.sync_if_configured(conn) is not None
    spec = imports.kind_of(kind)
    return ImportReport(
        kind=report.kind,
        file_name=report.file_name,
        rows=report.rows,
        dry_run=report.dry_run,
        committed=report.committed,
        counts=dict(report.counts),
        problems=[
            ProblemOut(
                row=p.row,
                column=p.column,
                header=imports.header_of(spec, p.column, chosen),
                code=p.code,
                message=p.text(chosen),
            )
            for p in report.problems
        ],
        credentials=[CredentialOut(username=u, secret=s) for u, s in report.credentials],
        broker_synced=synced,
    )
