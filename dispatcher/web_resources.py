"""What the dispatcher's web routes need, found through the app that mounts them.

The router's lifespan opens a small pool of its own when the app starts, from the app's
``eldercare.component.Context`` (``app.state.context``) and the dispatcher ``Config`` the app runs with
(``app.state.dispatcher_config``), keeps it in ``app.state.dispatcher`` and closes it when the app stops. An app
(or a test) may instead put a ready ``WebResources`` in ``app.state.dispatcher`` before it starts; then it
closes it itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import psycopg
from fastapi import Depends, FastAPI, HTTPException, Request
from psycopg_pool import ConnectionPool
from starlette.concurrency import run_in_threadpool

from dispatcher.settings import Config
from eldercare.clock import Clock
from eldercare.db import open_pool


@dataclass
class WebResources:
    """A pool, the clock and the configuration."""

    pool: ConnectionPool
    clock: Clock
    config: Config

    @classmethod
    def open(cls, context: Any, config: Config) -> WebResources:
        pool = open_pool(context.database_url, name="dispatcher-web", min_size=1, max_size=4)
        return cls(pool, context.clock, config)

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A pooled connection whose transaction commits when the block ends without an error."""
        with self.pool.connection() as conn:
            yield conn

    def close(self) -> None:
        self.pool.close()


def resources(request: Request) -> WebResources:
    found: WebResources | None = getattr(request.app.state, "dispatcher", None)
    if found is None:
        raise HTTPException(503, "the dispatcher's routes are not open: the app's lifespan did not start")
    return found


@asynccontextmanager
async def open_resources(app: FastAPI) -> AsyncIterator[None]:
    """The router's lifespan: open the pool when the app starts (unless the app gave resources), close it after."""
    if getattr(app.state, "dispatcher", None) is not None:
        yield
        return
    context = getattr(app.state, "context", None)
    config = getattr(app.state, "dispatcher_config", None)
    if context is None or not isinstance(config, Config):
        raise RuntimeError(
            "an app that mounts dispatcher.router sets app.state.context (an eldercare Context) and "
            "app.state.dispatcher_config (a dispatcher.Config) before it starts"
        )
    opened = await run_in_threadpool(WebResources.open, context, config)
    app.state.dispatcher = opened
    try:
        yield
    finally:
        app.state.dispatcher = None
        await run_in_threadpool(opened.close)


Resources = Annotated[WebResources, Depends(resources)]
