"""The gateway's MQTT session: subscribes, hands every message to the ingest queue, and acknowledges on request.

The session is persistent (clean session off, a stable client id), the subscription QoS 1, and
acknowledgement manual: the broker keeps each message until the gateway says it is committed, and
redelivers whatever was not acknowledged when this client, or another instance with its id, comes back,
even after a SIGKILL. An instance is connected while it holds the session (``start``/``stop``, driven by
gateway/session_lock.py) and its ingest has room (``pause``/``resume``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from eldercare.clock import Clock
from eldercare.mqtt import BrokerAddress
from gateway import metrics
from gateway.paho_client import GatewayClient

log = logging.getLogger(__name__)

SESSION_EXPIRY = 7 * 24 * 3600  # MQTT 5: how long the broker keeps the session of an absent gateway


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message as the broker delivered it; ``generation`` names the connection it came on."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    retain: bool
    received_at: datetime
    generation: int


class Intake:
    """The paho client of one gateway instance, with its network thread."""

    def __init__(
        self,
        address: BrokerAddress,
        client_id: str,
        filters: list[str],
        sink: Callable[[Delivery], None],
        clock: Clock,
        *,
        keepalive: int = 30,
    ) -> None:
        self._address = address
        self._filters = filters
        self._sink = sink
        self._clock = clock
        self._keepalive = keepalive
        self._lock = threading.Lock()
        # Bumped on every connect and disconnect: an acknowledgement is sent only on the connection that
        # delivered the message, never with a stale packet id on a newer one (the broker redelivers instead).
        self._generation = 0
        self.connected = threading.Event()
        # the broker acknowledged the subscriptions on the current connection (SUBACK): from then on every message
        # published reaches this gateway (on a new session, messages published before it are nobody's)
        self.subscribed = threading.Event()
        self._subscribing: int | None = None  # the packet id of the current connection's SUBSCRIBE
        self._client: GatewayClient = address.client(  # type: ignore[assignment]
            client_id, clean_session=False, manual_ack=True, client_class=GatewayClient
        )
        self._client.reconnect_delay_set(1, 30)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._switch = threading.Lock()
        self._running = self._held = self._paused = False
        self.connections = 0  # connections the broker accepted
        self.resumed_sessions = 0  # connections on which the broker still had this gateway's session

    def start(self) -> None:
        """Connect in the background (retrying until the broker answers) and start receiving."""
        self._set(held=True)

    def stop(self) -> None:
        """Disconnect; whatever was not acknowledged stays with the broker for the next session."""
        self._set(held=False)

    def pause(self) -> None:
        """Stop receiving for a while (the database is away and the buffer full); the broker holds the rest."""
        log.warning("disconnecting from the broker until the database is back; the broker keeps the messages")
        self._set(paused=True)

    def resume(self) -> None:
        self._set(paused=False)

    def _set(self, *, held: bool | None = None, paused: bool | None = None) -> None:
        # Connected while this instance holds the session (start/stop) and the ingest has room (pause/resume).
        with self._switch:
            self._held = self._held if held is None else held
            self._paused = self._paused if paused is None else paused
            wanted = self._held and not self._paused
            if wanted and not self._running:
                if self.connections:
                    log.info("reconnecting to the broker")
                self._connect()
            elif not wanted and self._running:
                self._disconnect()

    def _connect(self) -> None:
        v5 = self._address.protocol == mqtt.MQTTv5
        properties = None
        if v5:
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = SESSION_EXPIRY
        self._client.connect_async(
            self._address.host,
            self._address.port,
            self._keepalive,
            clean_start=False if v5 else mqtt.MQTT_CLEAN_START_FIRST_ONLY,
            properties=properties,
        )
        self._client.loop_start()
        self._running = True

    def _disconnect(self) -> None:
        self._running = False
        with self._lock:
            self._generation += 1
        self._client.disconnect()
        self._client.loop_stop()
        self._not_connected()

    def ack(self, deliveries: Iterable[Delivery]) -> int:
        """Acknowledge committed messages that came on the current connection; returns how many were."""
        with self._lock:
            generation = self._generation
            mids = [d.mid for d in deliveries if d.qos and d.generation == generation]
            self._client.ack_batch(mids)
        return len(mids)

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> mqtt.MQTTMessageInfo:
        return self._client.publish(topic, payload, qos=qos)

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            log.error(
                "the broker refused the gateway's connection: %s; check the user and password in "
                "ELDERCARE_MQTT_URL and the broker's password file",
                reason,
            )
            return
        with self._lock:
            self._generation += 1
        self.connections += 1
        self.resumed_sessions += bool(flags.session_present)
        log.info("connected to the broker (session %s)", "resumed" if flags.session_present else "new")
        self._unsubscribed()
        self._subscribing = client.subscribe([(f, 1) for f in self._filters])[1]
        self.connected.set()
        metrics.BROKER_CONNECTED.set(1)

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, properties: Any) -> None:
        refused = [str(r) for r in reasons if r.is_failure]
        if refused:
            log.error(
                "the broker refused the subscription to %s (%s); check the ACL of the gateway's account",
                self._filters,
                ", ".join(refused),
            )
        elif mid == self._subscribing:
            self.subscribed.set()
            metrics.BROKER_SUBSCRIBED.set(1)

    def _unsubscribed(self) -> None:
        self.subscribed.clear()
        metrics.BROKER_SUBSCRIBED.set(0)

    def _not_connected(self) -> None:
        self.connected.clear()
        self._unsubscribed()
        metrics.BROKER_CONNECTED.set(0)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        with self._lock:
            self._generation += 1
        self._not_connected()
        if self._running:
            log.warning("disconnected from the broker (%s); reconnecting", reason)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        # Runs on paho's network thread: hand over and return, never touch the database here.
        try:
            try:
                topic = message.topic
            except UnicodeDecodeError:
                topic = "<topic not UTF-8>"
            self._sink(
                Delivery(
                    topic,
                    bytes(message.payload),
                    message.mid,
                    message.qos,
                    bool(message.retain),
                    self._clock.now(),
                    self._generation,
                )
            )
        except Exception:  # an exception here would end paho's network loop
            log.exception("could not queue a message from %s", message.mid)
