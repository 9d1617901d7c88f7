"""Rendering pages: Jinja2 templates with the translator, local times, the CSRF token and the nav."""

from __future__ import annotations

import gettext
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from dashboard import i18n, logins
from dashboard.auth import Permission, Principal, csrf_token
from dashboard.runtime import Runtime
from eldercare.i18n import DATE_LOCALES, N_, catalogued
from eldercare.labels import Message, label, labels
from eldercare.vocabulary import AlarmType

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")

NAV = (
    (N_("Live alarms"), "/alarms"),
    (N_("Orders"), "/orders"),
    (N_("Plans"), "/plans"),
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
    (N_("Supervision"), "/supervision"),
)


def _json(value: Any) -> Markup:
    """JSON safe to place inside a <script> element."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


@pass_context
def _secs(context: Context, value: float | None) -> str:
    if value is None:
        return "–"
    words: gettext.NullTranslations = context["i18n"]
    if value < 120:
        return words.gettext("%(seconds).0f s") % {"seconds": value}
    return words.gettext("%(minutes).1f min") % {"minutes": value / 60}


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
def _said(context: Context, text: str | Message | None) -> str:
    """A stored sentence as the reader reads it: the platform's own (an English message id of the catalogue, such
    as a coded cancel reason, or a ``Message`` with its values) in the reader's language; a person's own words as
    they wrote them."""
    if isinstance(text, Message):
        return text.words(context["i18n"])
    return str(context["i18n"].gettext(text)) if text else ""


@pass_context
def _label(context: Context, kind: str, code: object) -> str:
    return label(context["i18n"], kind, code)


@pass_context
def _labels(context: Context, kind: str, codes: list[object]) -> str:
    return labels(context["i18n"], kind, codes)


@pass_context
def _raised_by(context: Context, alarm: Any) -> Markup:
    """What raised an alarm, in words: the reading against its threshold, or the device that sent the event."""
    words: gettext.NullTranslations = context["i18n"]
    details = alarm.details or {}
    if "metric" in details or "battery" in details:
        metric = details.get("metric", "battery")
        text = words.gettext("%(metric)s %(value)s %(unit)s (threshold %(threshold)s)") % {
            "metric": label(words, "metric", metric),
            "value": _number(details.get("value", details.get("battery"))),
            "unit": label(words, "unit", metric),
            "threshold": _number(details.get("threshold")),
        }
        if details.get("consecutive"):
            text += words.gettext(", %(count)d readings in a row") % {"count": details["consecutive"]}
        return Markup("%s") % text
    if "cause" in details:
        return Markup("%s") % label(words, "alarm_cause", details["cause"])
    if alarm.type == AlarmType.VISIT_UNFINISHED and "arrived_at" in details:
        text = words.gettext(
            "%(caregiver)s arrived at %(time)s for a visit of %(minutes)s min and has not reported it done"
        ) % {
            "caregiver": details.get("caregiver_name") or details.get("caregiver", "?"),
            "time": context["local"](datetime.fromisoformat(details["arrived_at"]), "%H:%M"),
            "minutes": details.get("duration_min", "?"),
        }
        return Markup("%s") % text
    if alarm.device_id:
        return Markup(words.gettext("Raised by device %(device)s")) % {"device": _code(alarm.device_id)}
    return Markup("")


@pass_context
def _visit_details(context: Context, exception: Any) -> Markup:
    """What a visit exception found, as the operator reads it (its ``details`` hold the measured facts)."""
    words: gettext.NullTranslations = context["i18n"]
    kind, details = exception.kind, exception.details or {}
    step = label(words, "visit_step", details.get("step", ""))
    if kind == "far":
        text = words.gettext("%(arrival)s m from home at arrival, %(completion)s m at completion; allowed %(radius)s m")
        facts = {k: _number(details.get(f"{k}_m")) for k in ("arrival", "completion", "radius")}
        return Markup("%s") % (text % facts)
    if kind in ("short", "long"):
        text = words.gettext("%(minutes)s min on site of %(planned)s min planned")
        return Markup("%s") % (text % {"minutes": _number(details.get("minutes")), "planned": details.get("planned")})
    if kind == "no_check_in":
        steps = ", ".join(label(words, "visit_step", s) for s in details.get("unshown", []))
        return Markup("%s") % (words.gettext("no location, card code or button at: %(steps)s") % {"steps": steps})
    if kind == "overlap":
        orders = Markup(", ").join(_code(code) for code in details.get("orders", []))
        return Markup(words.gettext("at the same time as order %(orders)s")) % {"orders": orders}
    if kind in ("early", "late"):
        window = " – ".join(_clock(context["local"], details.get(k)) for k in ("earliest", "latest"))
        return Markup("%s") % (words.gettext("%(step)s outside %(window)s") % {"step": step, "window": window})
    if kind == "bad_code":
        return Markup("%s: ") % step + _code(details.get("why", ""))
    return Markup("")


def _clock(local: Any, value: Any) -> str:
    """An ISO time of a detail in the reader's local time, day and hour."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return "–"
    return str(local(moment, "%m-%d %H:%M"))


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float) else str(value if value is not None else "–")


def _code(value: object) -> Markup:
    """A code shown as itself (an order's, a device's): kept out of translation and the language test."""
    return Markup('<span class="code" translate="no">%s</span>') % value


@pass_context
def _choice_reason(context: Context, offer: Any) -> str:
    """Why the dispatcher chose this caregiver, as a sentence: rank, distance, travel time, orders in hand."""
    words: gettext.NullTranslations = context["i18n"]
    reasons = offer.reasons or {}
    values = {
        "rank": offer.rank,
        "km": float(reasons.get("distance_km", offer.distance_km)),
        "minutes": float(reasons.get("eta_min", offer.eta_min)),
        "load": int(reasons.get("load", 0)),
    }
    if offer.rank == 1:
        text = words.gettext(
            "The best-placed available caregiver: %(km).1f km away, about %(minutes).0f min to arrive, "
            "%(load)d orders in hand"
        )
    else:
        text = words.gettext(
            "Choice %(rank)d among available caregivers: %(km).1f km away, about %(minutes).0f min to arrive, "
            "%(load)d orders in hand"
        )
    sentence = text % values
    if reasons.get("via") == "kitchen":
        sentence += words.gettext("; by their provider's kitchen, where the meal is collected")
    if reasons.get("from") == "last_order":  # dispatcher.candidates.located
        sentence += words.gettext("; from where they are reckoned to be since their last check-in on an order")
    if reasons.get("served_before"):
        sentence += words.gettext("; has served this elder before")
    return sentence


def _service(lang: str, order: Any) -> str:
    return str(order.service_name_zh if lang == "zh" else order.service_name_en)


# plain functions rather than template macros: the KPI and order pages call them thousands of times
TEMPLATES.env.add_extension("jinja2.ext.i18n")
TEMPLATES.env.install_gettext_callables(  # type: ignore[attr-defined]
    _gettext_in, _ngettext_in, newstyle=True, pgettext=_pgettext_in
)
TEMPLATES.env.globals.update(
    pct=_pct,
    secs=_secs,
    service=_service,
    label=_label,
    said=_said,
    catalogued=catalogued,
    labels=_labels,
    choice_reason=_choice_reason,
    raised_by=_raised_by,
    visit_details=_visit_details,
)
TEMPLATES.env.filters["code"] = _code
TEMPLATES.env.filters["tojson_safe"] = _json


def render(
    request: Request, name: str, principal: Principal | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    language = i18n.choose(request)
    zone = ZoneInfo(runtime.settings.timezone)

    def local(value: datetime | None, fmt: str = "short") -> str:
        """A moment in the city's time zone: "short"/"medium" in the reader's locale, or a numeric strftime."""
        if not value:
            return ""
        if fmt in ("short", "medium", "long"):
            return format_datetime(value, fmt, tzinfo=zone, locale=DATE_LOCALES.get(language, "zh_Hans"))
        return value.astimezone(zone).strftime(fmt)

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
