"""Escalation: an order nobody took in time, or help that did not arrive, becomes the operators' alarm.

Escalating moves the order to 'escalated', raises (or repeats) the order's ``order_escalated`` alarm, which links
the order, for the operators' board and texts the manager of the provider concerned. The dispatcher keeps
offering an escalated order that has no caregiver, so help may still come while people look.

A visit arrived at and not reported done long after its booked time (``unfinished``) keeps its status: its
caregiver is reminded by SMS and the operators get a ``visit_unfinished`` alarm linked to the order, once.
"""

from __future__ import annotations

import logging

import psycopg

from dispatcher import metrics, notices, outbox, texts
from dispatcher.lifecycle import Actor, OrderRow, record_event, transition
from dispatcher.settings import Config
from eldercare.alarms import AlarmRaise, raise_alarm
from eldercare.clock import Clock
from eldercare.i18n import N_
from eldercare.vocabulary import AlarmType, OrderStatus

log = logging.getLogger(__name__)

NO_ACCEPTANCE = "no_acceptance"
NO_CANDIDATE = "no_candidate"
NO_ARRIVAL = "no_arrival"


def escalate(
    conn: psycopg.Connection,
    clock: Clock,
    config: Config,
    order: OrderRow,
    why: str,
    *,
    actor: str = "dispatcher",
) -> OrderRow:
    """Escalate a locked order for ``why`` (one of NO_ACCEPTANCE, NO_CANDIDATE, NO_ARRIVAL)."""
    now = clock.now()
    level = order.escalation_level + 1
    changes: dict[str, object] = {"escalation_level": level, "escalated_at": now}
    if why == NO_ARRIVAL:
        changes["arrival_due_at"] = None
    else:
        changes["accept_due_at"] = None
    escalated = transition(
        conn,
        clock,
        order,
        OrderStatus.ESCALATED,
        actor_kind=Actor.SYSTEM,
        actor=actor,
        reason=texts.reason(why, "en"),
        details={"level": level, "why": why, "offers_made": order.offers_made},
        action="escalated",
        **changes,
    )
    metrics.ESCALATIONS.labels(why).inc()
    alarm_id = _raise_alarm(conn, clock, escalated, why, level)
    managers = _managers(conn, escalated, why)
    elder = conn.execute("SELECT name, address FROM elder WHERE id = %s", (order.elder_id,)).fetchone()
    name, address = elder if elder else ("?", "?")
    for phone in managers:
        outbox.enqueue(
            conn,
            clock,
            to_phone=phone,
            from_phone=config.platform.twilio_from,
            body=texts.text(
                "manager_escalated",
                "zh",
                service=texts.service_name(order.service_type, "zh"),
                code=order.code,
                elder=name,
                address=address,
                reason=texts.reason(why, "zh"),
            ),
            purpose=outbox.Purpose.MANAGER,
            order_id=order.id,
        )
    log.warning(
        "order %s escalated (level %d, %s); alarm %s; %d managers told", order.code, level, why, alarm_id, len(managers)
    )
    return escalated


# the timeline's word for it (a sentence of the catalogue; the minutes are in the event's details)
UNFINISHED = N_("not reported done long after its booked time: the caregiver was reminded and the operators alerted")


def unfinished(conn: psycopg.Connection, clock: Clock, config: Config, order: OrderRow) -> int:
    """A locked visit arrived at and not reported done: the operators' ``visit_unfinished`` alarm, a row on its
    timeline, and a reminder to its caregiver (held through quiet hours unless an emergency). Returns the alarm."""
    now = clock.now()
    assert order.arrived_at is not None and order.caregiver_id is not None
    caregiver = conn.execute("SELECT code, name FROM caregiver WHERE id = %s", (order.caregiver_id,)).fetchone()
    assert caregiver is not None
    code, name = caregiver
    details = {
        "order_id": order.id,
        "order_code": order.code,
        "caregiver": code,
        "caregiver_name": name,
        "arrived_at": order.arrived_at.isoformat(),
        "duration_min": order.duration_min,
        "minutes": round((now - order.arrived_at).total_seconds() / 60),
    }
    raised = raise_alarm(
        conn,
        AlarmRaise(order.elder_id, None, AlarmType.VISIT_UNFINISHED, now, now, details=details, order_id=order.id),
    )
    assert raised is not None
    record_event(conn, now, order.id, order.status, order.state, Actor.SYSTEM, "dispatcher", UNFINISHED, details)
    arrived = f"{order.arrived_at.astimezone(config.timezone):%H:%M}"
    notices.tell_caregiver(conn, clock, config, order, order.caregiver_id, "unfinished", arrived=arrived)
    metrics.ESCALATIONS.labels("unfinished").inc()
    log.warning("order %s arrived at %s and not reported done; alarm %s", order.code, order.arrived_at, raised.id)
    return raised.id


def _raise_alarm(conn: psycopg.Connection, clock: Clock, order: OrderRow, why: str, level: int) -> int:
    """The order's live ``order_escalated`` alarm: raised, or repeated if one is still open."""
    now = clock.now()
    details = {"order_id": order.id, "order_code": order.code, "level": level, "why": why}
    raised = raise_alarm(
        conn, AlarmRaise(order.elder_id, None, AlarmType.ORDER_ESCALATED, now, now, details=details, order_id=order.id)
    )
    assert raised is not None  # without only_if_newer, a raise always inserts or repeats
    return raised.id


def _managers(conn: psycopg.Connection, order: OrderRow, why: str) -> list[str]:
    """Whom to text: the provider holding the order; else those whose caregivers were offered it; else
    up to three providers that could serve it."""
    if why == NO_ARRIVAL and order.provider_id is not None:
        rows = conn.execute("SELECT manager_phone FROM provider WHERE id = %s", (order.provider_id,)).fetchall()
        return [r[0] for r in rows]
    rows = conn.execute(
        "SELECT DISTINCT p.manager_phone FROM offer o JOIN caregiver c ON c.id = o.caregiver_id "
        "JOIN provider p ON p.id = c.provider_id WHERE o.order_id = %s ORDER BY 1",
        (order.id,),
    ).fetchall()
    if rows:
        return [r[0] for r in rows]
    rows = conn.execute(
        "SELECT p.manager_phone FROM provider p "
        "JOIN provider_service ps ON ps.provider_id = p.id AND ps.service_type = %s "
        "JOIN provider_area pa ON pa.provider_id = p.id "
        "JOIN elder e ON e.community_id = pa.community_id AND e.id = %s "
        "WHERE p.active AND p.standing <> 'black' ORDER BY p.standing = 'red' DESC, p.id LIMIT 3",
        (order.service_type, order.elder_id),
    ).fetchall()
    return [r[0] for r in rows]
