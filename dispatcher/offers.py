"""Offers: choosing the next caregivers for an order, offering it by SMS, and closing offers that end.

All of it is database work in the caller's transaction: an offer and its SMS are rows written together,
and the SMS goes out after commit (see ``outbox``). A booked service is offered to one caregiver at a time;
an emergency is raced: offered to the best ``emergency_race_size`` caregivers at once, the first to accept
takes it and the others are told it is taken (``withdraw_raced``). Only those about as near as the best are
raced at first; the race widens to the next ones when none of them has said yes after a while. Every change to
an order's offers is made holding the order's row lock, which is what lets exactly one of a race win; the
partial unique index ``offer_one_live_per_caregiver_order`` keeps one live offer per caregiver and order
whatever process makes it.
A race ends (and the next one starts) when none of its offers is live any more.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from dispatcher import escalation, links, metrics, outbox, texts
from dispatcher.candidates import Need, SqlCandidates, need_of
from dispatcher.lifecycle import Actor, OrderRow, transition
from dispatcher.matching import Choice, choose
from dispatcher.quiet import QuietHours
from dispatcher.ranking import Ranked, Ranking
from dispatcher.settings import Config, MatchWeights
from eldercare.clock import Clock
from eldercare.vocabulary import LIVE_OFFER_SQL, OrderStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Offer:
    id: int
    order_id: int
    caregiver_id: int
    rank: int
    distance_km: float
    eta_min: float
    status: str
    created_at: datetime
    expires_at: datetime
    sms_id: int | None


_LIVE_OFFERS = f"""
SELECT id, order_id, caregiver_id, rank, distance_km, eta_min, status, created_at, expires_at, sms_id
FROM offer WHERE order_id = %s AND status IN {LIVE_OFFER_SQL} ORDER BY id
"""  # noqa: S608 (a constant)
_OFFERS_TO = f"""
SELECT o.id, o.order_id, o.caregiver_id, o.rank, o.distance_km, o.eta_min, o.status, o.created_at, o.expires_at,
       o.sms_id, so.code
FROM offer o JOIN service_order so ON so.id = o.order_id
WHERE o.caregiver_id = %s AND o.status IN {LIVE_OFFER_SQL} ORDER BY o.created_at, o.id
"""  # noqa: S608 (a constant)


def live_offers(conn: psycopg.Connection, order_id: int) -> list[Offer]:
    """The order's live offers, oldest first: one for a booked service, up to the race's size for an emergency."""
    with conn.cursor(row_factory=class_row(Offer)) as cur:
        return cur.execute(_LIVE_OFFERS, (order_id,)).fetchall()


def live_offer(conn: psycopg.Connection, order_id: int, caregiver_id: int) -> Offer | None:
    """The caregiver's live offer of this order, if any."""
    return next((o for o in live_offers(conn, order_id) if o.caregiver_id == caregiver_id), None)


def offers_to(conn: psycopg.Connection, caregiver_id: int) -> list[tuple[Offer, str]]:
    """The caregiver's live offers with their order codes, oldest first."""
    rows = conn.execute(_OFFERS_TO, (caregiver_id,)).fetchall()
    return [(Offer(*row[:-1]), row[-1]) for row in rows]


def ranking_for(config: Config, order: OrderRow, weights: MatchWeights | None = None) -> Ranking:
    return Ranking(weights or config.dispatch.weights(order.is_emergency), config.dispatch.travel, order.is_emergency)


def ranking_now(config: Config, order: OrderRow, now: datetime) -> Ranking:
    """The order's ranking for offers made at ``now``: a booked service only among those who can be there at most
    ``booked_offer_late_minutes`` after the arrival deadline they would be given on accepting it (``arrival_due``),
    so that a caregiver who could only come hours after the window has closed is not asked."""
    ranking = ranking_for(config, order)
    if order.is_emergency:
        return ranking
    deadline = arrival_due(config, order, now) + timedelta(minutes=config.dispatch.booked_offer_late_minutes)
    return replace(ranking, arrive_within_min=max(0.0, (deadline - now).total_seconds() / 60.0))


def arrival_due(config: Config, order: OrderRow, accepted_at: datetime) -> datetime:
    """When a caregiver who accepts the order at ``accepted_at`` must be there: an emergency within
    ``emergency_arrival_minutes``; a booked service by the end of its window, or as soon as an emergency when that is
    later (an order taken near or after its window's end)."""
    soon = accepted_at + timedelta(minutes=config.dispatch.emergency_arrival_minutes)
    return soon if order.is_emergency else max(order.window_end, soon)


def find_candidate(
    conn: psycopg.Connection, clock: Clock, config: Config, order: OrderRow, count: int = 1
) -> tuple[Need, Ranking, Choice | None]:
    """The best caregiver not yet offered this order (and the next ``count`` - 1, for a race), by the platform's
    real matching (``ranking_now``: for a booked service, among those who can be there by its arrival deadline)."""
    now = clock.now()
    need = need_of(conn, order, now)
    ranking = ranking_now(config, order, now)
    whereabouts = timedelta(minutes=config.dispatch.whereabouts_minutes)
    source = SqlCandidates(conn, need, config.timezone, whereabouts=whereabouts, travel=config.dispatch.travel)
    start = config.dispatch.search_radius_km
    return need, ranking, choose(source, need.lat, need.lon, ranking, start_radius_km=start, count=count)


def make_offer(
    conn: psycopg.Connection,
    clock: Clock,
    config: Config,
    order: OrderRow,
    ranked: Ranked,
    reasons: dict[str, Any],
    *,
    actor_kind: Actor = Actor.SYSTEM,
    actor: str = "dispatcher",
    why: str = "",
    changes: dict[str, Any] | None = None,
) -> OrderRow:
    """Offer a locked order to ``ranked``'s caregiver: the offer row, its SMS, and the timeline row."""
    # a booked service offered in quiet hours (by an operator's reassignment) is texted, and runs, from their end
    now = clock.now()
    starts = now if order.is_emergency else QuietHours.of(config).release(now)
    ttl = config.dispatch.offer_ttl(order.is_emergency)
    caregiver = ranked.candidate
    rank = order.offers_made + 1
    row = conn.execute(
        "INSERT INTO offer (order_id, caregiver_id, rank, score, distance_km, eta_min, reasons, status, "
        "created_at, expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s, 'pending', %s, %s) RETURNING id",
        (
            order.id,
            caregiver.caregiver_id,
            rank,
            ranked.cost,
            ranked.distance_km,
            ranked.eta_min,
            Jsonb(reasons),
            now,
            starts + ttl,
        ),
    ).fetchone()
    assert row is not None
    offer_id = int(row[0])
    elder = conn.execute("SELECT name, address FROM elder WHERE id = %s", (order.elder_id,)).fetchone()
    name, address = elder if elder else ("", "")
    language = caregiver.language
    when = ""
    if not order.is_emergency:
        local = order.window_start.astimezone(config.timezone)
        when = f"，{local:%m-%d %H:%M}" if language != "en" else f", {local:%d %b %H:%M}"
    body = texts.text(
        "offer",
        language,
        service=texts.service_name(order.service_type, language),
        code=order.code,
        elder=name,
        address=address,
        km=ranked.distance_km,
        when=when,
        ttl=texts.duration(ttl.total_seconds(), language),
        link=links.page_url(config, order.id, caregiver.caregiver_id),
    )
    sms_id = outbox.enqueue(
        conn,
        clock,
        to_phone=caregiver.phone,
        from_phone=config.platform.twilio_from,
        body=body,
        purpose=outbox.Purpose.OFFER,
        order_id=order.id,
        caregiver_id=caregiver.caregiver_id,
        not_before=starts,
    )
    conn.execute("UPDATE offer SET sms_id = %s WHERE id = %s", (sms_id, offer_id))
    metrics.OFFERS.labels("made").inc()
    # while escalated the order stays escalated: operators are still looking at it
    to = (
        OrderStatus.ESCALATED
        if order.state is OrderStatus.ESCALATED and actor_kind is Actor.SYSTEM
        else OrderStatus.OFFERED
    )
    return transition(
        conn,
        clock,
        order,
        to,
        actor_kind=actor_kind,
        actor=actor,
        reason=why or f"offered to {caregiver.code}",
        details={"offer_id": offer_id, "caregiver": caregiver.code, "rank": rank, **reasons},
        action="offered",
        offers_made=rank,
        next_offer_at=None,
        **(changes or {}),
    )


def offer_next(
    conn: psycopg.Connection,
    clock: Clock,
    config: Config,
    order: OrderRow,
    *,
    actor_kind: Actor = Actor.SYSTEM,
    actor: str = "dispatcher",
    why: str = "",
) -> OrderRow:
    """Offer a locked order to the best caregiver not yet asked, or for an emergency to the best few at once
    (``offers_at_once``, those within ``emergency_race_margin_minutes`` of the best); escalate when there is
    nobody. An emergency's race with offers still live is topped up back to its size, if anyone is left; a race
    the margin kept short takes in the next caregivers ``emergency_race_widen_seconds`` later (``next_offer_at``)
    if none of its offers has been accepted by then."""
    if not order.is_emergency and (held := _held_for_quiet_hours(conn, clock, config, order)):
        return held
    live = len(live_offers(conn, order.id))
    size = config.dispatch.offers_at_once(order.is_emergency)
    wanted = size - live
    made = 0
    kept_short = False
    # one search for the whole race: an offer made changes nobody else's standing (it holds no order), so the
    # best ``wanted`` not yet asked are those a search after each offer would find one by one
    choice = None
    if wanted > 0:
        need, ranking, choice = find_candidate(conn, clock, config, order, wanted)
    if choice is not None:
        search = {"radius_km": choice.radius_km, "fetched": choice.fetched, "evaluated": choice.evaluated}
        for ranked in choice.ranked[:wanted]:
            if made and ranked.cost > choice.best.cost + config.dispatch.emergency_race_margin_minutes:
                kept_short = True  # much slower to get there than the best: asked only if the race goes unanswered
                break
            reasons = {**ranking.reasons(ranked), "search": search}
            if size > 1:
                reasons["race"] = {"place": live + made + 1, "of": size}
            order = make_offer(conn, clock, config, order, ranked, reasons, actor_kind=actor_kind, actor=actor, why=why)
            made += 1
    if order.is_emergency and (made or live):
        widen_at = config.dispatch.race_widen_at(clock.now()) if kept_short else None
        conn.execute("UPDATE service_order SET next_offer_at = %s WHERE id = %s", (widen_at, order.id))
        return replace(order, next_offer_at=widen_at)
    if made or wanted <= 0 or live:
        return order
    retry = clock.now() + timedelta(minutes=config.dispatch.retry_offer_minutes)
    log.info("order %s: no eligible caregiver for %s near %.4f,%.4f", order.code, need.service_type, need.lat, need.lon)
    if order.state is not OrderStatus.ESCALATED:
        order = escalation.escalate(conn, clock, config, order, escalation.NO_CANDIDATE)
    conn.execute("UPDATE service_order SET next_offer_at = %s WHERE id = %s", (retry, order.id))
    return order


def _held_for_quiet_hours(conn: psycopg.Connection, clock: Clock, config: Config, order: OrderRow) -> OrderRow | None:
    """In quiet hours, put off offering a booked service (and the deadline to accept it) until they end."""
    now = clock.now()
    release = QuietHours.of(config).release(now)
    if release == now:
        return None
    accept_due = release + config.dispatch.accept_window(False)
    conn.execute(
        "UPDATE service_order SET next_offer_at = %s, accept_due_at = greatest(accept_due_at, %s) WHERE id = %s",
        (release, accept_due, order.id),
    )
    log.info("order %s: booked service held until the quiet hours end at %s", order.code, release.isoformat())
    return order


def close_offer(
    conn: psycopg.Connection,
    clock: Clock,
    config: Config,
    order: OrderRow,
    offer: Offer,
    status: str,
    *,
    actor_kind: Actor,
    actor: str,
    why: str,
) -> OrderRow:
    """End a live offer ('declined', 'expired', 'failed', 'cancelled') of a locked order. When it was the last
    live one (of a race, or the only one), or an emergency's offer that went unanswered, escalate if enough offers
    went unanswered, and offer the order to the next caregiver (for an emergency: as many as bring its race back
    to its size)."""
    now = clock.now()
    conn.execute(
        f"UPDATE offer SET status = %s, answered_at = %s WHERE id = %s AND status IN {LIVE_OFFER_SQL}",  # noqa: S608
        (status, now, offer.id),
    )
    metrics.OFFERS.labels(status).inc()
    if order.state not in (OrderStatus.OFFERED, OrderStatus.ESCALATED):
        return order
    order = transition(
        conn,
        clock,
        order,
        order.state,
        actor_kind=actor_kind,
        actor=actor,
        reason=why,
        details={"offer_id": offer.id, "offer_status": status},
        action=f"told the offer was {status}",
    )
    live = live_offers(conn, order.id)
    if live and not (order.is_emergency and status != "cancelled"):
        return order  # the rest of the race is still running
    # an emergency's race is kept at its size: a declined or expired offer is replaced at once, the others run on
    if (
        order.state is OrderStatus.OFFERED
        and order.escalation_level == 0
        and order.offers_made - len(live) >= config.dispatch.escalate_after_offers
    ):
        order = escalation.escalate(conn, clock, config, order, escalation.NO_ACCEPTANCE)
    return offer_next(conn, clock, config, order)


def cancel_live_offers(conn: psycopg.Connection, clock: Clock, order_id: int) -> list[Offer]:
    """Withdraw the order's live offers, if any, without a timeline row (the caller writes one)."""
    offers = live_offers(conn, order_id)
    if offers:
        conn.execute(
            "UPDATE offer SET status = 'cancelled', answered_at = %s WHERE id = ANY(%s)",
            (clock.now(), [o.id for o in offers]),
        )
    return offers


def withdraw_raced(conn: psycopg.Connection, clock: Clock, config: Config, order: OrderRow) -> list[Offer]:
    """After a locked order was accepted: close the other offers of its race and tell each of those caregivers by
    SMS that the order is taken."""
    others = cancel_live_offers(conn, clock, order.id)
    for offer in others:
        metrics.OFFERS.labels("taken").inc()
        row = conn.execute(
            "SELECT phone, language FROM caregiver WHERE id = %s AND NOT sms_opt_out", (offer.caregiver_id,)
        ).fetchone()
        if row is None:
            continue
        phone, language = row
        outbox.enqueue(
            conn,
            clock,
            to_phone=phone,
            from_phone=config.platform.twilio_from,
            body=texts.text("taken_by_other", language, code=order.code),
            purpose=outbox.Purpose.OFFER_TAKEN,
            order_id=order.id,
            caregiver_id=offer.caregiver_id,
        )
    return others
