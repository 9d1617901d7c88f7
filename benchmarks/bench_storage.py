"""The two storage backends side by side: plain PostgreSQL (the embedded one, daily partitions) and PostgreSQL 15
with TimescaleDB (hypertable, compression, continuous aggregate), in the same run.

1. Gateway ingest drain: one Mosquitto (production configuration), one fleet, two gateway processes in
   different shared-subscription groups, one per backend, so both get the very same messages. Both are
   frozen (SIGSTOP) while the fleet publishes; then each in turn is thawed and drains its backlog alone.
   The order alternates between rounds. ``--with-pg15`` adds plain PostgreSQL 15 (the embedded one is 18),
   to tell what TimescaleDB costs from what the older PostgreSQL does.
2. Bytes on disk per million readings: a day and a half of one-minute watch readings (vitals every minute,
   blood pressure one time in ten, location, cumulative steps, as the simulated watch sends them), on
   plain PostgreSQL, on TimescaleDB before compression and after its compression policy's job ran.
   Tables, indexes and TOAST included.
3. The elder page's 30-day chart query (``dashboard.elders.hourly_readings``) with a year of readings for
   10,000 elders (one watch each, a reading every ``--every-hours``), rollups refreshed (TimescaleDB: its
   continuous aggregate; ``--compress-year`` compresses the year's chunks too, which the chart, reading
   the aggregate, does not touch): latency percentiles over random elders, one query after another.
Goals: compressed storage at most a tenth of plain; ingest on TimescaleDB at least 0.8 of plain.
Bulk loads run with session_replication_role = replica (foreign-key triggers off), as a restore does.
"""

from __future__ import annotations

import argparse
import random
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from benchmarks._support import embedded_server, migrated, timescale_server
from benchmarks.bench_gateway import PLATFORM, GatewayProcess, mosquitto, publish
from dashboard import elders
from devices import load_devices
from eldercare import seed as seeding
from eldercare.mqtt import BrokerAddress
from simulators.fleet import Fleet

WARM_UP = 200  # messages
# One watch reading per device at each instant of `series`, as SimulatedDevice.sample makes them.
LOAD = """
INSERT INTO reading (device_id, elder_id, ts, received_at, seq, hr, spo2, sbp, dbp, temp, steps, lat, lon, battery)
SELECT d.id, d.elder_id, t, t + random() * interval '800 ms', n,
       (d.rest + (random() + random() + random() - 1.5) * 8)::int, 95 + (random() * 4.99)::int,
       CASE WHEN hashtext(d.id || n) & 1023 < 102 THEN (128 + (random() - 0.5) * 34)::int END,
       CASE WHEN hashtext(d.id || n) & 1023 < 102 THEN (80 + (random() - 0.5) * 20)::int END,
       round((36.5 + (random() + random() - 1) * 0.4)::numeric, 1), d.steps + n * 15 + (random() * 15)::int,
       round((e.lat + (random() - 0.5) * 0.002)::numeric, 6), round((e.lon + (random() - 0.5) * 0.002)::numeric, 6),
       greatest(30, 100 - n / 60)
FROM (SELECT id, elder_id, 66 + (hashtext(id) & 15) AS rest, hashtext(id) & 4095 AS steps FROM device
      WHERE id = ANY(%(devices)s)) d
JOIN elder e ON e.id = d.elder_id
CROSS JOIN (SELECT t, row_number() OVER (ORDER BY t) AS n
            FROM generate_series(%(start)s::timestamptz, %(end)s::timestamptz - interval '1 us', %(every)s) t) s
"""


def backend_of(url: str) -> str:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT value FROM storage_info WHERE key = 'engine'").fetchone()
    return str(row[0]) if row else "?"


def load(url: str, devices: list[str], start: datetime, end: datetime, every: timedelta) -> float:
    """Write the readings and return the seconds it took; partitions made first on plain PostgreSQL."""
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        conn.execute("SELECT ensure_reading_partitions(%s::date, %s::date)", (start, end))
        conn.execute("SET session_replication_role = replica")
        conn.execute(LOAD, {"devices": devices, "start": start, "end": end, "every": every})
    return time.perf_counter() - started


def run_policy(url: str, proc: str) -> float:
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        job = conn.execute(
            "SELECT job_id FROM timescaledb_information.jobs WHERE proc_name = %s AND hypertable_name = 'reading'",
            (proc,),
        ).fetchone()
        assert job is not None, proc
        conn.execute("CALL run_job(%s)", job)
    return time.perf_counter() - started


def reading_bytes(url: str) -> tuple[int, int]:
    """Readings stored and the bytes they take: every partition or chunk, compressed ones, indexes, TOAST."""
    with psycopg.connect(url) as conn:
        count = conn.execute("SELECT count(*) FROM reading").fetchone()
        if backend_of(url) == "timescaledb":
            size = conn.execute("SELECT hypertable_size('reading')").fetchone()
        else:
            size = conn.execute(
                "SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('reading') WHERE isleaf"
            ).fetchone()
    assert count is not None and size is not None
    return int(count[0]), int(size[0])


def seeded(server_urls: dict[str, str], name: str, elders_count: int, folder: Path) -> dict[str, str]:
    """The same seeded city in a new database on each server; the manifest written to ``folder``."""
    city = seeding.generate(seeding.SeedPlan(elders=elders_count, seed=5))
    urls = {}
    for backend, server in server_urls.items():
        urls[backend] = migrated(server, name)
        with psycopg.connect(urls[backend]) as conn:
            seeding.write(conn, city)
    seeding.write_manifest(folder / f"{name}.json", city)
    return urls


def watches(url: str, limit: int) -> list[str]:
    """One device per elder, a watch where the elder has one."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT DISTINCT ON (elder_id) id FROM device ORDER BY elder_id, (type = 'watch') DESC, id LIMIT %s",
            (limit,),
        ).fetchall()
    return [r[0] for r in rows]


def ingest(urls: dict[str, str], folder: Path, args: argparse.Namespace) -> None:
    devices = load_devices(folder / "ingest.json")
    with mosquitto(folder, devices) as broker:
        platform_url = broker.url(PLATFORM)
        fleet = Fleet(devices[: args.devices], BrokerAddress.parse(broker.url()))
        fleet.start(timeout=60)
        gateways = {}
        for backend, url in urls.items():
            gateway = GatewayProcess(url, platform_url, folder)
            gateway.env["ELDERCARE_GATEWAY_CLIENT_ID"] = f"bench.{backend.replace(' ', '-')}"  # a platform id has a dot
            gateway.env["ELDERCARE_GATEWAY_SHARED_GROUP"] = f"bench-{backend.replace(' ', '-')}"
            gateway.start()
            gateways[backend] = gateway
        # a group's messages are kept only once its gateway subscribed: warm every one up before measuring
        publish(fleet, WARM_UP, 1)
        for backend, gateway in gateways.items():
            deadline = time.time() + 120
            while gateway.count() < WARM_UP:
                if time.time() > deadline:
                    raise RuntimeError(f"the {backend} gateway stored no warm-up readings; see {gateway.log}")
                time.sleep(0.1)
        rates: dict[tuple[str, int], list[float]] = {}
        try:
            for round_ in range(args.rounds):
                for samples in (1, args.samples):
                    for gateway in gateways.values():
                        gateway.signal(signal.SIGSTOP)
                    publish(fleet, args.messages, samples)
                    order = list(urls) if round_ % 2 == 0 else list(urls)[::-1]
                    for backend in order:
                        rate = drain(gateways[backend], args.messages, samples)
                        rates.setdefault((backend, samples), []).append(rate)
                        print(f"  round {round_ + 1}, {samples} readings/msg, {backend}: {rate:.0f} msg/s", flush=True)
        finally:
            for gateway in gateways.values():
                gateway.stop()
            fleet.stop()
    print(f"\ningest drain: {args.messages} QoS 1 messages per run from {args.devices} devices, {args.rounds} rounds")
    print(f"{'backend':<16}{'readings/msg':>13}{'msg/s':>8}{'readings/s':>11}{'vs plain':>9}  (median of rounds)")
    for samples in (1, args.samples):
        plain = statistics.median(rates[("postgresql", samples)])
        for backend in urls:
            rate = statistics.median(rates[(backend, samples)])
            print(f"{backend:<16}{samples:>13}{rate:>8.0f}{rate * samples:>11.0f}{rate / plain:>9.2f}")


def drain(gateway: GatewayProcess, messages: int, samples: int) -> float:
    """Thaw a frozen gateway and time it storing its backlog; returns messages per second."""
    before = gateway.count()
    target = before + messages * samples
    started = time.time()
    gateway.signal(signal.SIGCONT)
    last, count = started, before
    while count < target and time.time() - last < 15:
        time.sleep(0.02)
        if (now := gateway.count()) != count:
            count, last = now, time.time()
    if count != target:
        raise RuntimeError(f"stored {count - before} of {messages * samples} readings")
    return messages / (last - started)


def sizes(urls: dict[str, str], args: argparse.Namespace) -> None:
    devices = watches(urls["postgresql"], args.size_devices)
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=10)
    start = end - timedelta(hours=36)
    print(f"\nbytes on disk: {len(devices)} watches, one reading a minute for 36 h ending {end:%Y-%m-%d}")
    rows = []
    for backend, url in urls.items():
        took = load(url, devices, start, end, timedelta(minutes=1))
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE reading")
        count, size = reading_bytes(url)
        rows.append((backend, count, size, took))
        if backend == "timescaledb":
            took = run_policy(url, "policy_compression")
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE reading")
            count, size = reading_bytes(url)
            rows.append(("timescaledb, compressed", count, size, took))
    plain = rows[0][2] / rows[0][1]
    print(f"{'storage':<26}{'readings':>10}{'MiB':>8}{'MB per million readings':>25}{'vs plain':>9}{'took s':>8}")
    for name, count, size, took in rows:
        per = size / count  # bytes per reading = MB per million readings
        print(f"{name:<26}{count:>10}{size / 2**20:>8.0f}{per:>25.1f}{per / plain:>9.3f}{took:>8.0f}")


def chart(urls: dict[str, str], args: argparse.Namespace) -> None:
    now = datetime.now(UTC)
    start = now - timedelta(days=365)
    every = timedelta(hours=args.every_hours)
    rng = random.Random(3)
    print(f"\n30-day chart: a year for {args.elders} elders, one watch each, a reading every {args.every_hours} h")
    results = []
    for backend, url in urls.items():
        devices = watches(url, args.elders)
        took = load(url, devices, start, now, every)
        steps: list[str] = [f"loaded in {took:.0f} s"]
        t0 = time.perf_counter()
        if backend == "timescaledb":
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("CALL refresh_continuous_aggregate('reading_hourly', NULL, %s)", (now,))
            steps.append(f"aggregate refreshed in {time.perf_counter() - t0:.0f} s")
            if args.compress_year:  # the chart reads the aggregate, whose own hypertable is not compressed
                steps.append(f"compressed in {run_policy(url, 'policy_compression'):.0f} s")
        else:
            with psycopg.connect(url) as conn:
                conn.execute("SELECT refresh_reading_hourly(%s, %s)", (start, now))
            steps.append(f"rollup refreshed in {time.perf_counter() - t0:.0f} s")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
            ids = [r[0] for r in conn.execute("SELECT DISTINCT elder_id FROM reading_hourly").fetchall()]
            count, size = reading_bytes(url)
        steps.append(f"{count} readings in {size / 2**20:.0f} MiB")
        print(f"  {backend}: " + ", ".join(steps), flush=True)
        picks = [rng.choice(ids) for _ in range(args.queries)]
        results.append((backend, time_queries(url, picks, lambda c, e: elders.hourly_readings(c, e, now, 30))))
    print(f"{'backend':<14}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'points':>8}  ({args.queries} random elders)")
    for backend, (latencies, points) in results:
        q = statistics.quantiles(latencies, n=100)
        print(f"{backend:<14}{q[49]:>8.1f}{q[94]:>8.1f}{q[98]:>8.1f}{points:>8.0f}")


def time_queries(
    url: str, elder_ids: list[int], query: Callable[[psycopg.Connection, int], list[elders.HourlyReading]]
) -> tuple[list[float], float]:
    latencies, points = [], []
    with psycopg.connect(url, autocommit=True) as conn:
        for elder_id in elder_ids[:20]:
            query(conn, elder_id)  # warm the cache and the plan
        for elder_id in elder_ids:
            started = time.perf_counter()
            points.append(len(query(conn, elder_id)))
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies, statistics.mean(points)


def run(args: argparse.Namespace) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="eldercare-bench-storage-") as tmp,
        embedded_server() as plain_server,
        timescale_server() as tsdb_server,
        timescale_server(preload=False) if args.with_pg15 else nullcontext("") as pg15_server,
    ):
        folder = Path(tmp)
        servers = {"postgresql": plain_server, "timescaledb": tsdb_server}
        if pg15_server:  # separates what TimescaleDB costs from what PostgreSQL 15 (vs the embedded 18) costs
            servers["postgresql 15"] = pg15_server
        if "ingest" in args.parts:
            ingest(seeded(servers, "ingest", args.devices * 10 // 22 + 50, folder), folder, args)
        if "size" in args.parts:
            sizes(seeded(servers, "size", args.size_devices, folder), args)
        if "chart" in args.parts:
            chart(seeded(servers, "chart", args.elders, folder), args)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", nargs="+", default=["ingest", "size", "chart"], choices=["ingest", "size", "chart"])
    parser.add_argument("--messages", type=int, default=20_000, help="telemetry messages per ingest run")
    parser.add_argument("--devices", type=int, default=1000, help="devices publishing in the ingest runs")
    parser.add_argument("--samples", type=int, default=10, help="readings per message in the batched run")
    parser.add_argument("--rounds", type=int, default=2, help="ingest rounds (the backends' order alternates)")
    parser.add_argument("--size-devices", type=int, default=2000, help="watches in the bytes-on-disk load")
    parser.add_argument("--elders", type=int, default=10_000, help="elders with a year of readings")
    parser.add_argument("--every-hours", type=float, default=6, help="hours between an elder's readings (year)")
    parser.add_argument("--with-pg15", action="store_true", help="plain PostgreSQL 15 as a third backend")
    parser.add_argument("--compress-year", action="store_true", help="run the compression job on the year too")
    parser.add_argument("--queries", type=int, default=400, help="30-day chart queries timed per backend")
    run(parser.parse_args(argv or []))


if __name__ == "__main__":
    main(sys.argv[1:])
