"""Eligibility: every rule keeps out exactly the caregivers it should, on the real schema."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest
from geopy.distance import geodesic
from psycopg import sql

from dispatcher.candidates import _APART, _SETUP, Checked, SqlCandidates, along, located, need_of
from dispatcher.eligibility import judge, order_verdicts
from dispatcher.lifecycle import Actor, load_order, transition
from dispatcher.matching import ListCandidates, brute_force, choose
from dispatcher.offers import find_candidate, ranking_for
from dispatcher.orders import create_order
from dispatcher.ranking import Ranking
from dispatcher.settings import MatchWeights, TravelModel
from eldercare.vocabulary import OrderStatus
from tests.dispatcher.test_planning import tuned
from tests.dispatcher.town import offset
from tests.plans import nodes, rows_read

WEDNESDAY_9_TO_11 = [(3, time(9), time(11))]


def _eligible(conn, clock, config, order_id: int) -> set[int]:
    order = load_order(conn, order_id)
    source = SqlCandidates(conn, need_of(conn, order, clock.now()), config.timezone)
    return {c.caregiver_id for c in source.within(None)}


def test_each_rule_keeps_out_a_caregiver_who_would_otherwise_win(conn, clock, town, config) -> None:
    good = town.provider()
    black = town.provider(standing="black")
    inactive_provider = town.provider(active=False)
    no_meal = town.provider(services=("cleaning",))
    elsewhere = town.provider(communities=(town.community("C02"),))
    full_provider = town.provider(capacity=0)
    near = offset(0.1, 0)
    winner = town.caregiver(good, offset(2.0, 0))
    losers = {
        "inactive": town.caregiver(good, near, active=False),
        "opted out": town.caregiver(good, near, opted_out=True),
        "no skill": town.caregiver(good, near, skills=("cleaning",)),
        "black-listed provider": town.caregiver(black, near),
        "inactive provider": town.caregiver(inactive_provider, near),
        "provider does not sell it": town.caregiver(no_meal, near, skills=("meal",)),
        "provider does not serve here": town.caregiver(elsewhere, near),
        "provider at capacity": town.caregiver(full_provider, near),
        "off shift": town.caregiver(good, near, shifts=[(3, time(14), time(18)), (2, time(9), time(11))]),
        "at max load": town.caregiver(good, near, max_load=1),
    }
    elder = town.elder()
    busy = create_order(conn, clock, elder_id=town.elder(), service_type="meal", actor="t", config=config)
    order = load_order(conn, busy.id, lock=True)
    transition(conn, clock, order, OrderStatus.OFFERED, actor_kind=Actor.SYSTEM, actor="t")
    order = load_order(conn, busy.id, lock=True)
    transition(
        conn,
        clock,
        order,
        OrderStatus.ACCEPTED,
        actor_kind=Actor.SYSTEM,
        actor="t",
        caregiver_id=losers["at max load"],
        accepted_at=clock.now(),
    )
    ref = create_order(conn, clock, elder_id=elder, service_type="meal", actor="t", config=config)
    eligible = _eligible(conn, clock, config, ref.id)
    assert winner in eligible
    for rule, caregiver in losers.items():
        assert caregiver not in eligible, rule


def test_already_offered_caregivers_are_not_asked_again(conn, clock, town, config) -> None:
    provider = town.provider()
    first = town.caregiver(provider, offset(0.1, 0))
    second = town.caregiver(provider, offset(0.5, 0))
    ref = create_order(conn, clock, elder_id=town.elder(), service_type="meal", actor="t", config=config)
    assert _eligible(conn, clock, config, ref.id) == {first, second}
    conn.execute(
        "INSERT INTO offer (order_id, caregiver_id, rank, score, distance_km, eta_min, status, created_at, expires_at) "
        "VALUES (%s, %s, 1, 0, 0, 0, 'declined', %s, %s)",
        (ref.id, first, clock.now(), clock.now()),
    )
    assert _eligible(conn, clock, config, ref.id) == {second}


def test_shifts_are_read_in_local_time_and_may_run_past_midnight(conn, clock, town, config) -> None:
    provider = town.provider()
    local_morning = town.caregiver(provider, offset(0.1, 0), shifts=WEDNESDAY_9_TO_11)
    utc_morning = town.caregiver(provider, offset(0.1, 0), shifts=[(3, time(1), time(3))])
    night = town.caregiver(provider, offset(0.1, 0), shifts=[(3, time(20), time(8))])  # Wednesday night
    ref = create_order(conn, clock, elder_id=town.elder(), service_type="meal", actor="t", config=config)
    assert _eligible(conn, clock, config, ref.id) == {local_morning}
    # 02:00 local on Thursday is still Wednesday's night shift
    clock.set(clock.now() + timedelta(hours=16))
    late = create_order(conn, clock, elder_id=town.elder(), service_type="emergency", actor="t", config=config)
    assert _eligible(conn, clock, config, late.id) == {night}
    assert utc_morning not in _eligible(conn, clock, config, late.id)


def test_a_booked_service_needs_caregivers_on_shift_when_it_is_wanted(conn, clock, town, config) -> None:
    provider = town.provider()
    afternoon = town.caregiver(provider, offset(0.1, 0), shifts=[(3, time(14), time(18))])
    now = town.caregiver(provider, offset(0.1, 0), shifts=WEDNESDAY_9_TO_11)
    ref = create_order(
        conn,
        clock,
        elder_id=town.elder(),
        service_type="meal",
        actor="t",
        config=config,
        window_start=clock.now() + timedelta(hours=5),
    )
    assert _eligible(conn, clock, config, ref.id) == {afternoon}
    assert now not in _eligible(conn, clock, config, ref.id)


def _at_work(
    conn,
    clock,
    config,
    town,
    caregiver: int,
    elder: int,
    *,
    finished_ago: timedelta | None = None,
    set_off_ago: timedelta = timedelta(hours=3),
) -> None:
    """``caregiver`` set off to a meal for ``elder`` ``set_off_ago`` (and finished it ``finished_ago``, when given)."""
    ref = create_order(conn, clock, elder_id=elder, service_type="meal", actor="t", config=config)
    now = clock.now()
    done = None if finished_ago is None else now - finished_ago
    conn.execute(
        "UPDATE service_order SET status = %s, caregiver_id = %s, accepted_at = %s, en_route_at = %s, "
        "arrived_at = %s, completed_at = %s WHERE id = %s",
        ("en_route" if done is None else "completed", caregiver, now - set_off_ago, now - set_off_ago, done, done,
         ref.id),
    )  # fmt: skip


def test_an_emergency_is_ranked_from_where_caregivers_are_reckoned_to_be(conn, clock, town, config) -> None:
    """Caregivers answer by SMS: where they are is reckoned from their last check-in on an order, at the travel
    model's speeds (car 24 km/h after 3 minutes getting going, walking 4.5 km/h, roads 1.3 times the straight line)."""
    provider = town.provider()
    across_town = offset(12, 0)
    # at home 3 km away, against people who live 12 km north but were out on orders
    at_home = town.caregiver(provider, offset(3, 0))
    # set off three hours ago for a visit 0.5 km away: there long since
    on_the_way = town.caregiver(provider, across_town)
    _at_work(conn, clock, config, town, on_the_way, town.elder(offset(0, 0.5)))
    # walking for an hour towards a visit 0.5 km south: 3.46 km of the 12.5, so 8.5 km north of the elder
    walking_there = town.caregiver(provider, across_town, mode="walk")
    _at_work(conn, clock, config, town, walking_there, town.elder(offset(-0.5, 0)), set_off_ago=timedelta(hours=1))
    # finished a visit 0.8 km south 5 minutes ago, driving home since: 2 minutes at 24 km/h, 0.62 km north of it
    just_done = town.caregiver(provider, across_town, mode="car")
    _at_work(conn, clock, config, town, just_done, town.elder(offset(-0.8, 0)), finished_ago=timedelta(minutes=5))
    # finished 30 minutes ago, 0.3 km south: 27 minutes of driving home, 8.3 km north of it
    heading_home = town.caregiver(provider, across_town, mode="car")
    _at_work(conn, clock, config, town, heading_home, town.elder(offset(-0.3, 0)), finished_ago=timedelta(minutes=30))
    # finished 30 minutes ago 1.5 km south, and holds a visit not yet set off for: waiting there
    between_visits = town.caregiver(provider, across_town, mode="car")
    _at_work(conn, clock, config, town, between_visits, town.elder(offset(-1.5, 0)), finished_ago=timedelta(minutes=30))
    later = create_order(conn, clock, elder_id=town.elder(offset(-2, 0)), service_type="care", actor="t", config=config)
    conn.execute(
        "UPDATE service_order SET status = 'accepted', caregiver_id = %s, accepted_at = %s WHERE id = %s",
        (between_visits, clock.now() - timedelta(hours=1), later.id),
    )
    # finished 3 hours ago: home, and no longer looked for elsewhere
    long_done = town.caregiver(provider, across_town, mode="car")
    _at_work(conn, clock, config, town, long_done, town.elder(offset(0, -0.3)), finished_ago=timedelta(hours=3))
    # finished a visit 0.5 km south 90 minutes ago, on foot: 3 h 37 of walking home, 5.2 km of the 12.5 walked, so
    # 4.7 km north of the elder (reckoned home once an hour had passed before, 12 km away)
    walking_home = town.caregiver(provider, across_town, mode="walk")
    _at_work(conn, clock, config, town, walking_home, town.elder(offset(-0.5, 0)), finished_ago=timedelta(minutes=90))

    def ranked(service: str, whereabouts: timedelta) -> tuple[int, dict[int, tuple[float, bool]]]:
        """The winner, and each caregiver's distance as ranked and whether from where they last were."""
        ref = create_order(conn, clock, elder_id=town.elder(), service_type=service, actor="t", config=config)
        need = need_of(conn, load_order(conn, ref.id), clock.now())
        source = SqlCandidates(conn, need, config.timezone, whereabouts=whereabouts, travel=config.dispatch.travel)
        ranking = ranking_for(config, load_order(conn, ref.id))
        everyone = source.within(None)
        choice, reference = (
            choose(source, need.lat, need.lon, ranking),
            brute_force(source, need.lat, need.lon, ranking),
        )
        assert choice is not None and reference is not None and choice.best == reference.best
        seen = {c.caregiver_id: (round(ranking.rank(c, need.lat, need.lon).distance_km, 1), c.away) for c in everyone}
        return choice.best.candidate.caregiver_id, seen

    hour = timedelta(minutes=60)
    winner, emergency = ranked("emergency", hour)
    assert emergency[on_the_way] == (0.5, True)
    assert emergency[walking_there] == (8.5, True)
    assert emergency[just_done] == (0.2, True)
    assert emergency[heading_home] == (8.0, True)
    assert emergency[between_visits] == (1.5, True)
    assert emergency[long_done] == (12.0, False)
    assert emergency[walking_home] == (4.7, True)
    assert emergency[at_home] == (3.0, False)
    assert winner == just_done  # near and free (the one on the way holds an order)
    # from home: with whereabouts off, and for booked services (which start from home)
    for service, whereabouts in (("emergency", timedelta(0)), ("care", hour)):
        winner, home = ranked(service, whereabouts)
        assert {
            home[c] for c in (on_the_way, walking_there, just_done, heading_home, between_visits, walking_home)
        } == {(12.0, False)}
        assert winner == at_home


def test_a_caregiver_who_went_straight_on_to_the_next_elder_is_reckoned_from_that_one(
    conn, clock, town, config
) -> None:
    """The second meal of a batch, or any visit a caregiver goes straight on to, is answered ARRIVED and DONE with no
    set-off between: where they are is reckoned from it, the last they finished, not from the visit before it."""
    provider = town.provider()
    driver = town.caregiver(provider, offset(12, 0), mode="car")
    # set off three hours ago for a meal 10 km south, finished 40 minutes ago: on the way home from there for 37
    # minutes, 1.4 km north of the elder were it the last
    _at_work(conn, clock, config, town, driver, town.elder(offset(-10, 0)), finished_ago=timedelta(minutes=40))
    # but then straight on to another 10 km south and 5 km east, arrived 20 and finished 5 minutes ago
    straight_on = create_order(
        conn, clock, elder_id=town.elder(offset(-10, 5)), service_type="meal", actor="t", config=config
    )
    now = clock.now()
    conn.execute(
        "UPDATE service_order SET status = 'completed', caregiver_id = %s, accepted_at = %s, arrived_at = %s, "
        "completed_at = %s WHERE id = %s",
        (driver, now - timedelta(hours=3), now - timedelta(minutes=20), now - timedelta(minutes=5), straight_on.id),
    )
    sos = create_order(conn, clock, elder_id=town.elder(), service_type="emergency", actor="t", config=config)
    need = need_of(conn, load_order(conn, sos.id), now)
    whereabouts = timedelta(minutes=config.dispatch.whereabouts_minutes)
    source = SqlCandidates(conn, need, config.timezone, whereabouts=whereabouts, travel=config.dispatch.travel)
    (found,) = [c for c in source.within(None) if c.caregiver_id == driver]
    assert found.away
    # 2 minutes of driving home from the last: some 10 km from the elder
    assert 9.5 < geodesic((found.lat, found.lon), (need.lat, need.lon)).km < 11


def test_a_caregiver_is_reckoned_along_the_way_from_where_they_were_when_they_set_off() -> None:
    """``located``: the share of the way a trip would have taken, from home or from the reckoned place on the way
    home from the order finished before; at the elder's once arrived; at home once the way home is over."""
    travel = TravelModel(speed_kmh={"walk": 6.0, "car": 60.0}, setup_min={"walk": 0.0, "car": 5.0}, detour=1.0)
    home, a, b = (0.0, 0.0), (0.1, 0.0), (0.1, 0.1)
    t0 = datetime(2026, 1, 7, 9, 0, tzinfo=UTC)

    def near(p: tuple[float, float], q: tuple[float, float]) -> bool:
        return geodesic(p, q).km < 0.01

    # walking home from a (11.1 km) at 6 km/h: a tenth of the way after 11.1 minutes, home after 111
    done_at_a = Checked(a, set_off=t0, arrived=t0, completed=t0)
    tenth = (0.09, 0.0)
    assert near(located(travel, "walk", home, done_at_a, t0 + timedelta(minutes=11.1)), tenth)
    assert near(located(travel, "walk", home, done_at_a, t0 + timedelta(hours=3)), home)
    # the car's 5 minutes of getting going come first
    assert near(located(travel, "car", home, done_at_a, t0 + timedelta(minutes=4)), a)
    # set off for b 11.1 minutes after finishing a: from the tenth of the way home, half way there after a while
    later = t0 + timedelta(minutes=11.1)
    to_b = Checked(b, set_off=later)
    halfway = ((tenth[0] + b[0]) / 2, (tenth[1] + b[1]) / 2)
    minutes = geodesic(tenth, b).km / 6.0 * 60.0 / 2
    assert near(located(travel, "walk", home, to_b, later + timedelta(minutes=minutes), before=done_at_a), halfway)
    # had they taken the order for b before finishing a, they waited at a for it and set off from there
    held_before = Checked(b, accepted=t0 - timedelta(hours=1), set_off=later)
    from_a = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
    minutes = geodesic(a, b).km / 6.0 * 60.0 / 2
    assert near(
        located(travel, "walk", home, held_before, later + timedelta(minutes=minutes), before=done_at_a), from_a
    )
    # done at a, riding home until they took another order 11.1 minutes later: waiting at the tenth of the way
    assert near(located(travel, "walk", home, done_at_a, t0 + timedelta(hours=2), waiting_since=later), tenth)
    assert near(located(travel, "walk", home, done_at_a, later, waiting_since=t0 - timedelta(hours=1)), a)
    # from home when nothing was finished before; arrived: at b whatever the clock says
    assert near(located(travel, "walk", home, to_b, later), home)
    assert near(located(travel, "walk", home, Checked(b, set_off=later, arrived=later), later), b)
    # hurrying from home to an emergency at a: 1.15 times faster
    rushing = Checked(a, set_off=t0, hurry=True)
    assert near(located(travel, "walk", home, rushing, t0 + timedelta(minutes=11.1 / 1.15)), (0.01, 0.0))
    # a trip of no length is over at once
    assert along(travel, "walk", a, a, timedelta(0)) == a


def test_an_emergencys_candidates_are_found_without_reading_each_caregivers_whole_history(
    conn, clock, town, config
) -> None:
    """Where a caregiver is and how long they worked today come from their orders still running or stopped lately,
    read by the index ``service_order_caregiver_ended_idx``: a caregiver with a year of orders behind them (3,000
    here) is not read through order by order for each emergency. Before, each candidate's whole history was read twice
    over, and on a city with a year of history an SOS took 1.6 s to reach the SMS at the median under load
    (``python -m benchmarks.bench_sos_to_sms --history-days 365``)."""
    provider = town.provider()
    veteran = town.caregiver(provider, offset(1.0, 0))
    elder = town.elder(offset(1.0, 0.5))
    _at_work(conn, clock, config, town, veteran, elder, finished_ago=timedelta(minutes=20))
    _past_orders(conn, clock, veteran, provider, elder)
    conn.execute("ANALYZE service_order")
    sos = create_order(conn, clock, elder_id=town.elder(), service_type="emergency", actor="t", config=config)
    need = need_of(conn, load_order(conn, sos.id), clock.now())
    whereabouts = timedelta(minutes=config.dispatch.whereabouts_minutes)
    source = SqlCandidates(conn, need, config.timezone, whereabouts=whereabouts, travel=config.dispatch.travel)
    (found,) = source.within(None)
    assert found.caregiver_id == veteran and found.away  # reckoned from the order they finished 20 minutes ago
    assert found.worked_hours == pytest.approx(2 + 40 / 60)  # set off 3 hours before now, done 20 minutes ago
    ((plan,),) = conn.execute(sql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) ") + source.statement(), source.params)
    assert "JIT" not in plan[0]
    read = _orders_read(plan[0]["Plan"])
    assert read and max(rows for _, rows in read) < 50, read


def test_only_caregivers_with_orders_of_late_are_reckoned_away_from_home(conn, clock, town, config) -> None:
    """Who is looked at apart (reckoned away from home, or a regular of the elder) is found among the caregivers
    with an order running or stopped lately, by their row alone: the whereabouts of everyone else on shift are not
    worked out (on a 10,000-elder city, 300-odd of them a search: 43 ms of every SOS before, 21 after)."""
    provider = town.provider()
    for n in range(40):
        town.caregiver(provider, offset(0.5 + n * 0.05, 0))
    out = [town.caregiver(provider, offset(3.0, n * 0.1)) for n in range(2)]
    for caregiver in out:
        _at_work(conn, clock, config, town, caregiver, town.elder(offset(2.0, 1.0)))
    conn.execute("ANALYZE service_order")
    conn.execute("ANALYZE caregiver")
    sos = create_order(conn, clock, elder_id=town.elder(), service_type="emergency", actor="t", config=config)
    need = need_of(conn, load_order(conn, sos.id), clock.now())
    whereabouts = timedelta(minutes=config.dispatch.whereabouts_minutes)
    source = SqlCandidates(conn, need, config.timezone, whereabouts=whereabouts, travel=config.dispatch.travel)
    assert sorted(c.caregiver_id for c in source.apart()) == sorted(out)
    ((plan,),) = conn.execute(
        sql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) ") + source.statement(sql.SQL(_APART)), source.params
    )
    loops = [node["Actual Loops"] for node in nodes(plan[0]["Plan"]) if node.get("Alias") == "w"]
    assert loops and max(loops) <= len(out), loops


def test_a_booked_order_is_not_offered_to_a_regular_who_cannot_be_there_by_its_deadline(
    conn, clock, town, config
) -> None:
    """Those who served the elder before are looked at apart (``CandidateSource.apart``), and were ranked there
    without the deadline a booked order sets: a regular who walks, 40 km away, was offered a cleaning due within
    hours, being the only one. Now they are no candidate, as they are not in a scan of everyone."""
    provider = town.provider()
    regular = town.caregiver(provider, offset(40.0, 0), mode="walk")
    elder = town.elder()
    past = create_order(conn, clock, elder_id=elder, service_type="cleaning", actor="t", config=config)
    conn.execute(
        "UPDATE service_order SET status = 'completed', caregiver_id = %s, accepted_at = %s, completed_at = %s "
        "WHERE id = %s",
        (regular, clock.now() - timedelta(days=7), clock.now() - timedelta(days=7), past.id),
    )
    order = create_order(conn, clock, elder_id=elder, service_type="cleaning", actor="t", config=config)
    _, ranking, choice = find_candidate(conn, clock, config, load_order(conn, order.id))
    assert ranking.arrive_within_min is not None and choice is None
    # were they nearer, they would be the one
    conn.execute("UPDATE caregiver SET home_lat = %s, home_lon = %s WHERE id = %s", (*offset(2.0, 0), regular))
    _, _, choice = find_candidate(conn, clock, config, load_order(conn, order.id))
    assert choice is not None and choice.best.candidate.caregiver_id == regular and choice.best.candidate.served_before


def _past_orders(conn, clock, caregiver: int, provider: int, elder: int) -> None:
    """A year of ``caregiver``'s orders for ``provider``, 3,000 of them, all done by two days ago."""
    conn.execute(
        "INSERT INTO service_order (code, elder_id, service_type, status, source, window_start, window_end, "
        "duration_min, created_at, created_by, caregiver_id, provider_id, accepted_at, en_route_at, arrived_at, "
        "completed_at, updated_at) "
        "SELECT 'PAST' || lpad(g::text, 6, '0'), %(elder)s, 'cleaning', 'completed', 'operator', t, "
        "t + interval '2 hours', 60, t - interval '1 day', 'test', %(who)s, %(provider)s, t - interval '1 hour', "
        "t - interval '30 minutes', t, t + interval '1 hour', t + interval '1 hour' "
        "FROM generate_series(1, 3000) g, LATERAL (SELECT %(now)s - g * interval '3 hours' AS t) past",
        {"elder": elder, "who": caregiver, "provider": provider, "now": clock.now() - timedelta(days=2)},
    )


def _orders_read(plan: dict) -> list[tuple[str, float]]:
    """Each scan of ``service_order`` or of one of its indexes alone (a bitmap) in an EXPLAIN ANALYZE plan, with the
    rows it read a loop."""
    return [
        (node.get("Index Name", node["Node Type"]), rows_read(node))
        for node in nodes(plan)
        if node.get("Relation Name") == "service_order" or node.get("Index Name", "").startswith("service_order_")
    ]


def test_a_providers_orders_at_hand_are_counted_by_the_index_of_orders_held(conn, clock, town, config) -> None:
    """A provider at its capacity takes no new order: every matching counts the orders its caregivers hold, by the
    index of the orders held (migration 0251, its predicate ``HELD_SQL`` word for word, as the count's must imply
    it), not through the provider's whole history (before, each eligible provider's year of orders, some 2,700, was
    read on every SOS: 21 ms of it on a 10,000-elder city)."""
    provider = town.provider(capacity=2)
    caregiver = town.caregiver(provider, offset(1.0, 0))
    elder = town.elder(offset(1.0, 0.5))
    _past_orders(conn, clock, caregiver, provider, elder)

    def hold() -> None:
        _at_work(conn, clock, config, town, caregiver, elder)
        conn.execute("UPDATE service_order SET provider_id = %s WHERE status = 'en_route'", (provider,))

    def providers_taking(service_type: str) -> tuple[list[int], list[tuple[str, float]]]:
        order = create_order(conn, clock, elder_id=town.elder(), service_type=service_type, actor="t", config=config)
        source = SqlCandidates(conn, need_of(conn, load_order(conn, order.id), clock.now()), config.timezone)
        ((providers, _),) = conn.execute(_SETUP, source.params)
        ((plan,),) = conn.execute(sql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) ") + _SETUP, source.params)
        return providers, _orders_read(plan[0]["Plan"])

    hold()  # one order held: room for one more
    conn.execute("ANALYZE service_order")
    providers, read = providers_taking("emergency")
    assert providers == [provider]
    assert ("service_order_held_idx", 1) in read and max(rows for _, rows in read) < 50, read
    hold()  # a second: at capacity
    assert providers_taking("cleaning")[0] == []


def test_sql_prefilter_agrees_with_brute_force_on_random_towns(conn, clock, town, config) -> None:
    rng = random.Random(11)
    providers = [town.provider(), town.provider(), town.provider(capacity=3)]
    elsewhere = [town.elder(offset(rng.gauss(0, 6), rng.gauss(0, 6))) for _ in range(10)]
    for n in range(120):
        caregiver = town.caregiver(
            rng.choice(providers),
            offset(rng.gauss(0, 4), rng.gauss(0, 4)),
            mode=rng.choice(("walk", "ebike", "car")),
            rating=rng.randint(30, 50) / 10,
            max_load=rng.choice((1, 2, 3)),
            skills=tuple(rng.sample(("meal", "emergency", "care", "bathing"), 2)),
            shifts=None if rng.random() < 0.8 else [(4, time(8), time(9))],
        )
        if n % 6 == 0:  # a sixth of them out at a visit, so an emergency ranks them from there
            _at_work(conn, clock, config, town, caregiver, rng.choice(elsewhere))
    elders = [town.elder(offset(rng.gauss(0, 5), rng.gauss(0, 5))) for _ in range(25)]
    checked = away = 0
    for elder in elders:
        service = rng.choice(("meal", "emergency", "care", "bathing"))
        ref = create_order(conn, clock, elder_id=elder, service_type=service, actor="t", config=config)
        order = load_order(conn, ref.id)
        need = need_of(conn, order, clock.now())
        ranking = ranking_for(config, order)
        source = SqlCandidates(conn, need, config.timezone, whereabouts=timedelta(hours=1))
        everyone = ListCandidates(source.within(None))
        fast = choose(source, need.lat, need.lon, ranking, start_radius_km=0.5)
        slow = brute_force(everyone, need.lat, need.lon, ranking)
        assert (fast and fast.best) == (slow and slow.best)
        # with an arrival deadline, among those who make it
        hurried = replace(ranking, arrive_within_min=rng.uniform(5, 60))
        fast = choose(source, need.lat, need.lon, hurried, start_radius_km=0.5)
        slow = brute_force(everyone, need.lat, need.lon, hurried)
        assert (fast and fast.best) == (slow and slow.best)
        assert slow is None or slow.best.eta_min <= (hurried.arrive_within_min or 0)
        checked += slow is not None
        away += bool(slow and service == "emergency" and any(c.away for c in everyone.candidates))
    assert checked > 15 and away > 2


@pytest.mark.parametrize("weights_changed", [False, True])
def test_ranking_weighs_load_continuity_and_rating(conn, clock, town, config, weights_changed) -> None:
    provider = town.provider()
    nearest = town.caregiver(provider, offset(0.5, 0), rating=3.0)
    good = town.caregiver(provider, offset(0.9, 0), rating=5.0)
    ref = create_order(conn, clock, elder_id=town.elder(), service_type="meal", actor="t", config=config)
    order = load_order(conn, ref.id)
    need = need_of(conn, order, clock.now())
    ranking = ranking_for(config, order)
    if weights_changed:
        ranking = Ranking(MatchWeights.nearest(), ranking.travel, ranking.emergency)
    choice = choose(SqlCandidates(conn, need, config.timezone), need.lat, need.lon, ranking)
    assert choice is not None
    assert choice.best.candidate.caregiver_id == (nearest if weights_changed else good)


def test_an_emergency_goes_to_the_one_of_two_about_as_near_who_has_worked_less_today(conn, clock, town, config) -> None:
    """Balanced hours on the day: each hour a caregiver was busy on orders in the last 24 hours weighs
    ``weights_emergency.worked`` minutes (2), so a colleague half a kilometre farther who has worked none goes
    instead of one who has worked three hours; the operator's ranking of the order (``order_verdicts``) agrees."""
    provider = town.provider()
    worked = town.caregiver(provider, offset(1.0, 0))
    rested = town.caregiver(provider, offset(1.5, 0))
    # out for three hours (set off six hours ago, done three hours ago), at an elder next to their home
    _at_work(conn, clock, config, town, worked, town.elder(offset(1.0, 0)), set_off_ago=timedelta(hours=6),
             finished_ago=timedelta(hours=3))  # fmt: skip
    sos = create_order(conn, clock, elder_id=town.elder(), service_type="emergency", actor="t", config=config)
    order = load_order(conn, sos.id)
    need = need_of(conn, order, clock.now())
    source = SqlCandidates(conn, need, config.timezone, travel=config.dispatch.travel)
    hours = {c.caregiver_id: c.worked_hours for c in source.within(None)}
    assert hours[worked] == pytest.approx(3.0) and hours[rested] == 0.0
    assert config.dispatch.weights_emergency.worked == 2.0
    ranking = ranking_for(config, order)
    choice = choose(source, need.lat, need.lon, ranking)
    assert choice is not None and choice.best.candidate.caregiver_id == rested
    assert choice.best.eta_min > ranking.rank(next(c for c in source.within(None) if c.caregiver_id == worked),
                                              need.lat, need.lon).eta_min  # fmt: skip
    verdicts = [v for v in order_verdicts(conn, clock.now(), config, sos.id) if v.eligible]
    assert [v.candidate.caregiver_id for v in verdicts[:2]] == [rested, worked]
    # without the weight, the nearer one goes
    unweighted = Ranking(ranking.weights.model_copy(update={"worked": 0.0}), ranking.travel, ranking.emergency)
    choice = choose(source, need.lat, need.lon, unweighted)
    assert choice is not None and choice.best.candidate.caregiver_id == worked


def test_a_meal_goes_to_whoever_reaches_the_elder_soonest_by_their_kitchen(conn, clock, town, config) -> None:
    """A meal is collected at the caregiver's provider's kitchen first: the way there counts, not the straight line
    (a caregiver next door whose kitchen is across town is not the nearest for a meal)."""
    far_kitchen, near_kitchen = town.provider(), town.provider()
    for provider, km_north in ((far_kitchen, -9.0), (near_kitchen, 2.5)):
        kitchen = offset(km_north, 0)
        conn.execute("UPDATE provider SET kitchen_lat = %s, kitchen_lon = %s WHERE id = %s", (*kitchen, provider))
    next_door = town.caregiver(far_kitchen, offset(0.3, 0))
    by_the_kitchen = town.caregiver(near_kitchen, offset(3.0, 0))
    elder = town.elder()
    wanted = {}
    for service in ("meal", "cleaning"):
        ref = create_order(conn, clock, elder_id=elder, service_type=service, actor="t", config=config)
        order = load_order(conn, ref.id)
        need, ranking = need_of(conn, order, clock.now()), ranking_for(config, order)
        choice = choose(SqlCandidates(conn, need, config.timezone), need.lat, need.lon, ranking)
        assert choice is not None
        slow = brute_force(SqlCandidates(conn, need, config.timezone), need.lat, need.lon, ranking)
        assert slow is not None and choice.best == slow.best
        wanted[service] = choice.best
        if service == "meal":
            # what an operator sees of the choice says so, and the eligibility page ranks the same way
            assert ranking.reasons(choice.best)["via"] == "kitchen"
            assert choice.best.distance_km == pytest.approx(0.5 + 2.5, abs=0.05)
            verdicts = judge(conn, need, ranking, config.timezone, caregivers=[next_door, by_the_kitchen])
            assert [v.candidate.caregiver_id for v in verdicts] == [by_the_kitchen, next_door]
            assert verdicts[1].ranked.distance_km == pytest.approx(9.3 + 9.0, abs=0.05)
    assert wanted["meal"].candidate.caregiver_id == by_the_kitchen
    assert wanted["cleaning"].candidate.caregiver_id == next_door
    assert "via" not in ranking_for(config, load_order(conn, ref.id)).reasons(wanted["cleaning"])


def test_a_caregiver_set_off_for_a_meal_collected_on_the_way_is_reckoned_by_the_kitchen_first() -> None:
    """``located`` with a kitchen on the way (``Checked.via``): along the way to the kitchen until the trip there is
    over, then along the way from the kitchen to the elder. Before, they were reckoned on the straight line to the
    elder from the moment they set off, as if the meal were in their bag already."""
    travel = TravelModel(speed_kmh={"walk": 6.0}, setup_min={"walk": 0.0}, detour=1.0)
    home, kitchen, elder = (0.0, 0.0), (0.1, 0.0), (0.1, 0.1)  # 11.1 km north, then 11.1 km east
    t0 = datetime(2026, 1, 7, 9, 0, tzinfo=UTC)
    meal = Checked(elder, set_off=t0, via=kitchen)

    def at(minutes: float) -> tuple[float, float]:
        return located(travel, "walk", home, meal, t0 + timedelta(minutes=minutes))

    def near(p: tuple[float, float], q: tuple[float, float]) -> bool:
        return geodesic(p, q).km < 0.01

    leg = geodesic(home, kitchen).km / 6.0 * 60.0
    onward = geodesic(kitchen, elder).km / 6.0 * 60.0
    assert near(at(leg / 2), (0.05, 0.0))  # half way to the kitchen, not towards the elder
    assert near(at(leg), kitchen)
    assert near(at(leg + onward / 2), (0.1, 0.05))  # half way on from the kitchen
    assert near(at(leg + onward + 1), elder)
    # without a kitchen on the way: straight there
    straight = geodesic(home, elder).km / 6.0 * 60.0
    assert near(
        located(travel, "walk", home, Checked(elder, set_off=t0), t0 + timedelta(minutes=straight / 2)),
        (
            0.05,
            0.05,
        ),
    )


def test_an_emergency_reckons_a_caregiver_who_set_off_for_a_meal_on_the_way_to_their_kitchen(
    conn, clock, town, config
) -> None:
    """Set off for a meal collected at their provider's kitchen, a caregiver goes by the kitchen: the ranking of an
    emergency reckons them on the way there, not on the straight line to the elder. One set off from an elder's
    for the next meal of a batch they already carry goes straight on."""
    provider = town.provider()
    kitchen = offset(0, 6)
    conn.execute("UPDATE provider SET kitchen_lat = %s, kitchen_lon = %s WHERE id = %s", (*kitchen, provider))
    home = offset(12, 0)
    to_kitchen = town.caregiver(provider, home, mode="walk")
    _at_work(conn, clock, config, town, to_kitchen, town.elder(offset(-0.5, 0)), set_off_ago=timedelta(hours=1))
    carrying = town.caregiver(provider, home, mode="walk")
    _at_work(conn, clock, config, town, carrying, town.elder(offset(-0.5, 0)), set_off_ago=timedelta(hours=1))
    # the batch was collected earlier: the meal set off for now is already in their bag
    conn.execute(
        "UPDATE service_order SET collected_at = en_route_at - interval '1 hour' WHERE caregiver_id = %s", (carrying,)
    )
    conn.execute("UPDATE service_order SET collected_at = en_route_at WHERE caregiver_id = %s", (to_kitchen,))
    ref = create_order(conn, clock, elder_id=town.elder(), service_type="emergency", actor="t", config=config)
    need = need_of(conn, load_order(conn, ref.id), clock.now())
    travel = config.dispatch.travel
    source = SqlCandidates(conn, need, config.timezone, whereabouts=timedelta(hours=1), travel=travel)
    where = {c.caregiver_id: (c.lat, c.lon) for c in source.within(None)}
    hour = timedelta(hours=1)
    assert geodesic(where[to_kitchen], along(travel, "walk", home, kitchen, hour)).km < 0.01
    assert geodesic(where[carrying], along(travel, "walk", home, offset(-0.5, 0), hour)).km < 0.01


def test_a_booked_service_is_offered_only_to_caregivers_who_can_be_there_by_its_arrival_deadline(
    conn, clock, town, config
) -> None:
    """A booked service goes to the best caregiver who can be there by the deadline they would be given on
    accepting it (its window's end, or half an hour from now when that is later), give or take
    ``booked_offer_late_minutes``. Before, it went to the best by cost however late: a simulated day offered lunches
    to walkers five to seven hours away, who accepted, set out, and never arrived before the operators gave the
    meal up."""
    provider = town.provider()
    # the walker costs less (33 minutes away, rated 5) but would arrive after a deadline half an hour away; the
    # rider, rated 3, makes it in 27 minutes
    walker = town.caregiver(provider, offset(1.9, 0), mode="walk", rating=5.0)
    rider = town.caregiver(provider, offset(-5, 0), mode="ebike", rating=3.0)
    last: list[int] = []

    def chosen(closes_in: timedelta, late: int) -> int | None:
        ref = create_order(
            conn,
            clock,
            elder_id=town.elder(),
            service_type="care",
            actor="t",
            config=config,
            window_start=clock.now() - timedelta(minutes=30),
            window_end=clock.now() + closes_in,
        )
        tolerant = tuned(config, booked_offer_late_minutes=late)
        _, ranking, choice = find_candidate(conn, clock, tolerant, load_order(conn, ref.id))
        assert ranking.arrive_within_min == max(30.0, closes_in.total_seconds() / 60) + late
        last[:] = [ref.id]
        return None if choice is None else choice.best.candidate.caregiver_id

    assert chosen(timedelta(minutes=10), 0) == rider  # the deadline is half an hour from now
    # the operators' view of the candidates says why the walker is not asked (a warning for an offer by hand)
    verdicts = {
        v.candidate.caregiver_id: v
        for v in order_verdicts(conn, clock.now(), tuned(config, booked_offer_late_minutes=0), last[0])
    }
    assert [r.code for r in verdicts[walker].reasons] == ["too_late"] and verdicts[rider].eligible
    assert "would be there in about 33 minutes, later than the 30 minutes" in verdicts[walker].reasons[0].detail
    assert chosen(timedelta(hours=1), 0) == walker  # time enough: the best by cost
    assert chosen(timedelta(minutes=10), 5) == walker  # three minutes late is tolerated
    assert config.dispatch.booked_offer_late_minutes == 60
    conn.execute("UPDATE caregiver SET active = false WHERE id = %s", (rider,))
    assert chosen(timedelta(minutes=10), 0) is None  # nobody makes it: not offered (the order escalates)
