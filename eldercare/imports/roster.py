"""The ``providers`` and ``caregivers`` imports, written through ``eldercare.roster``: a provider with its
service area, services and prices; a caregiver with provider, skills, base, load and weekly shifts."""

from __future__ import annotations

import re
from typing import Any

import psycopg
from pydantic import ValidationError

from eldercare import roster
from eldercare.imports.areas import located
from eldercare.imports.cells import (
    GENDERS,
    SERVICES,
    CellProblems,
    Column,
    Row,
    names_of,
    refused,
    said_by,
    validation_problems,
)
from eldercare.imports.messages import Problem
from eldercare.imports.run import Context, Saved
from eldercare.register.identity import check_phone
from eldercare.vocabulary import TravelMode

TRAVEL = names_of({TravelMode.WALK: ("步行",), TravelMode.EBIKE: ("电动车",), TravelMode.CAR: ("汽车", "开车")})
WEEKDAYS = {
    **{name: n for n, name in enumerate(("周一", "周二", "周三", "周四", "周五", "周六", "周日"), start=1)},
    **{
        name: n
        for n, name in enumerate(("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"), start=1)
    },
    **{name: n for n, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), start=1)},
    **{str(n): n for n in range(1, 8)},
    "周天": 7,
    "星期天": 7,
}
SHIFT_FORM = "周一至周五 08:00-17:00；周六 09:00-12:00 / Mon-Fri 08:00-17:00; Sat 09:00-12:00"
SHIFT = re.compile(r"^(?P<days>.+?)\s*(?P<starts>\d{1,2}:\d{2})\s*[-–~至到]\s*(?P<ends>\d{1,2}:\d{2})$")
OFFER_FORM = "服务:价格(分)，如 助餐:1500、助洁 / service:price in fen"


def _phone(row: Row, key: str, *, required: bool = False) -> str | None:
    value = row.text(key, required=required)
    if value is None:
        return None
    try:
        return check_phone(value)
    except ValueError as err:
        row.note(key, "invalid", detail=said_by(err))
        return None


def _days(text: str) -> list[int] | None:
    if text.lower() in ("每天", "daily", "every day"):
        return list(range(1, 8))
    days: list[int] = []
    for part in re.split(r"[、,，\s]+", text.strip()):
        ends = re.split(r"[-–~至到]", part.lower())
        numbers = [WEEKDAYS.get(end.strip()[:3] if end.strip().isascii() else end.strip()) for end in ends]
        if len(numbers) not in (1, 2) or None in numbers:
            return None
        first, last = numbers[0], numbers[-1]
        assert first is not None and last is not None
        days.extend(range(first, last + 1) if first <= last else [*range(first, 8), *range(1, last + 1)])
    return days


def _shifts(row: Row) -> list[dict[str, Any]]:
    shifts: list[dict[str, Any]] = []
    for item in re.split(r"[;；\n]+", row.text("shifts", required=True) or ""):
        if not item.strip():
            continue
        match = SHIFT.match(item.strip())
        days = _days(match["days"]) if match else None
        if match is None or days is None:
            row.note("shifts", "bad_item", value=item.strip(), expected=SHIFT_FORM)
            continue
        shifts.extend({"weekday": d, "starts": match["starts"].zfill(5), "ends": match["ends"].zfill(5)} for d in days)
    return shifts


def _offers(row: Row) -> list[dict[str, Any]]:
    offers = []
    for item in row.items("services", required=True):
        service, _, price = item.replace("：", ":").partition(":")
        code = SERVICES.get(service.strip().lower())
        # isdecimal, not isdigit: int() takes the decimal digits (full-width ones too) but not '²'
        if code is None or (price.strip() and not price.strip().isdecimal()):
            row.note("services", "bad_item", value=item, expected=OFFER_FORM)
            continue
        offers.append({"service": code, "price_fen": int(price) if price.strip() else None})
    return offers


def _validated(model: type[Any], data: dict[str, Any], fields: dict[str, str], default: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise refused(validation_problems(err), fields, default) from None


PROVIDER_FIELDS = {
    "code": "code",
    "name": "name",
    "phone": "phone",
    "manager_name": "manager_name",
    "manager_phone": "manager_phone",
    "services": "services",
    "area": "townships",
    "capacity": "capacity",
    "contract_starts": "contract_starts",
    "contract_ends": "contract_ends",
    "kitchen": "kitchen_lat",
}


class Providers:
    name: str = "providers"
    titles: tuple[str, ...] = ("providers", "服务商")
    columns: tuple[Column, ...] = (
        Column("code", "编号", "code", required=True, note="服务商编号，字母数字，唯一", example="P01"),
        Column("name", "名称", "name", required=True, example="赤壁市康乐居家养老服务中心"),
        Column("phone", "电话", "phone", required=True, example="+867155123456"),
        Column("manager_name", "负责人", "manager", required=True, example="陈敏"),
        Column("manager_phone", "负责人手机", "manager phone", required=True, example="13912345678"),
        Column("services", "服务及价格", "services", required=True, note=OFFER_FORM, example="助餐:1500、助洁:3000"),
        Column("townships", "服务乡镇", "service townships", note="整个乡镇，用、分隔", example="蒲圻街道"),
        Column("communities", "服务社区", "service communities", note="单个社区，用、分隔"),
        Column("capacity", "服务容量", "capacity", example="50"),
        Column("contract_starts", "合同开始", "contract starts", example="2026-01-01"),
        Column("contract_ends", "合同结束", "contract ends", example="2026-12-31"),
        Column(
            "kitchen_lat", "厨房纬度", "kitchen latitude", note="助餐在此取餐，须在本市范围内；可空", example="29.716"
        ),
        Column("kitchen_lon", "厨房经度", "kitchen longitude", note="与厨房纬度同填或同空", example="113.900"),
    )

    def natural_key(self, row: Row) -> tuple[str, str] | None:
        code = (row.cells.get("code") or "").strip()
        return ("code", code) if code else None

    def save(self, conn: psycopg.Connection, row: Row, context: Context) -> Saved:
        data: dict[str, Any] = {
            "code": row.text("code", required=True),
            "name": row.text("name", required=True),
            "phone": _phone(row, "phone", required=True),
            "manager_name": row.text("manager_name", required=True),
            "manager_phone": _phone(row, "manager_phone", required=True),
            "services": _offers(row),
            "area": {"townships": row.items("townships"), "communities": row.items("communities")},
            "contract_starts": row.day("contract_starts"),
            "contract_ends": row.day("contract_ends"),
        }
        if (capacity := row.whole("capacity")) is not None:
            data["capacity"] = capacity
        if (kitchen := located(row, context, "kitchen_lat", "kitchen_lon")) is not None:
            data["kitchen"] = {"lat": kitchen[0], "lon": kitchen[1]}
        row.check()
        found = conn.execute(
            "SELECT id FROM provider WHERE code = %s UNION ALL SELECT id FROM provider WHERE name = %s LIMIT 1",
            (data["code"], data["name"]),
        ).fetchone()
        try:
            if found is None:
                roster.create_provider(
                    conn, _validated(roster.ProviderCreate, data, PROVIDER_FIELDS, "code"), context.actor
                )
                return Saved("created")
            del data["code"]
            update = _validated(roster.ProviderUpdate, data, PROVIDER_FIELDS, "name")
            roster.update_provider(conn, int(found[0]), update, context.actor)
        except roster.RosterError as err:
            column = "townships" if isinstance(err, roster.Refused) else "code"
            raise CellProblems([Problem(column, "invalid", {"detail": said_by(err)})]) from None
        return Saved("updated")


CAREGIVER_FIELDS = {
    "code": "code",
    "provider_id": "provider",
    "name": "name",
    "gender": "gender",
    "phone": "phone",
    "home_lat": "lat",
    "home_lon": "lon",
    "travel_mode": "travel_mode",
    "max_load": "max_load",
    "skills": "skills",
    "shifts": "shifts",
}


class Caregivers:
    name: str = "caregivers"
    titles: tuple[str, ...] = ("caregivers", "护理员")
    columns: tuple[Column, ...] = (
        Column("phone", "手机号", "phone", required=True, note="接收派单短信的手机号，唯一", example="13712345678"),
        Column("name", "姓名", "name", required=True, example="刘芳"),
        Column("gender", "性别", "gender", required=True, note="男/女", example="女"),
        Column("provider", "服务商", "provider", required=True, note="服务商编号或名称", example="P01"),
        Column(
            "skills",
            "技能",
            "skills",
            required=True,
            note="助餐、助洁、助浴、助医、助行、助急、护理",
            example="助餐、助急",
        ),
        Column("shifts", "班次", "shifts", required=True, note=SHIFT_FORM, example="周一至周五 08:00-17:00"),
        Column("lat", "基地纬度", "base latitude", required=True, note="出发地点，须在本市范围内", example="29.716"),
        Column("lon", "基地经度", "base longitude", required=True, example="113.900"),
        Column("travel_mode", "出行方式", "travel mode", note="步行/电动车/汽车，默认 电动车"),
        Column("max_load", "最大同时单数", "max load", note="1-20，默认 2"),
        Column("code", "编号", "code", note="可空：空时按手机号生成"),
    )

    def natural_key(self, row: Row) -> tuple[str, str] | None:
        phone = (row.cells.get("phone") or "").strip()
        try:
            return ("phone", check_phone(phone)) if phone else None
        except ValueError:
            return ("phone", phone)

    def save(self, conn: psycopg.Connection, row: Row, context: Context) -> Saved:
        phone = _phone(row, "phone", required=True)
        data: dict[str, Any] = {
            "name": row.text("name", required=True),
            "gender": row.choice("gender", GENDERS, required=True),
            "phone": phone,
            "provider_id": self._provider(conn, row),
            "skills": row.choices("skills", SERVICES, required=True),
            "shifts": _shifts(row),
        }
        location = located(row, context, "lat", "lon", required=True)
        if location is not None:
            data["home_lat"], data["home_lon"] = location
        if (mode := row.choice("travel_mode", TRAVEL)) is not None:
            data["travel_mode"] = mode
        if (load := row.whole("max_load")) is not None:
            data["max_load"] = load
        row.check()
        assert phone is not None
        found = conn.execute("SELECT id FROM caregiver WHERE phone = %s", (phone,)).fetchone()
        try:
            if found is None:
                data["code"] = row.text("code") or f"CG{phone[-8:]}"
                roster.create_caregiver(
                    conn, _validated(roster.CaregiverCreate, data, CAREGIVER_FIELDS, "phone"), context.actor
                )
                return Saved("created")
            update = _validated(roster.CaregiverUpdate, data, CAREGIVER_FIELDS, "phone")
            roster.update_caregiver(conn, int(found[0]), update, context.actor)
        except roster.RosterError as err:
            column = "provider" if isinstance(err, roster.Unknown) else "phone"
            raise CellProblems([Problem(column, "invalid", {"detail": said_by(err)})]) from None
        return Saved("updated")

    def _provider(self, conn: psycopg.Connection, row: Row) -> int | None:
        given = row.text("provider", required=True)
        if given is None:
            return None
        found = conn.execute(
            "SELECT id FROM provider WHERE code = %s UNION ALL SELECT id FROM provider WHERE name = %s LIMIT 1",
            (given, given),
        ).fetchone()
        if found is None:
            row.note("provider", "unknown_provider", value=given)
            return None
        return int(found[0])
