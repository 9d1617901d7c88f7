"""The caregiver's page for one order, reached by the signed link in the offer SMS: accept or decline,
set off, arrive, finish. Built for a phone's width, one form per button; arriving and finishing send the
phone's location (``static/geolocation.js``, the page's only script)."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from psycopg.rows import class_row
from starlette.concurrency import run_in_threadpool

from dispatcher import caregiver_actions as actions
from dispatcher import texts
from dispatcher.links import PAGE_PREFIX, LinkError, PageGrant, read_token
from dispatcher.visits import Proof
from dispatcher.web_resources import Resources, WebResources
from eldercare.i18n import N_, translations
from eldercare.labels import label
from eldercare.vocabulary import LIVE_OFFER_SQL, OrderStatus

page_router = APIRouter(prefix=PAGE_PREFIX, include_in_schema=False)
# the caregiver's pages translate through jinja2.ext.i18n; the reader's catalogue comes with each render
_templates = Environment(
    loader=PackageLoader("dispatcher", "templates"),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
)


def render_page(template: str, language: str, **values: object) -> str:
    """One of the caregiver's pages in their language ('zh' or 'en')."""
    words = translations(language)
    return _templates.get_template(template).render(
        language=language,
        gettext=words.gettext,
        _=words.gettext,
        ngettext=words.ngettext,
        pgettext=words.pgettext,
        prefix=PAGE_PREFIX,
        **values,
    )


ACTIONS = {"accept": actions.accept, "decline": actions.decline, "set_off": actions.set_off}
# the steps a visit is verified by: they come with the phone's location
STEPS = {"arrive": actions.arrive, "finish": actions.finish}
LOCATED = frozenset(STEPS)
# the pages' own files, served beside them (the content security policy allows no inline style or script)
_ASSETS = {"geolocation.js": "text/javascript", "caregiver.css": "text/css"}
_STATIC = Path(__file__).with_name("static")


@dataclass(frozen=True, slots=True)
class PageOrder:
    id: int
    code: str
    service_type: str
    status: str
    caregiver_id: int | None
    window_start: datetime
    window_end: datetime
    notes: str
    elder_name: str
    address: str
    live_offer_to: int | None
    distance_km: float | None
    eta_min: float | None
    medical_notes: str
    medications: str
    allergies: str
    home_access_notes: str


_PAGE_ORDER = f"""
SELECT so.id, so.code, so.service_type, so.status, so.caregiver_id, so.window_start, so.window_end, so.notes,
       e.name AS elder_name, e.address,
       live.caregiver_id AS live_offer_to, mine.distance_km, mine.eta_min,
       e.medical_notes, e.medications, e.allergies, e.home_access_notes
FROM service_order so
JOIN elder e ON e.id = so.elder_id
LEFT JOIN offer live ON live.order_id = so.id AND live.caregiver_id = %(c)s AND live.status IN {LIVE_OFFER_SQL}
LEFT JOIN LATERAL (SELECT distance_km, eta_min FROM offer o WHERE o.order_id = so.id AND o.caregiver_id = %(c)s
                   ORDER BY o.id DESC LIMIT 1) mine ON true
WHERE so.id = %(o)s
"""  # noqa: S608 (a constant)


# while the caregiver holds one of these, the page shows the elder's care notes and how to get in
_LIVE_ORDER = frozenset({OrderStatus.ACCEPTED, OrderStatus.EN_ROUTE, OrderStatus.ARRIVED, OrderStatus.ESCALATED})


def holds(order: PageOrder, caregiver_id: int) -> bool:
    """Whether the caregiver holds the order now: it is offered to them, or theirs and not yet done. Only then
    does their page name the elder and the address; to anyone else the offer is closed."""
    return order.live_offer_to == caregiver_id or (order.caregiver_id == caregiver_id and order.status in _LIVE_ORDER)


def care_notes(order: PageOrder, caregiver_id: int) -> list[tuple[str, str]]:
    """(label, text) of the elder's medical and home access notes, for the caregiver holding a
    live order for the elder only (an offer is not enough): nobody else reached by a link sees them."""
    if order.caregiver_id != caregiver_id or order.status not in _LIVE_ORDER:
        return []
    notes = (
        (N_("Medical notes"), order.medical_notes),
        (N_("Medications"), order.medications),
        (N_("Allergies"), order.allergies),
        (N_("Home access"), order.home_access_notes),
    )
    return [note for note in notes if note[1]]


def _buttons(order: PageOrder, caregiver_id: int) -> list[tuple[str, str, str]]:
    """(action, its label, marked for the catalogue and translated in the template, style) of each button."""
    if order.live_offer_to == caregiver_id:
        return [("accept", N_("Accept"), "go"), ("decline", N_("Decline"), "secondary")]
    if order.caregiver_id != caregiver_id:
        return []
    if order.status == OrderStatus.ACCEPTED:
        return [("set_off", N_("On my way"), ""), ("arrive", N_("I have arrived"), "go")]
    if order.status in ("en_route", "escalated"):
        return [("arrive", N_("I have arrived"), "go")]
    if order.status == OrderStatus.ARRIVED:
        return [("finish", N_("Service done"), "go")]
    return []


def _render(res: WebResources, conn: psycopg.Connection, grant: PageGrant, token: str, notice: str | None) -> str:
    caregiver = actions.caregiver_by_id(conn, grant.caregiver_id)
    with conn.cursor(row_factory=class_row(PageOrder)) as cur:
        order = cur.execute(_PAGE_ORDER, {"o": grant.order_id, "c": grant.caregiver_id}).fetchone()
    if caregiver is None or order is None:
        raise LinkError("this order or caregiver no longer exists")
    tz = res.config.timezone
    start, end = order.window_start.astimezone(tz), order.window_end.astimezone(tz)
    buttons = _buttons(order, caregiver.id)
    return render_page(
        "caregiver_page.html",
        caregiver.language,
        order=order,
        service=texts.service_name(order.service_type, caregiver.language),
        status_text=label(translations(caregiver.language), "order_status", order.status),
        window=f"{start:%m-%d %H:%M}–{end:%H:%M}",
        notice=notice,
        holds=holds(order, caregiver.id),
        buttons=buttons,
        locating=LOCATED & {action for action, _, _ in buttons},
        care_notes=care_notes(order, caregiver.id),
        base=f"{PAGE_PREFIX}/{token}",
    )


def refused(message: str) -> HTMLResponse:
    body = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" '
        'content="width=device-width, initial-scale=1"><title>链接无效 / Link not valid</title></head>'
        f'<body style="font:17px system-ui;padding:1rem"><p>{html.escape(message)}</p></body></html>'
    )
    return HTMLResponse(body, status_code=403)


async def rendered(work: Callable[[], str]) -> HTMLResponse:
    """Run a page's database work off the event loop; a bad or expired link gets the page that says so."""
    try:
        return HTMLResponse(await run_in_threadpool(work))
    except LinkError as err:
        return refused(str(err))


@page_router.get("/_/{name}")
async def asset(name: str) -> FileResponse:
    if name not in _ASSETS:
        raise HTTPException(404, "no such file")
    return FileResponse(_STATIC / name, media_type=_ASSETS[name])


@page_router.get("/{token}", response_class=HTMLResponse)
async def show(token: str, res: Resources) -> HTMLResponse:
    def work() -> str:
        grant = read_token(res.config, token)
        with res.connection() as conn:
            return _render(res, conn, grant, token, None)

    return await rendered(work)


@page_router.post("/{token}/{action}", response_class=HTMLResponse)
async def act(token: str, action: str, request: Request, res: Resources) -> HTMLResponse:
    if action not in ACTIONS and action not in STEPS:
        return HTMLResponse("unknown action", status_code=404)
    form = await request.form()
    fields = {name: value for name, value in form.items() if isinstance(value, str)}

    def work() -> str:
        grant = read_token(res.config, token)
        with res.connection() as conn:
            caregiver = actions.caregiver_by_id(conn, grant.caregiver_id)
            if caregiver is None:
                raise LinkError("this caregiver no longer exists")
            if action in STEPS:
                proof = Proof.from_form(fields)
                answer = STEPS[action](conn, res.clock, res.config, caregiver, grant.order_id, "page", proof)
            else:
                answer = ACTIONS[action](conn, res.clock, res.config, caregiver, grant.order_id, "page")
            return _render(res, conn, grant, token, answer.text(caregiver.language))

    return await rendered(work)
