"""The dispatcher wired to real things for a test: PostgreSQL, twilio-python over HTTP to the stand-in, and
the webhook router served over HTTP, with the dispatcher's steps driven by hand under a manual clock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from fastapi import FastAPI

import dispatcher
from dispatcher.sending import send_due
from dispatcher.settings import Config, DispatcherSettings
from dispatcher.sms import TwilioSender
from dispatcher.sweep import sweep
from dispatcher.web_resources import WebResources
from eldercare.clock import ManualClock
from eldercare.config import Settings
from eldercare.db import open_pool
from simulators.http_server import ThreadedServer
from simulators.twilio_standin import TwilioStandin
from tests.waiting import eventually

SID = "AC" + "7" * 32
TOKEN = "harness-auth-token"


@dataclass
class Harness:
    database_url: str
    clock: ManualClock
    config: Config
    standin: TwilioStandin
    web: ThreadedServer
    resources: WebResources

    @classmethod
    def start(cls, database_url: str, clock: ManualClock, **dispatch: Any) -> Harness:
        app = FastAPI()
        app.include_router(dispatcher.router)
        web = ThreadedServer(app)
        standin = TwilioStandin(SID, TOKEN, webhook_url=f"{web.url}/sms/inbound", callback_delay=0.01).serve()
        platform = Settings(
            public_url=web.url,
            twilio_account_sid=SID,
            twilio_auth_token=TOKEN,
            twilio_api_base=standin.url,
            secret_key="harness-secret",
            _env_file=None,
        )
        config = Config(platform, DispatcherSettings(_env_file=None, **dispatch))
        pool = open_pool(database_url, name="harness", max_size=6)
        resources = WebResources(pool, clock, config)
        app.state.dispatcher = resources
        web.start()
        return cls(database_url, clock, config, standin, web, resources)

    def stop(self) -> None:
        self.web.stop()
        self.standin.stop()
        self.resources.close()

    @property
    def sender(self) -> TwilioSender:
        return TwilioSender(self.config.platform, timeout=5)

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.database_url)

    def drive(self, rounds: int = 10) -> None:
        """Sweep and send until nothing is left to do (status callbacks may add work meanwhile)."""
        sender = self.sender
        for _ in range(rounds):
            with self.resources.connection() as conn:
                report = sweep(conn, self.clock, self.config)
            sent = send_due(self.resources.pool.connection, self.clock, self.config, sender)
            if report.total == 0 and sent == 0:
                return

    def one(self, query: str, *params: Any) -> Any:
        with self.connect() as conn:
            row = conn.execute(query.encode(), params).fetchone()
        return row if row is None or len(row) > 1 else row[0]

    def all(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        with self.connect() as conn:
            return conn.execute(query.encode(), params).fetchall()

    def wait_until(self, query: str, *params: Any, expect: Any, timeout: float = 5.0) -> None:
        """Poll ``query`` until it returns ``expect`` (for work done by callbacks arriving over HTTP)."""
        eventually(lambda: self.one(query, *params) == expect, lambda: f"{query} to give {expect!r}", timeout)

    def phone(self, caregiver_id: int) -> str:
        return str(self.one("SELECT phone FROM caregiver WHERE id = %s", caregiver_id))

    def offers(self, order_id: int) -> list[tuple[int, str]]:
        return [
            (r[0], r[1])
            for r in self.all("SELECT caregiver_id, status FROM offer WHERE order_id = %s ORDER BY id", order_id)
        ]
