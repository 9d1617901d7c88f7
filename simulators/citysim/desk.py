"""The operators' alarm desk: elders' alarms and escalated orders wait for a free operator, alarms first.

An alarm is answered when an operator picks it up (a log-normal moment after it reaches them); the operator
then spends a handling time on it before taking the next. How many operators are on duty changes by the
hour; an operator whose shift ends finishes the call in hand. Escalations come from the dispatcher (its
``order_escalated`` alarms), so a dispatcher that escalates more also makes elders' alarms wait longer.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simulators.citysim.draws import Draws, lognormal
from simulators.citysim.params import Params


@dataclass(frozen=True, slots=True)
class Call:
    """An alarm on the desk: ``key`` names it the same under every dispatcher."""

    key: str
    alarm_id: int
    raised: float
    escalation: bool


class Desk:
    """The queue and the operators; ``later(when, fn, *args)`` has ``fn(when, *args)`` called then, and
    ``acknowledge(call, at)`` records an answer in the database."""

    def __init__(
        self, params: Params, seed: int, later: Callable[..., None], acknowledge: Callable[[Call, float], None]
    ) -> None:
        self.p = params.operators
        self.draws = Draws(seed, "operators")
        self.later = later
        self.acknowledge = acknowledge
        self.calls: deque[Call] = deque()  # elders' alarms: answered first
        self.board: deque[Call] = deque()  # escalated orders
        self.busy = 0
        self.answered: dict[str, float] = {}  # elders' alarms: seconds from raised to answered
        self.escalations = 0

    def on_duty(self, now: float) -> int:
        return self.p.on_duty[int(now // 3600) % 24]

    def ring(self, now: float, call: Call) -> None:
        if call.escalation:
            self.escalations += 1
        (self.board if call.escalation else self.calls).append(call)
        self.serve(now)

    def serve(self, now: float) -> None:
        while (self.calls or self.board) and self.busy < self.on_duty(now):
            call = (self.calls or self.board).popleft()
            self.busy += 1
            rng = self.draws.keyed(call.key)
            pickup = lognormal(rng, self.p.pickup_median_seconds, self.p.pickup_sigma)
            minutes = self.p.escalation_median_minutes if call.escalation else self.p.call_median_minutes
            handling = lognormal(rng, minutes * 60.0, self.p.handling_sigma)
            self.later(now + pickup, self._answer, call)
            self.later(now + pickup + handling, self._free)

    def _answer(self, now: float, call: Call) -> None:
        if not call.escalation:
            self.answered[call.key] = now - call.raised
        self.acknowledge(call, now)

    def _free(self, now: float, *_: Any) -> None:
        self.busy -= 1
        self.serve(now)

    def shift_change(self, now: float) -> None:
        """Called on the hour: more operators may have come on duty."""
        self.serve(now)
