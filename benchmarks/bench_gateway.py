"""Sustained ingest at QoS 1 through Mosquitto: readings stored per second by the gateway, against a bare
paho subscriber that only counts the same publishers' messages, in the same run; and resident memory
with 10,000 devices connected.

Mosquitto runs deploy/mosquitto/mosquitto.conf with a password file and ACL for the whole fleet; the
gateway and the baseline each run as their own process; the simulated fleet publishes from this one.
Two ways of measuring: "live" (the consumer runs while the fleet publishes as fast as the broker takes
it) and "backlog" (the fleet publishes while the consumer is away; the broker queues for its persistent
session; then the consumer drains it, which is its own ceiling).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
import psycopg

from benchmarks._support import scratch_database
from devices import ProvisionedDevice, load_devices
from devices.mosquitto import BrokerUser, write_config
from eldercare import seed as seeding
from eldercare.embedded import free_port
from eldercare.mqtt import BrokerAddress
from simulators.fleet import Fleet

DEPLOY_CONF = Path(__file__).parents[1] / "deploy" / "mosquitto" / "mosquitto.conf"
PLATFORM = BrokerUser("platform", "bench-platform-password")


@dataclass(frozen=True, slots=True)
class Broker:
    port: int
    process: subprocess.Popen[bytes]

    def url(self, user: BrokerUser | None = None) -> str:
        return (
            f"mqtt://{user.username}:{user.password}@127.0.0.1:{self.port}" if user else f"mqtt://127.0.0.1:{self.port}"
        )


@contextmanager
def mosquitto(folder: Path, devices: list[ProvisionedDevice]) -> Iterator[Broker]:
    """Mosquitto with the production configuration, its listener and folders moved into ``folder``."""
    write_config(folder, PLATFORM, (BrokerUser(d.id, d.secret) for d in devices))
    for name in ("passwd", "acl"):
        (folder / name).chmod(0o644)  # run as root, mosquitto reads them as its own user
    port = free_port()
    config = re.sub(r"(?m)^listener 1883$", f"listener {port} 127.0.0.1", DEPLOY_CONF.read_text(encoding="utf-8"))
    config = config.replace("/mosquitto/config/", f"{folder}/").replace("/mosquitto/data/", f"{folder}/")
    config += "\nuser root\n" if os.geteuid() == 0 else ""
    (folder / "mosquitto.conf").write_text(config, encoding="utf-8")
    binary = "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else "mosquitto"
    with (folder / "mosquitto.log").open("ab") as log:
        process = subprocess.Popen([binary, "-c", str(folder / "mosquitto.conf")], stdout=log, stderr=log)
    deadline = time.monotonic() + 10
    while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
        if time.monotonic() > deadline:
            raise RuntimeError(f"mosquitto did not start; see {folder / 'mosquitto.log'}")
        time.sleep(0.05)
    try:
        yield Broker(port, process)
    finally:
        process.terminate()
        process.wait(20)


class Gateway:
    """`python -m eldercare gateway` with its own persistent session."""

    def __init__(self, database_url: str, mqtt_url: str, folder: Path) -> None:
        self.env = {
            **os.environ,
            "ELDERCARE_DATABASE_URL": database_url,
            "ELDERCARE_MQTT_URL": mqtt_url,
            "ELDERCARE_DATA_DIR": str(folder),
            "ELDERCARE_GATEWAY_CLIENT_ID": "bench-gateway",
            "ELDERCARE_LOG_LEVEL": "WARNING",
        }
        self.log = folder / "gateway.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, settle: float = 3.0) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "eldercare", "gateway"], env=self.env, stdout=out, stderr=out
            )
        time.sleep(settle)  # start-up and subscription

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(30)


def _count(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM reading").fetchone()
        return int(row[0]) if row else 0


def _wait_stored(database_url: str, start: int, target: int, timeout: float = 300) -> tuple[float | None, float, int]:
    """Poll until ``target`` rows more than ``start`` are stored: (wall time of the first new row, of the last,
    rows stored)."""
    first = None
    deadline = time.monotonic() + timeout
    last_change, last_count = time.time(), start
    while time.monotonic() < deadline:
        count = _count(database_url)
        now = time.time()
        if count > start and first is None:
            first = now
        if count != last_count:
            last_change, last_count = now, count
        if count - start >= target or now - last_change > 15:
            break
        time.sleep(0.02)
    return first, last_change, last_count - start


def _bare(url: str, client_id: str, expected: int) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.bare_subscriber", url, client_id, str(expected)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    json.loads(process.stdout.readline())  # ready
    time.sleep(1.0)
    return process


def _bare_result(process: subprocess.Popen[str]) -> dict[str, float]:
    assert process.stdout is not None
    result = json.loads(process.stdout.readline())
    process.wait(30)
    return result  # type: ignore[no-any-return]


def _publish(fleet: Fleet, messages: int, samples: int) -> float:
    started = time.time()
    fleet.stream(0, messages=messages, samples=samples, max_outstanding=5000)
    fleet.wait()
    fleet.wait_acknowledged(120)
    return started


def run(args: argparse.Namespace) -> None:
    elders = max(args.devices, args.memory_devices) * 10 // 22 + 50
    with tempfile.TemporaryDirectory(prefix="eldercare-bench-gw-") as tmp, scratch_database("bench_gateway") as db:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        city = seeding.generate(seeding.SeedPlan(elders=elders, seed=5))
        with psycopg.connect(db) as conn:
            seeding.write(conn, city)
        seeding.write_manifest(folder / "manifest.json", city)
        devices = load_devices(folder / "manifest.json")
        print(f"seeded {elders} elders with {len(devices)} devices in {time.perf_counter() - t0:.0f} s", flush=True)
        with mosquitto(folder, devices) as broker:
            platform_url = broker.url(PLATFORM)
            fleet = Fleet(devices[: args.devices], BrokerAddress.parse(broker.url()))
            fleet.start(timeout=60)
            n, k = args.messages, args.samples
            rows: list[tuple[str, float, float, int, int]] = []

            # live: the consumer runs while the fleet publishes
            bare = _bare(platform_url, "bench-bare-live", n)
            started = _publish(fleet, n, 1)
            got = _bare_result(bare)
            rows.append(("live", n / (got["last"] - started), 0.0, got["count"], n))
            gateway = Gateway(db, platform_url, folder)
            gateway.start()
            before = _count(db)
            started = _publish(fleet, n, 1)
            _, last, stored = _wait_stored(db, before, n)
            rows[-1] = (*rows[-1][:2], n / (last - started), stored, n)
            gateway.stop()

            # backlog: the consumer's session exists, it is away while the fleet publishes, then drains
            for samples in (1, k):
                bare = _bare(platform_url, f"bench-bare-{samples}", -1)  # creates the session and leaves
                _bare_result(bare)
                _publish(fleet, n, samples)
                got = _bare_result(_bare(platform_url, f"bench-bare-{samples}", n))
                bare_rate = (got["count"] - 1) / (got["last"] - got["first"])
                _publish(fleet, n, samples)  # the gateway's session exists since the live run
                before = _count(db)
                gateway.start(settle=0)
                first, last, stored = _wait_stored(db, before, n * samples)
                gateway.stop()
                gateway_rate = stored / samples / (last - first) if first else 0.0
                rows.append((f"backlog, {samples} reading(s)/msg", bare_rate, gateway_rate, stored, n * samples))
            fleet.stop()

            print(f"\n{n} QoS 1 telemetry messages per run from {args.devices} devices; messages/s:")
            print(f"{'run':<28}{'bare subscriber':>16}{'gateway':>10}{'ratio':>8}{'readings/s':>12}  stored/expected")
            for name, bare_rate, gateway_rate, stored, expected in rows:
                per_msg = expected // n
                print(
                    f"{name:<28}{bare_rate:>16.0f}{gateway_rate:>10.0f}{gateway_rate / bare_rate:>8.2f}"
                    f"{gateway_rate * per_msg:>12.0f}  {stored}/{expected}{'' if stored == expected else '  LOSS'}"
                )
            if args.memory_devices:
                memory(db, broker, platform_url, devices[: args.memory_devices], folder)


def memory(db: str, broker: Broker, platform_url: str, devices: list[ProvisionedDevice], folder: Path) -> None:
    gateway = Gateway(db, platform_url, folder)
    gateway.start()
    assert gateway.process is not None
    fleet = Fleet(devices, BrokerAddress.parse(broker.url()))
    t0 = time.perf_counter()
    connected = fleet.start(timeout=120)
    took = time.perf_counter() - t0
    fleet.stream(len(devices) / 30, duration=20)  # each device every 30 s
    fleet.wait()
    rss = {
        "gateway": psutil.Process(gateway.process.pid).memory_info().rss,
        "mosquitto": psutil.Process(broker.process.pid).memory_info().rss,
        "fleet (this process)": psutil.Process().memory_info().rss,
    }
    with psycopg.connect(db) as conn:
        online = conn.execute("SELECT count(*) FROM device WHERE online").fetchone()
    fleet.stop()
    gateway.stop()
    print(
        f"\n{connected} of {len(devices)} devices connected in {took:.1f} s; {online[0] if online else 0} online in the database"
    )
    for name, size in rss.items():
        print(f"resident memory, {name:<22}{size / 2**20:8.0f} MiB")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=40_000, help="telemetry messages per run")
    parser.add_argument("--devices", type=int, default=1000, help="devices publishing in the throughput runs")
    parser.add_argument("--samples", type=int, default=10, help="readings per message in the batched run")
    parser.add_argument("--keep", help="a folder for the logs (gateway.log, mosquitto.log), kept afterwards")
    parser.add_argument(
        "--memory-devices", type=int, default=10_000, help="devices connected for the memory figure (0: skip)"
    )
    run(parser.parse_args(argv or []))


if __name__ == "__main__":
    main(sys.argv[1:])
