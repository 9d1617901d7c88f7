"""``eldercare import``: templates, a dry run, a refused file (exit status 1, the problems listed), a commit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from eldercare.cli import app
from eldercare.seed.sheets import write_sheet
from tests.eldercare.test_cli import env  # noqa: F401 - the fixture
from tests.imports.conftest import count

runner = CliRunner()


def test_templates_have_chinese_headers_or_english_ones(tmp_path: Path) -> None:
    out = tmp_path / "elders.xlsx"
    result = runner.invoke(app, ["import", "template", "elders", "--out", str(out)])
    assert result.exit_code == 0, result.output
    header = [cell.value for cell in next(load_workbook(out).active.iter_rows(max_row=1))]  # type: ignore[union-attr]
    assert header[:3] == ["身份证号*", "姓名*", "性别"]
    out_csv = tmp_path / "devices.csv"
    assert (
        runner.invoke(app, ["import", "template", "devices", "--out", str(out_csv), "--language", "en"]).exit_code == 0
    )
    assert out_csv.read_text("utf-8-sig").splitlines()[0] == "type*,serial*,device id,elder resident ID"
    assert runner.invoke(app, ["import", "template", "pets"]).exit_code == 2


@pytest.mark.usefixtures("env")
def test_dry_run_refusal_and_commit(database_url: str, tmp_path: Path, sheets: dict[str, list[dict[str, Any]]]) -> None:
    areas = write_sheet(tmp_path / "areas.csv", "areas", sheets["areas"])
    dry = runner.invoke(app, ["import", "areas", str(areas), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "dry run: nothing was written" in dry.output
    with psycopg.connect(database_url) as conn:
        assert count(conn, "township") == 0
    bad = [dict(row) for row in sheets["areas"]]
    bad[1]["lat"] = "北纬三十"
    refused = runner.invoke(app, ["import", "areas", str(write_sheet(tmp_path / "bad.xlsx", "areas", bad))])
    assert refused.exit_code == 1
    assert "row 3, 纬度: “北纬三十”不是数字" in refused.output
    assert runner.invoke(app, ["import", "areas", str(areas)]).exit_code == 0
    for kind in ("providers", "caregivers", "elders"):
        done = runner.invoke(app, ["import", kind, str(write_sheet(tmp_path / f"{kind}.xlsx", kind, sheets[kind][:5]))])
        assert done.exit_code == 0, done.output
    credentials = tmp_path / "credentials.csv"
    devices = [
        d for d in sheets["devices"] if d["elder_resident_id"] in {e["resident_id"] for e in sheets["elders"][:5]}
    ]
    path = write_sheet(tmp_path / "devices.xlsx", "devices", devices)
    done = runner.invoke(app, ["import", "devices", str(path), "--credentials", str(credentials)])
    assert done.exit_code == 0, done.output
    assert len(credentials.read_text().splitlines()) == len(devices) + 1
    with psycopg.connect(database_url) as conn:
        assert count(conn, "device") == len(devices)


@pytest.mark.parametrize("where", ["missing/t.xlsx", "."], ids=["no folder", "a folder"])
def test_a_template_that_cannot_be_written_is_refused_plainly(tmp_path: Path, where: str) -> None:
    result = runner.invoke(app, ["import", "template", "areas", "--out", str(tmp_path / where)])
    assert result.exit_code == 2, result.output
    assert "--out" in result.output and "Give the path of a file" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.usefixtures("env")
@pytest.mark.parametrize("where", ["missing/c.csv", "."], ids=["no folder", "a folder"])
def test_credentials_that_cannot_be_written_stop_the_import_before_it_saves(tmp_path: Path, where: str) -> None:
    """The secrets are shown once: the devices must not be saved when they cannot be."""
    devices = write_sheet(tmp_path / "devices.csv", "devices", [])
    result = runner.invoke(app, ["import", "devices", str(devices), "--credentials", str(tmp_path / where)])
    assert result.exit_code == 2, result.output
    assert "--credentials" in result.output and "Give the path of a file" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_template_in_a_language_the_imports_do_not_take_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "areas.xlsx"
    result = runner.invoke(app, ["import", "template", "areas", "--out", str(out), "--language", "fr"])
    assert result.exit_code == 2, result.output
    refused = runner.invoke(app, ["import", "areas", str(out), "--language", "fr"])
    assert refused.exit_code == 2
    assert result.output == refused.output == "eldercare: --language must be zh or en\n"
    assert not out.exists()
