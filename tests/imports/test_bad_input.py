"""Bad files and bad cells: each named by row and column in the user's language, nothing written, the attempt
audited."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest

from eldercare import imports
from eldercare.allowance_check import RollError, read_roll
from eldercare.imports.sheet import MAX_ROWS, write_csv, write_xlsx
from eldercare.seed.sheets import resident_id
from tests.imports.conftest import CONTEXT, count, load


def _problems(report: imports.Report, language: str = "en") -> list[tuple[int | None, str, str]]:
    kind = imports.kind_of(report.kind)
    return [(p.row, imports.header_of(kind, p.column, language), p.text(language)) for p in report.problems]


def _file(conn: psycopg.Connection, kind: str, name: str, content: bytes) -> imports.Report:
    return imports.import_file(conn, kind, name, content, CONTEXT, dry_run=False)


@pytest.fixture
def city(conn: psycopg.Connection, tmp_path: Path, sheets: dict[str, list[dict[str, Any]]]) -> None:
    """The city's areas, providers and caregivers, and its first three elders."""
    for kind in ("areas", "providers", "caregivers"):
        assert load(conn, tmp_path, kind, sheets[kind]).committed
    assert load(conn, tmp_path, "elders", sheets["elders"][:3]).committed


def test_encodings_utf8_with_and_without_bom_and_gbk_are_read_others_refused(conn: psycopg.Connection) -> None:
    text = "乡镇街道,社区村,纬度,经度\n蒲圻街道,金鸡山社区,29.716,113.900\n"
    for content in (text.encode("utf-8"), text.encode("utf-8-sig"), text.encode("gbk")):
        report = imports.import_file(conn, "areas", "areas.csv", content, CONTEXT, dry_run=True)
        assert report.ok and report.counts["created"] == 1, _problems(report)
    big5 = "鄉鎮街道,社區村\n蒲圻街道,金雞山社區\n".encode("big5")  # decodes as GBK, but to nonsense
    for wrong in (text.encode("utf-16"), bytes([0x81, 0x30, 0xFF, 0x41]) * 8, big5):
        report = _file(conn, "areas", "areas.csv", wrong)
        assert _problems(report)[0][2].startswith("the file's encoding is not recognised")
        assert "UTF-8" in report.problems[0].text("zh")
    assert count(conn, "township") == 0
    refused = conn.execute("SELECT count(*) FROM audit_log WHERE action = 'import.refused'").fetchone()
    assert refused == (3,)


def test_missing_unknown_and_repeated_columns_are_named(conn: psycopg.Connection) -> None:
    content = write_csv(
        ["姓名", "身份证号", "乡镇街道", "社区村", "鞋码", "姓名"], [["张三", "x", "a", "b", "42", "张三"]]
    )
    report = _file(conn, "elders", "elders.csv", content)
    messages = [m for _row, _col, m in _problems(report)]
    assert "unknown column '鞋码'" in messages[0]
    assert messages[1] == "column '姓名' appears twice"
    assert messages[2] == "the required column '详细地址 / address' is missing; use the template's header"
    assert report.problems[2].text("zh") == "缺少必填列“详细地址 / address”；请使用模板的表头"
    assert count(conn, "elder") == 0
    assert _problems(_file(conn, "elders", "elders.xlsx", b"PK\x03\x04 not really"))[0][2].startswith("the file is not")


@pytest.mark.usefixtures("city")
def test_every_bad_cell_is_listed_by_row_and_column_and_nothing_is_written(
    conn: psycopg.Connection, tmp_path: Path, sheets: dict[str, list[dict[str, Any]]]
) -> None:
    rows = [dict(row) for row in sheets["elders"][3:12]]
    first = rows[0]["resident_id"]
    rows[1]["resident_id"] = first  # duplicate within the file (row 3 repeats row 2)
    rows[2]["resident_id"] = first[:17] + ("0" if first[17] != "0" else "1")  # bad checksum
    rows[3]["contact1_phone"] = "12345"  # bad phone
    rows[4]["lat"], rows[4]["lon"] = 31.2, 121.5  # Shanghai: outside the city
    rows[5]["community"] = "不存在社区"  # unknown community
    rows[6]["township"] = "火星镇"  # unknown township
    rows[7] = {**sheets["elders"][0], "name": "冒名者"}  # an ID number registered to someone else
    before = count(conn, "elder"), count(conn, "emergency_contact"), count(conn, "audit_log")
    report = load(conn, tmp_path, "elders", rows)
    assert not report.committed
    found = _problems(report)
    assert [(row, column) for row, column, _ in found] == [
        (3, "resident ID"),
        (4, "resident ID"),
        (5, "contact 1 phone"),
        (6, "latitude"),
        (7, "community"),
        (8, "township"),
        (9, "name"),
    ]
    assert "the same resident_id as row 2" in found[0][2]
    assert "check character" in found[1][2]
    assert "not a phone number" in found[2][2]
    assert "outside the city" in found[3][2]
    assert "unknown community '不存在社区'" in found[4][2]
    assert "unknown township '火星镇'" in found[5][2]
    assert "registered to" in found[6][2]
    chinese = _problems(report, "zh")
    assert chinese[0][:2] == (3, "身份证号") and "与第 2 行重复" in chinese[0][2]
    assert chinese[3][1] == "纬度" and "不在本市范围内" in chinese[3][2]
    # the register's own refusals, in the report's language too
    assert "校验位应为" in chinese[1][2] and "请对照身份证核对" in chinese[1][2]
    assert chinese[2][2].endswith("不是国际格式的电话号码：请写成 +86 加号码，例如 +8613812345678")
    assert chinese[5][2].startswith("未知的乡镇街道 '火星镇'；已有的乡镇街道：")
    assert "没有社区 '不存在社区'；该乡镇街道的社区有：" in chinese[4][2]
    assert (count(conn, "elder"), count(conn, "emergency_contact")) == before[:2]
    assert count(conn, "audit_log") == before[2] + 1  # only the refusal itself


@pytest.mark.usefixtures("city")
def test_caregiver_device_and_provider_cells(
    conn: psycopg.Connection, tmp_path: Path, sheets: dict[str, list[dict[str, Any]]]
) -> None:
    carer = {**sheets["caregivers"][0], "phone": "13800000000", "shifts": "周八 08:00-17:00", "provider": "P99"}
    carer["skills"] = "助餐、飞行"
    found = _problems(load(conn, tmp_path, "caregivers", [carer]))
    assert [column for _, column, _ in found] == ["provider", "skills", "shifts"]
    # a check of the roster's own model (pydantic's), in the report's language
    carer = {**sheets["caregivers"][0], "max_load": "50"}
    found = _problems(load(conn, tmp_path, "caregivers", [carer]))
    assert [(column, said) for _, column, said in found] == [("max load", "Input should be less than or equal to 20")]
    assert [said for _, _, said in _problems(load(conn, tmp_path, "caregivers", [carer]), "zh")] == ["应不大于 20"]
    elder = sheets["elders"][0]["resident_id"]
    devices = [
        {"type": "toaster", "serial": "S-1", "elder_resident_id": elder},
        {
            "type": "watch",
            "serial": "S-2",
            "elder_resident_id": resident_id(9999, date(1940, 1, 1), "F"),
        },
    ]
    found = _problems(load(conn, tmp_path, "devices", devices))
    assert [(row, column) for row, column, _ in found] == [(2, "type"), (3, "elder resident ID")]
    assert "no elder with ID number" in found[1][2]
    provider = {
        **sheets["providers"][0],
        "code": "NEW1",
        "name": "新服务商",
        "townships": "火星镇",
        "services": "助餐:十五",
    }
    found = _problems(load(conn, tmp_path, "providers", [provider]))
    assert [column for _, column, _ in found] == ["services"]
    provider["services"] = "助餐:1500"
    found = _problems(load(conn, tmp_path, "providers", [provider]))
    assert [column for _, column, _ in found] == ["service townships"]
    # the roster's refusal, in the report's language
    assert found[0][2].startswith("unknown township '火星镇'")
    refused = _problems(load(conn, tmp_path, "providers", [provider]), "zh")
    assert refused[0][2] == "未知的乡镇街道 '火星镇'；请使用乡镇街道和社区列表中的编码或名称"
    assert count(conn, "device") == 0


@pytest.mark.parametrize("price", ["²", "1²", "٣"])
def test_a_price_of_digits_int_does_not_read_is_a_bad_cell_not_a_crash(
    conn: psycopg.Connection, tmp_path: Path, sheets: dict[str, list[dict[str, Any]]], price: str
) -> None:
    provider = {**sheets["providers"][0], "code": "NEW1", "name": "新服务商", "services": f"助餐:{price}"}
    found = _problems(load(conn, tmp_path, "providers", [provider]))
    if price == "٣":  # an Arabic-Indic three: a decimal digit, which int() reads
        assert "services" not in [column for _, column, _ in found]
    else:
        assert [column for _, column, _ in found] == ["services"]


@pytest.mark.usefixtures("city")
def test_five_thousand_rows_with_one_bad_row_write_nothing(
    conn: psycopg.Connection, tmp_path: Path, sheets: dict[str, list[dict[str, Any]]]
) -> None:
    template = sheets["elders"][5]
    rows = []
    for n in range(5000):
        born = date(1930 + n % 30, 1 + n % 12, 1 + n % 28)
        rows.append({**template, "resident_id": resident_id(100_000 + n, born, "F"), "name": f"测试{n}"})
    rows[4321]["contact1_phone"] = "+8612"
    before = count(conn, "elder")
    report = load(conn, tmp_path, "elders", rows)
    assert [(p.row, p.column) for p in report.problems] == [(4323, "contact1_phone")]
    assert report.counts["created"] == 4999 and not report.committed
    assert count(conn, "elder") == before


@pytest.mark.usefixtures("city")
def test_a_provider_kitchen_is_both_coordinates_inside_the_city_or_none(
    conn: psycopg.Connection, tmp_path: Path, sheets: dict[str, list[dict[str, Any]]]
) -> None:
    template = {**sheets["providers"][0], "code": "K1", "name": "厨房服务商", "kitchen_lat": None, "kitchen_lon": None}
    half = {**template, "kitchen_lat": 29.72}
    shanghai = {**template, "code": "K2", "name": "上海厨房", "kitchen_lat": 31.2, "kitchen_lon": 121.5}
    found = _problems(load(conn, tmp_path, "providers", [half, shanghai]))
    assert [(row, column) for row, column, _ in found] == [(2, "kitchen longitude"), (3, "kitchen latitude")]
    assert "both latitude and longitude" in found[0][2] and "outside the city" in found[1][2]
    assert count(conn, "provider") == len(sheets["providers"])  # nothing written
    good = {**template, "kitchen_lat": 29.7205, "kitchen_lon": 113.9012}
    assert load(conn, tmp_path, "providers", [good]).committed
    kitchen = conn.execute("SELECT kitchen_lat, kitchen_lon FROM provider WHERE code = 'K1'").fetchone()
    assert kitchen == (29.7205, 113.9012)
    # a later sheet without the kitchen columns filled leaves the kitchen as it is
    assert load(conn, tmp_path, "providers", [{**template, "capacity": 60}]).committed
    again = conn.execute("SELECT kitchen_lat, kitchen_lon, capacity FROM provider WHERE code = 'K1'").fetchone()
    assert again == (29.7205, 113.9012, 60)


SHEET = "xl/worksheets/sheet1.xml"
HEADER = write_xlsx(["乡镇街道", "社区村"], ["", ""])  # an areas workbook of its header only, declared A1:B1


def _changed(workbook: bytes, part: str, change: Callable[[bytes], bytes]) -> bytes:
    """The .xlsx ``workbook`` with its ``part`` (a file in the zip) changed."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item.filename, change(data) if item.filename == part else data)
    return out.getvalue()


def _with_rows(workbook: bytes, rows: bytes) -> bytes:
    return _changed(workbook, SHEET, lambda xml: xml.replace(b"</sheetData>", rows + b"</sheetData>"))


def _rows_xml(first: int, last: int) -> bytes:
    """Rows ``first`` to ``last`` of an areas sheet, as a sheet's XML has them."""
    cell = '<c r="{}{}" t="inlineStr"><is><t>{}</t></is></c>'
    return "".join(
        f'<row r="{n}">{cell.format("A", n, "蒲圻街道")}{cell.format("B", n, f"社区{n}")}</row>'
        for n in range(first, last + 1)
    ).encode()


def test_a_damaged_workbook_or_csv_is_refused_as_unreadable(conn: psycopg.Connection) -> None:
    good = _with_rows(HEADER, _rows_xml(2, 2))
    broken_xml = _with_rows(HEADER, b"<row r=")
    no_sheets = _changed(good, "xl/workbook.xml", lambda xml: re.sub(rb"<sheets>.*</sheets>", b"<sheets />", xml))
    for content in (broken_xml, no_sheets):
        report = _file(conn, "areas", "areas.xlsx", content)
        assert [(p.row, p.code) for p in report.problems] == [(None, "bad_xlsx")]
        with pytest.raises(RollError, match=r"not a readable \.xlsx"):  # the allowance roll, from the same file
            read_roll(content, "roll.xlsx")
    open_quote = '乡镇街道,社区村\n蒲圻街道,金鸡山社区\n蒲圻街道,"石门社区\n' + "蒲圻街道,社区\n" * 20_000
    assert _problems(_file(conn, "areas", "areas.csv", open_quote.encode())) == [
        (
            3,
            "file",
            "the file cannot be read as CSV: a cell from this row on runs over 131072 characters (a quotation mark "
            "not closed?); check the row and save the file again as 'CSV UTF-8'",
        )
    ]
    assert count(conn, "township") == 0


def test_a_workbook_is_read_past_the_size_it_declares(conn: psycopg.Connection) -> None:
    report = imports.import_file(
        conn, "areas", "areas.xlsx", _with_rows(HEADER, _rows_xml(2, 4)), CONTEXT, dry_run=True
    )
    assert report.ok and report.counts["created"] == 3
    header = write_xlsx(["身份证号", "姓名", "金额"], ["", "", ""])
    row = '<row r="{0}"><c r="A{0}" t="inlineStr"><is><t>42000019400101002X</t></is></c></row>'
    roll = read_roll(_with_rows(header, "".join(row.format(n) for n in (2, 3)).encode()), "roll.xlsx")
    assert len(roll.rows) + len(roll.bad) == 2


def test_a_file_over_the_row_limit_is_refused_before_the_rest_is_read(conn: psycopg.Connection) -> None:
    last = MAX_ROWS + 10_000
    # past the limit the file turns unreadable (broken XML, a quote left open): reading on would refuse it so
    big = _changed(
        _with_rows(HEADER, _rows_xml(2, last) + b'<row r="0"><c r='),
        SHEET,
        lambda xml: xml.replace(b'<dimension ref="A1:B1"', f'<dimension ref="A1:B{last}"'.encode()),
    )
    big_csv = ("乡镇街道,社区村\n" + "蒲圻街道,社区\n" * last + '蒲圻街道,"' + "长" * 140_000).encode()
    for name, content in (("areas.xlsx", big), ("areas.csv", big_csv)):
        assert _problems(_file(conn, "areas", name, content)) == [
            (None, "file", "the file has more than 50000 rows, too many for one import; split it into several files")
        ]


def test_an_areas_row_never_renames_a_township_or_community(
    conn: psycopg.Connection, tmp_path: Path, sheets: dict[str, list[dict[str, Any]]]
) -> None:
    assert load(conn, tmp_path, "areas", sheets["areas"]).committed
    first = sheets["areas"][0]
    town, town_code, place, place_code = (
        first[k] for k in ("township", "township_code", "community", "community_code")
    )
    rows = [
        {**first, "township": "改名镇", "community": "某新村", "community_code": None},
        {**first, "community": "改名社区"},
        {"township": "新镇", "township_code": "XZ", "community": "甲村"},
        {"township": "另一镇", "township_code": "XZ", "community": "乙村"},  # one code, two names in one file
    ]
    report = load(conn, tmp_path, "areas", rows, dry_run=True)
    assert _problems(report) == [
        (
            2,
            "township code",
            f"township code {town_code} already belongs to {town}, the row says 改名镇; an import does not rename a "
            "township: correct the code or the name",
        ),
        (
            3,
            "community code",
            f"community code {place_code} already belongs to {place}, the row says 改名社区; an import does not "
            "rename a community: correct the code or the name",
        ),
        (
            5,
            "township code",
            "township code XZ already belongs to 新镇, the row says 另一镇; an import does not rename a township: "
            "correct the code or the name",
        ),
    ]
    assert report.counts == {"created": 1}
    assert not load(conn, tmp_path, "areas", rows[:2]).committed
    names = "SELECT (SELECT name FROM township WHERE code = %s), (SELECT name FROM community WHERE code = %s)"
    assert conn.execute(names, (town_code, place_code)).fetchone() == (town, place)


def test_an_areas_row_never_makes_a_second_township_of_one_name_nor_moves_a_community(
    conn: psycopg.Connection, tmp_path: Path, sheets: dict[str, list[dict[str, Any]]]
) -> None:
    assert load(conn, tmp_path, "areas", sheets["areas"]).committed
    first = sheets["areas"][0]
    other = next(row for row in sheets["areas"] if row["township_code"] != first["township_code"])
    town, town_code, place, place_code = (
        first[k] for k in ("township", "township_code", "community", "community_code")
    )
    rows = [
        {"township": town, "township_code": "NEWT", "community": "某新村"},
        {**first, "township": other["township"], "township_code": other["township_code"]},
        {"township": "新镇", "township_code": "XZ", "community": "甲村"},
        {**first, "township": "新镇", "township_code": "XZ"},  # into a township an earlier row of the file made
        {"township": town, "township_code": town_code, "community": place, "community_code": "NEWC"},
    ]
    report = load(conn, tmp_path, "areas", rows, dry_run=True)
    moved = (
        f"community code {place_code} already belongs to {place} in {town}, the row puts it in {{}}; an import does "
        "not move a community to another township: correct the code or the township"
    )
    assert _problems(report) == [
        (
            2,
            "township code",
            f"township {town} is registered already under code {town_code}, the row gives code NEWT; an import "
            f"does not make a second township of one name: give code {town_code} or leave the code empty",
        ),
        (3, "community code", moved.format(other["township"])),
        (5, "community code", moved.format("新镇")),
        (
            6,
            "community code",
            f"community {place} is registered in {town} already under code {place_code}, the row gives code NEWC; "
            "an import does not make a second community of one name in a township: give code "
            f"{place_code} or leave the code empty",
        ),
    ]
    assert report.counts == {"created": 1}
    by_name = {**first, "township": other["township"], "township_code": None}  # the township named, not coded
    assert _problems(load(conn, tmp_path, "areas", [by_name], dry_run=True)) == [
        (2, "community code", moved.format(other["township"]))
    ]
    assert not load(conn, tmp_path, "areas", rows[:2]).committed
    found = "SELECT count(*) FROM township WHERE name = %s UNION ALL SELECT count(*) FROM community WHERE name = %s"
    assert conn.execute(found, (town, place)).fetchall() == [(1,), (1,)]
    where = "SELECT t.code FROM community c JOIN township t ON t.id = c.township_id WHERE c.code = %s"
    assert conn.execute(where, (place_code,)).fetchone() == (town_code,)
