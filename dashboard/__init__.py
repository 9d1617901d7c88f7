"""The operators' dashboard: FastAPI web UI and JSON API, live alarm board, KPIs and reports."""

from __future__ import annotations

from typing import Any

from dashboard.app import create_app
from dashboard.server import DashboardServer
from dashboard.settings import DashboardSettings
from eldercare.component import Component, Context


def create(context: Context, host: str = "127.0.0.1", port: int = 8000, **options: Any) -> Component:
    """The dashboard component serving on ``host``:``port``; ``options`` override ELDERCARE_DASHBOARD_* settings."""
    app = create_app(
        context.settings,
        context.database_url,
        dashboard_settings=DashboardSettings(**options),
        clock=context.clock,
        context=context,
    )
    return DashboardServer(app, host, port)


__all__ = ["DashboardServer", "DashboardSettings", "create", "create_app"]
