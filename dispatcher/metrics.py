"""The dispatcher's Prometheus metrics (default registry; the dashboard serves ``/metrics``).

Counted when the decision is made; a transaction that rolls back afterwards (rare) is still counted.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

ORDERS = Counter("eldercare_dispatcher_orders_created_total", "Orders created", ["source", "service_type"])
OFFERS = Counter("eldercare_dispatcher_offers_total", "Offers made and how they ended", ["outcome"])
ESCALATIONS = Counter("eldercare_dispatcher_escalations_total", "Orders escalated to operators", ["why"])
SMS = Counter(
    "eldercare_dispatcher_sms_total", "Outbound SMS attempts by purpose and resulting status", ["purpose", "status"]
)
SMS_SECONDS = Histogram(
    "eldercare_dispatcher_sms_send_seconds",
    "Time of one request to the SMS API",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
