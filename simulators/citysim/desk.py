"""The operators' alarm desk: elders' alarm calls wait for a free operator; escalated orders go on the board.

An alarm call is answered when an operator picks it up (a log-normal moment after it reaches them); the
operator then spends a handling time on it before taking the next call. How many operators are on duty
changes by the hour; one whose shift ends finishes the call in hand. The board (the dispatcher's
``order_escalated`` alarms) is worked between calls and gives way to a ringing call, as in any call centre,
so it never delays an elder's call: an escalation is acknowledged a log-normal while after it appears.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

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
    """The operators: ``later(when, fn, *args)`` has ``fn(when, *args)`` called then, and
    ``acknowledge(call, at)`` records an answer in the database."""

    def __init__(
        self, params: Params, seed: int, later: Callable[..., None], acknowledge: Callable[[Call, float], None]
    ) -> None:
        self.p = params.operators
        self.draws = Draws(seed, "operators")
        self.later = later
        self.acknowledge = acknowledge
        self.calls: deque[Call] = deque()
        self.busy = 0
        self.answered: dict[str, float] = {}  # elders' alarms: seconds from raised to answered
        self.escalations = 0

    def on_duty(self, now: float) -> int:
        return self.p.on_duty[int(now // 3600) % 24]

    def ring(self, now: float, call: Call) -> None:
        rng = self.draws.keyed(call.key)
        if call.escalation:
            self.escalations += 1
            minutes = lognormal(rng, self.p.escalation_median_minutes, self.p.handling_sigma)
            self.later(now + minutes * 60.0, self._answer, call)
            return
        self.calls.append(call)
        self.serve(now)

    def serve(self, now: float) -> None:
        while self.calls and self.busy < self.on_duty(now):
            call = self.calls.popleft()
            self.busy += 1
            rng = self.draws.keyed(call.key)
            pickup = lognormal(rng, self.p.pickup_median_seconds, self.p.pickup_sigma)
            handling = lognormal(rng, self.p.call_median_minutes * 60.0, self.p.handling_sigma)
            self.later(now + pickup, self._answer, call)
            self.later(now + pickup + handling, self._free)

    def _answer(self, now: float, call: Call) -> None:
        if not call.escalation:
            self.answered[call.key] = now - call.raised
        self.acknowledge(call, now)

    def _free(self, now: float) -> None:
        self.busy -= 1
        self.serve(now)

    def shift_change(self, now: float) -> None:
        """Called on the hour: more operators may have come on duty."""
        self.serve(now)
