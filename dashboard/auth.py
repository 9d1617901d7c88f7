"""Who is asking and what their role lets them do: session cookies with CSRF tokens, and bearer tokens."""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from psycopg_pool import ConnectionPool
from starlette.concurrency import run_in_threadpool

from dashboard import scope
from eldercare import users
from eldercare.i18n import N_
from eldercare.labels import Coded, Message
from eldercare.users import Role

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


class Permission(StrEnum):
    """What a request needs; each role holds a fixed set (see ROLE_PERMISSIONS and docs/dashboard.md)."""

    READ = "read"  # every page and GET in the API (viewers see phones and addresses masked)
    ACT = "act"  # acknowledge and resolve alarms; create, cancel, reassign and review orders; recurring services
    ADMINISTER = "administer"  # providers and caregivers (incl. red/black list), the audit log


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.READ}),
    Role.OPERATOR: frozenset({Permission.READ, Permission.ACT}),
    Role.ADMIN: frozenset({Permission.READ, Permission.ACT, Permission.ADMINISTER}),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """The signed-in operator behind a request."""

    username: str
    display_name: str
    role: Role
    via: str  # "session" or "token"
    area: scope.Area | None = None  # limited to a township or community; None: the whole city

    def may(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    @property
    def masked(self) -> bool:
        """Viewers see phone numbers and addresses masked."""
        return self.role is Role.VIEWER


class LoginRequired(Exception):
    """No valid session or token: pages redirect to the login page, the API answers 401."""


class Forbidden(Exception):
    """Signed in, but the role does not allow this, or the CSRF token is missing or wrong (403)."""


class TokenSigner:
    """Bearer tokens: the username, signed with ELDERCARE_SECRET_KEY, valid for a limited time."""

    def __init__(self, secret_key: str, max_age_seconds: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="eldercare-api-token")
        self.max_age_seconds = max_age_seconds

    def issue(self, username: str) -> str:
        return str(self._serializer.dumps({"u": username}))

    def username(self, token: str) -> str | None:
        try:
            data = self._serializer.loads(token, max_age=self.max_age_seconds)
        except (SignatureExpired, BadSignature):
            return None
        name = data.get("u") if isinstance(data, dict) else None
        return name if isinstance(name, str) else None


def client_address(request: Request) -> str | None:
    """The client's IP address as text, or None when the transport gives none that parses."""
    host = request.client.host if request.client else None
    try:
        return str(ipaddress.ip_address(host)) if host else None
    except ValueError:
        return None


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use; forms carry it in a field, scripts in a header."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return token


async def check_csrf(request: Request) -> None:
    """Refuse an unsafe cookie-authenticated request that does not carry the session's CSRF token."""
    expected = request.session.get("csrf")
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not (isinstance(expected, str) and given and hmac.compare_digest(expected, given)):
        raise Forbidden(
            Message.of(N_("the form is out of date or did not come from this dashboard (CSRF check): reload the page"))
        )


def _lookup(pool: ConnectionPool, username: str) -> users.Operator | None:
    with pool.connection() as conn:
        return users.get_user(conn, username)


async def _principal(request: Request) -> Principal:
    known = getattr(request.state, "principal", None)
    if isinstance(known, Principal):
        return known
    principal = await _authenticate(request)
    request.state.principal = principal
    return principal


async def _authenticate(request: Request) -> Principal:
    signer: TokenSigner = request.app.state.tokens
    authorization = request.headers.get("authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials:
        username, via = signer.username(credentials.strip()), "token"
    else:
        session_user = request.session.get("user")
        username, via = (session_user if isinstance(session_user, str) else None), "session"
    if username is None:
        raise LoginRequired()
    # looked up on every request so a deactivated account or a changed role takes effect at once
    operator = await run_in_threadpool(_lookup, request.app.state.pool, username)
    if operator is None or not operator.active:
        request.session.pop("user", None)
        raise LoginRequired()
    if via == "session" and request.method in UNSAFE_METHODS:
        await check_csrf(request)
    area = scope.area_of(operator.township_id, operator.community_id)
    return Principal(operator.username, operator.display_name, Role(operator.role), via, area)


async def within_area(request: Request) -> None:
    """Every route's guard for accounts limited to an area (see dashboard.scope for the rule)."""
    kind = scope.kind_of(request.scope.get("endpoint"))
    if kind == scope.PUBLIC:
        return
    principal = await _principal(request)
    if principal.area is not None:
        await scope.check(request, principal.area, kind)


def require(permission: Permission) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency giving the request's principal, refusing those whose role lacks ``permission``."""

    async def dependency(request: Request) -> Principal:
        principal = await _principal(request)
        if not principal.may(permission):
            raise Forbidden(
                Message.of(
                    N_("the %(role)s role may not do this; it needs the %(permission)s permission"),
                    role=Coded("role", principal.role),
                    permission=Coded("permission", permission),
                )
            )
        return principal

    return dependency


Reader = Annotated[Principal, Depends(require(Permission.READ))]
Actor = Annotated[Principal, Depends(require(Permission.ACT))]
Administrator = Annotated[Principal, Depends(require(Permission.ADMINISTER))]
