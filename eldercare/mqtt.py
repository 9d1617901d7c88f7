"""MQTT connection settings from a URL, and paho-mqtt clients built from them."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

import paho.mqtt.client as mqtt

from eldercare.config import redact_url


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """Where a broker is and how to log in: ``mqtt[s]://user:password@host:port?protocol=5``."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False
    protocol: mqtt.MQTTProtocolVersion = mqtt.MQTTv311

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        """The address ``url`` names, or ``ValueError`` saying what is wrong (never echoing its password)."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as err:  # an IPv6 host left open, a port that is no number or past 65535
            raise ValueError(f"the MQTT URL cannot be read ({err}; a port is 1 to 65535)") from None
        if parts.scheme not in ("mqtt", "mqtts"):
            raise ValueError(f"an MQTT URL starts with mqtt:// or mqtts://, not {redact_url(url)!r}")
        if not parts.hostname:
            raise ValueError(f"the MQTT URL {redact_url(url)!r} names no host")
        if port is not None and not 1 <= port <= 65535:
            raise ValueError(f"port {port} in the MQTT URL {redact_url(url)!r} is not between 1 and 65535")
        query = parse_qs(parts.query)
        version = query.get("protocol", ["3.1.1"])[0]
        protocols: dict[str, mqtt.MQTTProtocolVersion] = {"3.1.1": mqtt.MQTTv311, "4": mqtt.MQTTv311, "5": mqtt.MQTTv5}
        if version not in protocols:
            raise ValueError(f"protocol={version} in the MQTT URL: use 3.1.1 or 5")
        tls = parts.scheme == "mqtts"
        return cls(
            host=parts.hostname,
            port=port or (8883 if tls else 1883),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
            protocol=protocols[version],
        )

    def with_credentials(self, username: str, password: str) -> BrokerAddress:
        return BrokerAddress(self.host, self.port, username, password, self.tls, self.protocol)

    def client(
        self,
        client_id: str,
        *,
        clean_session: bool = True,
        manual_ack: bool = False,
        client_class: type[mqtt.Client] = mqtt.Client,
    ) -> mqtt.Client:
        """A paho client (VERSION2 callbacks) configured for this broker; the caller connects it.

        ``clean_session=False`` keeps the subscription and queued QoS 1 messages while the client is away.
        ``client_class`` may be a subclass of paho's client with the same constructor.
        """
        v5 = self.protocol == mqtt.MQTTv5
        client = client_class(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=None if v5 else clean_session,
            protocol=self.protocol,
            manual_ack=manual_ack,
        )
        if self.username is not None:
            client.username_pw_set(self.username, self.password)
        if self.tls:
            client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        return client
