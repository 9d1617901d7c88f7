"""A simulated operator at the dashboard: signs in through the JSON API like any client and acknowledges each
open alarm a set time after it was raised, so that the demo's alarm-answering KPIs have something to show.

It works through ``/api/v1`` only (a bearer token from ``POST /api/v1/token``), as a person's tool would: the
acknowledgement is recorded and audited under its account like anyone's.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

import httpx

from eldercare.clock import SYSTEM_CLOCK, Clock

log = logging.getLogger(__name__)


class SimulatedOperator:
    """Acknowledges every open alarm ``answer_after`` clock seconds after it was raised; ``start()``/``stop()``."""

    name = "simulated operator"

    def __init__(
        self,
        dashboard_url: str,
        username: str,
        password: str,
        answer_after: float,
        clock: Clock = SYSTEM_CLOCK,
        *,
        poll_seconds: float = 1.0,
    ) -> None:
        self.dashboard_url = dashboard_url.rstrip("/")
        self.username = username
        self.password = password
        self.answer_after = timedelta(seconds=answer_after)
        self.clock = clock
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._http = httpx.Client(base_url=self.dashboard_url, timeout=10.0)

    def start(self) -> None:
        self._sign_in(deadline=time.monotonic() + 30.0)
        self._thread = threading.Thread(target=self._run, name="operator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._http.close()

    def _sign_in(self, deadline: float = 0.0) -> None:
        """A bearer token for the operator's account; waits for the dashboard to answer, up to ``deadline``."""
        while True:
            try:
                response = self._http.post("/api/v1/token", data={"username": self.username, "password": self.password})
                response.raise_for_status()
                self._http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
                return
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                if "Authorization" not in self._http.headers:
                    self._sign_in()  # the token had expired: one try per round
                self.answer_due()
            except httpx.HTTPStatusError as err:
                if err.response.status_code == 401:
                    self._http.headers.pop("Authorization", None)
                else:
                    log.warning("simulated operator: %s", err)
            except httpx.TransportError as err:
                log.warning("simulated operator: dashboard unreachable (%s)", err)

    def answer_due(self) -> None:
        """Acknowledge the open alarms raised at least ``answer_after`` ago."""
        response = self._http.get("/api/v1/alarms", params={"status": "open", "limit": 200})
        response.raise_for_status()
        now = self.clock.now()
        for alarm in response.json()["items"]:
            if datetime.fromisoformat(alarm["raised_at"]) + self.answer_after > now:
                continue
            answer = self._http.post(f"/api/v1/alarms/{alarm['id']}/acknowledge", json={"note": "simulated operator"})
            if answer.status_code == 409:  # someone at the dashboard was quicker
                continue
            answer.raise_for_status()
