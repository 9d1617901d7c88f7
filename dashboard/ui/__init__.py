"""The operator UI: server-rendered pages, in Chinese and English, every asset served by the app."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from dashboard import i18n
from dashboard.auth import within_area
from dashboard.ui import (
    boards,
    care_plan,
    elder_forms,
    imports,
    insights,
    plans,
    records,
    roster,
    session,
    supervision,
    visit_queue,
)
from dashboard.ui.rendering import render
from eldercare.i18n import N_

router = APIRouter(include_in_schema=False, dependencies=[Depends(within_area)])
for module in (
    session,
    boards,
    elder_forms,
    care_plan,
    records,
    insights,
    plans,
    roster,
    imports,
    visit_queue,
    supervision,
):
    router.include_router(module.router)


# what each refusal means to the reader, and what to do next
_ERRORS = {
    403: (N_("Not allowed"), N_("Your account may not do this. Ask an administrator if you need it.")),
    404: (N_("Not found"), N_("This page or record does not exist. Check the address, or go back.")),
    409: (N_("Not possible now"), N_("The record changed in the meantime. Reload the page and try again.")),
    422: (N_("Not accepted"), N_("Some of what was sent is not valid. Go back and correct it.")),
}
_OTHER = (N_("Something went wrong"), N_("The platform could not finish this. Try again in a moment."))


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """The page a browser gets for a refusal, in the reader's language, its detail too (``words_of`` the refusal)."""
    words = i18n.for_request(request)
    title, hint = _ERRORS.get(status, _OTHER)
    return render(
        request,
        "error.html",
        None,
        status_code=status,
        status=status,
        title=words.gettext(title),
        hint=words.gettext(hint),
        message=message,
    )


__all__ = ["error_page", "router"]
