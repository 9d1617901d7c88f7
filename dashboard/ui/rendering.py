"""Rendering pages: Jinja2 templates with the translator, local times, the CSRF token and the nav."""

from __future__ import annotations

import gettext
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from dashboard import i18n, logins
from dashboard.auth import Permission, Principal, csrf_token
from dashboard.runtime import Runtime
from eldercare.i18n import N_
from eldercare.labels import label

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")

NAV = (
    (N_("Live alarms"), "/alarms"),
    (N_("Orders"), "/orders"),
    (N_("Elders"), "/elders"),
    (N_("Devices"), "/devices"),
    (N_("KPIs"), "/kpis"),
    (N_("Map"), "/map"),
    (N_("Return visits"), "/visits"),
    (N_("Visit exceptions"), "/visit-exceptions"),
    (N_("Entitlements"), "/entitlements"),
    (N_("Age-allowance check"), "/allowance-check"),
    (N_("Monthly report"), "/reports"),
    (N_("Providers"), "/providers"),
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


@pass_context
def _secs(context: Context, value: float | None) -> str:
    if value is None:
        return "–"
    words: gettext.NullTranslations = context["i18n"]
    if value < 120:
        return f"{value:.0f} {words.gettext('s')}"
    return f"{value / 60:.1f} {words.gettext('min')}"


# the page's catalogue travels in the render context ("i18n"), so one environment serves both languages; macros
# that translate are imported "with context"
@pass_context
def _gettext_in(context: Context, message: str) -> str:
    return str(context["i18n"].gettext(message))


@pass_context
def _ngettext_in(context: Context, singular: str, plural: str, n: int) -> str:
    return str(context["i18n"].ngettext(singular, plural, n))


@pass_context
def _pgettext_in(context: Context, word_context: str, message: str) -> str:
    return str(context["i18n"].pgettext(word_context, message))


@pass_context
def _label(context: Context, kind: str, code: object) -> str:
    return label(context["i18n"], kind, code)


def _service(lang: str, order: Any) -> str:
    return str(order.service_name_zh if lang == "zh" else order.service_name_en)


# plain functions rather than template macros: the KPI and order pages call them thousands of times
TEMPLATES.env.add_extension("jinja2.ext.i18n")
TEMPLATES.env.install_gettext_callables(  # type: ignore[attr-defined]
    _gettext_in, _ngettext_in, newstyle=True, pgettext=_pgettext_in
)
TEMPLATES.env.globals.update(pct=_pct, secs=_secs, service=_service, label=_label)
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
            "i18n": i18n.translations(language),
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
