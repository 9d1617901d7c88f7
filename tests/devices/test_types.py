from __future__ import annotations

import psycopg

from devices import DEVICE_TYPES, EventType, refuses_event
from gateway.events import EVENT_ALARMS


def test_device_types_are_the_device_type_table(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        table = {row[0]: row[1:] for row in conn.execute("SELECT code, name_zh, name_en FROM device_type")}
    assert table == {t.code: (t.name_zh, t.name_en) for t in DEVICE_TYPES.values()}


def test_event_alarms_are_alarm_types(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        alarm_types = {row[0] for row in conn.execute("SELECT code FROM alarm_type")}
    assert set(EVENT_ALARMS.values()) <= alarm_types
    assert {"hr_high", "spo2_low", "bp_high", "temp_high", "battery_low", "device_offline"} <= alarm_types


def test_every_device_type_reports_battery_and_has_events() -> None:
    for device_type in DEVICE_TYPES.values():
        assert "battery" in device_type.metrics
        assert device_type.events and all(isinstance(e, EventType) for e in device_type.events)


def test_a_device_may_report_only_the_events_of_its_type() -> None:
    assert refuses_event("watch", EventType.SOS) is None
    assert refuses_event("smoke", EventType.SMOKE) is None
    why = refuses_event("watch", EventType.SMOKE)
    assert why is not None and "watch" in why and "smoke" in why and "sos" in why
    assert refuses_event("toaster", EventType.SOS) is not None
