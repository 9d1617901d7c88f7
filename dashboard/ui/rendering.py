"""Rendering pages: Jinja2 templates with the translator, local times, the CSRF token and the nav."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from dashboard import i18n
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

    return TEMPLATES.TemplateResponse(
        request,
        name,
        {
            "t": i18n.translator(language),
            "lang": language,
            "csrf": csrf_token(request),
            "principal": principal,
            "can_act": principal is not None and principal.may(Permission.ACT),
            "can_admin": principal is not None and principal.may(Permission.ADMINISTER),
            "nav": NAV,
            "path": request.url.path,
            "local": local,
            "now": runtime.clock.now(),
            **context,
        },
        status_code=status_code,
    )
