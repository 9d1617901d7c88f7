"""The one LISTEN loop of the platform: notifications arrive, and it listens again after PostgreSQL restarts."""

from __future__ import annotations

import threading

import psycopg

from eldercare.listening import Backoff, Listener
from tests.services import TestPostgres
from tests.waiting import eventually


def test_backoff_doubles_up_to_its_longest_and_starts_again_after_a_success() -> None:
    backoff = Backoff(0.5, 3.0)
    assert [backoff.next() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    backoff.reset()
    assert backoff.next() == 0.5


def test_notifications_arrive_and_the_listener_listens_again_after_a_postgres_restart(
    private_postgres: TestPostgres,
) -> None:
    got: list[tuple[str, str]] = []
    lock = threading.Lock()
    counts = {"listening": 0, "lost": 0}

    def notified(channel: str, payload: str) -> None:
        with lock:
            got.append((channel, payload))

    def count(what: str) -> None:
        counts[what] += 1

    listener = Listener(
        private_postgres.url,
        ["eldercare_test", "eldercare_other"],
        notified,
        name="test",
        on_listening=lambda: count("listening"),
        on_lost=lambda: count("lost"),
        backoff=Backoff(0.1, 0.5),
        poll=0.2,
    )

    def notify(payload: str) -> None:
        with psycopg.connect(private_postgres.url, autocommit=True) as conn:
            conn.execute("SELECT pg_notify('eldercare_test', %s)", (payload,))

    listener.start()
    try:
        eventually(listener.listening.is_set, "the listener to listen")
        notify("before")
        eventually(lambda: ("eldercare_test", "before") in got, "the first notification")
        private_postgres.restart()
        # it notices the loss on its next read, and listens again once the server is back
        eventually(lambda: counts["lost"] >= 1 and listener.listening.is_set(), "the listener to listen again", 30)
        notify("after")
        eventually(lambda: ("eldercare_test", "after") in got, "a notification after the restart")
        assert counts["listening"] == 2
    finally:
        listener.stop()
    assert not listener.listening.is_set()
