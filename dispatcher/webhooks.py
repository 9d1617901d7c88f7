"""Twilio's webhooks (``/sms/inbound``, ``/sms/status``) and the caregivers' pages, as a router to mount.

The app that mounts ``router`` puts its ``eldercare.component.Context`` in ``app.state.context`` and its
dispatcher ``Config`` in ``app.state.dispatcher_config`` (see ``web_resources``). Database work runs on the
thread pool, as psycopg's sync pool wants.
"""

from __future__ import annotations

import logging

import psycopg
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from dispatcher import delivery, inbound
from dispatcher.caregiver_page import page_router
from dispatcher.planning.day_page import day_router
from dispatcher.web_resources import Resources, WebResources, open_resources
from eldercare import dead_letters
from eldercare.clock import Clock
from eldercare.db import INT_MAX
from eldercare.dead_letters import DeadLetter
from eldercare.vocabulary import InputSource

log = logging.getLogger(__name__)

MAX_FORM_BYTES = 16 * 1024


router = APIRouter(lifespan=open_resources)
router.include_router(day_router)  # before the order pages: /m/day/... is not an order's token
router.include_router(page_router)


def _twiml(text: str | None) -> Response:
    twiml = MessagingResponse()
    if text:
        twiml.message(text)
    return Response(str(twiml), media_type="application/xml")


def dead_letter(conn: psycopg.Connection, clock: Clock, reason: str, detail: str, payload: bytes) -> None:
    dead_letters.insert(conn, [DeadLetter(clock.now(), InputSource.SMS, reason, detail, payload)])


async def _reject(res: WebResources, reason: str, detail: str, payload: bytes) -> None:
    """Record a refused request (off the event loop: it is database work)."""

    def work() -> None:
        with res.connection() as conn:
            dead_letter(conn, res.clock, reason, detail, payload)

    await run_in_threadpool(work)


async def _signed_form(request: Request, res: WebResources) -> dict[str, str]:
    """The POSTed form, if Twilio signed it for our public URL; otherwise a recorded rejection and 403."""
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        await _reject(res, "too_large", f"{request.url.path}: {len(raw)} bytes", raw)
        raise HTTPException(413, f"the request is {len(raw)} bytes; Twilio sends at most {MAX_FORM_BYTES}")
    form = {k: str(v) for k, v in (await request.form()).multi_items()}
    url = res.config.platform.public_url.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    validator = RequestValidator(res.config.platform.twilio_auth_token.get_secret_value())
    if not validator.validate(url, form, request.headers.get("X-Twilio-Signature", "")):
        log.warning("refused %s: bad or missing X-Twilio-Signature", request.url.path)
        await _reject(res, "bad_signature", f"{request.url.path}: X-Twilio-Signature does not match {url}", raw)
        raise HTTPException(403, "the X-Twilio-Signature header does not match this request")
    return form


@router.post("/sms/inbound", include_in_schema=False)
async def sms_inbound(request: Request, res: Resources) -> Response:
    """Twilio's incoming-message webhook: a caregiver's reply."""
    form = await _signed_form(request, res)
    sid, from_phone, body = form.get("MessageSid", ""), form.get("From", ""), form.get("Body", "")
    if not sid or not from_phone:
        await _reject(res, "malformed", "inbound SMS without MessageSid or From", repr(form).encode())
        raise HTTPException(400, "MessageSid and From are required")

    def work() -> inbound.InboundResult:
        with res.connection() as conn:
            return inbound.handle(
                conn, res.clock, res.config, sid=sid, from_phone=from_phone, to_phone=form.get("To", ""), body=body
            )

    result = await run_in_threadpool(work)
    return _twiml(result.reply)


def twilio_error_code(text: str | None) -> int | None:
    """Twilio's error code (five digits: 30003 unreachable, 21610 opted out) as the message keeps it, or None when
    the callback's is missing or no such code (letters, digits other than 0-9, past what the column holds): the
    status it came with is applied all the same."""
    if not text or not text.isascii() or not text.isdigit():
        return None
    code = int(text)
    return code if code <= INT_MAX else None


@router.post("/sms/status", include_in_schema=False)
async def sms_status(request: Request, res: Resources, m: int | None = None) -> Response:
    """Twilio's status callback for a message we sent."""
    form = await _signed_form(request, res)
    sid, status = form.get("MessageSid", ""), form.get("MessageStatus", "")
    if not sid or not status:
        await _reject(res, "malformed", "status callback without MessageSid or MessageStatus", repr(form).encode())
        raise HTTPException(400, "MessageSid and MessageStatus are required")
    error = form.get("ErrorCode")

    def work() -> bool:
        with res.connection() as conn:
            known = delivery.status_callback(
                conn,
                res.clock,
                res.config,
                sms_id=m,
                sid=sid,
                status=status,
                error_code=twilio_error_code(error),
            )
            if not known:
                dead_letter(
                    conn,
                    res.clock,
                    "unknown_message",
                    f"status {status[:20]} for {sid[:40]}",
                    repr(form).encode()[:4096],
                )
            return known

    await run_in_threadpool(work)
    return Response(status_code=204)
