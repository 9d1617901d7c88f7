"""What the dispatcher's web routes need, found through the app that mounts them.

The app puts its ``eldercare.component.Context`` in ``app.state.context``; on first use the routes open a
small pool of their own from it (kept in ``app.state.dispatcher``), closed when the app stops. An app (or a
test) may instead put a ready ``WebResources`` in ``app.state.dispatcher``; then it closes it itself.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import psycopg
from fastapi import Depends, FastAPI, HTTPException, Request
from psycopg_pool import ConnectionPool

from dispatcher.settings import Config
from eldercare.clock import Clock
from eldercare.db import open_pool


@dataclass
class WebResources:
    """A pool, the clock and the configuration."""

    pool: ConnectionPool
    clock: Clock
    config: Config
    owned: bool = False  # opened here from the app's context, so closed here too

    @classmethod
    def open(cls, context: Any, config: Config | None = None) -> WebResources:
        pool = open_pool(context.database_url, name="dispatcher-web", min_size=1, max_size=4)
        return cls(pool, context.clock, config or Config.load(context.settings), owned=True)

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A pooled connection whose transaction commits when the block ends without an error."""
        with self.pool.connection() as conn:
            yield conn

    def close(self) -> None:
        self.pool.close()


_opening = threading.Lock()


def resources(request: Request) -> WebResources:
    state = request.app.state
    found: WebResources | None = getattr(state, "dispatcher", None)
    if found is None:
        with _opening:
            found = getattr(state, "dispatcher", None)
            if found is None:
                context = getattr(state, "context", None)
                if context is None:
                    raise HTTPException(503, "the dispatcher's routes need app.state.context (an eldercare Context)")
                found = state.dispatcher = WebResources.open(context)
    return found


@asynccontextmanager
async def close_resources(app: FastAPI) -> AsyncIterator[None]:
    """The router's lifespan: close the pool it opened, if it opened one."""
    yield
    opened = getattr(app.state, "dispatcher", None)
    if isinstance(opened, WebResources) and opened.owned:
        opened.close()
        app.state.dispatcher = None


Resources = Annotated[WebResources, Depends(resources)]
