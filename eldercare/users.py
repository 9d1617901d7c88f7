"""Operator accounts: the people who sign in to the dashboard, and their roles."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import psycopg
from psycopg.rows import class_row

from eldercare.passwords import hash_password, password_needs_rehash, verify_password

USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
MIN_PASSWORD_LENGTH = 8


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    VIEWER = "viewer"


class UserError(Exception):
    """An account cannot be created or changed as asked."""


@dataclass(frozen=True, slots=True)
class Operator:
    id: int
    username: str
    display_name: str
    role: str
    language: str
    active: bool
    last_login_at: datetime | None
    township_id: int | None = None  # set: limited to this township (see dashboard/scope.py)
    community_id: int | None = None  # set: limited to this community


def validate(username: str, password: str) -> None:
    if not USERNAME.match(username):
        raise UserError(f"username {username!r} must be 2-64 letters, digits or . _ @ -")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


def add_user(
    conn: psycopg.Connection,
    username: str,
    password: str,
    role: Role,
    display_name: str = "",
    language: str = "zh",
) -> Operator:
    """Create an account; an existing username is an error, not an overwrite."""
    validate(username, password)
    with conn.cursor(row_factory=class_row(Operator)) as cur:
        row = cur.execute(
            """
            INSERT INTO operator (username, display_name, password_hash, role, language)
            VALUES (%s, %s, %s, %s, %s)
            ON CONFLICT (username) DO NOTHING
            RETURNING id, username, display_name, role, language, active, last_login_at, township_id, community_id
            """,
            (username, display_name or username, hash_password(password), role.value, language),
        ).fetchone()
    if row is None:
        raise UserError(f"an account named {username!r} exists already")
    return row


def set_password(conn: psycopg.Connection, username: str, password: str) -> None:
    validate(username, password)
    updated = conn.execute(
        "UPDATE operator SET password_hash = %s WHERE username = %s", (hash_password(password), username)
    ).rowcount
    if not updated:
        raise UserError(f"no account named {username!r}")


def authenticate(conn: psycopg.Connection, username: str, password: str) -> Operator | None:
    """The active operator with these credentials, or None; records the login and upgrades old hashes."""
    row = conn.execute("SELECT id, password_hash FROM operator WHERE username = %s AND active", (username,)).fetchone()
    if row is None:
        verify_password(_DUMMY_HASH, password)  # same work either way, so timing does not reveal usernames
        return None
    operator_id, password_hash = row
    if not verify_password(password_hash, password):
        return None
    new_hash = hash_password(password) if password_needs_rehash(password_hash) else password_hash
    with conn.cursor(row_factory=class_row(Operator)) as cur:
        return cur.execute(
            """
            UPDATE operator SET last_login_at = now(), password_hash = %s WHERE id = %s
            RETURNING id, username, display_name, role, language, active, last_login_at, township_id, community_id
            """,
            (new_hash, operator_id),
        ).fetchone()


def get_user(conn: psycopg.Connection, username: str) -> Operator | None:
    with conn.cursor(row_factory=class_row(Operator)) as cur:
        return cur.execute(
            "SELECT id, username, display_name, role, language, active, last_login_at, township_id, community_id "
            "FROM operator "
            "WHERE username = %s",
            (username,),
        ).fetchone()


def set_area(conn: psycopg.Connection, username: str, township: str | None, community: str | None) -> Operator:
    """Limit an account to a township or a community, given by code (both None: the whole city)."""
    if township is not None and community is not None:
        raise UserError("give a township or a community, not both: a community lies in its township already")
    if (township is not None and not township.strip()) or (community is not None and not community.strip()):
        # an empty code read as none would open the whole city to an account meant to be limited
        raise UserError("the code is empty; give a township's or a community's code, or neither for the whole city")
    township_id = community_id = None
    if township:
        row = conn.execute("SELECT id FROM township WHERE code = %s", (township,)).fetchone()
        if row is None:
            raise UserError(f"no township with code {township!r}")
        township_id = row[0]
    if community:
        row = conn.execute("SELECT id FROM community WHERE code = %s", (community,)).fetchone()
        if row is None:
            raise UserError(f"no community with code {community!r}")
        community_id = row[0]
    with conn.cursor(row_factory=class_row(Operator)) as cur:
        operator = cur.execute(
            "UPDATE operator SET township_id = %s, community_id = %s WHERE username = %s "
            "RETURNING id, username, display_name, role, language, active, last_login_at, township_id, community_id",
            (township_id, community_id, username),
        ).fetchone()
    if operator is None:
        raise UserError(f"no account named {username!r}")
    return operator


_DUMMY_HASH = hash_password("not-a-real-password")
