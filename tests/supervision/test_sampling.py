"""Drawing a plan's checks: reproducible from the seed, within quotas, never an elder twice, strata shared."""

from __future__ import annotations

from collections import Counter

from eldercare.supervision.sampling import Candidate, draw


def _population(n: int = 300) -> list[Candidate]:
    return [
        Candidate(
            elder_id=i,
            township_id=1 + i % 4,
            provider_id=1 + i % 3,
            order_id=1000 + i,
            flagged=i % 10 == 0,
            has_liaison=i % 5 == 0,
        )
        for i in range(1, n + 1)
    ]


QUOTAS = {"elder_call": 40, "home_visit": 20, "liaison_call": 10}


def test_the_same_seed_draws_the_same_checks_and_another_seed_others() -> None:
    people = _population()
    first = draw(people, QUOTAS, seed=42, excluded=frozenset())
    again = draw(list(reversed(people)), QUOTAS, seed=42, excluded=frozenset())
    assert [(d.kind, d.candidate.elder_id) for d in first] == [(d.kind, d.candidate.elder_id) for d in again]
    other = draw(people, QUOTAS, seed=43, excluded=frozenset())
    assert {d.candidate.elder_id for d in other} != {d.candidate.elder_id for d in first}


def test_quotas_exclusions_and_no_elder_twice() -> None:
    people = _population()
    excluded = frozenset(range(1, 60))
    drawn = draw(people, QUOTAS, seed=7, excluded=excluded)
    assert Counter(d.kind for d in drawn) == QUOTAS
    ids = [d.candidate.elder_id for d in drawn]
    assert len(ids) == len(set(ids)) and not set(ids) & excluded
    assert all(d.candidate.has_liaison for d in drawn if d.kind == "liaison_call")
    # a quota larger than those left draws all of them, no more
    few = draw(people[:12], {"home_visit": 50}, seed=7, excluded=frozenset())
    assert len(few) == 12


def test_strata_get_their_share_and_flagged_elders_are_drawn_more_often() -> None:
    people = _population(1200)
    drawn = draw(people, {"elder_call": 120}, seed=3, excluded=frozenset())
    per_stratum = Counter((d.candidate.township_id, d.candidate.provider_id) for d in drawn)
    assert len(per_stratum) == 12 and set(per_stratum.values()) == {10}  # 12 equal strata, 10 each
    # a tenth of the elders are flagged; weighted three times, they are drawn well above a tenth of the time
    runs = [draw(people, {"elder_call": 120}, seed=seed, excluded=frozenset()) for seed in range(50)]
    share = sum(d.candidate.flagged for run in runs for d in run) / (50 * 120)
    assert share > 0.15
