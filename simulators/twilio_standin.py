"""A local stand-in for Twilio's Messages API: what twilio-python sends, answered as Twilio answers it.

It records every message (queryable over HTTP under ``/standin/``), sends signed status callbacks, can be
told to refuse given numbers (21610 opted out, 429, 500) or to report them failed or undelivered, and posts
caregivers' replies to the platform's webhook signed exactly as Twilio signs them (HMAC-SHA1 over the full
URL and the sorted form parameters, the scheme twilio-python's ``RequestValidator`` checks).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import logging
import secrets
import socket
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

import httpx
import typer
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from twilio.request_validator import RequestValidator

from simulators.http_server import ThreadedServer
from simulators.twilio_wire import (
    API_VERSION,
    ERRORS,
    LATE_FAILURES,
    Message,
    error_response,
    inbound_params,
    message_json,
    status_params,
)

log = logging.getLogger(__name__)

MAX_KEPT = 100_000


@dataclass(slots=True)
class Rule:
    """What to do with messages to ``number``: refuse with an API error, or report a late failure."""

    number: str
    error: str
    times: int | None = None  # None: every time


class RuleIn(BaseModel):
    number: str
    error: str = Field(description="21610, 21211, 429, 500, 503 (refused) or undelivered, failed (reported later)")
    times: int | None = Field(None, ge=1, description="only the next N messages; unset: all")


class ReplyIn(BaseModel):
    from_: str = Field(alias="from")
    body: str
    to: str | None = None


@dataclass
class TwilioStandin:
    """The stand-in's state and its HTTP app; ``serve()`` runs it on a background thread."""

    account_sid: str
    auth_token: str
    webhook_url: str  # where caregivers' replies go, e.g. http://127.0.0.1:8000/sms/inbound
    from_number: str = "+8610690000"
    callback_delay: float = 0.05
    messages: list[Message] = field(default_factory=list)
    rules: dict[str, Rule] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.validator = RequestValidator(self.auth_token)
        self.app = self._build_app()
        self._client = httpx.Client(timeout=10)
        self._server: ThreadedServer | None = None

    # --- state -------------------------------------------------------------------------------------------

    def _record(self, **values: Any) -> Message:
        with self._lock:
            message = Message(id=next(self._ids), received_at=time.time(), **values)
            self.messages.append(message)
            if len(self.messages) > MAX_KEPT:
                del self.messages[: MAX_KEPT // 2]  # a long demo keeps the recent half
        return message

    def sent(self, *, to: str | None = None, after: int = 0, direction: str | None = None) -> list[Message]:
        with self._lock:
            return [
                m
                for m in self.messages
                if m.id > after and (to is None or m.to == to) and (direction is None or m.direction == direction)
            ]

    def wait_for(self, count: int = 1, timeout: float = 10.0, **filters: Any) -> list[Message]:
        """Block until at least ``count`` messages match ``filters`` (as for ``sent``); returns them."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.sent(**filters)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(found)} of {count} messages matching {filters} after {timeout} s")
            time.sleep(0.01)

    def add_rule(self, number: str, error: str, times: int | None = None) -> None:
        if error not in ERRORS and error not in LATE_FAILURES:
            raise ValueError(f"unknown error {error!r}; use one of {sorted([*ERRORS, *LATE_FAILURES])}")
        with self._lock:
            self.rules[number] = Rule(number, error, times)

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
            self.messages.clear()

    def _rule_for(self, number: str) -> str | None:
        with self._lock:
            rule = self.rules.get(number)
            if rule is None:
                return None
            if rule.times is not None:
                rule.times -= 1
                if rule.times <= 0:
                    del self.rules[number]
            return rule.error

    def sign(self, url: str, params: dict[str, str]) -> str:
        """The X-Twilio-Signature Twilio would send for a POST of ``params`` to ``url``."""
        return str(self.validator.compute_signature(url, params))

    def reply(
        self, from_: str, body: str, to: str | None = None, *, forge: bool = False, sid: str | None = None
    ) -> httpx.Response:
        """Post a caregiver's SMS to the webhook as Twilio would (``forge`` signs it with a wrong token)."""
        params = self._inbound_params(from_, body, to, sid)
        signature = self.sign(self.webhook_url, params)
        if forge:
            signature = RequestValidator("not-the-token").compute_signature(self.webhook_url, params)
        response = self._client.post(self.webhook_url, data=params, headers={"X-Twilio-Signature": signature})
        self._record_twiml(response.text, to=from_)
        return response

    def _inbound_params(self, from_: str, body: str, to: str | None, sid: str | None) -> dict[str, str]:
        sid = sid or "SM" + secrets.token_hex(16)
        to = to or self.from_number
        self._record(sid=sid, direction="inbound", to=to, from_=from_, body=body, status="received")
        return inbound_params(sid, self.account_sid, from_, to, body)

    def _record_twiml(self, twiml: str, to: str) -> None:
        try:
            root = ET.fromstring(twiml)
        except ET.ParseError:
            return
        for node in root.iter("Message"):
            text = "".join(node.itertext()).strip()
            if text:
                self._record(
                    sid="SM" + secrets.token_hex(16),
                    direction="outbound-reply",
                    to=to,
                    from_=self.from_number,
                    body=text,
                    status="sent",
                )

    # --- HTTP --------------------------------------------------------------------------------------------

    def _authorised(self, request: Request, account_sid: str) -> bool:
        header = request.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return (
            secrets.compare_digest(user, self.account_sid)
            and secrets.compare_digest(password, self.auth_token)
            and account_sid == self.account_sid
        )

    async def _callbacks(self, client: httpx.AsyncClient, message: Message, late_failure: str | None) -> None:
        steps = ["sent", late_failure] if late_failure else ["sent", "delivered"]
        for status in steps:
            await asyncio.sleep(self.callback_delay)
            message.status = status
            if status in LATE_FAILURES:
                message.error_code = LATE_FAILURES[status]
            if not message.status_callback:
                continue
            params = status_params(message, self.account_sid)
            try:
                await client.post(
                    message.status_callback,
                    data=params,
                    headers={"X-Twilio-Signature": self.sign(message.status_callback, params)},
                )
            except httpx.HTTPError as err:
                log.warning("status callback to %s failed: %s", message.status_callback, err)

    def _build_app(self) -> FastAPI:
        clients: list[httpx.AsyncClient] = []

        @asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[None]:
            # one client for every callback and reply: making one costs tens of milliseconds (its TLS
            # context), which would stall the event loop and every answer waiting on it
            clients.append(httpx.AsyncClient(timeout=10))
            yield
            await clients.pop().aclose()

        app = FastAPI(title="Twilio stand-in", docs_url=None, redoc_url=None, lifespan=lifespan)
        tasks: set[asyncio.Task[None]] = set()

        @app.post(f"/{API_VERSION}/Accounts/{{account_sid}}/Messages.json")
        async def create_message(account_sid: str, request: Request) -> JSONResponse:
            if not self._authorised(request, account_sid):
                return error_response(401, 20003, "Authenticate")
            form = await request.form()
            to, from_, body = (str(form.get(k, "")) for k in ("To", "From", "Body"))
            if not to:
                return error_response(400, 21604, "A 'To' phone number is required.")
            if not body:
                return error_response(400, 21602, "Message body is required.")
            rule = self._rule_for(to)
            if rule in ERRORS:
                status, code, text = ERRORS[rule]
                self._record(
                    sid="", direction="outbound-api", to=to, from_=from_, body=body, status="refused", error_code=code
                )
                return error_response(status, code, text)
            message = self._record(
                sid="SM" + secrets.token_hex(16),
                direction="outbound-api",
                to=to,
                from_=from_,
                body=body,
                status="queued",
                status_callback=str(form.get("StatusCallback") or ""),
            )
            task = asyncio.create_task(self._callbacks(clients[0], message, rule))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            return JSONResponse(message_json(message, self.account_sid), status_code=201)

        @app.get(f"/{API_VERSION}/Accounts/{{account_sid}}/Messages/{{sid}}.json")
        async def fetch_message(account_sid: str, sid: str, request: Request) -> JSONResponse:
            if not self._authorised(request, account_sid):
                return error_response(401, 20003, "Authenticate")
            for message in self.sent():
                if message.sid == sid:
                    return JSONResponse(message_json(message, self.account_sid))
            return error_response(404, 20404, f"The requested resource /Messages/{sid}.json was not found")

        @app.get("/standin/messages")
        async def list_messages(after: int = 0, to: str | None = None, wait: float = 0.0) -> dict[str, Any]:
            """Recorded messages after id ``after``; ``wait`` seconds of long polling when there are none."""
            deadline = time.monotonic() + min(wait, 30.0)
            while True:
                found = self.sent(to=to, after=after)
                if found or time.monotonic() >= deadline:
                    return {"messages": [m.as_json() for m in found]}
                await asyncio.sleep(0.01)

        @app.post("/standin/rules", status_code=204)
        async def add_rule(rule: RuleIn) -> None:
            try:
                self.add_rule(rule.number, rule.error, rule.times)
            except ValueError as err:
                raise HTTPException(422, str(err)) from None

        @app.delete("/standin/rules", status_code=204)
        async def clear_rules() -> None:
            with self._lock:
                self.rules.clear()

        @app.post("/standin/replies")
        async def post_reply(reply: ReplyIn) -> dict[str, Any]:
            """Deliver a caregiver's SMS to the webhook, signed; returns the webhook's answer."""
            params = self._inbound_params(reply.from_, reply.body, reply.to, None)
            headers = {"X-Twilio-Signature": self.sign(self.webhook_url, params)}
            response = await clients[0].post(self.webhook_url, data=params, headers=headers)
            self._record_twiml(response.text, to=reply.from_)
            return {"status": response.status_code, "twiml": response.text}

        return app

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> TwilioStandin:
        self._server = ThreadedServer(self.app, host, port).start()
        return self

    @property
    def url(self) -> str:
        assert self._server is not None, "call serve() first"
        return self._server.url

    def stop(self) -> None:
        self._client.close()
        if self._server is not None:
            self._server.stop()


def command(
    port: Annotated[
        int, typer.Option(min=1, max=65535, help="port to listen on; point ELDERCARE_TWILIO_API_BASE here")
    ] = 8099,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    webhook: Annotated[
        str | None, typer.Option(help="where replies are posted (default: ELDERCARE_PUBLIC_URL + /sms/inbound)")
    ] = None,
    callback_delay: Annotated[
        float, typer.Option(min=0, help="seconds between 'sent' and 'delivered' callbacks")
    ] = 0.5,
) -> None:
    """Run a local stand-in for Twilio's SMS API: it records messages, sends status callbacks, and posts signed
    replies to the platform's webhook. Messages: GET /standin/messages; refusals: POST /standin/rules;
    replies: POST /standin/replies {"from": ..., "body": ...}."""
    from eldercare import logs
    from eldercare.commands import failures_reported
    from eldercare.component import StopRequested
    from eldercare.config import load_settings

    with failures_reported():
        settings = load_settings()
    logs.setup(settings.log_level)
    standin = TwilioStandin(
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token.get_secret_value(),
        webhook_url=webhook or settings.public_url.rstrip("/") + "/sms/inbound",
        from_number=settings.twilio_from,
        callback_delay=callback_delay,
    )
    try:
        # uvicorn would only log why it cannot listen, and end; it binds the same way (IPv6 when the host has a colon)
        socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET).close()
        standin.serve(host, port)
    except (OSError, RuntimeError) as err:
        standin.stop()
        why = err.strerror if isinstance(err, OSError) else str(err)
        typer.echo(
            f"eldercare: the stand-in cannot listen on {host}:{port}: {why}. Give a free --port (or a --host of "
            "this machine).",
            err=True,
        )
        raise typer.Exit(1) from None
    stop = StopRequested().install()
    typer.echo(
        f"Twilio stand-in on {standin.url}  (ELDERCARE_TWILIO_API_BASE={standin.url}); replies go to "
        f"{standin.webhook_url}. Ctrl-C stops it."
    )
    stop.event.wait()
    standin.stop()
