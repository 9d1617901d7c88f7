"""A ceiling on request bodies, applied before anything reads, parses or authenticates a request."""

from __future__ import annotations

import json
import logging

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)


class BodyTooLarge(HTTPException):
    """Raised while a body streams in past the limit. An ``HTTPException``, so FastAPI's body parsing lets it
    through as a 413 instead of turning it into "error parsing the body"."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _message(limit))


def _message(limit: int) -> str:
    return (
        f"the request body is larger than this server accepts ({limit} bytes at most); "
        "send a smaller request (split a large batch into several)"
    )


class BodyLimitMiddleware:
    """Answer 413 to a body over ``limit`` bytes: at once when ``Content-Length`` says so, or as soon as a
    streamed (chunked) body passes the limit, without reading the rest. Paths under ``upload_prefix`` (the
    spreadsheet imports) may send up to ``upload_limit``."""

    def __init__(self, app: ASGIApp, limit: int, upload_prefix: str | None = None, upload_limit: int = 0) -> None:
        self.app = app
        self.default_limit = limit
        self.upload_prefix = upload_prefix
        self.upload_limit = upload_limit

    def _limit(self, scope: Scope) -> int:
        if self.upload_prefix is not None and str(scope["path"]).startswith(self.upload_prefix):
            return max(self.upload_limit, self.default_limit)
        return self.default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            log.info("refused %s %s: Content-Length %d over %d", scope["method"], scope["path"], declared, limit)
            await self._refuse(send, limit)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    log.info("refused %s %s: body over %d bytes", scope["method"], scope["path"], limit)
                    raise BodyTooLarge(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(send, limit)

    async def _refuse(self, send: Send, limit: int) -> None:
        body = json.dumps({"detail": _message(limit)}).encode()
        await send({
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        })  # fmt: skip
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length itself
    return None
