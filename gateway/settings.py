"""The gateway's tuning, from ``ELDERCARE_GATEWAY_*`` variables (or ``.env``)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from devices import Limits
from devices.topics import DEVICE_ID


class GatewaySettings(BaseSettings):
    """How the gateway subscribes, batches, retries and judges readings."""

    model_config = SettingsConfigDict(
        env_prefix="ELDERCARE_GATEWAY_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    client_id: str = Field(
        "eldercare.gateway",
        description="MQTT client id of the gateway's persistent broker session. Give every instance of a deployment "
        "the same id: the one that holds a PostgreSQL advisory lock on it connects, the others stand by and take "
        "the session over (with its unacknowledged messages) when the holder dies. It must contain a '.', so that "
        "no device id (the devices' client ids) can equal it",
    )
    shared_group: str = Field(
        "",
        description="set to share the devices among several gateway instances with distinct client ids through "
        "$share/<group>/... Not with Mosquitto 2.0: it does not restore shared subscriptions from its persistence "
        "file (after a broker restart, messages published before the gateways resubscribe reach no one), and keeps "
        "handing a member whose session is offline its share until the session expires. Empty (the default): one "
        "plain subscription, held by one instance at a time (see client_id)",
    )
    standby_interval: float = Field(
        1.0,
        gt=0,
        le=60,
        description="seconds between a standing-by instance's attempts to take the broker session over; a killed "
        "holder is replaced within about this time, a hung one or one whose host is gone within max(10 s, 5 times "
        "this) more (PostgreSQL's idle_session_timeout on the holder's lock connection)",
    )

    @field_validator("client_id")
    @classmethod
    def _not_a_device_id(cls, value: str) -> str:
        # Devices' client ids are their ids (mosquitto.conf: use_username_as_clientid on their listener); a
        # device whose id equalled the gateway's would disconnect it each time it connected.
        if DEVICE_ID.fullmatch(value):
            raise ValueError(
                f"{value!r} could be a device's id, and a device with that id would disconnect the gateway: "
                "give the gateway a client id with a '.' in it (e.g. 'eldercare.gateway'), which no device id has"
            )
        return value

    keepalive: int = Field(30, ge=5, le=600, description="MQTT keepalive, seconds")
    batch_max: int = Field(
        1000,
        ge=1,
        le=100_000,
        description="messages per database commit at most; keep it at or below Mosquitto's max_inflight_messages "
        "(the broker sends no more until the gateway acknowledges)",
    )
    batch_wait: float = Field(0.1, gt=0, le=5, description="seconds the first message of a batch waits at most")
    batch_idle: float = Field(
        0.005, gt=0, le=1, description="seconds without a new message after which a batch is committed at once"
    )
    buffer_max: int = Field(
        20_000,
        ge=100,
        description="messages held while the database is away; past it the gateway disconnects and lets the "
        "broker hold them, reconnecting when the database is back",
    )
    retry_max_delay: float = Field(10.0, gt=0, description="longest wait between attempts to reach the database")
    max_payload: int = Field(64 * 1024, ge=256, description="largest accepted payload, bytes")
    max_clock_skew: float = Field(300, ge=0, description="seconds a device's ts may be ahead of the gateway's clock")
    max_age_days: float = Field(30, gt=0, description="oldest device ts accepted, days")
    consecutive: int = Field(
        3, ge=1, le=50, description="consecutive readings over a threshold that raise a vital-sign alarm"
    )
    rule_window: float = Field(600, gt=0, description="seconds those consecutive readings must fall within")
    offline_after: float = Field(900, gt=0, description="seconds without any message after which a device is offline")
    presence_refresh: float = Field(
        30,
        ge=0,
        description="seconds between writes of a device's last-seen time and position (a change of online state, "
        "battery or firmware is written at once)",
    )
    sweep_interval: float = Field(30, gt=0, description="seconds between checks for silent devices")
    registry_refresh: float = Field(60, gt=0, description="seconds between reloads of devices and elders' thresholds")
    night_start: int = Field(22, ge=0, le=23, description="local hour from which an opened door raises door_night")
    night_end: int = Field(6, ge=0, le=23, description="local hour until which an opened door raises door_night")
    command_ttl: float = Field(600, gt=0, description="seconds after which an unsent device command is dropped")
    metrics_port: int | None = Field(
        None, ge=0, le=65535, description="serve Prometheus metrics on this port (standalone `eldercare gateway`)"
    )
    metrics_host: str = Field("0.0.0.0", description="address of the metrics listener (set only with the port)")

    @property
    def limits(self) -> Limits:
        return Limits(
            max_payload=self.max_payload,
            max_skew=timedelta(seconds=self.max_clock_skew),
            max_age=timedelta(days=self.max_age_days),
        )
