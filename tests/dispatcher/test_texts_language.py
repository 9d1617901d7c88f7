"""Every SMS and device message from the catalogue, in Chinese and English: filled with sample values, none shows an
untranslated message, an English word or an internal code where a word should be; the family's alarm text reads
right for every alarm type; the caregiver's order and day pages read in Chinese."""

from __future__ import annotations

import re

import psycopg
import pytest

from dispatcher import texts
from eldercare.i18n import translations
from tests.dashboard.test_language import english_messages
from tests.dashboard.visible import foreign_words, visible_texts

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


def _values(key: str) -> dict[str, object]:
    return {name: SAMPLE.get(name, "样例") for name in re.findall(r"%\((\w+)\)", texts._TEXTS[key])}


@pytest.mark.parametrize("key", sorted(texts._TEXTS))
def test_every_message_reads_in_chinese(key: str) -> None:
    assert translations("zh").gettext(texts._TEXTS[key]) != texts._TEXTS[key], "untranslated"
    body = texts.text(key, "zh", **_values(key))
    words = [w for w in foreign_words([body]) if re.search(r"'([^']+)'", w).group(1) not in SMS_COMMANDS]  # type: ignore[union-attr]
    assert words == [], body


@pytest.mark.parametrize("key", sorted(texts._TEXTS))
def test_every_message_reads_in_english_from_its_message_id(key: str) -> None:
    body = texts.text(key, "en", **_values(key))
    assert body == texts._TEXTS[key] % _values(key)
    assert not re.search("[\u4e00-\u9fff]", texts._TEXTS[key]), "a message id is English"


def test_service_names_reasons_and_durations_come_from_the_catalogue() -> None:
    zh = [texts.service_name(code, "zh") for code in texts.SERVICE_NAMES]
    zh += [texts.reason(code, "zh") for code in texts.REASONS]
    assert foreign_words(zh) == [], zh
    assert texts.service_name("meal", "zh") == "助餐" and texts.service_name("meal", "en") == "Meal delivery"
    assert texts.duration(90, "zh") == "90秒" and texts.duration(900, "zh") == "15分钟"
    assert texts.duration(90, "en") == "90 s" and texts.duration(900, "en") == "15 min"


def test_the_family_alarm_text_reads_right_for_every_alarm_type(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        names = [r[0] for r in conn.execute("SELECT name_zh FROM alarm_type").fetchall()]
    for name in names:
        body = texts.text("family_alarm", "zh", elder="王秀英", code="HX4K2P", alarm=name)
        assert "报警报警" not in body and "告警报警" not in body, body


def chinese_page_problems(html: str, code: str) -> list[str]:
    """What on a caregiver's page does not read in Chinese: an untranslated message, an English word, an internal
    code (the order's own code and the reply words an SMS names, both shown as themselves, aside)."""
    shown = visible_texts(html)
    problems = [f"untranslated {text!r}" for text in shown if text in english_messages()]
    allowed = SMS_COMMANDS | {code}
    return problems + [w for w in foreign_words(shown) if re.search(r"'([^']+)'", w).group(1) not in allowed]  # type: ignore[union-attr]
