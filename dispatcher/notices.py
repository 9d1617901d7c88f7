"""Telling people on the platform's own initiative: the elder's side (SMS to family contacts, commands to the
elder's device through its outbox), and a caregiver about an order of theirs."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

import psycopg

from devices import Command, CommandType, epoch_ms
from dispatcher import outbox, texts
from dispatcher.lifecycle import OrderRow
from dispatcher.quiet import QuietHours
from dispatcher.settings import Config
from eldercare.clock import Clock
from eldercare.device_commands import queue_command

log = logging.getLogger(__name__)

# devices that can show or speak a message to the elder, best first
_TALKING_DEVICES = ("watch", "pendant", "button")


def _elder(conn: psycopg.Connection, elder_id: int) -> tuple[str, str]:
    row = conn.execute("SELECT name, language FROM elder WHERE id = %s", (elder_id,)).fetchone()
    return (row[0], row[1]) if row else ("", "zh")


def _caregiver_name(conn: psycopg.Connection, caregiver_id: int | None) -> str:
    row = conn.execute("SELECT name FROM caregiver WHERE id = %s", (caregiver_id,)).fetchone()
    return str(row[0]) if row else ""


def tell_family(
    conn: psycopg.Connection,
    clock: Clock,
    config: Config,
    order: OrderRow,
    key: str,
    localized: dict[str, dict[str, Any]] | None = None,
    **values: Any,
) -> int:
    """SMS ``key`` to each of the elder's contacts who take SMS, in their language; returns how many."""
    name, _ = _elder(conn, order.elder_id)
    contacts = conn.execute(
        "SELECT id, phone, language FROM emergency_contact WHERE elder_id = %s AND notify_sms ORDER BY priority, id",
        (order.elder_id,),
    ).fetchall()
    for contact_id, phone, language in contacts:
        filled = {**values, **(localized or {}).get(language, {})}
        outbox.enqueue(
            conn,
            clock,
            to_phone=phone,
            from_phone=config.platform.twilio_from,
            body=texts.text(key, language, elder=name, code=order.code, **filled),
            purpose=outbox.Purpose.FAMILY,
            order_id=order.id,
            contact_id=contact_id,
        )
    return len(contacts)


def family_alarm(conn: psycopg.Connection, clock: Clock, config: Config, order: OrderRow) -> int:
    """Family SMS the moment an emergency order is made for a critical alarm."""
    row = conn.execute(
        "SELECT t.name_zh, t.name_en FROM alarm a JOIN alarm_type t ON t.code = a.type WHERE a.id = %s",
        (order.alarm_id,),
    ).fetchone()
    zh, en = row if row else ("紧急", "emergency")
    return tell_family(conn, clock, config, order, "family_alarm", {"zh": {"alarm": zh}, "en": {"alarm": en}})


def help_accepted(conn: psycopg.Connection, clock: Clock, config: Config, order: OrderRow, eta_min: float) -> None:
    """Family SMS and a ``help_coming`` command to the device, once a caregiver took an emergency."""
    caregiver = _caregiver_name(conn, order.caregiver_id)
    eta = max(1, math.ceil(eta_min))
    tell_family(conn, clock, config, order, "family_accepted", caregiver=caregiver, eta=eta)
    _device_command(conn, clock, order, CommandType.HELP_COMING, "device_help_coming", caregiver=caregiver, eta=eta)


def help_arrived(conn: psycopg.Connection, clock: Clock, config: Config, order: OrderRow) -> None:
    """Family SMS and a ``help_arrived`` command to the device."""
    caregiver = _caregiver_name(conn, order.caregiver_id)
    tell_family(conn, clock, config, order, "family_arrived", caregiver=caregiver)
    _device_command(conn, clock, order, CommandType.HELP_ARRIVED, "device_help_arrived", caregiver=caregiver)


def _device_command(
    conn: psycopg.Connection, clock: Clock, order: OrderRow, kind: CommandType, text_key: str, **values: Any
) -> None:
    """Queue a command for the device that raised the alarm, or the elder's watch, pendant or button."""
    row = conn.execute(
        "SELECT d.id FROM device d LEFT JOIN alarm a ON a.id = %s AND a.device_id = d.id "
        "WHERE d.elder_id = %s AND d.active AND (a.id IS NOT NULL OR d.type = ANY(%s)) "
        "ORDER BY a.id IS NULL, array_position(%s, d.type), d.id LIMIT 1",
        (order.alarm_id, order.elder_id, list(_TALKING_DEVICES), list(_TALKING_DEVICES)),
    ).fetchone()
    if row is None:
        log.info("order %s: elder %d has no device to tell %s", order.code, order.elder_id, kind)
        return
    _, language = _elder(conn, order.elder_id)
    now = clock.now()
    command = Command(
        ts=epoch_ms(now),
        type=kind.value,
        text=texts.text(text_key, language, **values),
        alarm_id=order.alarm_id,
        order_code=order.code,
        eta_min=values.get("eta"),
    )
    queue_command(conn, row[0], command, now)


def tell_caregiver(
    conn: psycopg.Connection,
    clock: Clock,
    config: Config,
    order: OrderRow,
    caregiver_id: int,
    key: str,
    said: Mapping[str, str] | None = None,
    **values: object,
) -> bool:
    """Text a caregiver about ``order`` on the platform's own initiative: the message ``key`` of ``texts`` in their
    language, with the order's code, ``values``, and ``said`` (sentences of the catalogue, or a person's words, read
    in their language too). A routine order's message waits out quiet hours; nothing goes to a caregiver who opted
    out of SMS. Whether it was queued."""
    row = conn.execute(
        "SELECT phone, language FROM caregiver WHERE id = %s AND NOT sms_opt_out", (caregiver_id,)
    ).fetchone()
    if row is None:
        return False
    phone, language = row
    words = {name: texts.said(sentence, language) for name, sentence in (said or {}).items()}
    outbox.enqueue(
        conn,
        clock,
        to_phone=phone,
        from_phone=config.platform.twilio_from,
        body=texts.text(key, language, code=order.code, **values, **words),
        purpose=outbox.Purpose.OPERATOR,
        order_id=order.id,
        caregiver_id=caregiver_id,
        not_before=None if order.is_emergency else QuietHours.of(config).release(clock.now()),
    )
    return True
