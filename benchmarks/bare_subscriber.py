"""The benchmark's baseline consumer: a bare paho subscriber that only counts telemetry messages.

Run as ``python -m benchmarks.bare_subscriber URL CLIENT_ID EXPECTED``: it subscribes like the gateway
(QoS 1, clean session off), acknowledges each message at once, prints ``{"ready": ...}`` once
subscribed, and when it has counted EXPECTED telemetry messages (or heard nothing more for 10 s) prints the
wall-clock times of the first and last of them and the CPU seconds it used since it was ready.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt

from devices import subscriptions
from eldercare.mqtt import BrokerAddress


def main(argv: list[str]) -> None:
    url, client_id, expected = argv[0], argv[1], int(argv[2])
    address = BrokerAddress.parse(url)
    client = address.client(client_id, clean_session=False)
    state: dict[str, Any] = {"count": 0, "first": None, "last": None, "seen": time.monotonic()}
    subscribed = threading.Event()

    def on_connect(c: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        c.subscribe([(f, 1) for f in subscriptions("bare")])

    def on_message(c: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        if message.topic.endswith("/telemetry"):
            now = time.time()
            state["count"] += 1
            state["first"] = state["first"] or now
            state["last"] = now
            state["seen"] = time.monotonic()

    client.on_connect = on_connect
    client.on_subscribe = lambda *args: subscribed.set()
    client.on_message = on_message
    client.connect(address.host, address.port, 60)
    client.loop_start()
    subscribed.wait(10)
    cpu = time.process_time()
    print(json.dumps({"ready": time.time()}), flush=True)
    # it may be frozen (SIGSTOP) for a while before the first message: wait longer for that one
    while state["count"] < expected and time.monotonic() - state["seen"] < (10 if state["count"] else 120):
        time.sleep(0.01)
    used = time.process_time() - cpu
    client.disconnect()
    client.loop_stop()
    print(
        json.dumps({"count": state["count"], "first": state["first"], "last": state["last"], "cpu": used}), flush=True
    )


if __name__ == "__main__":
    main(sys.argv[1:])
