"""Live updates: one LISTEN connection per process fanned out to every browser as server-sent events."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from eldercare.listening import Listener

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

    The listening is ``eldercare.listening.Listener``'s, on its thread; notifications hop onto the app's event
    loop. A browser that lost events reloads its board on reconnect (the ``ready`` event, sent again whenever
    the hub listens again), so nothing is missed for long.
    """

    def __init__(self, database_url: str) -> None:
        self._subscribers: set[asyncio.Queue[Event | None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listener = Listener(
            database_url, list(CHANNELS), self._notified, name="dashboard-events", on_listening=self._listening_again
        )
        self.listening = self._listener.listening

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._listener.start()

    async def stop(self) -> None:
        self._end_streams()
        await asyncio.to_thread(self._listener.stop)

    def close_streams(self) -> None:
        """End every open stream; safe to call from another thread (the component's stop)."""
        self._from_listener(self._end_streams)

    def _from_listener(self, call: Callable[..., None], *args: Any) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(call, *args)

    def _notified(self, channel: str, payload: str) -> None:
        self._from_listener(self._publish, Event(CHANNELS.get(channel, channel), payload))

    def _listening_again(self) -> None:
        self._from_listener(self._publish, Event("ready", "{}"))

    def _end_streams(self) -> None:
        for queue in list(self._subscribers):
            self._offer(queue, None)

    @staticmethod
    def _offer(queue: asyncio.Queue[Event | None], item: Event | None) -> None:
        if queue.full():  # a stalled browser loses the oldest events, not the newest
            with contextlib.suppress(asyncio.QueueEmpty):
                queue.get_nowait()
        queue.put_nowait(item)

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

    async def stream(self, *, blind: bool = False) -> AsyncIterator[str]:
        """Server-sent events text for one browser, until the hub closes or the browser goes away. ``blind``: each
        event says only its kind, not which alarm or order changed (for an account limited to an area, whose
        pages reload what they may see on any event)."""
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
                yield f"event: {event.kind}\ndata: {'{}' if blind else event.data}\n\n"
