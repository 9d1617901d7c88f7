"""The import page (admins): download a template, upload a file, read the dry run's report, commit."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from dashboard import i18n
from dashboard.auth import Administrator
from dashboard.ui.rendering import render
from eldercare import imports
from eldercare.i18n import N_

router = APIRouter()

# each kind as the page names it, in the order a new city is filled
KIND_TITLES = {
    "areas": N_("Areas: townships and communities"),
    "providers": N_("Providers with their service area"),
    "caregivers": N_("Caregivers with their shifts"),
    "elders": N_("Elders with their emergency contacts"),
    "devices": N_("Devices and the elders they are bound to"),
}

# the report's summaries, filled in by imports.js with the report's counts
SUMMARIES = {
    "checked": N_(
        "Checked %(rows)s rows: %(created)s new, %(updated)s to update, %(unchanged)s unchanged. "
        "Nothing was written yet."
    ),
    "committed": N_("Imported %(rows)s rows: %(created)s new, %(updated)s updated, %(unchanged)s unchanged."),
    "refused": N_(
        "%(problems)s problems in %(rows)s rows; nothing was written. Correct the cells below and check again."
    ),
}


@router.get("/imports", response_class=HTMLResponse)
def imports_page(request: Request, principal: Administrator) -> HTMLResponse:
    kinds = [(name, KIND_TITLES[name], [c for c in kind.columns if c.required]) for name, kind in imports.KINDS.items()]
    words = i18n.for_request(request)
    summaries = {key: words.gettext(text) for key, text in SUMMARIES.items()}
    return render(request, "imports.html", principal, kinds=kinds, summaries=summaries)
