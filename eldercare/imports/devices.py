"""The ``devices`` import: type, serial or IMEI, and the elder it is bound to (by ID number); written through
``eldercare.device_register``, which issues each new device its credential (shown once, in the report)."""

from __future__ import annotations

import psycopg

from devices.types import DEVICE_TYPES
from eldercare import device_register as register
from eldercare.imports.cells import CellProblems, Column, Row, said_by
from eldercare.imports.elders import EXAMPLE_RESIDENT_ID
from eldercare.imports.messages import Problem
from eldercare.imports.run import Context, Saved
from eldercare.register.identity import check_resident_id

# the register's refusal -> the column it is about
FIELDS = {
    "unknown_type": "type",
    "bad_serial": "serial",
    "duplicate_serial": "serial",
    "bad_device_id": "device_id",
    "duplicate_device_id": "device_id",
}


class Devices:
    name: str = "devices"
    titles: tuple[str, ...] = ("devices", "设备")
    columns: tuple[Column, ...] = (
        Column("type", "设备类型", "type", required=True, note="、".join(DEVICE_TYPES), example="watch"),
        Column("serial", "序列号", "serial", required=True, note="出厂序列号或 IMEI，唯一", example="860123456789012"),
        Column("device_id", "设备编号", "device id", note="可空：空时取序列号"),
        Column(
            "elder_resident_id",
            "老人身份证号",
            "elder resident ID",
            note="绑定的老人；空则不改变绑定",
            example=EXAMPLE_RESIDENT_ID,
        ),
    )

    def natural_key(self, row: Row) -> tuple[str, str] | None:
        serial = (row.cells.get("serial") or "").strip()
        return ("serial", serial) if serial else None

    def save(self, conn: psycopg.Connection, row: Row, context: Context) -> Saved:
        kind = (row.text("type", required=True) or "").lower()
        serial = row.text("serial", required=True)
        elder_id = self._elder(conn, row)
        row.check()
        assert serial is not None
        found = conn.execute("SELECT id, type, elder_id FROM device WHERE serial = %s", (serial,)).fetchone()
        try:
            if found is None:
                enrolment = register.Enrolment(kind, serial, row.text("device_id"), elder_id)
                device, credential = register.enrol(conn, enrolment, context.actor, context.now)
                return Saved("created", (device.id, credential.secret))
            device_id, registered_type, bound_to = found
            if registered_type != kind:
                params = {"serial": serial, "registered": registered_type, "device": device_id, "given": kind}
                raise CellProblems([Problem("type", "device_type_conflict", params)])
            if elder_id is None or elder_id == bound_to:
                return Saved("unchanged")
            if bound_to is not None:
                register.unbind(conn, device_id, context.actor, context.now, reason="rebound by import")
            register.bind(conn, device_id, elder_id, context.actor, context.now)
        except register.RegisterError as err:
            column = FIELDS.get(err.code, "elder_resident_id")
            raise CellProblems([Problem(column, "invalid", {"detail": err.said})]) from None
        return Saved("updated")

    def _elder(self, conn: psycopg.Connection, row: Row) -> int | None:
        given = row.text("elder_resident_id")
        if given is None:
            return None
        try:
            number = check_resident_id(given)
        except ValueError as err:
            row.note("elder_resident_id", "invalid", detail=said_by(err))
            return None
        found = conn.execute("SELECT id FROM elder WHERE resident_id = %s", (number,)).fetchone()
        if found is None:
            row.note("elder_resident_id", "unknown_elder", value=given)
            return None
        return int(found[0])
