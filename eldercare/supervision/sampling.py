"""Drawing the elders of a spot-check plan: random, stratified, weighted, reproducible from the plan's seed.

The rule (docs/supervision.md): the population is the elders of the plan's area served in the period or the one
before it (an order completed then, by a provider), each with the provider of their latest such order. Elders
already drawn in the period, by any level, are out. Within each stratum (township x provider) the elders are put
in a random order in which an elder with an exception or a complaint counts ``weight`` times (weighted sampling
without replacement: key u^(1/w)); the strata are then merged by fractional rank (the i-th of a stratum of n sits
at (i + 1/2) / n), so taking the first k of the merged order gives each stratum its share of k. Each kind of
check draws in turn from those left, liaison calls only among elders with a contact marked as liaison.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass

KINDS = ("elder_call", "home_visit", "liaison_call")


@dataclass(frozen=True, slots=True)
class Candidate:
    elder_id: int
    township_id: int
    provider_id: int
    order_id: int
    flagged: bool  # a complaint, a rectification or a verification exception lately: drawn more often
    has_liaison: bool


@dataclass(frozen=True, slots=True)
class Drawn:
    kind: str
    candidate: Candidate


def _ordered(candidates: list[Candidate], rng: random.Random, weight: float) -> list[Candidate]:
    strata: dict[tuple[int, int], list[Candidate]] = defaultdict(list)
    for c in sorted(candidates, key=lambda c: c.elder_id):
        strata[(c.township_id, c.provider_id)].append(c)
    placed: list[tuple[float, float, Candidate]] = []
    for key in sorted(strata):
        members = strata[key]
        keyed = sorted(members, key=lambda c: -(rng.random() ** (1.0 / (weight if c.flagged else 1.0))))
        tie = rng.random()  # strata of one size take turns in a random order, not by township number
        placed.extend(((i + 0.5) / len(keyed), tie, c) for i, c in enumerate(keyed))
    placed.sort(key=lambda p: (p[0], p[1]))
    return [c for _, _, c in placed]


def draw(
    candidates: list[Candidate], quotas: dict[str, int], seed: int, excluded: frozenset[int], weight: float = 3.0
) -> list[Drawn]:
    """The checks of a plan: up to ``quotas[kind]`` elders per kind, none in ``excluded``, none twice."""
    taken = set(excluded)
    drawn: list[Drawn] = []
    for kind in KINDS:
        want = quotas.get(kind, 0)
        if want <= 0:
            continue
        rng = random.Random(f"{seed}:{kind}")
        pool = [c for c in candidates if c.elder_id not in taken and (kind != "liaison_call" or c.has_liaison)]
        for candidate in _ordered(pool, rng, weight)[:want]:
            taken.add(candidate.elder_id)
            drawn.append(Drawn(kind, candidate))
    return drawn
