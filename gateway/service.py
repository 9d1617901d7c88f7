"""The gateway component: the MQTT session, the ingest thread and the device-command publisher together."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from prometheus_client import start_http_server

from devices import subscriptions
from eldercare.component import Context
from eldercare.mqtt import BrokerAddress
from gateway.events import Night
from gateway.ingest import Ingest
from gateway.intake import Intake
from gateway.outbox import CommandPublisher
from gateway.registry import Registry
from gateway.rules import Rules
from gateway.session_lock import SessionLock
from gateway.settings import GatewaySettings
from gateway.writer import BatchWriter

log = logging.getLogger(__name__)


class Gateway:
    """MQTT ingest of readings, events and status into PostgreSQL, with alarms and device commands."""

    name = "gateway"

    def __init__(self, context: Context, settings: GatewaySettings) -> None:
        self.settings = settings
        address = BrokerAddress.parse(context.mqtt_url)
        # The in-process amqtt broker has no shared subscriptions: subscribe plainly there.
        self.shared_group = None if context.embedded_broker else (settings.shared_group or None)
        night = Night(settings.night_start, settings.night_end, ZoneInfo(context.settings.timezone))
        rules = Rules(settings.consecutive, timedelta(seconds=settings.rule_window))
        writer = BatchWriter(rules, night, context.clock, timedelta(seconds=settings.presence_refresh))
        self.ingest = Ingest(settings, context.database_url, context.clock, writer, Registry(settings.registry_refresh))
        self.intake = Intake(
            address,
            settings.client_id,
            subscriptions(self.shared_group),
            self.ingest.put,
            context.clock,
            keepalive=settings.keepalive,
        )
        self.ingest.attach(self.intake)
        self.session = SessionLock(
            context.database_url,
            settings.client_id,
            self.intake.start,
            self.intake.stop,
            interval=settings.standby_interval,
        )
        self.commands = CommandPublisher(
            context.database_url, self.intake, context.clock, timedelta(seconds=settings.command_ttl)
        )
        self._metrics_server: Any = None

    def start(self) -> None:
        if self.settings.metrics_port is not None:
            self._metrics_server, _ = start_http_server(self.settings.metrics_port, self.settings.metrics_host)
            log.info("gateway metrics on http://%s:%d/metrics", self.settings.metrics_host, self.settings.metrics_port)
        self.ingest.start()
        self.session.start()  # connects to the broker once this instance holds the session
        self.commands.start()
        log.info(
            "gateway %s subscribing %s",
            self.settings.client_id,
            f"through $share/{self.shared_group}/" if self.shared_group else "without a shared subscription",
        )

    def stop(self) -> None:
        self.commands.stop()
        self.session.stop()  # no more taking or giving up the broker session
        self.ingest.stop()  # commits and acknowledges the batch in hand first
        self.intake.stop()
        self.session.release()  # now another instance may take the session over
        if self._metrics_server is not None:
            self._metrics_server.shutdown()
