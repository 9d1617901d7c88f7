"""The dashboard's FastAPI application: JSON API, operator UI, live events, health and metrics."""

from __future__ import annotations

import asyncio
import gettext
import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

import dispatcher
from dashboard import api, i18n, kpi_rollup, system, ui
from dashboard.auth import Forbidden, LoginRequired, TokenSigner
from dashboard.body_limit import BodyLimitMiddleware
from dashboard.errors import Conflict, Invalid, NotFound, Refused
from dashboard.events import EventHub
from dashboard.kpi_memo import ReportMemo
from dashboard.runtime import Runtime
from dashboard.security_headers import SecurityHeadersMiddleware
from dashboard.settings import DashboardSettings
from eldercare import roster
from eldercare.clock import SYSTEM_CLOCK, Clock
from eldercare.component import Context
from eldercare.config import Settings, load_settings
from eldercare.db import open_pool
from eldercare.labels import failed, words_of
from eldercare.register.elders import NoSuchElder
from eldercare.register.model import Rejected

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")
SESSION_COOKIE = "eldercare_session"


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(("/api/", "/events"))


def _error(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    if _is_api(request):
        return JSONResponse({"detail": message}, status_code=status, headers=headers)
    return ui.error_page(request, status, message)


def in_words(errors: Sequence[Any], translations: gettext.NullTranslations) -> list[Any]:
    """Validation errors as their reader reads them (``labels.failed``): ``msg`` in the reader's language, and a
    whole-record check's field (its sentence starts ``field: ``) put in ``loc``."""
    out = []
    for error in errors:
        check = failed(error)
        echoed = {"input": _echoable(error["input"])} if "input" in error else {}
        out.append({**error, "loc": list(check.loc), "msg": check.words(translations), **echoed})
    return out


def _echoable(value: Any) -> Any:
    """A refused value as the reply can echo it: itself when it is plain JSON, else its ``repr`` (JSON's NaN and
    1e400, a lone surrogate in a string: refused rightly, they could not be written back, and the 422 became a 500)."""
    try:
        json.dumps(jsonable_encoder(value), allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (ValueError, TypeError):  # UnicodeEncodeError is a ValueError
        return repr(value)[:200]
    return value


def _install_error_handlers(app: FastAPI) -> None:
    async def login_required(request: Request, exc: Exception) -> Response:
        if _is_api(request):
            return JSONResponse(
                {"detail": "sign in first: send a bearer token from POST /api/v1/token, or log in to the dashboard"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    statuses: dict[type[Exception], int] = {
        NotFound: 404,
        Conflict: 409,
        Invalid: 422,
        Refused: 403,
        roster.Unknown: 404,
        roster.Clash: 409,
        roster.Refused: 422,
        Forbidden: 403,
        # the dispatcher's refusals: their messages are written for operators (each a ``Message``, shown in the
        # reader's language like every refusal here)
        dispatcher.OrderNotFound: 404,
        dispatcher.InvalidTransition: 409,
        dispatcher.OrderError: 422,
        NoSuchElder: 404,
    }

    async def known(request: Request, exc: Exception) -> Response:
        status = next(statuses[k] for k in type(exc).__mro__ if k in statuses)
        message = words_of(exc, i18n.for_request(request))
        if status == 422 and _is_api(request):
            # the same shape as FastAPI's own validation errors, so clients read one format
            detail = [{"type": "value_error", "loc": ["request"], "msg": message, "input": None}]
            return JSONResponse({"detail": detail}, status_code=422)
        return _error(request, status, message)

    async def refused_value(request: Request, exc: Exception) -> Response:
        # the database's check of a value (e.g. a NUL character in a text): the client's input, not our fault
        message = f"a value was refused: {str(exc).strip().splitlines()[0]}"
        if _is_api(request):
            detail = [{"type": "value_error", "loc": ["request"], "msg": message, "input": None}]
            return JSONResponse({"detail": detail}, status_code=422)
        return _error(request, 422, message)

    async def rejected(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Rejected)
        reader = i18n.for_request(request)
        if _is_api(request):
            detail = [
                {"type": "value_error", "loc": ["body", *p.field.split(".")], "msg": p.words(reader)}
                for p in exc.problems
            ]
            return JSONResponse({"detail": detail}, status_code=422)
        return _error(request, 422, "; ".join(f"{p.field}: {p.words(reader)}" for p in exc.problems))

    async def invalid_request(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if not _is_api(request):  # a mistyped address in the browser: a page in the reader's language
            reader = i18n.for_request(request)
            return ui.error_page(request, 422, "; ".join(failed(e).words(reader) for e in exc.errors()))
        errors = in_words(exc.errors(), i18n.for_request(request))
        return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if _is_api(request) or exc.status_code < 400:
            return await http_exception_handler(request, exc)
        return ui.error_page(request, exc.status_code, "")

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Rejected, rejected)
    app.add_exception_handler(psycopg.errors.DataError, refused_value)
    for exc_type in statuses:
        app.add_exception_handler(exc_type, known)


def create_app(
    settings: Settings,
    database_url: str,
    *,
    dashboard_settings: DashboardSettings | None = None,
    clock: Clock = SYSTEM_CLOCK,
    context: Context | None = None,
    dispatch_config: dispatcher.Config | None = None,
) -> FastAPI:
    """The app; its lifespan opens the database pools and the LISTEN connection and closes them.

    It also serves the dispatcher's router (Twilio webhooks, caregivers' pages), run with ``dispatch_config``
    (built here from ``settings`` when not given), the same configuration as the orders made from the dashboard.
    """
    options = dashboard_settings or load_settings(DashboardSettings)
    dispatch = dispatch_config or dispatcher.Config.load(settings)
    runtime = Runtime(settings=settings, dashboard=options, database_url=database_url, clock=clock, dispatch=dispatch)
    hub = EventHub(database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await asyncio.to_thread(
            open_pool, database_url, name="dashboard", min_size=options.pool_min, max_size=options.pool_max
        )
        app.state.pool = pool
        try:
            with pool.connection() as conn:
                kpi_rollup.ensure_timezone(conn, settings.timezone)
            await hub.start()
            yield
        finally:
            await hub.stop()
            await asyncio.to_thread(pool.close)

    app = FastAPI(
        title="Eldercare dashboard API",
        version="1",
        description="Alarms, service orders, elders, devices, providers, KPIs and reports of the eldercare platform. "
        "Authenticate with a bearer token from `POST /api/v1/token`.",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.context = context or Context(settings, database_url, mqtt_url="", clock=clock)
    app.state.dispatcher_config = dispatch
    app.state.hub = hub
    app.state.kpi_memo = ReportMemo()
    # served over HTTPS (the public URL says so, or the setting): cookies are Secure and browsers get HSTS
    secure = options.secure_cookies or settings.public_url.lower().startswith("https://")
    app.state.secure = secure
    app.state.tokens = TokenSigner(settings.secret_key.get_secret_value(), options.token_minutes * 60)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key.get_secret_value(),
        session_cookie=SESSION_COOKIE,
        max_age=int(options.session_hours * 3600),
        same_site="lax",
        https_only=secure,
    )
    app.add_middleware(system.TimingMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, https=secure)
    # added last, so it runs first: nothing reads a body, not even the session or the login, before the check
    app.add_middleware(
        BodyLimitMiddleware,
        limit=options.max_body_bytes,
        upload_prefix="/api/v1/imports/",
        upload_limit=options.max_import_bytes,
    )
    proxies = [p.strip() for p in options.trusted_proxies.split(",") if p.strip()]
    if proxies:
        # outermost: the client's address and scheme are known before anything else looks at them
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=proxies)
    _install_error_handlers(app)
    app.include_router(system.router)
    app.include_router(api.router)
    app.include_router(ui.router)
    app.include_router(dispatcher.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    if not (STATIC_DIR / "vendor" / "uPlot.iife.min.js").exists():
        log.warning("chart library missing from %s: run `make install` (npm ci) to get it", STATIC_DIR / "vendor")
    return app
