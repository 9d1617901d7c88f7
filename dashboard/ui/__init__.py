"""The operator UI: server-rendered pages, in Chinese and English, every asset served by the app."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from dashboard.ui import boards, care_plan, elder_forms, imports, insights, records, roster, session, visit_queue
from dashboard.ui.rendering import render

router = APIRouter(include_in_schema=False)
for module in (session, boards, elder_forms, care_plan, records, insights, roster, imports, visit_queue):
    router.include_router(module.router)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", None, status_code=status, status=status, message=message)


__all__ = ["error_page", "router"]
