"""The elder register: every bad input refused with the field named and nothing written; create, change,
assess, deactivate (open orders cancelled with the reason) and reactivate, against PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest

from dispatcher.orders import cancel_order, create_order, reassign_order
from dispatcher.recurring import create_due_orders
from dispatcher.settings import Config, DispatcherSettings
from eldercare.clock import ManualClock
from eldercare.config import Settings
from eldercare.register import elders as register
from eldercare.register.identity import check_phone, check_resident_id, mask_resident_id, resident_id_check_char
from eldercare.register.model import Rejected
from tests.dispatcher.town import CENTER, Town, offset

TODAY = date(2026, 1, 7)
NOW = datetime(2026, 1, 7, 2, 0, tzinfo=UTC)


def resident_id(born: str = "19400501", sequence: str = "002", area: str = "421281") -> str:
    first17 = area + born + sequence
    return first17 + resident_id_check_char(first17)


WANG = resident_id()  # a woman born 1940-05-01


def elder_input(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "王秀英",
        "gender": "F",
        "birth_date": "1940-05-01",
        "resident_id": WANG,
        "phone": "13812345678",
        "township": "蒲圻街道",
        "community": "社区C01",
        "address": "金桂路12号",
        "lat": CENTER[0],
        "lon": CENTER[1],
        "living_situation": "alone",
        "eligibility": [
            {"category": "min_allowance", "decided_on": "2024-03-01", "document_no": "赤民〔2024〕12号"},
            {"category": "very_old", "decided_on": "2024-03-01", "document_no": "赤民〔2024〕13号"},
        ],
        "medical_notes": "高血压",
        "medications": "氨氯地平 5mg 每日一次",
        "allergies": "青霉素",
        "home_access_notes": "钥匙盒在门左侧，密码 4821",
        "contacts": [
            {"name": "王强", "relation": "儿子", "phone": "+8613900000001", "notify_sms": True},
            {"name": "李梅", "relation": "邻居", "phone": "+8613900000002", "notify_sms": False},
        ],
        "thresholds": {"hr_high": 110, "spo2_low": 90},
        "assessment": {
            "assessed_on": "2025-11-20",
            "level": 2,
            "assessors": ["张医生", "刘护士"],
            "scores": {"self_care": 60, "mobility": 55},
        },
    }
    data.update(changes)
    return data


@pytest.fixture
def town(database_url: str) -> Iterator[Town]:
    """A township 蒲圻街道 with one community, 社区C01."""
    with psycopg.connect(database_url) as connection:
        place = Town(connection)
        connection.commit()
        yield place


@pytest.fixture
def conn(town: Town) -> psycopg.Connection:
    return town.conn


def counts(conn: psycopg.Connection) -> tuple[int, ...]:
    row = conn.execute(
        "SELECT (SELECT count(*) FROM elder), (SELECT count(*) FROM emergency_contact), "
        "(SELECT count(*) FROM elder_eligibility), (SELECT count(*) FROM assessment), (SELECT count(*) FROM audit_log)"
    ).fetchone()
    assert row is not None
    return tuple(row)


# ---- identity numbers, no database


def test_resident_id_checksum_of_a_published_example() -> None:
    # the GB 11643 example number 11010519491231002X
    assert check_resident_id("11010519491231002x") == "11010519491231002X"
    with pytest.raises(ValueError, match="should be X, not 1"):
        check_resident_id("110105194912310021")
    with pytest.raises(ValueError, match="18 characters"):
        check_resident_id("1101051949123100")
    bad_date = "42128119401301002"
    with pytest.raises(ValueError, match="not a date"):
        check_resident_id(bad_date + resident_id_check_char(bad_date))
    assert mask_resident_id("11010519491231002X") == "110105********002X"


def test_phone_numbers() -> None:
    assert check_phone("138 1234 5678") == "+8613812345678"
    assert check_phone("+86 715 5231234") == "+867155231234"  # a landline
    assert check_phone("+4420794600000") == "+4420794600000"
    with pytest.raises(ValueError, match="not a mainland mobile number"):
        check_phone("+8612812345678")
    with pytest.raises(ValueError, match="international form"):
        check_phone("12345")


# ---- writing, against PostgreSQL


BAD_INPUTS: list[tuple[dict[str, Any], str, str]] = [
    ({"name": ""}, "name", "at least 1 character"),
    ({"gender": "X"}, "gender", "'F' or 'M'"),
    ({"birth_date": "2030-01-01"}, "birth_date", "not a possible date of birth"),
    ({"resident_id": WANG[:17] + ("0" if WANG[17] != "0" else "1")}, "resident_id", "check character"),
    ({"resident_id": "4212811940"}, "resident_id", "18 characters"),
    (
        {"resident_id": resident_id("19400502")},
        "resident_id",
        "born on 1940-05-02, the birth date says 1940-05-01",
    ),
    ({"resident_id": resident_id(sequence="003")}, "resident_id", "a man's"),
    ({"phone": "+8612345678901"}, "phone", "not a mainland mobile number"),
    ({"phone": "call me"}, "phone", "international form"),
    ({"township": "不存在镇"}, "township", "unknown township '不存在镇'; known: 蒲圻街道"),
    ({"community": "不存在社区"}, "community", "unknown community '不存在社区' in 蒲圻街道; known there: 社区C01"),
    ({"lat": 95}, "lat", "less than or equal to 90"),
    ({"living_situation": "in_a_tent"}, "living_situation", "'alone'"),
    (
        {"eligibility": [{"category": "rich", "decided_on": "2024-01-01", "document_no": "1"}]},
        "eligibility.0.category",
        "'extreme_poverty'",
    ),
    (
        {"eligibility": [{"category": "low_income", "decided_on": "2024-01-01", "document_no": ""}]},
        "eligibility.0.document_no",
        "at least 1 character",
    ),
    (
        {
            "eligibility": [
                {"category": "low_income", "decided_on": "2024-01-01", "document_no": "1"},
                {"category": "low_income", "decided_on": "2024-02-01", "document_no": "2"},
            ]
        },
        "eligibility",
        "listed twice",
    ),
    (
        {"eligibility": [{"category": "very_old", "decided_on": "2015-01-01", "document_no": "1"}]},
        "eligibility",
        "needs an age of 80 at the decision; the elder was 74",
    ),
    (
        {"eligibility": [{"category": "disabled", "decided_on": "2025-12-01", "document_no": "1"}]},
        "eligibility",
        "Disabled needs an ability level of 3-4; the latest assessment says 2",
    ),
    ({"thresholds": {"hr_high": 400}}, "thresholds", "outside the range a device can report (20-250"),
    ({"thresholds": {"pulse": 100}}, "thresholds", "unknown threshold 'pulse'"),
    ({"thresholds": {"hr_low": 90, "hr_high": 80}}, "thresholds", "hr_low (90) must be below hr_high (80)"),
    ({"thresholds": {"hr_low": 200}}, "thresholds", "hr_low (200) must be below hr_high (120)"),  # its default
    ({"thresholds": {"sbp_high": 85}}, "thresholds", "sbp_low (90) must be below sbp_high (85)"),
    ({"thresholds": {"spo2_low": 90.5}}, "thresholds", "whole number"),
    (
        {"contacts": [{"name": "王强", "relation": "儿子", "phone": "0000"}]},
        "contacts.0.phone",
        "international form",
    ),
    (
        {
            "contacts": [
                {"name": "王强", "relation": "儿子", "phone": "+8613900000001"},
                {"name": "王磊", "relation": "儿子", "phone": "+8613900000001"},
            ]
        },
        "contacts.1.phone",
        "listed twice",
    ),
    (
        {"assessment": {"assessed_on": "2025-11-20", "level": 5, "assessors": ["张医生"]}},
        "assessment.level",
        "less than or equal to 4",
    ),
    (
        {"assessment": {"assessed_on": "2025-11-20", "level": 1, "assessors": []}},
        "assessment.assessors",
        "at least 1 item",
    ),
    (
        {"assessment": {"assessed_on": "2025-11-20", "level": 1, "assessors": ["张"], "scores": {"iq": 5}}},
        "assessment.scores",
        "unknown score 'iq'",
    ),
    ({"favourite_colour": "red"}, "favourite_colour", "Extra inputs are not permitted"),
]


@pytest.mark.parametrize(
    ("changes", "field", "message"), BAD_INPUTS, ids=[case[1] + "-" + str(i) for i, case in enumerate(BAD_INPUTS)]
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(
    conn: psycopg.Connection, changes: dict[str, Any], field: str, message: str
) -> None:
    before = counts(conn)
    with pytest.raises(Rejected) as caught:
        register.create_elder(conn, elder_input(**changes), "tester", TODAY)
    conn.rollback()
    problems = {p.field: p.message for p in caught.value.problems}
    assert field in problems, problems
    assert message in problems[field]
    assert counts(conn) == before


def test_a_second_elder_with_the_same_id_number_is_refused(conn: psycopg.Connection) -> None:
    first = register.create_elder(conn, elder_input(), "tester", TODAY)
    conn.commit()
    before = counts(conn)
    with pytest.raises(Rejected, match=f"already registered to 王秀英 \\({first.code}\\)"):
        register.create_elder(conn, elder_input(phone=None), "tester", TODAY)
    conn.rollback()
    assert counts(conn) == before


def test_create_keeps_every_field_and_audits_it(conn: psycopg.Connection) -> None:
    saved = register.create_elder(conn, elder_input(), "admin1", TODAY)
    conn.commit()
    assert saved.warnings == []
    record = register.get_record(conn, saved.elder_id)
    assert record.code == f"E{saved.elder_id:06d}"
    assert (record.resident_id, record.phone, record.ability_level) == (WANG, "+8613812345678", 2)
    assert [c.phone for c in record.contacts] == ["+8613900000001", "+8613900000002"]
    assert [e.category for e in record.eligibility] == ["min_allowance", "very_old"]
    assert record.home_access_notes.startswith("钥匙盒")
    row = conn.execute(
        "SELECT lives_alone, left_behind, economic_status, thresholds FROM elder WHERE id = %s", (saved.elder_id,)
    ).fetchone()
    assert row == (True, False, "min_allowance", {"hr_high": 110, "spo2_low": 90})
    priorities = conn.execute(
        "SELECT priority, notify_sms FROM emergency_contact WHERE elder_id = %s ORDER BY priority", (saved.elder_id,)
    ).fetchall()
    assert priorities == [(1, True), (2, False)]
    [assessment] = register.assessments(conn, saved.elder_id)
    assert (assessment.level, assessment.assessors, assessment.recorded_by) == (2, ["张医生", "刘护士"], "admin1")
    audit = conn.execute("SELECT actor, action, details FROM audit_log WHERE target_kind = 'elder'").fetchall()
    assert [(a, b) for a, b, _ in audit] == [("admin1", "elder.create")]
    assert audit[0][2]["after"]["resident_id"] == WANG


def test_a_location_outside_the_city_is_saved_with_a_warning(conn: psycopg.Connection) -> None:
    saved = register.create_elder(conn, elder_input(lat=39.9, lon=116.4), "tester", TODAY)
    assert [w.field for w in saved.warnings] == ["location"]
    assert "outside the city" in saved.warnings[0].message


def test_partial_update_changes_only_what_is_given_and_records_before_and_after(conn: psycopg.Connection) -> None:
    saved = register.create_elder(conn, elder_input(), "tester", TODAY)
    contact_ids = [r[0] for r in conn.execute("SELECT id FROM emergency_contact ORDER BY priority").fetchall()]
    register.update_elder(
        conn,
        saved.elder_id,
        {
            "phone": "+8613700000000",
            "living_situation": "with_spouse",
            # the neighbour now called first, the son second
            "contacts": [
                {"name": "李梅", "relation": "邻居", "phone": "+8613900000002", "notify_sms": True},
                {"name": "王强", "relation": "儿子", "phone": "+8613900000001"},
            ],
        },
        "operator1",
        TODAY,
    )
    record = register.get_record(conn, saved.elder_id)
    assert (record.phone, record.living_situation, record.name) == ("+8613700000000", "with_spouse", "王秀英")
    assert [c.name for c in record.contacts] == ["李梅", "王强"]
    # the same people keep their rows (and the messages sent to them)
    assert [r[0] for r in conn.execute("SELECT id FROM emergency_contact ORDER BY priority").fetchall()] == list(
        reversed(contact_ids)
    )
    details = conn.execute("SELECT details FROM audit_log WHERE action = 'elder.update'").fetchone()
    assert details is not None
    assert details[0]["before"]["phone"] == "+8613812345678"
    assert details[0]["after"]["phone"] == "+8613700000000"
    assert "name" not in details[0]["after"]


def test_a_bad_update_writes_nothing(conn: psycopg.Connection) -> None:
    saved = register.create_elder(conn, elder_input(), "tester", TODAY)
    conn.commit()
    before = counts(conn)
    with pytest.raises(Rejected) as caught:
        register.update_elder(conn, saved.elder_id, {"birth_date": "1941-05-01"}, "tester", TODAY)
    conn.rollback()
    assert caught.value.problems[0].field == "resident_id"
    assert counts(conn) == before
    assert register.get_record(conn, saved.elder_id).birth_date == date(1940, 5, 1)


def test_assessments_are_kept_as_a_history_and_the_latest_sets_the_level(conn: psycopg.Connection) -> None:
    saved = register.create_elder(conn, elder_input(), "tester", TODAY)
    register.add_assessment(
        conn, saved.elder_id, {"assessed_on": "2026-01-05", "level": 3, "assessors": ["张医生"]}, "tester", TODAY
    )
    # an older assessment recorded late does not override the newer one
    register.add_assessment(
        conn, saved.elder_id, {"assessed_on": "2025-06-01", "level": 1, "assessors": ["张医生"]}, "tester", TODAY
    )
    assert [a.level for a in register.assessments(conn, saved.elder_id)] == [3, 2, 1]
    assert register.get_record(conn, saved.elder_id).ability_level == 3
    register.update_elder(
        conn,
        saved.elder_id,
        {"eligibility": [{"category": "disabled", "decided_on": "2026-01-06", "document_no": "赤民〔2026〕1号"}]},
        "tester",
        TODAY,
    )
    with pytest.raises(Rejected, match="in the future"):
        register.add_assessment(
            conn, saved.elder_id, {"assessed_on": "2026-02-01", "level": 3, "assessors": ["张"]}, "tester", TODAY
        )


@pytest.fixture
def config() -> Config:
    return Config(
        Settings(public_url="http://testserver", twilio_from="+8610690000", _env_file=None),
        DispatcherSettings(_env_file=None),
    )


def test_deactivation_cancels_open_orders_with_the_reason_and_keeps_every_record(
    conn: psycopg.Connection, town: Town, config: Config
) -> None:
    clock = ManualClock(NOW)
    saved = register.create_elder(conn, elder_input(), "tester", TODAY)
    caregiver = town.caregiver(town.provider(), offset(0.5, 0))
    conn.execute(
        "INSERT INTO recurring_service (elder_id, service_type, schedule, starts_on) VALUES (%s, 'meal', "
        "'0 11 * * *', %s)",
        (saved.elder_id, TODAY),
    )
    later = create_order(
        conn,
        clock,
        elder_id=saved.elder_id,
        service_type="cleaning",
        actor="op",
        window_start=NOW + timedelta(days=1),
        config=config,
    )
    offered = create_order(conn, clock, elder_id=saved.elder_id, service_type="meal", actor="op", config=config)
    reassign_order(conn, clock, offered.id, caregiver_id=caregiver, actor="op", config=config)
    conn.commit()

    def cancel(c: psycopg.Connection, order_id: int, reason: str) -> None:
        cancel_order(c, clock, order_id, reason=reason, actor="op", config=config)

    result = register.deactivate(
        conn, saved.elder_id, {"reason": "in_hospital", "since": "2026-01-06"}, "op", TODAY, cancel
    )
    conn.commit()
    assert result.cancelled_orders == [later.code, offered.code]
    reasons = conn.execute("SELECT status, cancel_reason FROM service_order ORDER BY id").fetchall()
    assert reasons == [("cancelled", "the elder is in hospital")] * 2
    # the offer is withdrawn and the caregiver told why
    assert conn.execute("SELECT status FROM offer WHERE order_id = %s", (offered.id,)).fetchone() == ("cancelled",)
    told = conn.execute(
        "SELECT body FROM sms_message WHERE purpose = 'operator' AND caregiver_id = %s", (caregiver,)
    ).fetchone()
    assert told is not None and offered.code in told[0]
    assert "老人已住院" in told[0] and "hospital" not in told[0]  # in the caregiver's language, as the order page
    record = register.get_record(conn, saved.elder_id)
    assert (record.active, record.inactive_reason, record.inactive_since) == (False, "in_hospital", date(2026, 1, 6))
    # no record is removed; the dispatcher makes no recurring order for an inactive elder
    assert counts(conn)[:4] == (1, 2, 2, 1)
    assert conn.execute("SELECT active FROM recurring_service").fetchone() == (True,)
    clock.set(datetime(2026, 1, 8, 2, 30, tzinfo=UTC))  # 10:30 in Chibi: the 11:00 meal falls due
    assert create_due_orders(conn, clock, config) == 0
    with pytest.raises(Rejected, match="already inactive"):
        register.deactivate(conn, saved.elder_id, {"reason": "deceased", "since": "2026-01-07"}, "op", TODAY, cancel)
    conn.rollback()
    with pytest.raises(Rejected, match="in the future"):
        register.deactivate(conn, saved.elder_id, {"reason": "deceased", "since": "2026-02-07"}, "op", TODAY, cancel)
    conn.rollback()

    register.reactivate(conn, saved.elder_id, "op")
    assert register.get_record(conn, saved.elder_id).active
    assert create_due_orders(conn, clock, config) == 1
    actions = [r[0] for r in conn.execute("SELECT action FROM audit_log WHERE target_kind = 'elder' ORDER BY id")]
    assert actions == ["elder.create", "elder.deactivate", "elder.reactivate"]


def test_an_elder_from_before_the_register_keeps_what_the_register_does_not_hold(
    conn: psycopg.Connection, town: Town
) -> None:
    elder_id = town.elder(contacts=1)
    conn.execute("UPDATE elder SET economic_status = 'extreme_poverty' WHERE id = %s", (elder_id,))
    register.update_elder(conn, elder_id, {"medications": "阿司匹林"}, "tester", TODAY)
    row = conn.execute("SELECT economic_status, medications FROM elder WHERE id = %s", (elder_id,)).fetchone()
    assert row == ("extreme_poverty", "阿司匹林")
    register.update_elder(conn, elder_id, {"eligibility": []}, "tester", TODAY)
    assert conn.execute("SELECT economic_status FROM elder WHERE id = %s", (elder_id,)).fetchone() == ("none",)


def test_an_assessment_or_a_deactivation_dated_before_the_elders_birth_is_refused(conn: psycopg.Connection) -> None:
    """Born 1940-05-01: an assessment of 1939, at enrolment or after, and a deactivation since 1939 are refused
    saying so (before, each was kept)."""
    with pytest.raises(Rejected, match=r"assessment date 1939-12-31 is before the elder was born \(1940-05-01\)"):
        register.create_elder(
            conn, elder_input(assessment={"assessed_on": "1939-12-31", "level": 1, "assessors": ["张"]}), "t", TODAY
        )
    conn.rollback()
    saved = register.create_elder(conn, elder_input(), "tester", TODAY)
    conn.commit()
    with pytest.raises(Rejected, match="before the elder was born"):
        register.add_assessment(
            conn, saved.elder_id, {"assessed_on": "1939-12-31", "level": 3, "assessors": ["张"]}, "tester", TODAY
        )
    conn.rollback()

    def cancel(c: psycopg.Connection, order_id: int, reason: str) -> None:
        raise AssertionError("no order to cancel")

    with pytest.raises(Rejected, match=r"1939-06-01 is before the elder was born"):
        register.deactivate(conn, saved.elder_id, {"reason": "deceased", "since": "1939-06-01"}, "op", TODAY, cancel)
    conn.rollback()
    record = register.get_record(conn, saved.elder_id)
    assert record.active and [a.assessed_on for a in register.assessments(conn, saved.elder_id)] == [date(2025, 11, 20)]
