"""The operators' dashboard: FastAPI web UI and JSON API, live alarm board, KPIs and reports."""

from __future__ import annotations

from typing import Any

import dispatcher
from dashboard.app import create_app
from dashboard.server import DashboardServer
from dashboard.settings import DashboardSettings
from eldercare.component import Component, Context
from eldercare.config import load_settings


def create(
    context: Context,
    host: str = "127.0.0.1",
    port: int = 8000,
    dispatch_config: dispatcher.Config | None = None,
    **options: Any,
) -> Component:
    """The dashboard component serving on ``host``:``port``, its orders and webhooks run with ``dispatch_config``
    (default: built from the context's settings); ``options`` override ELDERCARE_DASHBOARD_* settings."""
    app = create_app(
        context.settings,
        context.database_url,
        dashboard_settings=load_settings(DashboardSettings, **options),
        clock=context.clock,
        context=context,
        dispatch_config=dispatch_config,
    )
    return DashboardServer(app, host, port)


__all__ = ["DashboardServer", "DashboardSettings", "create", "create_app"]
