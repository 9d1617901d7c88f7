"""Signing in: password check through ``eldercare.users``, with failed attempts limited per account and address
pair (so a stranger's guesses do not lock the account's owner out) and per address.

Attempts are rows in ``login_attempt``, so every dashboard process behind a load balancer counts the same. A lock
is written to the audit log (``auth.locked``), which the dashboard shows its administrators.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from dashboard.settings import DashboardSettings
from eldercare import audit, users
from eldercare.i18n import N_
from eldercare.labels import Message

log = logging.getLogger(__name__)


# the sign-in page's sentences, and the token API's (its detail in the reader's language)
WRONG = N_("Wrong username or password")
TOO_MANY = N_("Too many failed sign-ins; try again in %(seconds)d seconds.")


class LoginRefused(Exception):
    """Wrong credentials, or too many failures; ``retry_after`` (seconds) is set for the latter."""

    def __init__(self, said: Message, retry_after: int | None = None) -> None:
        super().__init__(said)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    window: timedelta
    per_user: int
    per_ip: int

    @classmethod
    def from_settings(cls, settings: DashboardSettings) -> LoginPolicy:
        return cls(
            timedelta(minutes=settings.login_window_minutes),
            settings.login_failures_per_user,
            settings.login_failures_per_ip,
        )


LOCKED = "auth.locked"

# the failures that count against a limit: of one account from one address, or of one address
_PAIR = "username = %s AND client_ip IS NOT DISTINCT FROM %s::inet"
_ADDRESS = "client_ip = %s::inet"


@dataclass(frozen=True, slots=True)
class Lockout:
    """A sign-in lock, as the audit log keeps it for administrators."""

    at: datetime
    username: str | None
    client_ip: str | None
    until: datetime


def _wait_seconds(
    conn: psycopg.Connection, policy: LoginPolicy, now: datetime, where: str, values: tuple[object, ...], limit: int
) -> int | None:
    row = conn.execute(
        f"SELECT count(*), min(at) FROM (SELECT at FROM login_attempt WHERE {where} AND NOT succeeded "  # noqa: S608 - `where` is one of two constants above
        "AND at > %s ORDER BY at DESC LIMIT %s) recent",
        (*values, now - policy.window, limit),
    ).fetchone()
    if row is None or row[0] < limit:
        return None
    return max(1, int((row[1] + policy.window - now).total_seconds()) + 1)


def _report_new_lock(
    conn: psycopg.Connection, policy: LoginPolicy, now: datetime, username: str, client_ip: str | None
) -> None:
    """After a failure: if it is the one that locks the pair or the address, tell the administrators."""
    locks: list[tuple[str, str, tuple[object, ...], int, str | None]] = [
        ("account", _PAIR, (username, client_ip), policy.per_user, username)
    ]
    if client_ip:
        locks.append(("address", _ADDRESS, (client_ip,), policy.per_ip, None))
    for scope, where, values, limit, name in locks:
        row = conn.execute(
            f"SELECT count(*) FROM login_attempt WHERE {where} AND NOT succeeded AND at > %s",  # noqa: S608 - a constant
            (*values, now - policy.window),
        ).fetchone()
        if row is not None and row[0] == limit:
            until = now + policy.window
            log.warning(
                "sign-in locked until %s: %s from %s, %d failures", until, name or "any account", client_ip, limit
            )
            audit.record(
                conn,
                "system",
                LOCKED,
                "operator",
                None,
                {"scope": scope, "username": name, "failures": limit, "until": until.isoformat()},
                client_ip,
            )


def recent_lockouts(conn: psycopg.Connection, since: datetime, limit: int = 5) -> list[Lockout]:
    """The latest sign-in locks since ``since``, newest first."""
    rows = conn.execute(
        "SELECT at, details->>'username', host(client_ip), (details->>'until')::timestamptz FROM audit_log "
        "WHERE action = %s AND at > %s ORDER BY at DESC LIMIT %s",
        (LOCKED, since, limit),
    ).fetchall()
    return [Lockout(*row) for row in rows]


def sign_in(
    conn: psycopg.Connection,
    policy: LoginPolicy,
    now: datetime,
    username: str,
    password: str,
    client_ip: str | None,
) -> users.Operator:
    """The operator for these credentials; every attempt is recorded, in the caller's transaction."""
    # a name no account can have is recorded in a form the database stores (no NUL), then refused
    username = username.strip().replace("\x00", "?")
    waits = [
        _wait_seconds(conn, policy, now, _PAIR, (username, client_ip), policy.per_user),
        _wait_seconds(conn, policy, now, _ADDRESS, (client_ip,), policy.per_ip) if client_ip else None,
    ]
    wait = max((w for w in waits if w is not None), default=None)
    if wait is not None:
        log.warning("login for %r from %s refused: too many failures", username[:64], client_ip)
        raise LoginRefused(Message.of(TOO_MANY, seconds=wait), retry_after=wait)
    plausible = bool(users.USERNAME.match(username)) and bool(password) and "\x00" not in password
    operator = users.authenticate(conn, username, password) if plausible else None
    conn.execute(
        "INSERT INTO login_attempt (at, username, client_ip, succeeded) VALUES (%s, %s, %s, %s)",
        (now, username[:64], client_ip, operator is not None),
    )
    if operator is None:
        conn.execute("DELETE FROM login_attempt WHERE at < %s", (now - max(policy.window, timedelta(days=1)),))
        audit.record(conn, username[:64] or "?", "auth.login_failed", "operator", None, {}, client_ip)
        _report_new_lock(conn, policy, now, username[:64], client_ip)
        raise LoginRefused(Message.of(WRONG))
    audit.record(conn, operator.username, "auth.login", "operator", operator.id, {}, client_ip)
    return operator
