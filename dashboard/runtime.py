"""What every request handler may need from the running app: the pool, the clock, the settings, the memo."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from psycopg_pool import ConnectionPool

import dispatcher
from dashboard.kpi_memo import ReportMemo
from dashboard.settings import DashboardSettings
from eldercare.clock import Clock
from eldercare.config import Settings


@dataclass(frozen=True, slots=True)
class Runtime:
    """Set on ``app.state.runtime`` when the app is built; the pool is opened by the lifespan."""

    settings: Settings
    dashboard: DashboardSettings
    database_url: str
    clock: Clock
    dispatch: dispatcher.Config  # what orders made from the dashboard run with, the same as the webhooks'


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _pool(request: Request) -> ConnectionPool:
    pool: ConnectionPool = request.app.state.pool
    return pool


def _memo(request: Request) -> ReportMemo:
    memo: ReportMemo = request.app.state.kpi_memo
    return memo


RuntimeDep = Annotated[Runtime, Depends(_runtime)]
Memo = Annotated[ReportMemo, Depends(_memo)]
Pool = Annotated[ConnectionPool, Depends(_pool)]
