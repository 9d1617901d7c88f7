"""From an SOS published over MQTT to the SMS offer arriving at the Twilio stand-in: p50 and p99.

The whole path runs for real: Mosquitto, the gateway (alarm, NOTIFY), the dispatcher (emergency order,
matching, offer, outbox), twilio-python over HTTP to the stand-in, which stamps each request as it arrives.
The platform (gateway, dispatcher, webhooks) shares one process, as ``eldercare run`` does; Twilio (the
stand-in) and the devices sending telemetry are processes of their own, as they are in life.
Each SOS comes from a different elder of a seeded city, a little apart. Measured twice in the same run: first
on a quiet platform (the baseline), then while the gateway ingests background telemetry from hundreds of
devices; the ratio shows what the load costs. Every caregiver is put on shift so that every SOS gets an offer
whatever the hour. ``--history-days 365``: the same after a year of the platform in use (a settled past of alarms
and orders, ``eldercare.seed.history``), which is what the matching reads through to find where caregivers are.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from fastapi import FastAPI

import dispatcher
from benchmarks._support import scratch_database
from eldercare import seed as seeding
from eldercare.commands import component_factory
from eldercare.component import Context
from eldercare.config import Settings
from eldercare.embedded import free_port
from eldercare.mqtt import BrokerAddress
from eldercare.seed.history import HistoryPlan, write_history
from simulators.http_server import ThreadedServer

SID, TOKEN = "AC" + "5" * 32, "bench-auth-token"


@contextmanager
def mosquitto() -> Iterator[str]:
    """A Mosquitto on a free port for the run (no persistence: not what is measured)."""
    binary = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
    if binary is None:
        raise SystemExit("this benchmark needs Mosquitto (apt-get install mosquitto)")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="eldercare-bench-mqtt-") as folder:
        config = Path(folder) / "mosquitto.conf"
        config.write_text(
            f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            "max_queued_messages 0\nmax_inflight_messages 0\n",
            encoding="utf-8",
        )
        process = subprocess.Popen([binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(0.3)
            yield f"mqtt://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(10)


class Telemetry:
    """Background readings from ``devices`` watches, ``rate`` messages a second in all, QoS 1."""

    def __init__(self, url: str, devices: list[str], rate: float) -> None:
        address = BrokerAddress.parse(url)
        self.client = address.client(f"bench-telemetry-{uuid.uuid4().hex[:6]}")
        self.client.max_inflight_messages_set(1000)
        self.client.connect(address.host, address.port)
        self.client.loop_start()
        self.devices, self.rate = devices, rate
        self.sent = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        seq = dict.fromkeys(self.devices, 1_000_000)
        started = time.monotonic()
        while not self.stop.is_set():
            device = self.devices[self.sent % len(self.devices)]
            seq[device] += 1
            payload = {
                "ts": int(time.time() * 1000),
                "seq": seq[device],
                "hr": 60 + self.sent % 30,
                "spo2": 97,
                "steps": self.sent % 5000,
                "battery": 80,
            }
            self.client.publish(f"eldercare/v1/devices/{device}/telemetry", json.dumps(payload), qos=1)
            self.sent += 1
            ahead = started + self.sent / self.rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)

    def run_for(self, seconds: float) -> int:
        self.thread.start()
        self.stop.wait(seconds)
        self.stop.set()
        self.thread.join(5)
        self.client.loop_stop()
        self.client.disconnect()
        return self.sent


@contextmanager
def telemetry_process(url: str, devices: list[str], rate: float) -> Iterator[None]:
    """Background telemetry from another process, until the block ends."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as listing:
        json.dump(devices, listing)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "benchmarks.bench_sos_to_sms",
            "--telemetry",
            url,
            "--rate",
            str(rate),
            "--devices",
            listing.name,
        ]
    )
    try:
        yield
    finally:
        process.terminate()
        process.wait(10)
        Path(listing.name).unlink()


@contextmanager
def standin_process(port: int, webhook: str) -> Iterator[str]:
    """``eldercare simulate twilio`` in a process of its own; yields its URL."""
    env = {
        **os.environ,
        "ELDERCARE_TWILIO_ACCOUNT_SID": SID,
        "ELDERCARE_TWILIO_AUTH_TOKEN": TOKEN,
        "ELDERCARE_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "eldercare",
            "simulate",
            "twilio",
            "--port",
            str(port),
            "--webhook",
            webhook,
            "--callback-delay",
            "0.5",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/standin/messages", params={"after": 10**9}, timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit("the Twilio stand-in did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def offers_at(standin_url: str) -> dict[str, float]:
    """Order code -> when the stand-in received its first offer SMS (time.time() there). An order unanswered for a
    minute is offered again, farther (the race's widening): those later offers are not its SOS's time to SMS."""
    messages = httpx.get(f"{standin_url}/standin/messages", timeout=30).json()["messages"]
    first: dict[str, float] = {}
    for m in messages:
        if m["direction"] == "outbound-api" and "Y " in m["body"]:
            code = m["body"].split("Y ", 1)[1][:6]
            first[code] = min(first.get(code, m["received_at"]), m["received_at"])
    return first


def sos_round(
    url: str, database_url: str, standin_url: str, senders: list[tuple[int, str]], spacing: float
) -> list[float]:
    """Publish one SOS per (elder, device) and return each one's milliseconds until its offer SMS arrived."""
    address = BrokerAddress.parse(url)
    client = address.client(f"bench-sos-{uuid.uuid4().hex[:6]}")
    client.connect(address.host, address.port)
    client.loop_start()
    published: dict[int, float] = {}
    started = datetime.now(UTC)  # the orders of this round, not of the past (``--history-days``)
    try:
        for n, (elder, device) in enumerate(senders):
            payload = json.dumps({"ts": int(time.time() * 1000), "seq": 2_000_000 + n, "type": "sos"})
            published[elder] = time.time()
            client.publish(f"eldercare/v1/devices/{device}/event", payload, qos=1)
            time.sleep(spacing)
        deadline = time.monotonic() + 60
        codes: dict[str, int] = {}
        while time.monotonic() < deadline:
            with psycopg.connect(database_url) as conn:
                codes = dict(
                    conn.execute(
                        "SELECT so.code, so.elder_id FROM service_order so JOIN alarm a ON a.id = so.alarm_id "
                        "WHERE a.elder_id = ANY(%s) AND so.created_at >= %s",
                        ([e for e, _ in senders], started),
                    ).fetchall()
                )
            offers = offers_at(standin_url)
            if len(codes) == len(senders) and all(code in offers for code in codes):
                break
            time.sleep(0.5)
    finally:
        client.loop_stop()
        client.disconnect()
    missing = [code for code in codes if code not in offers]
    if missing or len(codes) < len(senders):
        raise SystemExit(f"{len(senders) - len(codes)} SOS without an order, {len(missing)} orders without an SMS")
    return [(offers[code] - published[elder]) * 1000 for code, elder in codes.items()]


def _percentiles(values: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return statistics.median(values), cuts[98]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alarms", type=int, default=200, help="SOS per round (two rounds)")
    parser.add_argument("--elders", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=500.0, help="background telemetry, messages per second")
    parser.add_argument("--spacing", type=float, default=0.1, help="seconds between two SOS")
    parser.add_argument(
        "--history-days",
        type=int,
        default=0,
        help="a settled past of this many days of alarms and orders first (eldercare.seed.history), as a platform "
        "in use has",
    )
    parser.add_argument("--telemetry", help=argparse.SUPPRESS)  # internal: be the telemetry process
    parser.add_argument("--devices", help=argparse.SUPPRESS)
    args = parser.parse_args(argv or [])
    if args.telemetry:
        Telemetry(args.telemetry, json.loads(Path(args.devices).read_text()), args.rate).run_for(3600)
        return
    create_gateway = component_factory("gateway")
    city = seeding.generate(seeding.SeedPlan(elders=args.elders, seed=7))
    with scratch_database("bench_sos") as database_url, mosquitto() as mqtt_url:
        with psycopg.connect(database_url) as conn:
            seeding.write(conn, city)
            if args.history_days:
                end = datetime.now(UTC)
                past = write_history(conn, HistoryPlan(end=end, days=args.history_days, seed=1, settled=True))
                print(f"history: {args.history_days} days, {past.orders} orders, {past.alarms} alarms", flush=True)
                conn.execute("ANALYZE")
            conn.execute("DELETE FROM caregiver_shift")
            conn.execute(
                "INSERT INTO caregiver_shift (caregiver_id, weekday, starts, ends) "
                "SELECT c.id, d, '00:00', '23:59:59.999' FROM caregiver c, generate_series(1, 7) d"
            )
            devices = conn.execute(
                "SELECT DISTINCT ON (elder_id) elder_id, id FROM device "
                "WHERE type IN ('watch', 'pendant') ORDER BY elder_id, id"
            ).fetchall()
        if len(devices) < 2 * args.alarms + 100:
            raise SystemExit(f"--elders {args.elders} is too few for 2 x {args.alarms} SOS plus telemetry")
        app = FastAPI()
        app.include_router(dispatcher.router)
        web = ThreadedServer(app)
        with standin_process(free_port(), f"{web.url}/sms/inbound") as standin_url:
            platform = Settings(
                public_url=web.url,
                twilio_account_sid=SID,
                twilio_auth_token=TOKEN,
                twilio_api_base=standin_url,
                log_level="WARNING",
                _env_file=None,
            )
            context = Context(platform, database_url, mqtt_url)
            app.state.context = context
            app.state.dispatcher_config = dispatcher.Config.load(platform)
            web.start()
            components: list[Any] = [
                create_gateway(context, client_id=f"bench.gw-{uuid.uuid4().hex[:6]}"),
                dispatcher.create(context),
            ]
            for component in components:
                component.start()
            try:
                time.sleep(2.0)  # subscriptions made, pools warm
                quiet = sos_round(mqtt_url, database_url, standin_url, devices[: args.alarms], args.spacing)
                background = [d for _, d in devices[2 * args.alarms :]]
                with telemetry_process(mqtt_url, background, args.rate):
                    time.sleep(2.0)
                    with psycopg.connect(database_url) as conn:
                        before = conn.execute("SELECT count(*), clock_timestamp() FROM reading").fetchone()
                    loaded = sos_round(
                        mqtt_url, database_url, standin_url, devices[args.alarms : 2 * args.alarms], args.spacing
                    )
                    with psycopg.connect(database_url) as conn:
                        after = conn.execute("SELECT count(*), clock_timestamp() FROM reading").fetchone()
            finally:
                for component in reversed(components):
                    component.stop()
                web.stop()
    assert before is not None and after is not None
    ingest_rate = (after[0] - before[0]) / (after[1] - before[1]).total_seconds()
    q50, q99 = _percentiles(quiet)
    l50, l99 = _percentiles(loaded)
    print(f"SOS published over MQTT -> SMS offer received by the Twilio stand-in, {args.alarms} SOS per round")
    print(f"  quiet platform (baseline):          p50 {q50:6.1f} ms   p99 {q99:6.1f} ms   max {max(quiet):6.1f} ms")
    print(
        f"  while ingesting {ingest_rate:.0f} readings/s of telemetry:      "
        f"p50 {l50:6.1f} ms   p99 {l99:6.1f} ms   max {max(loaded):6.1f} ms"
    )
    print(f"  ratio loaded/quiet: p50 {l50 / q50:4.2f}x  p99 {l99 / q99:4.2f}x   goal: p99 under 250 ms with telemetry")


if __name__ == "__main__":
    main(sys.argv[1:])
