"""Simulated caregivers: they read their SMS at the Twilio stand-in and answer offers like people do.

Each offer is accepted with probability ``accept``, declined with ``decline``, and otherwise left to expire,
after a reply delay. A caregiver who got the order travels (the distance in the SMS times a detour, at
``speed_kmh``), replies ARRIVED, works ``service_minutes`` and replies DONE. ``speed_factor`` runs all of
it faster than life. Replies go through the stand-in, which signs them as Twilio would.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import random
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

log = logging.getLogger(__name__)

OFFER = re.compile(r"\bY ([2-9A-HJ-NP-Z]{6}(?:[2-9A-HJ-NP-Z]{2})?)\b")
DISTANCE = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*(?:公里|km)")
WITHDRAWN = re.compile(r"(?:工单|Order )([2-9A-HJ-NP-Z]{6,8})(?:已取消或改派| was cancelled)")
# another caregiver of a raced emergency said yes first
TAKEN = re.compile(r"(?:工单|Order )([2-9A-HJ-NP-Z]{6,8})(?:已由其他护理员接单| was taken by another caregiver)")
DETOUR = 1.3


@dataclass(frozen=True, slots=True)
class Behaviour:
    accept: float = 0.8
    decline: float = 0.1
    delay_s: tuple[float, float] = (5.0, 40.0)
    speed_kmh: float = 15.0
    service_minutes: float = 20.0
    speed_factor: float = 1.0


@dataclass(order=True)
class _Due:
    at: float
    seq: int
    phone: str = field(compare=False)
    body: str = field(compare=False)
    code: str = field(compare=False)
    then: str | None = field(compare=False, default=None)  # what follows if this reply is taken well
    km: float = field(compare=False, default=0.0)


class SimulatedCaregivers:
    """Caregivers known by phone number, answering what the stand-in shows them."""

    def __init__(self, standin_url: str, phones: Iterable[str], behaviour: Behaviour, seed: int = 1) -> None:
        self.standin_url = standin_url.rstrip("/")
        self.phones = set(phones)
        self.behaviour = behaviour
        self.rng = random.Random(seed)
        self.after = 0
        self.queue: list[_Due] = []
        self._seq = itertools.count()
        self.withdrawn: set[tuple[str, str]] = set()  # (phone, order code) no longer theirs
        self.replies: list[tuple[str, str, str]] = []  # (phone, body, answer) for reports and tests
        self.ignored: list[tuple[str, str]] = []  # (phone, order code) of offers left unanswered on purpose
        self.client = httpx.Client(timeout=15)
        self._silences: dict[str, int] = {}  # text in an offer -> how many more such offers go unanswered
        self._lock = threading.Lock()

    def ignore_offers(self, text: str, count: int = 1) -> None:
        """Leave the next ``count`` offers whose text contains ``text`` (e.g. an elder's address) unanswered."""
        with self._lock:
            self._silences[text] = self._silences.get(text, 0) + count

    def _silenced(self, body: str) -> bool:
        with self._lock:
            for text, left in self._silences.items():
                if left > 0 and text in body:
                    self._silences[text] = left - 1
                    return True
        return False

    def _later(self, seconds: float) -> float:
        return time.monotonic() + seconds / self.behaviour.speed_factor

    def read(self, wait: float) -> int:
        """Fetch new messages (long polling up to ``wait`` s) and decide what to do about each."""
        response = self.client.get(
            f"{self.standin_url}/standin/messages", params={"after": self.after, "wait": max(0.0, wait)}
        )
        response.raise_for_status()
        messages: list[dict[str, Any]] = response.json()["messages"]
        for message in messages:
            self.after = max(self.after, int(message["id"]))
            if message["to"] in self.phones and message["direction"] == "outbound-api":
                self._consider(message["to"], message["body"])
        return len(messages)

    def _consider(self, phone: str, body: str) -> None:
        withdrawn = WITHDRAWN.search(body) or TAKEN.search(body)
        if withdrawn:
            self.withdrawn.add((phone, withdrawn.group(1)))
            return
        offer = OFFER.search(body)
        if offer is None:
            return
        code = offer.group(1)
        if self._silenced(body):
            self.ignored.append((phone, code))
            log.info("%s does not answer the offer of %s", phone[-4:], code)
            return
        distance = DISTANCE.search(body)
        km = float(distance.group(1)) if distance else 1.0
        roll = self.rng.random()
        low, high = self.behaviour.delay_s
        delay = self.rng.uniform(low, high)
        if roll < self.behaviour.accept:
            self._push(delay, phone, f"Y {code}", code, then="travel", km=km)
        elif roll < self.behaviour.accept + self.behaviour.decline:
            self._push(delay, phone, f"N {code}", code)
        else:
            log.debug("%s lets the offer of %s expire", phone[-4:], code)

    def _push(self, seconds: float, phone: str, body: str, code: str, then: str | None = None, km: float = 0) -> None:
        heapq.heappush(self.queue, _Due(self._later(seconds), next(self._seq), phone, body, code, then, km))

    def act(self) -> int:
        """Send every reply that is due; returns how many."""
        done = 0
        while self.queue and self.queue[0].at <= time.monotonic():
            due = heapq.heappop(self.queue)
            if (due.phone, due.code) in self.withdrawn:
                continue
            response = self.client.post(
                f"{self.standin_url}/standin/replies", json={"from": due.phone, "body": due.body}
            )
            answer = response.json().get("twiml", "") if response.status_code == 200 else ""
            self.replies.append((due.phone, due.body, answer))
            done += 1
            if _refused_for_time(answer):
                # a refusal for the time of a booked visit: a caregiver who really is there sends it again
                self._push(1, due.phone, due.body, due.code, then=due.then, km=due.km)
                continue
            if due.then == "travel" and "ARRIVED" in answer:
                minutes = due.km * DETOUR / self.behaviour.speed_kmh * 60
                self._push(minutes * 60, due.phone, f"ARRIVED {due.code}", due.code, then="work")
            elif due.then == "work" and "DONE" in answer:
                self._push(self.behaviour.service_minutes * 60, due.phone, f"DONE {due.code}", due.code)
        return done

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            wait = min(1.0, max(0.0, self.queue[0].at - time.monotonic())) if self.queue else 1.0
            try:
                self.read(wait)
            except httpx.HTTPError as err:
                log.warning("cannot read the stand-in's messages: %s", err)
                stop.wait(1.0)
            self.act()

    def close(self) -> None:
        self.client.close()


def _refused_for_time(answer: str) -> bool:
    """The platform refused an arrival or completion as too early or too late, and says it may be sent again."""
    return "再回复一次" in answer or "send it again" in answer


def phones_from_manifest(path: Path) -> list[str]:
    manifest = json.loads(path.read_text(encoding="utf-8"))
    return [c["phone"] for c in manifest.get("caregivers", [])]


def command(
    manifest: Annotated[Path, typer.Option(help="the manifest written by `eldercare seed`")] = Path(
        "var/manifest.json"
    ),
    twilio: Annotated[str, typer.Option(help="the Twilio stand-in's URL")] = "http://127.0.0.1:8099",
    accept: Annotated[float, typer.Option(min=0, max=1, help="chance an offer is accepted")] = 0.8,
    decline: Annotated[float, typer.Option(min=0, max=1, help="chance it is declined (the rest expire)")] = 0.1,
    delay_min: Annotated[float, typer.Option(min=0, help="shortest reply delay, seconds")] = 5.0,
    delay_max: Annotated[float, typer.Option(min=0, help="longest reply delay, seconds")] = 40.0,
    speed_kmh: Annotated[float, typer.Option(min=1, help="travel speed")] = 15.0,
    service_minutes: Annotated[float, typer.Option(min=0, help="time spent at the elder's home")] = 20.0,
    speed_factor: Annotated[float, typer.Option(min=0.01, help="run this many times faster than life")] = 1.0,
    seed: Annotated[int, typer.Option(help="random seed of the caregivers' choices")] = 1,
) -> None:
    """Simulated caregivers: answer SMS offers seen at the Twilio stand-in, travel, reply ARRIVED and DONE."""
    if accept + decline > 1:
        typer.echo("eldercare: --accept plus --decline must be at most 1", err=True)
        raise typer.Exit(2)
    if delay_max < delay_min:
        typer.echo("eldercare: --delay-max must not be below --delay-min", err=True)
        raise typer.Exit(2)
    if not manifest.exists():
        typer.echo(f"eldercare: no manifest at {manifest}; run `eldercare seed --manifest {manifest}` first", err=True)
        raise typer.Exit(2)
    from eldercare import logs
    from eldercare.component import StopRequested

    try:
        phones = phones_from_manifest(manifest)
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        typer.echo(f"eldercare: {manifest} is not a manifest written by `eldercare seed`", err=True)
        raise typer.Exit(2) from None
    if not phones:
        typer.echo(
            f"eldercare: the manifest {manifest} holds no caregivers, so none can be simulated; "
            "give one written by `eldercare seed`",
            err=True,
        )
        raise typer.Exit(2)
    logs.setup("INFO")
    crowd = SimulatedCaregivers(
        twilio,
        phones,
        Behaviour(accept, decline, (delay_min, delay_max), speed_kmh, service_minutes, speed_factor),
        seed,
    )
    stop = StopRequested().install()
    typer.echo(f"{len(phones)} simulated caregivers reading {twilio}. Ctrl-C stops them.")
    try:
        crowd.run(stop.event)
    finally:
        crowd.close()
    typer.echo(f"{len(crowd.replies)} replies sent")
