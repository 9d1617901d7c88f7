"""The embedded broker's check of device logins against the device register, in process.

amqtt asks every authentication plugin at each CONNECT. This one answers for user names that are registered
devices: let in only while the device may connect (bound, active, credential not revoked) and the password is
its secret; a revoked or unbound device is refused at its next login, with no restart. Other user names get no
answer from it (the development broker admits them, as before). It reads the register afresh at every login,
so it learns every change the moment it is committed.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

import psycopg
from amqtt.contexts import BaseContext
from amqtt.plugins.base import BaseAuthPlugin
from amqtt.session import Session

from eldercare.passwords import verify_device_secret

_LOGIN = """
    SELECT d.secret_hash, d.active AND coalesce(e.active, false) AND d.credential_revoked_at IS NULL
    FROM device d LEFT JOIN elder e ON e.id = d.elder_id
    WHERE d.id = %s
"""


class DeviceRegisterAuth(BaseAuthPlugin):
    @dataclass
    class Config:
        database_url: str

    def __init__(self, context: BaseContext) -> None:
        super().__init__(context)
        self._url: str = self._get_config_option("database_url")
        self._conn: psycopg.Connection | None = None
        self._lock = threading.Lock()

    def _login(self, username: str) -> tuple[str, bool] | None:
        with self._lock:
            for attempt in (1, 2):  # a connection the server dropped is replaced once
                try:
                    if self._conn is None or self._conn.closed:
                        self._conn = psycopg.connect(self._url, autocommit=True, application_name="eldercare-broker")
                    row = self._conn.execute(_LOGIN, (username,)).fetchone()
                    return None if row is None else (str(row[0]), bool(row[1]))
                except psycopg.OperationalError:
                    if self._conn is not None:
                        self._conn.close()
                    self._conn = None
                    if attempt == 2:
                        raise
        return None

    async def authenticate(self, *, session: Session) -> bool | None:
        if not session.username:
            return None
        try:
            found = await asyncio.to_thread(self._login, session.username)
        except psycopg.Error as err:
            self.context.logger.warning(
                "device login %r refused: the register is out of reach (%s)", session.username, err
            )
            return False
        if found is None:
            return None  # not a device
        secret_hash, may_connect = found
        allowed = may_connect and verify_device_secret(secret_hash, session.password or "")
        if not allowed:
            self.context.logger.info("device login %r refused: unbound, revoked or a wrong secret", session.username)
        return allowed

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
