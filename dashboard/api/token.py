"""``POST /api/v1/token``: a bearer token for scripts and integrations (OAuth2 password form)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from pydantic import BaseModel

from dashboard import i18n
from dashboard.auth import Reader, TokenSigner, client_address
from dashboard.logins import LoginPolicy, LoginRefused, sign_in
from dashboard.runtime import Pool, RuntimeDep
from dashboard.scope import city_wide, public
from eldercare.labels import words_of

router = APIRouter(tags=["auth"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    role: str


class Me(BaseModel):
    username: str
    display_name: str
    role: str
    permissions: list[str]


@router.post(
    "/token",
    response_model=Token,
    responses={401: {"description": "wrong credentials"}, 429: {"description": "too many failed attempts"}},
)
@public
def issue_token(
    request: Request,
    pool: Pool,
    runtime: RuntimeDep,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    password: Annotated[str, Form(min_length=1, max_length=256)],
) -> Token:
    """Exchange a username and password for a bearer token (send it as ``Authorization: Bearer ...``)."""
    refused: LoginRefused | None = None
    client_ip = client_address(request)
    with pool.connection() as conn:
        try:
            operator = sign_in(
                conn, LoginPolicy.from_settings(runtime.dashboard), runtime.clock.now(), username, password, client_ip
            )
        except LoginRefused as err:
            refused = err  # the attempt is committed before the refusal is sent
    if refused is not None:
        said = words_of(refused, i18n.for_request(request))
        if refused.retry_after:
            raise HTTPException(429, said, headers={"Retry-After": str(refused.retry_after)})
        raise HTTPException(401, said, headers={"WWW-Authenticate": "Bearer"})
    signer: TokenSigner = request.app.state.tokens
    return Token(access_token=signer.issue(operator.username), expires_in=signer.max_age_seconds, role=operator.role)


@router.get("/me", response_model=Me)
@city_wide("who is asking: no record of any area")
def me(principal: Reader) -> Me:
    """Who the token or session belongs to, and what the role may do."""
    from dashboard.auth import ROLE_PERMISSIONS

    return Me(
        username=principal.username,
        display_name=principal.display_name,
        role=principal.role,
        permissions=sorted(ROLE_PERMISSIONS[principal.role]),
    )
