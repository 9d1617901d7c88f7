"""Randomness for common random numbers: one stream per concern, and per-decision streams keyed by what the
decision is about, so that two dispatchers facing the same situation draw the same numbers.

A sequential stream would hand the n-th caregiver reply of the day the n-th number, whoever the reply came
from; once two dispatchers offer different caregivers, every later draw would differ. Keyed draws do not
drift: the caregiver who is offered the 11:00 meal of elder 42 makes the same choice after the same delay
under either dispatcher, because the numbers come from ``(seed, concern, order, caregiver)`` alone.
"""

from __future__ import annotations

import math
import random


class Draws:
    """Random numbers for one concern (``demand``, ``replies``, ``travel``, ...) of one seeded day."""

    def __init__(self, seed: int, concern: str) -> None:
        self.prefix = f"{seed}:{concern}"
        self.stream = random.Random(self.prefix)

    def keyed(self, *key: object) -> random.Random:
        """A generator of its own for ``key``; the same key gives the same numbers in every run.

        ``random.Random`` seeds from a string through SHA-512, independent of PYTHONHASHSEED.
        """
        return random.Random(":".join((self.prefix, *map(str, key))))


def lognormal(rng: random.Random, median: float, sigma: float) -> float:
    """A log-normal value with this median; ``sigma`` is the spread of its logarithm."""
    return median * math.exp(sigma * rng.gauss(0.0, 1.0)) if sigma > 0 else median
