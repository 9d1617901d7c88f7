"""Every SMS and device message in Chinese: filled with sample values, none shows an English word or an internal
code where a word should be, and the family's alarm text reads right for every alarm type."""

from __future__ import annotations

import re
import string

import psycopg
import pytest

from dispatcher import texts
from tests.dashboard.visible import foreign_words

# the reply words caregivers type, named in the texts on purpose, and an order code
SMS_COMMANDS = {"Y", "N", "ARRIVED", "DONE", "STOP", "START", "HX4K2P"}
SAMPLE = {
    "service": "助餐",
    "code": "HX4K2P",
    "elder": "王秀英",
    "address": "赤壁市蒲圻街道金桂路12号",
    "km": 1.234,
    "when": "，3月12日 11:00",
    "ttl": "90秒",
    "link": "",
    "load": 2,
    "codes": "HX4K2P、HX4K2P",
    "example": "Y HX4K2P",
    "status": "已接单",
    "action": "接单",
    "reason": "告警经核实为误报",
    "alarm": "烟雾报警",
    "caregiver": "李娟",
    "eta": 12,
}


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("key", sorted(texts._TEXTS))
def test_every_message_reads_in_chinese(key: str) -> None:
    template = texts._TEXTS[key][0]
    values = {name: SAMPLE.get(name, "样例") for name in _fields(template)}
    body = texts.text(key, "zh", **values)
    words = [w for w in foreign_words([body]) if re.search(r"'([^']+)'", w).group(1) not in SMS_COMMANDS]  # type: ignore[union-attr]
    assert words == [], body


def test_the_family_alarm_text_reads_right_for_every_alarm_type(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        names = [r[0] for r in conn.execute("SELECT name_zh FROM alarm_type").fetchall()]
    for name in names:
        body = texts.text("family_alarm", "zh", elder="王秀英", code="HX4K2P", alarm=name)
        assert "报警报警" not in body and "告警报警" not in body, body
