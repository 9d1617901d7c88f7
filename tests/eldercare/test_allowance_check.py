"""The age-allowance cross-check finds each planted mismatch, and nothing else, from CSV and from .xlsx."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from openpyxl import Workbook

from eldercare.allowance_check import MAX_ROWS, RollError, check, read_roll
from eldercare.i18n import translations
from eldercare.labels import Message
from eldercare.register.identity import mask_resident_id, resident_id_check_char
from tests.dispatcher.town import Town

ON = date(2026, 3, 1)


def resident_id(born: str, serial: int) -> str:
    first17 = f"421281{born}{serial:03d}"
    return first17 + resident_id_check_char(first17)


@pytest.fixture
def register(database_url: str):
    """Elders on the register: fine, deceased, moved, under age, silent; the ID numbers of each."""
    with psycopg.connect(database_url) as conn:
        town = Town(conn)
        ids = {}
        for serial, (who, born) in enumerate(
            (
                ("fine", "19400501"),
                ("deceased", "19380101"),
                ("moved", "19390101"),
                ("young", "19600101"),
                ("silent", "19410101"),
            ),
            start=1,
        ):
            elder = town.elder()
            number = resident_id(born, serial)
            conn.execute(
                "UPDATE elder SET resident_id = %s, birth_date = %s WHERE id = %s",
                (number, datetime.strptime(born, "%Y%m%d").date(), elder),
            )
            seen = None if who == "silent" else datetime(2026, 2, 27, tzinfo=UTC)
            conn.execute("UPDATE device SET last_seen_at = %s WHERE elder_id = %s", (seen, elder))
            ids[who] = number
        conn.execute(
            "UPDATE elder SET active = false, inactive_reason = 'deceased', inactive_since = '2026-01-10' "
            "WHERE resident_id = %s",
            (ids["deceased"],),
        )
        conn.execute(
            "UPDATE elder SET active = false, inactive_reason = 'moved_away', inactive_since = '2026-01-10' "
            "WHERE resident_id = %s",
            (ids["moved"],),
        )
        # the silent elder had a service long ago
        conn.commit()
        ids["unknown"] = resident_id("19300101", 99)
        yield conn, ids


def _rows(ids: dict[str, str]) -> list[list[str]]:
    wrong_check = ids["fine"][:17] + ("0" if ids["fine"][17] != "0" else "1")
    return [
        ["序号", "姓名", "身份证号", "金额"],
        ["1", "王秀英", ids["fine"], "100"],
        ["2", "李四", ids["unknown"], "100"],
        ["3", "王秀英", ids["fine"], "100"],
        ["4", "张三", ids["deceased"], "100"],
        ["5", "赵六", ids["moved"], "100"],
        ["6", "钱七", ids["young"], "100"],
        ["7", "孙八", ids["silent"], "200"],
        ["8", "周九", wrong_check, "100"],
        ["9", "吴十", "4212811", "100"],
        ["10", "郑一", ids["fine"][:-4] + "0000", "abc"],
        ["", "", "", ""],
    ]


def _csv(rows: list[list[str]]) -> bytes:
    return ("\ufeff" + "\r\n".join(",".join(r) for r in rows)).encode()


def _xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(("encode", "name"), [(_csv, "roll.csv"), (_xlsx, "roll.xlsx")])
def test_each_planted_mismatch_and_nothing_else(register, encode, name) -> None:
    conn, ids = register
    roll = read_roll(encode(_rows(ids)), name)
    found = {(f.kind, f.line) for f in check(conn, roll, ON)}
    assert found == {
        ("unknown_id", 3),
        ("duplicate", 4),
        ("deceased", 5),
        ("moved_away", 6),
        ("under_age", 7),
        ("no_sign_of_life", 8),
        ("bad_row", 9),
        ("bad_row", 10),
        ("bad_row", 11),
    }
    findings = check(conn, roll, ON)
    assert all(f.resident_id is None or "*" in f.resident_id for f in findings)  # masked
    silent = next(f for f in findings if f.kind == "no_sign_of_life")
    assert silent.resident_id == mask_resident_id(ids["silent"]) and str(silent.detail) == "no sign of life ever"
    young = next(f for f in findings if f.kind == "under_age")
    assert re.fullmatch(r"\d+ years old, under 80", str(young.detail)), young.detail
    assert isinstance(young.detail, Message) and re.fullmatch(
        r"\d+ 岁，未满 80 岁", young.detail.words(translations("zh"))
    )
    # a service within the days counts as a sign of life
    conn.execute(
        "UPDATE device SET last_seen_at = %s WHERE elder_id = (SELECT id FROM elder WHERE resident_id = %s)",
        (datetime(2026, 2, 1, tzinfo=UTC) + timedelta(days=20), ids["silent"]),
    )
    assert "no_sign_of_life" not in {f.kind for f in check(conn, roll, ON)}


def test_a_file_that_is_no_roll_is_refused_whole() -> None:
    with pytest.raises(RollError, match="no 身份证号 column"):
        read_roll("姓名,金额\r\n王,1\r\n".encode(), "roll.csv")
    with pytest.raises(RollError, match=r"not a readable \.xlsx"):
        read_roll(b"not a zip", "roll.xlsx")
    with pytest.raises(RollError, match="empty"):
        read_roll(b"", "roll.csv")
    with pytest.raises(RollError, match="cannot be read as CSV"):  # the imports' words, as they read it
        read_roll(("身份证号,姓名,金额\r\n1,2," + "9" * 200_000 + "\r\n").encode(), "roll.csv")
    with pytest.raises(RollError, match="encoding is not recognised"):
        read_roll(b"\xff\xfe\x00\xd8\x00", "roll.csv")


def test_a_roll_over_the_row_limit_is_refused_before_the_rest_is_read() -> None:
    """Past the limit the file turns unreadable (a quote left open): the roll is refused for its size, so the
    reading stopped there (before, every row was read first, and a 1,000,000-row roll held in memory whole)."""
    rows = "".join(f"42000019400101002X,王{n},100\r\n" for n in range(MAX_ROWS + 1))
    content = ("身份证号,姓名,金额\r\n" + rows + '1,"' + "9" * 200_000 + "\r\n").encode()
    with pytest.raises(RollError, match=f"more than {MAX_ROWS} rows"):
        read_roll(content, "roll.csv")
    under = read_roll(("身份证号,姓名,金额\r\n" + rows[: rows.index("\r\n") + 2] * 3).encode(), "r.csv")
    assert len(under.rows) + len(under.bad) == 3  # a roll within the limit is read row by row
