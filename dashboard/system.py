"""Operations endpoints: ``/healthz`` (database reachable), ``/metrics`` (Prometheus), ``/events`` (SSE)."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, Histogram, generate_latest
from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dashboard.auth import Reader
from dashboard.events import EventHub
from dashboard.runtime import Pool

router = APIRouter(tags=["operations"])

REQUEST_SECONDS = Histogram(
    "eldercare_dashboard_request_seconds",
    "Time to answer an HTTP request, by route template",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5),
)


class Health(BaseModel):
    status: str
    database: str
    live_updates: bool


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
def healthz(request: Request, pool: Pool) -> Response | Health:
    """200 when the database answers; 503 with the reason otherwise (for load balancers and monitoring)."""
    hub: EventHub = request.app.state.hub
    try:
        with pool.connection(timeout=2) as conn:
            conn.execute("SELECT 1")
    except Exception as err:
        body = Health(status="unavailable", database=type(err).__name__, live_updates=hub.listening.is_set())
        return JSONResponse(body.model_dump(), status_code=503)
    return Health(status="ok", database="ok", live_updates=hub.listening.is_set())


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def metrics() -> Response:
    """Prometheus metrics of the whole process (the default registry)."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.get("/events", response_class=StreamingResponse, responses={200: {"content": {"text/event-stream": {}}}})
async def events(request: Request, principal: Reader) -> StreamingResponse:
    """Server-sent events: ``alarm`` and ``order`` (their NOTIFY payloads, JSON; an account limited to an area
    gets ``{}``, since the payload names alarms and orders of the whole city), ``ready`` on (re)connection."""
    hub: EventHub = request.app.state.hub
    return StreamingResponse(
        hub.stream(blind=principal.area is not None),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


class TimingMiddleware:
    """Records each request's duration in REQUEST_SECONDS, labelled by route template (not by raw path)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") == "/events":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            REQUEST_SECONDS.labels(scope["method"], template, str(status[0])).observe(time.perf_counter() - started)
