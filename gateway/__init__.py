"""The MQTT gateway: device messages into PostgreSQL, alarms out, nothing lost, bad input recorded.

Public surface: ``create`` (the component), ``GatewaySettings``, and ``THRESHOLD_DEFAULTS`` (the alarm
thresholds an elder's ``thresholds`` may override).
"""

from __future__ import annotations

from typing import Any

from eldercare.component import Context
from eldercare.config import load_settings
from gateway.rules import THRESHOLD_DEFAULTS
from gateway.service import Gateway
from gateway.settings import GatewaySettings

__all__ = ["THRESHOLD_DEFAULTS", "Gateway", "GatewaySettings", "create"]


def create(context: Context, *, settings: GatewaySettings | None = None, **options: Any) -> Gateway:
    """The gateway component; ``options`` override fields of its settings (ELDERCARE_GATEWAY_*)."""
    base = settings or load_settings(GatewaySettings)
    if options:
        base = GatewaySettings.model_validate({**base.model_dump(), **options})
    return Gateway(context, base)
