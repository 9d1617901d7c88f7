"""End to end: an SOS published over MQTT to a real Mosquitto becomes an alarm (the gateway), an emergency
order and an SMS offer at the Twilio stand-in (the dispatcher, twilio-python over HTTP), a signed "Y" that
accepts it, ARRIVED and DONE; the whole timeline is recorded, the family is told, and the elder's button
hears "help is coming" and "help has arrived" on its command topic."""

from __future__ import annotations

import json
import queue
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from eldercare.clock import SYSTEM_CLOCK
from eldercare.component import Context
from eldercare.mqtt import BrokerAddress
from tests.dispatcher.harness import Harness
from tests.dispatcher.town import offset
from tests.waiting import eventually, patience


@pytest.fixture
def people(conn, town) -> dict[str, int]:
    """One caregiver, one elder with a button and two contacts: registered before the gateway starts."""
    provider = town.provider()
    ids = {"caregiver": town.caregiver(provider, offset(0.5, 0.2)), "elder": town.elder(contacts=2)}
    conn.commit()
    return ids


@pytest.fixture
def platform(people: dict[str, int], database_url: str, mosquitto: Any) -> Iterator[Harness]:
    """Stand-in, webhooks, the dispatcher and the gateway, all on the wall clock, against real Mosquitto."""
    from eldercare.commands import component_factory

    create_gateway = component_factory("gateway")
    import dispatcher

    harness = Harness.start(database_url, SYSTEM_CLOCK)  # type: ignore[arg-type]
    context = Context(harness.config.platform, database_url, mosquitto.url, clock=SYSTEM_CLOCK)
    components = [
        create_gateway(context, client_id=f"gw.e2e-{uuid.uuid4().hex[:8]}"),
        dispatcher.Dispatcher(context, harness.config),
    ]
    for component in components:
        component.start()
    try:
        yield harness
    finally:
        for component in reversed(components):
            component.stop()
        harness.stop()


def _next(commands: queue.Queue[dict[str, Any]], kind: str) -> dict[str, Any]:
    """The next command of ``kind`` (the gateway may say ``alarm_received`` first)."""
    while (command := commands.get(timeout=20))["type"] != kind:
        pass
    return command


def test_sos_over_mqtt_to_done_by_sms(people: dict[str, int], platform: Harness, mosquitto: Any) -> None:
    harness = platform
    caregiver, elder = people["caregiver"], people["elder"]
    device = f"but{elder:06d}"
    commands: queue.Queue[dict[str, Any]] = queue.Queue()

    client = BrokerAddress.parse(mosquitto.url).client(f"{device}-e2e")
    client.on_message = lambda c, u, m: commands.put(json.loads(m.payload))
    client.connect(BrokerAddress.parse(mosquitto.url).host, BrokerAddress.parse(mosquitto.url).port)
    client.subscribe(f"eldercare/v1/devices/{device}/cmd", qos=1)
    client.loop_start()
    try:
        now_ms = int(time.time() * 1000)
        # the gateway is listening once the button's presence reaches the database
        client.publish(
            f"eldercare/v1/devices/{device}/status",
            json.dumps({"ts": now_ms, "seq": 1, "state": "online"}),
            qos=1,
            retain=True,
        )
        eventually(lambda: harness.one("SELECT online FROM device WHERE id = %s", device))
        client.publish(
            f"eldercare/v1/devices/{device}/event", json.dumps({"ts": now_ms + 1, "seq": 2, "type": "sos"}), qos=1
        ).wait_for_publish(5)

        offer = harness.standin.wait_for(to=harness.phone(caregiver), timeout=patience(20))[0]
        alarm, order, code = harness.one(
            "SELECT a.id, so.id, so.code FROM alarm a JOIN service_order so ON so.alarm_id = a.id "
            "WHERE a.elder_id = %s AND a.type = 'sos'",
            elder,
        )
        assert f"Y {code}" in offer.body
        assert "已接单" in harness.standin.reply(harness.phone(caregiver), f"Y {code}").text
        coming = _next(commands, "help_coming")
        assert (coming["type"], coming["order_code"], coming["alarm_id"]) == ("help_coming", code, alarm)
        assert "到达" in harness.standin.reply(harness.phone(caregiver), "ARRIVED").text
        assert _next(commands, "help_arrived")["order_code"] == code
        assert "已完成" in harness.standin.reply(harness.phone(caregiver), f"DONE {code}").text
    finally:
        client.loop_stop()
        client.disconnect()

    timeline = [
        r[:2]
        for r in harness.all(
            "SELECT from_status, to_status, actor_kind FROM order_event WHERE order_id = %s ORDER BY id", order
        )
    ]
    assert timeline == [
        (None, "created"),
        ("created", "offered"),
        ("offered", "accepted"),
        ("accepted", "arrived"),
        ("arrived", "completed"),
    ]
    eventually(
        lambda: harness.one("SELECT count(*) FROM sms_message WHERE purpose = 'family' AND status = 'delivered'") == 6
    )
    family = [b for (b,) in harness.all("SELECT body FROM sms_message WHERE purpose = 'family' ORDER BY id")]
    assert [sum(word in b for b in family) for word in ("紧急呼叫", "已接单", "已到达")] == [2, 2, 2]
