"""What a platform process runs: components with start and stop, until a signal says to end."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Protocol

from eldercare.clock import SYSTEM_CLOCK, Clock
from eldercare.config import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Context:
    """What every component is built from."""

    settings: Settings
    database_url: str
    mqtt_url: str
    clock: Clock = SYSTEM_CLOCK
    # the in-process amqtt broker: MQTT 3.1.1 only, no shared subscriptions, no persistence
    embedded_broker: bool = False


class Component(Protocol):
    name: str

    def start(self) -> None:
        """Begin work in background threads and return."""
        ...

    def stop(self) -> None:
        """Finish or hand back in-flight work, then return; called once."""
        ...


class StopRequested:
    """Set by SIGINT or SIGTERM; a second signal while stopping is ignored rather than killing mid-flush."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def install(self) -> StopRequested:
        signal.signal(signal.SIGINT, self._handle)
        signal.signal(signal.SIGTERM, self._handle)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if not self.event.is_set():
            log.info("%s received, stopping", signal.Signals(signum).name)
        self.event.set()


def run_until_stopped(
    components: Sequence[Component],
    stop: StopRequested | None = None,
    *,
    every: tuple[float, Callable[[], None]] | None = None,
    on_started: Callable[[], None] | None = None,
) -> None:
    """Start the components in order, wait for a signal, stop them in reverse order.

    ``on_started`` is called once all have started; ``every`` = (seconds, function) periodically while
    running, e.g. a status line.
    """
    stop = stop or StopRequested().install()
    started: list[Component] = []
    try:
        for component in components:
            component.start()
            started.append(component)
            log.info("%s started", component.name)
        if on_started is not None and not stop.event.is_set():
            on_started()
        interval, tick = every if every else (3600.0, None)
        while not stop.event.wait(interval):
            if tick is not None:
                tick()
    finally:
        for component in reversed(started):
            try:
                component.stop()
                log.info("%s stopped", component.name)
            except Exception:
                log.exception("%s did not stop cleanly", component.name)
