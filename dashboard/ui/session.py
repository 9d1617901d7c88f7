"""Signing in and out of the UI, and switching its language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dashboard import i18n
from dashboard.auth import Reader, check_csrf, client_address
from dashboard.logins import WRONG, LoginPolicy, LoginRefused, sign_in
from dashboard.runtime import Pool, RuntimeDep
from dashboard.scope import city_wide, public
from dashboard.ui.rendering import render
from eldercare.labels import words_of

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only a path on this site, so the login form cannot send anyone elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/alarms"


@router.get("/login", response_class=HTMLResponse)
@public
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    return render(request, "login.html", None, next=_safe_next(next), error=None)


@router.post("/login", response_class=HTMLResponse)
@public
async def login(
    request: Request,
    pool: Pool,
    runtime: RuntimeDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    next: Annotated[str, Form(max_length=500)] = "/alarms",
) -> Response:
    await check_csrf(request)  # login CSRF: the form must come from our login page
    client_ip = client_address(request)
    policy = LoginPolicy.from_settings(runtime.dashboard)

    def attempt() -> tuple[str | None, LoginRefused | None]:
        with pool.connection() as conn:
            try:
                operator = sign_in(conn, policy, runtime.clock.now(), username, password, client_ip)
            except LoginRefused as err:
                return None, err
            return operator.username, None

    from starlette.concurrency import run_in_threadpool

    signed_in, refused = await run_in_threadpool(attempt)
    if refused is not None or signed_in is None:
        words = i18n.for_request(request)
        message = words_of(refused, words) if refused is not None else words.gettext(WRONG)
        status = 429 if refused is not None and refused.retry_after else 401
        return render(request, "login.html", None, status_code=status, next=_safe_next(next), error=message)
    request.session.clear()  # a fresh session (and CSRF token) on every sign-in
    request.session["user"] = signed_in
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
@city_wide("signing out touches no record")
def logout(request: Request, principal: Reader) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/lang/{language}")
@public
def switch_language(request: Request, language: str, next: str | None = None) -> Response:
    response = RedirectResponse(_safe_next(next), status_code=303)
    if language in i18n.LANGUAGES:
        response.set_cookie(
            i18n.COOKIE, language, max_age=365 * 24 * 3600, samesite="lax", secure=request.app.state.secure
        )
    return response


@router.get("/")
@public
def home() -> Response:
    return RedirectResponse("/alarms", status_code=303)
