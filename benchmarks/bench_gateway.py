"""Sustained ingest at QoS 1 through Mosquitto: messages (and readings) stored per second by the gateway,
against a bare paho subscriber that only counts the same publishers' messages, in the same run; and
resident memory with 10,000 devices connected.

Mosquitto runs deploy/mosquitto/mosquitto.conf with a password file and ACL for the whole fleet; the
gateway and the baseline each run as their own process; the simulated fleet publishes from this one.
Each consumer is measured two ways: "live" (it runs while the fleet publishes as fast as the broker
takes it) and "backlog" (it is frozen with SIGSTOP while the fleet publishes, then thawed to drain what
the broker kept for it: its own ceiling). Besides the rates, the CPU time each consumer process spent
per message, which the other processes on a shared machine disturb far less than the rates.
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
    port: int  # the devices' listener
    platform_port: int
    process: subprocess.Popen[bytes]

    def url(self, user: BrokerUser | None = None) -> str:
        credentials = f"{user.username}:{user.password}@" if user else ""
        port = self.platform_port if user == PLATFORM else self.port
        return f"mqtt://{credentials}127.0.0.1:{port}"


@contextmanager
def mosquitto(folder: Path, devices: list[ProvisionedDevice]) -> Iterator[Broker]:
    """Mosquitto with the production configuration, its listener and folders moved into ``folder``."""
    write_config(folder, PLATFORM, (BrokerUser(d.id, d.secret) for d in devices))
    for name in ("passwd", "platform-passwd", "acl"):
        (folder / name).chmod(0o644)  # run as root, mosquitto reads them as its own user
    port, platform_port = free_port(), free_port()
    config = re.sub(r"(?m)^listener 1883$", f"listener {port} 127.0.0.1", DEPLOY_CONF.read_text(encoding="utf-8"))
    config = re.sub(r"(?m)^listener 1884$", f"listener {platform_port} 127.0.0.1", config)
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
        yield Broker(port, platform_port, process)
    finally:
        process.terminate()
        process.wait(20)


@dataclass(frozen=True, slots=True)
class Measured:
    rate: float  # messages per second
    cpu_us: float  # CPU microseconds of the consumer process per message
    stored: int


class GatewayProcess:
    """`python -m eldercare gateway` with its own persistent session."""

    def __init__(self, database_url: str, mqtt_url: str, folder: Path) -> None:
        self.database_url = database_url
        self.env = {
            **os.environ,
            "ELDERCARE_DATABASE_URL": database_url,
            "ELDERCARE_MQTT_URL": mqtt_url,
            "ELDERCARE_DATA_DIR": str(folder),
            "ELDERCARE_GATEWAY_CLIENT_ID": "bench.gateway",
            "ELDERCARE_LOG_LEVEL": "WARNING",
        }
        self.log = folder / "gateway.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            command = [sys.executable, "-m", "eldercare", "gateway"]
            self.process = subprocess.Popen(command, env=self.env, stdout=out, stderr=out)
        time.sleep(4.0)  # start-up, connection and subscription

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # in case it was frozen when something failed
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(30)

    def signal(self, sig: int) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    def cpu(self) -> float:
        assert self.process is not None
        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)

    def count(self) -> int:
        with psycopg.connect(self.database_url) as conn:
            row = conn.execute("SELECT count(*) FROM reading").fetchone()
            return int(row[0]) if row else 0

    def measure(self, fleet: Fleet, messages: int, samples: int, *, frozen: bool) -> Measured:
        before = self.count()
        target = before + messages * samples
        if frozen:
            self.signal(signal.SIGSTOP)
        cpu, started = self.cpu(), time.time()
        publish(fleet, messages, samples)
        if frozen:
            cpu, started = self.cpu(), time.time()
            self.signal(signal.SIGCONT)
        last, count = time.time(), before
        while count < target and time.time() - last < 15:
            time.sleep(0.02)
            if (now := self.count()) != count:
                count, last = now, time.time()
        return Measured(messages / (last - started), (self.cpu() - cpu) / messages * 1e6, count - before)


def measure_bare(url: str, fleet: Fleet, messages: int, samples: int, *, frozen: bool, run: str) -> Measured:
    command = [sys.executable, "-m", "benchmarks.bare_subscriber", url, f"bench-bare-{run}", str(messages)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    json.loads(process.stdout.readline())  # subscribed
    if frozen:
        process.send_signal(signal.SIGSTOP)
    started = time.time()
    publish(fleet, messages, samples)
    if frozen:
        started = time.time()
        process.send_signal(signal.SIGCONT)
    got = json.loads(process.stdout.readline())
    process.wait(30)
    return Measured(got["count"] / (got["last"] - started), got["cpu"] / messages * 1e6, got["count"] * samples)


def publish(fleet: Fleet, messages: int, samples: int) -> None:
    fleet.stream(0, messages=messages, samples=samples, max_outstanding=5000)
    fleet.wait()
    fleet.wait_acknowledged(120)


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
            gateway = GatewayProcess(db, platform_url, folder)
            gateway.start()
            n = args.messages
            results = []
            try:
                for frozen in (False, True):
                    for samples in (1, args.samples):
                        name = f"{'backlog' if frozen else 'live'}, {samples} reading{'s' * (samples > 1)}/msg"
                        run_id = f"{frozen}-{samples}"
                        bare = measure_bare(platform_url, fleet, n, samples, frozen=frozen, run=run_id)
                        ours = gateway.measure(fleet, n, samples, frozen=frozen)
                        results.append((name, samples, bare, ours))
                        print(f"  {name}: bare {bare.rate:.0f} msg/s, gateway {ours.rate:.0f} msg/s", flush=True)
            finally:
                gateway.stop()
                fleet.stop()
            print(f"\n{n} QoS 1 telemetry messages per run, from {args.devices} devices")
            print(
                f"{'run':<26}{'bare msg/s':>11}{'gateway msg/s':>14}{'ratio':>7}{'readings/s':>11}"
                f"{'CPU us/msg: bare':>18}{'gateway':>9}  stored/expected"
            )
            for name, samples, bare, ours in results:
                expected = n * samples
                print(
                    f"{name:<26}{bare.rate:>11.0f}{ours.rate:>14.0f}{ours.rate / bare.rate:>7.2f}"
                    f"{ours.rate * samples:>11.0f}{bare.cpu_us:>18.0f}{ours.cpu_us:>9.0f}  {ours.stored}/{expected}"
                    + ("" if ours.stored == expected else "  LOSS")
                )
            if args.memory_devices:
                memory(db, broker, platform_url, devices[: args.memory_devices], folder)


def memory(db: str, broker: Broker, platform_url: str, devices: list[ProvisionedDevice], folder: Path) -> None:
    gateway = GatewayProcess(db, platform_url, folder)
    gateway.start()
    assert gateway.process is not None
    idle = psutil.Process(gateway.process.pid).memory_info().rss
    fleet = Fleet(devices, BrokerAddress.parse(broker.url()))
    try:
        t0 = time.perf_counter()
        connected = fleet.start(timeout=120)
        took = time.perf_counter() - t0
        fleet.stream(len(devices) / 30, duration=20)  # each device every 30 s
        fleet.wait()
        rss = {
            "gateway, before": idle,
            "gateway": psutil.Process(gateway.process.pid).memory_info().rss,
            "mosquitto": psutil.Process(broker.process.pid).memory_info().rss,
            "fleet (this process)": psutil.Process().memory_info().rss,
        }
        with psycopg.connect(db) as conn:
            online = conn.execute("SELECT count(*) FROM device WHERE online").fetchone()
    finally:
        fleet.stop()
        gateway.stop()
    online_count = online[0] if online else 0
    print(f"\n{connected} of {len(devices)} devices connected in {took:.1f} s, each sending every 30 s for 20 s")
    print(f"{online_count} devices online in the database")
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
