"""A refusal carrying a ``Message`` reads in its reader's language; ``str`` stays the English for logs and the CLI."""

from __future__ import annotations

import gettext
import json
from datetime import date

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dashboard.errors import Conflict
from dispatcher.lifecycle import InvalidTransition, OrderError
from eldercare.i18n import translations
from eldercare.labels import Coded, Failed, Listed, Message, failed, words_of
from eldercare.vocabulary import OrderStatus

ZH, EN = translations("zh"), translations("en")


def test_a_refusal_carrying_a_message_reads_in_the_readers_language_and_its_str_in_english() -> None:
    refused = Conflict(Message.of("provider %(provider)s is inactive", provider="福寿"))
    assert words_of(refused, ZH) == "服务商 福寿 已停用"
    assert words_of(refused, EN) == str(refused) == "provider 福寿 is inactive"
    with pytest.raises(Conflict, match="is inactive"):  # what tests and logs match stays English
        raise refused
    plain = Conflict("a sentence written in English only")
    assert words_of(plain, ZH) == "a sentence written in English only"


def test_a_message_stored_as_json_reads_back_the_same_in_every_language() -> None:
    """A plan stores why a visit is in nobody's route as JSON (``plan_visit.unassigned_message``); read back, it is
    the same sentence, a coded value still the reader's word; a value JSON cannot hold is kept in English."""
    said = Message.of(
        "no provider selling %(service)s serves the elder's community %(community)s",
        service=Coded("service", "meal"),
        community=7,
    )
    back = Message.from_stored(json.loads(json.dumps(said.stored())))
    assert back == said
    assert back.words(translations("zh")) == "提供助餐的服务商都不覆盖老人所在社区 7"
    assert str(back) == "no provider selling Meal serves the elder's community 7"
    odd = Message.from_stored(json.loads(json.dumps(Message.of("on %(day)s", day=date(2026, 1, 8)).stored())))
    assert str(odd) == "on 2026-01-08"


def test_an_order_state_and_the_states_it_may_go_to_are_the_readers_words() -> None:
    refused = InvalidTransition("A1B2C3", OrderStatus.CREATED, OrderStatus.REVIEWED, "reviewed")
    assert str(refused) == (
        "order A1B2C3 is created and cannot be reviewed; from created it may become: accepted, cancelled, escalated, "
        "offered"
    )
    assert words_of(refused, ZH) == (
        "工单 A1B2C3 当前为“已创建”，不能回访；“已创建”的工单只能变为：已接单、已取消、已升级、已派单"
    )
    told = InvalidTransition("A1B2C3", OrderStatus.OFFERED, OrderStatus.OFFERED, "told the offer was declined")
    assert "cannot be told the offer was declined" in str(told)  # an action without words reads as written
    empty = OrderError(Message.of("say why the order is cancelled (reason is empty)"))
    assert words_of(empty, ZH) == "请说明取消工单的原因（原因为空）"


def test_sentences_inside_a_sentence_and_lists_take_the_readers_separators() -> None:
    inactive = Message.of("provider %(provider)s is inactive", provider="福寿")
    reasons = Listed((Message.of("the caregiver is marked inactive"), inactive), "; ")
    assert _words(reasons, ZH) == "该护理员已停用；服务商 福寿 已停用"
    assert _words(reasons, EN) == "the caregiver is marked inactive; provider 福寿 is inactive"
    services = Listed((Coded("service", "meal"), Coded("service", "bathing")))
    assert Message.of("no %(service)s skill", service=services).words(ZH) == "不会助餐、助浴"
    assert str(Message.of("no %(service)s skill", service=services)) == "no Meal, Bathing skill"


def _words(listed: Listed, language: gettext.NullTranslations) -> str:
    return Message.of("%(all)s", all=listed).words(language)


def test_a_sentence_the_catalogue_lacks_reads_in_english_rather_than_failing() -> None:
    lacking = Conflict(Message.of("nothing for %(service)s here (%(n)s)", service=Coded("service", "bathing"), n=3))
    assert words_of(lacking, ZH) == "nothing for 助浴 here (3)"
    assert str(lacking) == "nothing for Bathing here (3)"


def test_a_translation_whose_fields_do_not_fit_reads_in_english(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(gettext.NullTranslations):
        def gettext(self, message: str) -> str:
            return "服务商 %(name)s" if message.startswith("provider") else message

    message = Message.of("provider %(provider)s is inactive", provider="福寿")
    assert message.words(Broken()) == "provider 福寿 is inactive"
    assert "does not fit its values" in caplog.text


class _Form(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    code: str = Field("A1", pattern=r"^[A-Z]\d$")
    age: int = Field(80, ge=60)
    kin: list[str] = Field(default_factory=lambda: ["x"], min_length=1)
    first: date | None = None
    last: date | None = None

    @model_validator(mode="after")
    def _order(self) -> _Form:
        if self.first and self.last and self.last < self.first:
            raise ValueError(Message.of("last: the last day comes before the first"))
        return self


def _checks(data: dict[str, object]) -> dict[str, Failed]:
    with pytest.raises(ValidationError) as caught:
        _Form.model_validate(data)
    return {check.field: check for check in map(failed, caught.value.errors())}


def test_pydantics_own_checks_read_in_the_readers_language_and_in_pydantics_english() -> None:
    checks = _checks({"name": "", "code": "x", "age": "old", "kin": [], "first": "2026-13-01", "colour": "red"})
    said = {field: (check.english, check.words(ZH)) for field, check in checks.items()}
    assert said == {
        "name": ("String should have at least 1 character", "不能为空"),
        "code": ("String should match pattern '^[A-Z]\\d$'", "格式不对（应符合 ^[A-Z]\\d$）"),
        "age": ("Input should be a valid integer, unable to parse string as an integer", "应为整数，所填内容不是整数"),
        "kin": ("List should have at least 1 item after validation, not 0", "应至少有 1 项，现有 0 项"),
        "first": (
            "Input should be a valid date or datetime, month value is outside expected range of 1-12",
            "应为有效日期或日期时间",
        ),
        "colour": ("Extra inputs are not permitted", "不接受此字段"),
    }
    # pydantic's English is its own message, word for word
    with pytest.raises(ValidationError) as caught:
        _Form.model_validate({"name": "", "age": 59})
    assert [failed(e).english for e in caught.value.errors()] == [e["msg"] for e in caught.value.errors()]
    assert checks["age"].loc == ("age",) and _checks({})["name"].words(ZH) == "必填"


def test_a_whole_record_check_names_its_field_and_an_unknown_check_reads_in_english() -> None:
    check = _checks({"name": "x", "first": "2026-05-02", "last": "2026-05-01"})["last"]
    assert check.loc == ("last",) and check.named == "last"
    assert check.english == "the last day comes before the first"  # the field is beside it, not in it
    unknown = failed({"type": "made_up", "loc": ("x",), "msg": "Something pydantic says", "ctx": {"n": 1}})
    assert unknown.words(ZH) == "Something pydantic says" and unknown.field == "x"
    # a check pydantic fills with fewer values than the sentence needs reads in pydantic's English
    short = failed({"type": "greater_than_equal", "loc": ("age",), "msg": "Input should be at least 60", "ctx": {}})
    assert short.words(ZH) == "Input should be at least 60"
