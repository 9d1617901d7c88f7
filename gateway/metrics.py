"""The gateway's Prometheus metrics (the default registry; one set per process, whatever the instances)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

RECEIVED = Counter("eldercare_gateway_messages_received", "MQTT messages received", ["channel"])
REJECTED = Counter("eldercare_gateway_messages_rejected", "messages sent to dead letters", ["reason"])
DUPLICATES = Counter("eldercare_gateway_duplicates", "redelivered messages already stored", ["channel"])
READINGS_STORED = Counter("eldercare_gateway_readings_stored", "reading rows inserted")
EVENTS_STORED = Counter("eldercare_gateway_events_stored", "device events inserted")
ALARMS = Counter("eldercare_gateway_alarms", "alarms raised or repeated", ["type"])
COMMANDS_SENT = Counter("eldercare_gateway_commands_sent", "device commands published to cmd topics")
BATCH_SIZE = Histogram(
    "eldercare_gateway_batch_size", "messages per committed batch", buckets=(1, 5, 10, 50, 100, 250, 500, 1000, 5000)
)
COMMIT_SECONDS = Histogram(
    "eldercare_gateway_commit_seconds",
    "time to store one batch (all its transactions)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
BUFFER_DEPTH = Gauge("eldercare_gateway_buffer_depth", "messages received and not yet committed")
DATABASE_UP = Gauge("eldercare_gateway_database_up", "1 while the gateway reaches the database")
BROKER_CONNECTED = Gauge("eldercare_gateway_broker_connected", "1 while the gateway is connected to the broker")
BROKER_SUBSCRIBED = Gauge(
    "eldercare_gateway_broker_subscribed",
    "1 while the broker has granted the gateway's subscriptions on this connection (0: none yet, or refused)",
)
DEVICES_OFFLINE = Counter("eldercare_gateway_devices_marked_offline", "devices marked offline", ["cause"])
