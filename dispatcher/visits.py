"""A caregiver's visit as reported: whether an arrival or completion comes at a sensible time of the booked
visit, and where it was reported from (the phone's location, the elder's card code, or nothing)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

import psycopg
from geopy.distance import geodesic

from dispatcher.lifecycle import OrderRow
from dispatcher.settings import Config
from dispatcher.verification import raise_exception, verify
from eldercare.clock import Clock

CARD_CODE = re.compile(r"^[0-9]{6}$")
ARRIVED, COMPLETED = "arrived", "completed"


class Check(StrEnum):
    """How one end of a visit was shown to have happened at the elder's home."""

    NEAR = "near"  # the phone's location, within the radius
    FAR = "far"  # the phone's location, outside it
    CARD = "card"  # the code on the elder's card
    BAD_CARD = "bad_card"  # a code that is not the elder's (a replaced one, another elder's, a typo)
    NO_LOCATION = "no_location"  # the phone gave none, or one too vague to use
    NONE = "none"  # nothing was offered (a plain SMS)


SHOWN = frozenset({Check.NEAR, Check.CARD})


@dataclass(frozen=True, slots=True)
class Proof:
    """What came with an arrival or completion: a location from the phone's browser, or a card code."""

    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None
    card_code: str | None = None
    location_error: str | None = None  # why the phone gave no location, as its browser said

    @classmethod
    def from_form(cls, form: dict[str, str]) -> Proof:
        """The proof a caregiver's page posted; what cannot be read becomes the reason there is no location."""
        error = form.get("geo_error", "").strip()[:200] or None
        raw = [form.get(name, "").strip() for name in ("lat", "lon", "accuracy")]
        if not any(raw):
            return cls(location_error=error or "the page sent no location")
        try:
            lat, lon, accuracy = (float(value) for value in raw)
        except ValueError:
            return cls(location_error=f"unreadable location {raw!r:.80}")
        if not all(math.isfinite(v) for v in (lat, lon, accuracy)) or not (-90 <= lat <= 90 and -180 <= lon <= 180):
            return cls(location_error=f"impossible location {lat}, {lon}")
        return cls(lat=lat, lon=lon, accuracy_m=accuracy)


NO_PROOF = Proof()


@dataclass(frozen=True, slots=True)
class Place:
    check: Check
    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None
    distance_m: float | None = None
    note: str = ""


def place_of(conn: psycopg.Connection, config: Config, order: OrderRow, proof: Proof) -> Place:
    """Where an arrival or completion was reported from, judged against the elder's home (or the alarm's place)."""
    if proof.card_code is not None:
        return _card(conn, order.elder_id, proof.card_code)
    if proof.lat is None or proof.lon is None:
        return Place(Check.NO_LOCATION if proof.location_error else Check.NONE, note=proof.location_error or "")
    accuracy = proof.accuracy_m
    if accuracy is None or not 0 < accuracy <= config.dispatch.visit_max_accuracy_m:
        return Place(Check.NO_LOCATION, proof.lat, proof.lon, accuracy, note=f"location accuracy {accuracy} m")
    row = conn.execute(
        "SELECT coalesce(a.lat, e.lat), coalesce(a.lon, e.lon) FROM service_order so "
        "JOIN elder e ON e.id = so.elder_id LEFT JOIN alarm a ON a.id = so.alarm_id WHERE so.id = %s",
        (order.id,),
    ).fetchone()
    assert row is not None
    distance = geodesic((row[0], row[1]), (proof.lat, proof.lon)).m
    check = Check.NEAR if distance <= config.dispatch.visit_radius_m else Check.FAR
    return Place(check, proof.lat, proof.lon, accuracy, round(distance, 1))


def _card(conn: psycopg.Connection, elder_id: int, code: str) -> Place:
    if not CARD_CODE.match(code):
        return Place(Check.BAD_CARD, note="a card code is six digits")
    row = conn.execute(
        "SELECT retired_at IS NULL FROM elder_card_code WHERE elder_id = %s AND code = %s "
        "ORDER BY retired_at IS NULL DESC LIMIT 1",
        (elder_id, code),
    ).fetchone()
    if row is None:
        return Place(Check.BAD_CARD, note="not this elder's card code")
    if not row[0]:
        return Place(Check.BAD_CARD, note="a replaced card code")
    return Place(Check.CARD)


@dataclass(frozen=True, slots=True)
class Timing:
    """Whether an arrival or completion is outside the sensible time of the booked visit, and if so whether the
    caregiver insists (sent it again after a refusal)."""

    kind: str | None = None  # 'early' or 'late'
    insisted: bool = False
    earliest: Any = None
    latest: Any = None

    @property
    def refused(self) -> bool:
        return self.kind is not None and not self.insisted


def timing(
    conn: psycopg.Connection, clock: Clock, config: Config, order: OrderRow, caregiver_id: int, step: str
) -> Timing:
    """Judge the time of ``step``; a first report outside the sensible time is refused (and recorded), a second one
    within ``insist_minutes`` goes through and becomes an exception. Emergencies are never refused."""
    if order.is_emergency or order.alarm_id is not None:
        return Timing()
    now, settings = clock.now(), config.dispatch
    earliest = order.window_start - timedelta(minutes=settings.visit_early_minutes)
    latest = order.window_end + timedelta(minutes=settings.visit_late_minutes)
    if step == COMPLETED:
        latest += timedelta(minutes=order.duration_min)
    kind = "early" if now < earliest else "late" if now > latest else None
    if kind is None:
        return Timing()
    since = now - timedelta(minutes=settings.insist_minutes)
    insisted = (
        conn.execute(
            "SELECT 1 FROM visit_refusal WHERE order_id = %s AND caregiver_id = %s AND step = %s AND kind = %s "
            "AND at >= %s LIMIT 1",
            (order.id, caregiver_id, step, kind, since),
        ).fetchone()
        is not None
    )
    if not insisted:
        conn.execute(
            "INSERT INTO visit_refusal (order_id, caregiver_id, step, kind, at) VALUES (%s, %s, %s, %s, %s)",
            (order.id, caregiver_id, step, kind, now),
        )
    return Timing(kind, insisted, earliest, latest)


def record_arrival(
    conn: psycopg.Connection, clock: Clock, config: Config, order: OrderRow, via: str, proof: Proof, when: Timing
) -> None:
    """Open the visit of an order just moved to arrived."""
    assert order.caregiver_id is not None and order.arrived_at is not None
    place = place_of(conn, config, order, proof)
    conn.execute(
        "INSERT INTO visit (order_id, caregiver_id, arrived_at, arrival_via, arrival_check, arrival_lat, arrival_lon, "
        "arrival_accuracy_m, arrival_distance_m) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (order_id) DO NOTHING",
        (
            order.id,
            order.caregiver_id,
            order.arrived_at,
            via,
            place.check.value,
            place.lat,
            place.lon,
            place.accuracy_m,
            place.distance_m,
        ),
    )
    _note(conn, clock, order, ARRIVED, place, when)


def record_completion(
    conn: psycopg.Connection, clock: Clock, config: Config, order: OrderRow, via: str, proof: Proof, when: Timing
) -> str:
    """Close the visit of an order just completed and verify it; returns the visit's status."""
    place = place_of(conn, config, order, proof)
    conn.execute(
        "UPDATE visit SET completed_at = so.completed_at, completion_via = %s, completion_check = %s, "
        "completion_lat = %s, completion_lon = %s, completion_accuracy_m = %s, completion_distance_m = %s "
        "FROM service_order so WHERE so.id = visit.order_id AND visit.order_id = %s",
        (via, place.check.value, place.lat, place.lon, place.accuracy_m, place.distance_m, order.id),
    )
    _note(conn, clock, order, COMPLETED, place, when)
    return verify(conn, clock, config, order.id)


def _note(conn: psycopg.Connection, clock: Clock, order: OrderRow, step: str, place: Place, when: Timing) -> None:
    """Exceptions known the moment a step is reported: a wrong card code, an insisted early or late report."""
    if place.check is Check.BAD_CARD:
        raise_exception(conn, clock, order.id, "bad_code", {"step": step, "why": place.note})
    if when.kind is not None:
        raise_exception(
            conn,
            clock,
            order.id,
            when.kind,
            {
                "step": step,
                "at": clock.now().isoformat(),
                "earliest": when.earliest.isoformat(),
                "latest": when.latest.isoformat(),
            },
        )
