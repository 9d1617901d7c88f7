"""Live updates: one LISTEN connection per process fanned out to every browser as server-sent events."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import psycopg

from eldercare.db import conninfo

log = logging.getLogger(__name__)

CHANNELS = {"eldercare_alarm": "alarm", "eldercare_order": "order"}
KEEPALIVE_SECONDS = 15.0
QUEUE_SIZE = 256


@dataclass(frozen=True, slots=True)
class Event:
    kind: str  # "alarm" or "order"
    data: str  # the NOTIFY payload, JSON


class EventHub:
    """Listens on the alarm and order channels and hands each notification to every subscriber's queue.

    The connection is re-made after a failure; a browser that lost events reloads its board on reconnect
    (the ``ready`` event), so nothing is missed for long.
    """

    def __init__(self, database_url: str) -> None:
        self._conninfo = conninfo(database_url, "eldercare-dashboard-events")
        self._subscribers: set[asyncio.Queue[Event | None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.listening = asyncio.Event()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run(), name="dashboard-events")

    async def stop(self) -> None:
        self._end_streams()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def close_streams(self) -> None:
        """End every open stream; safe to call from another thread (the component's stop)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._end_streams)

    def _end_streams(self) -> None:
        for queue in list(self._subscribers):
            self._offer(queue, None)

    @staticmethod
    def _offer(queue: asyncio.Queue[Event | None], item: Event | None) -> None:
        if queue.full():  # a stalled browser loses the oldest events, not the newest
            with contextlib.suppress(asyncio.QueueEmpty):
                queue.get_nowait()
        queue.put_nowait(item)

    async def _run(self) -> None:
        delay = 0.5
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True) as conn:
                    for channel in CHANNELS:
                        await conn.execute(f"LISTEN {channel}".encode())
                    self.listening.set()
                    delay = 0.5
                    self._publish(Event("ready", "{}"))
                    async for notify in conn.notifies():
                        self._publish(Event(CHANNELS.get(notify.channel, notify.channel), notify.payload))
            except asyncio.CancelledError:
                raise
            except Exception as err:
                self.listening.clear()
                log.warning("live updates interrupted (%s); listening again in %.1f s", str(err)[:200], delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    def _publish(self, event: Event) -> None:
        for queue in list(self._subscribers):
            self._offer(queue, event)

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[asyncio.Queue[Event | None]]:
        queue: asyncio.Queue[Event | None] = asyncio.Queue(QUEUE_SIZE)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    async def stream(self) -> AsyncIterator[str]:
        """Server-sent events text for one browser, until the hub closes or the browser goes away."""
        with self.subscribe() as queue:
            yield "retry: 2000\n\n"
            yield f"event: ready\ndata: {json.dumps({'listening': self.listening.is_set()})}\n\n"
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), timeout=KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if event is None:
                    return
                yield f"event: {event.kind}\ndata: {event.data}\n\n"
