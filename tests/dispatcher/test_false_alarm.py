"""A false alarm stops the dispatch: the operator resolves it as false over the dashboard's API, its emergency
order is cancelled, the caregiver and the family get an SMS through twilio-python and the Twilio stand-in, and
the audit trail says who decided; an elder's second SOS press within the window does the same by itself."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import psycopg
import pytest

from dashboard.app import create_app
from dashboard.server import DashboardServer
from dashboard.settings import DashboardSettings
from eldercare import users
from eldercare.alarms import AlarmRaise, raise_alarm
from eldercare.clock import ManualClock
from eldercare.config import Settings
from eldercare.embedded import free_port
from eldercare.vocabulary import AlarmType
from tests.dispatcher.harness import Harness
from tests.dispatcher.town import Town, offset
from tests.waiting import patience

HARNESS_DISPATCH = {"emergency_race_size": 1}
PASSWORD = "correct-horse-1"


@pytest.fixture
def desk(database_url: str, clock: ManualClock, conn: psycopg.Connection) -> Iterator[httpx.Client]:
    """The dashboard over HTTP, signed in as an operator by bearer token."""
    users.add_user(conn, "duty", PASSWORD, users.Role.OPERATOR, display_name="值班员甲")
    conn.commit()
    app = create_app(
        Settings(timezone="Asia/Shanghai", _env_file=None),
        database_url,
        dashboard_settings=DashboardSettings(kpi_max_age_seconds=0),
        clock=clock,
    )
    server = DashboardServer(app, "127.0.0.1", free_port())
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            token = http.post("/api/v1/token", data={"username": "duty", "password": PASSWORD}).json()
            http.headers["Authorization"] = f"Bearer {token['access_token']}"
            yield http
    finally:
        server.stop()


def _accepted_sos(conn: psycopg.Connection, clock: ManualClock, town: Town, harness: Harness) -> dict[str, object]:
    provider = town.provider()
    caregiver = town.caregiver(provider, offset(0.4, 0))
    elder = town.elder(contacts=2)
    alarm = town.sos(elder, clock.now(), device=f"but{elder:06d}")
    conn.commit()
    harness.drive()
    order, code = harness.one("SELECT id, code FROM service_order WHERE alarm_id = %s", alarm)
    harness.standin.wait_for(to=harness.phone(caregiver), timeout=patience(10))
    assert harness.standin.reply(harness.phone(caregiver), f"Y {code}").status_code == 200
    assert harness.one("SELECT status FROM service_order WHERE id = %s", order) == "accepted"
    harness.drive()  # the family hears that help is coming
    return {"alarm": alarm, "order": order, "code": code, "caregiver": caregiver, "elder": elder}


def test_resolving_as_false_alarm_stops_the_order_and_tells_caregiver_and_family(
    conn, clock, town, harness, desk
) -> None:
    sos = _accepted_sos(conn, clock, town, harness)
    family_phones = [p for (p,) in harness.all("SELECT phone FROM emergency_contact WHERE elder_id = %s", sos["elder"])]
    before = max((m.id for m in harness.standin.sent()), default=0)

    response = desk.post(
        f"/api/v1/alarms/{sos['alarm']}/resolve",
        json={"outcome": "false_alarm", "note": "老人误按", "stop_order": True},
    )
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "false_alarm"
    assert harness.one("SELECT status FROM service_order WHERE id = %s", sos["order"]) == "cancelled"
    harness.drive()

    told = harness.standin.wait_for(to=harness.phone(sos["caregiver"]), after=before, timeout=patience(10))
    assert f"工单{sos['code']}已取消" in told[0].body and "误报" in told[0].body
    for phone in family_phones:
        family = harness.standin.wait_for(to=phone, after=before, timeout=patience(10))
        assert "误报" in family[0].body and str(sos["code"]) in family[0].body
    decided = harness.one(
        "SELECT actor, details FROM audit_log WHERE action = 'alarm.resolve' AND target_id = %s", str(sos["alarm"])
    )
    assert decided[0] == "duty" and decided[1]["stop_order"] is True
    assert (
        harness.one(
            "SELECT actor_kind || ':' || actor FROM order_event WHERE order_id = %s AND to_status = 'cancelled'",
            sos["order"],
        )
        == "operator:duty"
    )


def test_a_false_alarm_left_running_is_the_operators_choice(conn, clock, town, harness, desk) -> None:
    sos = _accepted_sos(conn, clock, town, harness)
    response = desk.post(f"/api/v1/alarms/{sos['alarm']}/resolve", json={"outcome": "false_alarm"})
    assert response.status_code == 200, response.text
    assert harness.one("SELECT status FROM service_order WHERE id = %s", sos["order"]) == "accepted"
    decided = harness.one(
        "SELECT details FROM audit_log WHERE action = 'alarm.resolve' AND target_id = %s", str(sos["alarm"])
    )
    assert decided["stop_order"] is False
    # help is still on its way: the desk keeps the alarm in view until the order is done
    live = desk.get("/api/v1/alarms/live").json()
    assert [a["status"] for a in live if a["id"] == sos["alarm"]] == ["resolved"]


def test_stop_order_is_refused_for_a_real_emergency(conn, clock, town, harness, desk) -> None:
    sos = _accepted_sos(conn, clock, town, harness)
    response = desk.post(
        f"/api/v1/alarms/{sos['alarm']}/resolve", json={"outcome": "real_emergency", "stop_order": True}
    )
    assert response.status_code == 422 and "false_alarm" in response.text
    assert harness.one("SELECT status FROM alarm WHERE id = %s", sos["alarm"]) != "resolved"
    assert harness.one("SELECT status FROM service_order WHERE id = %s", sos["order"]) == "accepted"


def _press(conn: psycopg.Connection, elder: int, at: datetime) -> int:
    """An SOS press as the gateway records it (a repeat of a live alarm counts on it)."""
    raised = raise_alarm(conn, AlarmRaise(elder, f"but{elder:06d}", AlarmType.SOS, at, at))
    assert raised is not None
    conn.commit()
    return raised.id


def test_a_second_press_within_the_window_is_the_elders_own_cancel(conn, clock, town, harness) -> None:
    caregiver = town.caregiver(town.provider(), offset(0.4, 0))
    elder = town.elder(contacts=1)
    conn.commit()
    alarm = _press(conn, elder, clock.now())
    harness.drive()
    order, code = harness.one("SELECT id, code FROM service_order WHERE alarm_id = %s", alarm)
    harness.standin.wait_for(to=harness.phone(caregiver), timeout=patience(10))
    before = max(m.id for m in harness.standin.sent())

    assert _press(conn, elder, clock.now() + timedelta(seconds=4)) == alarm
    harness.drive()
    assert harness.one("SELECT status, outcome, resolved_by FROM alarm WHERE id = %s", alarm) == (
        "resolved",
        "false_alarm",
        "elder",
    )
    assert harness.one("SELECT status FROM service_order WHERE id = %s", order) == "cancelled"
    told = harness.standin.wait_for(to=harness.phone(caregiver), after=before, timeout=patience(10))
    assert code in told[0].body and "误报" in told[0].body
    family = harness.one("SELECT phone FROM emergency_contact WHERE elder_id = %s", elder)
    assert "误报" in harness.standin.wait_for(to=family, after=before, timeout=patience(10))[0].body


def test_a_press_after_the_window_or_a_redelivered_one_does_not_cancel(conn, clock, town, harness) -> None:
    town.caregiver(town.provider(), offset(0.4, 0))
    elder = town.elder(contacts=1)
    conn.commit()
    first = clock.now()
    alarm = _press(conn, elder, first)
    harness.drive()
    _press(conn, elder, first)  # the same press delivered twice
    harness.drive()
    assert harness.one("SELECT status FROM alarm WHERE id = %s", alarm) == "open"
    _press(conn, elder, first + timedelta(seconds=40))  # still needs help
    harness.drive()
    assert harness.one("SELECT status FROM alarm WHERE id = %s", alarm) == "open"
    assert harness.one("SELECT status FROM service_order WHERE alarm_id = %s", alarm) != "cancelled"
