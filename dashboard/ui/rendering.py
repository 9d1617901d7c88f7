"""Rendering pages: Jinja2 templates with the translator, local times, the CSRF token and the nav."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from dashboard import i18n, logins
from dashboard.auth import Permission, Principal, csrf_token
from dashboard.runtime import Runtime

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")

NAV = (
    ("alarm_board", "/alarms"),
    ("orders", "/orders"),
    ("elders", "/elders"),
    ("devices", "/devices"),
    ("kpis", "/kpis"),
    ("map", "/map"),
    ("visits", "/visits"),
    ("visit_exceptions", "/visit-exceptions"),
    ("entitlements", "/entitlements"),
    ("allowance_check", "/allowance-check"),
    ("reports", "/reports"),
    ("providers", "/providers"),
)


def _json(value: Any) -> Markup:
    """JSON safe to place inside a <script> element."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _reason(value: Any) -> str:
    """One term of an offer's ``reasons`` as a short text: numbers rounded, nested terms inline."""
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    if isinstance(value, dict):
        return ", ".join(f"{k} {_reason(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_reason(v) for v in value) or "–"
    return str(value)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _secs(value: float | None, t: Callable[[str], str]) -> str:
    if value is None:
        return "–"
    return f"{value:.0f} {t('seconds')}" if value < 120 else f"{value / 60:.1f} {t('minutes')}"


def _service(lang: str, order: Any) -> str:
    return str(order.service_name_zh if lang == "zh" else order.service_name_en)


# plain functions rather than template macros: the KPI and order pages call them thousands of times
TEMPLATES.env.globals.update(pct=_pct, secs=_secs, service=_service)
TEMPLATES.env.filters["tojson_safe"] = _json
TEMPLATES.env.filters["reason"] = _reason


def render(
    request: Request, name: str, principal: Principal | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    language = i18n.choose(request)
    zone = ZoneInfo(runtime.settings.timezone)

    def local(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return value.astimezone(zone).strftime(fmt) if value else ""

    can_admin = principal is not None and principal.may(Permission.ADMINISTER)
    lockouts: list[logins.Lockout] = []
    if can_admin and status_code == 200 and not name.startswith("_"):  # partials have no notice area
        # administrators see who was locked out of signing in lately (someone guessing, or a forgotten password)
        with request.app.state.pool.connection() as conn:
            lockouts = logins.recent_lockouts(conn, runtime.clock.now() - timedelta(days=1))

    return TEMPLATES.TemplateResponse(
        request,
        name,
        {
            "t": i18n.translator(language),
            "lang": language,
            "csrf": csrf_token(request),
            "principal": principal,
            "can_act": principal is not None and principal.may(Permission.ACT),
            "can_admin": can_admin,
            "lockouts": lockouts,
            "nav": NAV,
            "path": request.url.path,
            "local": local,
            "now": runtime.clock.now(),
            **context,
        },
        status_code=status_code,
    )
