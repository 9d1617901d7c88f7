"""The templates' example rows import cleanly: a bureau's first try is to import a template unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from eldercare import imports
from eldercare.cli import app
from tests.imports.conftest import CONTEXT, load

runner = CliRunner()


def _template(tmp_path: Path, kind: str, file_name: str, language: str) -> Path:
    out = tmp_path / file_name
    result = runner.invoke(app, ["import", "template", kind, "--out", str(out), "--language", language])
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("city", ["empty", "seeded"])
def test_every_template_imports_unchanged_in_the_order_a_city_is_filled(
    conn: psycopg.Connection, tmp_path: Path, sheets: dict[str, list[dict[str, Any]]], city: str
) -> None:
    """Each kind's template, in Chinese (.xlsx) and English (.csv), passes a dry run with no problem once the
    templates before it are imported (the providers' example serves the areas' example township, ...)."""
    if city == "seeded":
        for kind in ("areas", "providers", "caregivers"):
            assert load(conn, tmp_path, kind, sheets[kind]).committed
    for kind in imports.KINDS:
        for file_name, language in ((f"{kind}.xlsx", "zh"), (f"{kind}.csv", "en")):
            path = _template(tmp_path, kind, file_name, language)
            report = imports.import_file(conn, kind, path.name, path.read_bytes(), CONTEXT, dry_run=True)
            problems = [(p.row, p.column, p.text("en")) for p in report.problems]
            assert report.ok and report.rows == 1 and sum(report.counts.values()) == 1, (kind, language, problems)
        committed = imports.import_file(conn, kind, path.name, path.read_bytes(), CONTEXT, dry_run=False)
        assert committed.committed, (kind, [(p.row, p.column, p.text("en")) for p in committed.problems])
