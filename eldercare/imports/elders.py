"""The ``elders`` import: the register's fields, up to three emergency contacts in calling order, eligibility
decisions and the latest ability assessment; written through ``eldercare.register.elders``."""

from __future__ import annotations

from typing import Any

import psycopg

from eldercare.imports.areas import located
from eldercare.imports.cells import GENDERS, CellProblems, Column, Row, column_of, names_of, refused, said_by
from eldercare.imports.messages import Problem
from eldercare.imports.run import Context, Saved
from eldercare.register import elders as register
from eldercare.register.identity import check_phone, check_resident_id
from eldercare.register.model import ElderPatch, Rejected, validated
from eldercare.register.record import ElderRecord
from eldercare.vocabulary import EligibilityCategory, LivingSituation

CONTACTS = 3
LIVING = names_of(
    {
        LivingSituation.ALONE: ("独居",),
        LivingSituation.WITH_SPOUSE: ("与配偶同住", "夫妻同住"),
        LivingSituation.WITH_FAMILY: ("与子女同住", "与家人同住"),
        LivingSituation.LEFT_BEHIND: ("留守", "留守老人"),
    }
)
CATEGORIES = names_of(
    {
        EligibilityCategory.EXTREME_POVERTY: ("特困", "特困人员"),
        EligibilityCategory.MIN_ALLOWANCE: ("低保",),
        EligibilityCategory.LOW_INCOME: ("低收入", "低收入家庭"),
        EligibilityCategory.VERY_OLD: ("高龄",),
        EligibilityCategory.DISABLED: ("失能",),
        EligibilityCategory.PARTLY_DISABLED: ("半失能",),
        EligibilityCategory.SOLITARY: ("孤寡",),
        EligibilityCategory.BEREAVED_ONLY_CHILD_FAMILY: ("计生特殊家庭",),
    }
)
ELIGIBILITY_FORM = "类别:决定日期:文号，如 低保:2024-03-01:赤民〔2024〕12号 / category:date:document"


# the template's example elder (a valid GB 11643 number: born 1945-03-12, a woman); the devices' example is hers
EXAMPLE_RESIDENT_ID = "421281194503120028"
# the example's contacts, in calling order: (name, relation, phone); a contact given in part is refused
EXAMPLE_CONTACTS = (("王建国", "儿子", "13812345679"),)


def _contact_columns(n: int) -> tuple[Column, ...]:
    name, relation, phone = EXAMPLE_CONTACTS[n - 1] if n <= len(EXAMPLE_CONTACTS) else ("", "", "")
    return (
        Column(
            f"contact{n}_name",
            f"联系人{n}姓名",
            f"contact {n} name",
            note=f"第{n}位紧急联系人（按呼叫顺序）",
            example=name,
        ),
        Column(f"contact{n}_relation", f"联系人{n}关系", f"contact {n} relation", example=relation),
        Column(f"contact{n}_phone", f"联系人{n}电话", f"contact {n} phone", example=phone),
        Column(f"contact{n}_sms", f"联系人{n}短信", f"contact {n} sms", note="告警时是否发短信：是/否，默认 是"),
    )


# the register's field -> the column it was read from
FIELDS = {
    "name": "name",
    "gender": "gender",
    "birth_date": "birth_date",
    "resident_id": "resident_id",
    "phone": "phone",
    "township": "township",
    "community": "community",
    "address": "address",
    "lat": "lat",
    "lon": "lon",
    "location": "lat",
    "living_situation": "living_situation",
    "eligibility": "eligibility",
    "medical_notes": "medical_notes",
    "medications": "medications",
    "allergies": "allergies",
    "home_access_notes": "home_access_notes",
    "notes": "notes",
    "assessment": "ability_level",
    "assessment.assessed_on": "assessed_on",
    "assessment.assessors": "assessors",
    **{f"contacts.{i}": f"contact{i + 1}_name" for i in range(CONTACTS)},
    **{
        f"contacts.{i}.{part}": f"contact{i + 1}_{part}"
        for i in range(CONTACTS)
        for part in ("name", "relation", "phone")
    },
}


class Elders:
    name: str = "elders"
    titles: tuple[str, ...] = ("elders", "老人")
    columns: tuple[Column, ...] = (
        Column(
            "resident_id",
            "身份证号",
            "resident ID",
            required=True,
            note="18位，校验位按 GB 11643 检查",
            example=EXAMPLE_RESIDENT_ID,
        ),
        Column("name", "姓名", "name", required=True, example="张桂英"),
        Column("gender", "性别", "gender", note="男/女；空时取自身份证号"),
        Column("birth_date", "出生日期", "birth date", note="空时取自身份证号", example="1945-03-12"),
        Column("phone", "电话", "phone", example="13812345678"),
        Column("township", "乡镇街道", "township", required=True, example="蒲圻街道"),
        Column("community", "社区村", "community", required=True, example="金鸡山社区"),
        Column("address", "详细地址", "address", required=True, example="金鸡山路12号"),
        Column("lat", "纬度", "latitude", note="可空：空时取社区中心；须在本市范围内", example="29.716"),
        Column("lon", "经度", "longitude", example="113.900"),
        Column(
            "living_situation", "居住情况", "living situation", note="独居/与配偶同住/与子女同住/留守", example="独居"
        ),
        Column("eligibility", "资格类别", "eligibility", note=ELIGIBILITY_FORM),
        Column("ability_level", "能力等级", "ability level", note="0-4（GB/T 42195-2022）", example="1"),
        Column("assessed_on", "评估日期", "assessed on", example="2025-06-01"),
        Column("assessors", "评估员", "assessors", note="一至四人，用、分隔", example="李明、王芳"),
        Column("medical_notes", "病史", "medical notes"),
        Column("medications", "用药", "medications"),
        Column("allergies", "过敏", "allergies"),
        Column("home_access_notes", "入户说明", "home access notes", note="钥匙盒、门锁密码：仅对接单护理员可见"),
        Column("notes", "备注", "notes"),
        *(column for n in range(1, CONTACTS + 1) for column in _contact_columns(n)),
    )

    def natural_key(self, row: Row) -> tuple[str, str] | None:
        value = (row.cells.get("resident_id") or "").strip().upper()
        return ("resident_id", value) if value else None

    def save(self, conn: psycopg.Connection, row: Row, context: Context) -> Saved:
        data, assessment = self._read(row, context)
        found = conn.execute(
            "SELECT id, code, name FROM elder WHERE resident_id = %s", (data["resident_id"],)
        ).fetchone()
        if found is not None and found[2] != data["name"]:
            raise CellProblems(
                [
                    Problem(
                        "name", "identity_conflict", {"registered": found[2], "code": found[1], "given": data["name"]}
                    )
                ]
            )
        try:
            if data.get("lat") is None:
                data.update(_community_centre(conn, data["township"], data["community"]))
            if found is None:
                register.create_elder(conn, {**data, "assessment": assessment}, context.actor, context.today)
                return Saved("created")
            elder_id = int(found[0])
            changed = not _same(register.get_record(conn, elder_id), validated(ElderPatch, data, context.today))
            if changed:
                register.update_elder(conn, elder_id, data, context.actor, context.today)
            if assessment is not None and not _assessed(conn, elder_id, assessment):
                register.add_assessment(conn, elder_id, assessment, context.actor, context.today)
                changed = True
        except Rejected as err:
            raise refused([(p.field, p) for p in err.problems], FIELDS, "resident_id") from None
        return Saved("updated" if changed else "unchanged")

    def _read(self, row: Row, context: Context) -> tuple[dict[str, Any], dict[str, Any] | None]:
        resident_id = row.text("resident_id", required=True)
        if resident_id is not None:
            try:
                resident_id = check_resident_id(resident_id)
            except ValueError as err:
                row.note("resident_id", "invalid", detail=said_by(err))
        data: dict[str, Any] = {
            "resident_id": resident_id,
            "name": row.text("name", required=True),
            "township": row.text("township", required=True),
            "community": row.text("community", required=True),
            "address": row.text("address", required=True),
            "eligibility": self._eligibility(row),
            "contacts": self._contacts(row),
        }
        gender = row.choice("gender", GENDERS)
        born = row.day("birth_date")
        if resident_id and not row.problems:
            # the ID number says both; a cell left empty takes its word, a filled one is checked against it
            gender = gender or ("M" if int(resident_id[16]) % 2 else "F")
            born = born or row.parse_day("birth_date", f"{resident_id[6:10]}-{resident_id[10:12]}-{resident_id[12:14]}")
        data["gender"], data["birth_date"] = gender, born
        location = located(row, context, "lat", "lon")
        if location is not None:
            data["lat"], data["lon"] = location
        for key in ("phone", "medical_notes", "medications", "allergies", "home_access_notes", "notes"):
            if (value := row.text(key)) is not None:
                data[key] = value
        if (living := row.choice("living_situation", LIVING)) is not None:
            data["living_situation"] = living
        level = row.whole("ability_level")
        assessed_on = row.day("assessed_on")
        assessors = row.items("assessors")
        assessment = None
        if level is not None or assessed_on is not None or assessors:
            given: tuple[tuple[str, object], ...] = (("ability_level", level), ("assessed_on", assessed_on))
            for key, cell in given:
                if cell is None and not any(p.column == key for p in row.problems):
                    row.note(key, "required")
            if not assessors:
                row.note("assessors", "required")
            assessment = {"level": level, "assessed_on": assessed_on, "assessors": assessors}
        row.check()
        return data, assessment

    def _eligibility(self, row: Row) -> list[dict[str, Any]]:
        decisions = []
        for item in row.items("eligibility"):
            parts = [part.strip() for part in item.replace("：", ":").split(":", 2)]
            category = CATEGORIES.get(parts[0].lower())
            if category is None or len(parts) != 3 or not parts[2]:
                row.note("eligibility", "bad_item", value=item, expected=ELIGIBILITY_FORM)
                continue
            decisions.append(
                {"category": category, "decided_on": row.parse_day("eligibility", parts[1]), "document_no": parts[2]}
            )
        return decisions

    def _contacts(self, row: Row) -> list[dict[str, Any]]:
        contacts = []
        for n in range(1, CONTACTS + 1):
            keys = [f"contact{n}_{part}" for part in ("name", "relation", "phone")]
            if not any(row.text(key) for key in keys):
                continue
            name, relation, phone = (row.text(key, required=True) for key in keys)
            contacts.append(
                {"name": name, "relation": relation, "phone": phone, "notify_sms": row.yes_no(f"contact{n}_sms", True)}
            )
        return contacts


# the patch's fields the register validates into another form as it writes them
STORED_FORM = {"phone": check_phone, "resident_id": check_resident_id}


def _same(record: ElderRecord, patch: ElderPatch) -> bool:
    """Whether the register holds what the row says already (then re-importing it writes nothing)."""
    now = record.model_dump(mode="json")
    given = patch.model_dump(mode="json")  # with the defaults inside lists (a contact's language)
    for key in patch.model_fields_set:
        value, held = given[key], now.get(key)
        if key in STORED_FORM and value:  # as the register will keep it: 13812345678 is +8613812345678
            try:
                value = STORED_FORM[key](value)
            except ValueError:
                return False
        if key == "eligibility":
            value, held = sorted(value, key=str), sorted(held or [], key=str)
        if value != held:
            return False
    return True


def _community_centre(conn: psycopg.Connection, township: str, community: str) -> dict[str, float]:
    """An elder located at their community's centre, when the sheet gives no coordinates."""
    row = conn.execute(
        "SELECT lat, lon FROM community WHERE id = %s", (register.community_id(conn, township, community),)
    ).fetchone()
    assert row is not None
    return {"lat": float(row[0]), "lon": float(row[1])}


def _assessed(conn: psycopg.Connection, elder_id: int, assessment: dict[str, Any]) -> bool:
    """Whether this assessment (date and level) is on record already, so re-importing adds no copy."""
    return (
        conn.execute(
            "SELECT 1 FROM assessment WHERE elder_id = %s AND assessed_on = %s AND level = %s",
            (elder_id, assessment["assessed_on"], assessment["level"]),
        ).fetchone()
        is not None
    )


__all__ = ["Elders", "column_of"]
