"""Verifying a finished visit, and the exceptions queue: what failed verification waits for an operator, who
confirms it (for example after calling the elder) or rejects it, with a reason; never silently."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from dispatcher.lifecycle import OrderError
from dispatcher.settings import Config
from eldercare import audit
from eldercare.clock import Clock
from eldercare.i18n import N_
from eldercare.labels import Coded, Listed, Message

KINDS = ("no_check_in", "early", "late", "short", "long", "far", "overlap", "in_hospital", "bad_code")
RESOLUTIONS = ("confirmed", "rejected")
# a press of the elder's button counts a little before the arrival was reported and after the completion
BUTTON_MARGIN = timedelta(minutes=10)
_UNSHOWN = ("none", "no_location", "bad_card")


def raise_exception(conn: psycopg.Connection, clock: Clock, order_id: int, kind: str, details: dict[str, Any]) -> None:
    """Put the visit of ``order_id`` in the queue for ``kind`` (once per kind; a repeat changes nothing)."""
    conn.execute(
        "INSERT INTO visit_exception (order_id, kind, details, raised_at) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (order_id, kind) DO NOTHING",
        (order_id, kind, Jsonb(details), clock.now()),
    )


@dataclass(frozen=True, slots=True)
class _Visit:
    caregiver_id: int
    arrived_at: datetime
    completed_at: datetime
    arrival_check: str
    completion_check: str
    arrival_distance_m: float | None
    completion_distance_m: float | None
    elder_id: int
    duration_min: int
    emergency: bool
    in_hospital: bool


_VISIT = """
SELECT v.caregiver_id, v.arrived_at, v.completed_at, v.arrival_check, v.completion_check, v.arrival_distance_m,
       v.completion_distance_m, so.elder_id, so.duration_min, st.is_emergency OR so.alarm_id IS NOT NULL,
       coalesce(e.inactive_reason = 'in_hospital' AND e.inactive_since <= (v.arrived_at AT TIME ZONE %(tz)s)::date,
                false)
FROM visit v JOIN service_order so ON so.id = v.order_id JOIN service_type st ON st.code = so.service_type
JOIN elder e ON e.id = so.elder_id
WHERE v.order_id = %(order)s AND v.completed_at IS NOT NULL
"""


def verify(conn: psycopg.Connection, clock: Clock, config: Config, order_id: int) -> str:
    """Check a completed visit against every rule, queue what fails, and set its status; returns the status."""
    row = conn.execute(_VISIT, {"order": order_id, "tz": config.platform.timezone}).fetchone()
    if row is None:
        raise OrderError(Message.of(N_("order %(id)s has no completed visit to verify"), id=order_id))
    visit = _Visit(*row)
    pressed = conn.execute(
        "SELECT min(ts) FROM device_event WHERE elder_id = %s AND type = 'visit' AND ts BETWEEN %s AND %s",
        (visit.elder_id, visit.arrived_at - BUTTON_MARGIN, visit.completed_at + BUTTON_MARGIN),
    ).fetchone()
    button_at = pressed[0] if pressed else None
    if button_at is not None:
        conn.execute("UPDATE visit SET button_pressed_at = %s WHERE order_id = %s", (button_at, order_id))
    for kind, details in _failures(conn, config, order_id, visit, button_at is not None):
        raise_exception(conn, clock, order_id, kind, details)
    minutes = int((visit.completed_at - visit.arrived_at).total_seconds() // 60)
    conn.execute("UPDATE visit SET verified_minutes = %s WHERE order_id = %s", (minutes, order_id))
    return settle_status(conn, order_id)


def _failures(
    conn: psycopg.Connection, config: Config, order_id: int, visit: _Visit, pressed: bool
) -> list[tuple[str, dict[str, Any]]]:
    settings = config.dispatch
    found: list[tuple[str, dict[str, Any]]] = []
    checks = (visit.arrival_check, visit.completion_check)
    if "far" in checks and not pressed:
        distances = {"arrival_m": visit.arrival_distance_m, "completion_m": visit.completion_distance_m}
        found.append(("far", {"radius_m": settings.visit_radius_m, **distances}))
    unshown = [step for step, check in zip(("arrival", "completion"), checks, strict=True) if check in _UNSHOWN]
    if unshown and not pressed:
        found.append(("no_check_in", {"unshown": unshown, "checks": list(checks)}))
    minutes = (visit.completed_at - visit.arrived_at).total_seconds() / 60
    if not visit.emergency:
        bounds = {"minutes": round(minutes, 1), "planned": visit.duration_min}
        if minutes < settings.visit_min_ratio * visit.duration_min:
            found.append(("short", {**bounds, "min_ratio": settings.visit_min_ratio}))
        elif minutes > settings.visit_max_ratio * visit.duration_min:
            found.append(("long", {**bounds, "max_ratio": settings.visit_max_ratio}))
    others = conn.execute(
        "SELECT so.code FROM visit v JOIN service_order so ON so.id = v.order_id WHERE v.caregiver_id = %s "
        "AND v.order_id <> %s AND v.arrived_at < %s AND coalesce(v.completed_at, 'infinity') > %s",
        (visit.caregiver_id, order_id, visit.completed_at, visit.arrived_at),
    ).fetchall()
    if others:
        found.append(("overlap", {"orders": [code for (code,) in others]}))
    if visit.in_hospital:
        found.append(("in_hospital", {}))
    return found


def settle_status(conn: psycopg.Connection, order_id: int) -> str:
    """The status a completed visit has from its exceptions: verified (none), exception (some open), rejected
    (any rejected) or confirmed (all confirmed by an operator)."""
    row = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE resolution IS NULL), count(*) FILTER (WHERE resolution = 'rejected') "
        "FROM visit_exception WHERE order_id = %s",
        (order_id,),
    ).fetchone()
    assert row is not None
    total, open_, rejected = row
    status = "verified" if total == 0 else "exception" if open_ else "rejected" if rejected else "confirmed"
    conn.execute("UPDATE visit SET status = %s WHERE order_id = %s AND completed_at IS NOT NULL", (status, order_id))
    return status


def resolve(
    conn: psycopg.Connection,
    clock: Clock,
    exception_id: int,
    *,
    resolution: str,
    reason: str,
    actor: str,
) -> str:
    """Decide one open exception with a reason; returns the visit's status after it. Audited."""
    if resolution not in RESOLUTIONS:
        raise OrderError(
            Message.of(
                N_("resolution must be one of %(known)s, not %(given)r"), known=Listed(RESOLUTIONS), given=resolution
            )
        )
    reason = reason.strip()
    if not reason:
        raise OrderError(
            Message.of(N_("say why (for example: confirmed by phone with the elder); the reason is empty"))
        )
    row = conn.execute(
        "UPDATE visit_exception SET resolution = %s, resolution_reason = %s, resolved_by = %s, resolved_at = %s "
        "WHERE id = %s AND resolution IS NULL RETURNING order_id, kind",
        (resolution, reason[:1000], actor, clock.now(), exception_id),
    ).fetchone()
    if row is None:
        known = conn.execute("SELECT resolution FROM visit_exception WHERE id = %s", (exception_id,)).fetchone()
        if known is None:
            raise OrderError(Message.of(N_("there is no visit exception %(id)s; reload the queue"), id=exception_id))
        raise OrderError(
            Message.of(
                N_("visit exception %(id)s was already %(resolution)s; reload the queue"),
                id=exception_id,
                resolution=Coded("resolution", known[0]),
            )
        )
    order_id, kind = row
    status = settle_status(conn, order_id)
    audit.record(
        conn,
        actor,
        f"visit_exception.{resolution}",
        "visit_exception",
        exception_id,
        {"order_id": order_id, "kind": kind, "reason": reason[:200], "visit_status": status},
    )
    return status
