"""The dashboard under load: a year of orders and alarms for 10,000 elders, pages timed with wrk on loopback.

Figures: p50/p95/p99 of the KPI page, the alarm board and the order list (HTML pages and their JSON API),
each with wrk over loopback; baselines measured in the same run: ``/healthz`` (the cheapest request the app
answers from the database) and the same 30-day KPI figures computed from the raw tables without rollups.
Goal: p95 under 200 ms for each page.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import psycopg

from benchmarks._support import scratch_database
from dashboard import kpi_rollup, kpis
from dashboard.app import create_app
from dashboard.server import DashboardServer
from dashboard.settings import DashboardSettings
from eldercare import seed, users
from eldercare.config import Settings
from eldercare.embedded import free_port
from eldercare.seed.history import HistoryPlan, write_history

PASSWORD = "bench-password-1"
LUA = """
token = os.getenv("BENCH_TOKEN")
wrk.headers["Authorization"] = "Bearer " .. token
done = function(summary, latency, requests)
  io.write(string.format("RESULT p50=%.1f p95=%.1f p99=%.1f requests=%d errors=%d\\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
"""
PAGES = [
    ("KPI page (HTML)", "/kpis"),
    ("KPI API (JSON)", "/api/v1/kpis"),
    ("alarm board (HTML)", "/alarms"),
    ("alarm board API (JSON)", "/api/v1/alarms/live"),
    ("order list API (JSON)", "/api/v1/orders?limit=50"),
    ("order board (HTML)", "/orders"),
    ("baseline /healthz", "/healthz"),
]
RAW_KPI = """
SELECT count(*), count(o.accepted_at),
       percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY extract(epoch FROM o.accepted_at - o.created_at)),
       count(*) FILTER (WHERE o.status IN ('completed', 'reviewed')), avg(o.satisfaction),
       count(*) FILTER (WHERE o.arrived_at - greatest(o.created_at, o.window_start) <= interval '45 minutes')
FROM service_order o JOIN elder e ON e.id = o.elder_id JOIN community c ON c.id = e.community_id
WHERE o.created_at >= now() - interval '30 days'
"""


def wrk(url: str, token: str, script: Path, seconds: int, connections: int) -> dict[str, float]:
    result = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script), url],
        capture_output=True,
        text=True,
        env={"BENCH_TOKEN": token, "PATH": "/usr/bin:/bin"},
        check=True,
    )
    match = re.search(r"RESULT p50=(\S+) p95=(\S+) p99=(\S+) requests=(\d+) errors=(\d+)", result.stdout)
    if match is None:
        raise RuntimeError(f"wrk printed no result:\n{result.stdout}\n{result.stderr}")
    p50, p95, p99, requests, errors = match.groups()
    return {
        "p50": float(p50),
        "p95": float(p95),
        "p99": float(p99),
        "rps": int(requests) / seconds,
        "errors": int(errors),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--elders", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seconds", type=int, default=8, help="wrk duration per page")
    parser.add_argument("--connections", type=int, default=4, help="concurrent connections (operators)")
    args = parser.parse_args(argv or [])
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    end = datetime.now(UTC)
    with scratch_database() as url:
        started = time.perf_counter()
        with psycopg.connect(url) as conn:
            seed.write(conn, seed.generate(seed.SeedPlan(elders=args.elders, seed=1)))
            stats = write_history(conn, HistoryPlan(end=end, days=args.days, seed=1, timeline_days=30))
            users.add_user(conn, "bench", PASSWORD, users.Role.OPERATOR)
        loaded = time.perf_counter() - started
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        with psycopg.connect(url) as conn:
            kpi_rollup.ensure_timezone(conn, Settings().timezone)
            t0 = time.perf_counter()
            days = kpi_rollup.refresh(conn)
            rollup_s = time.perf_counter() - t0
        with psycopg.connect(url) as conn:
            raw, rolled = [], []
            today = end.astimezone(ZoneInfo(Settings().timezone)).date()
            flt = kpis.KpiFilter(from_day=today - timedelta(days=29), to_day=today)
            for _ in range(7):
                t0 = time.perf_counter()
                conn.execute(RAW_KPI).fetchall()
                raw.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                kpis.report(conn, flt)
                rolled.append((time.perf_counter() - t0) * 1000)
        print(
            f"history: {args.elders} elders, {args.days} days: {stats.orders} orders, {stats.alarms} alarms, "
            f"{stats.order_events} order events, {stats.offers} offers; seeded and loaded in {loaded:.1f} s"
        )
        print(f"KPI rollups of {days} days computed in {rollup_s:.1f} s (later refreshes redo only changed days)")

        app = create_app(Settings(), url, dashboard_settings=DashboardSettings(pool_max=8))
        server = DashboardServer(app, "127.0.0.1", free_port())
        server.start()
        try:
            with httpx.Client(base_url=server.url, timeout=60) as client:
                response = client.post("/api/v1/token", data={"username": "bench", "password": PASSWORD})
                token = response.json()["access_token"]
                for _, path in PAGES:  # warm up: first queries, template compilation
                    client.get(path, headers={"Authorization": f"Bearer {token}"}).raise_for_status()
            with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
                script.write(LUA)
            results = {
                name: wrk(server.url + path, token, Path(script.name), args.seconds, args.connections)
                for name, path in PAGES
            }
        finally:
            server.stop()
    base = results["baseline /healthz"]
    print(f"\nwrk on loopback, {args.connections} connections, {args.seconds} s per page (milliseconds):")
    print(f"{'page':<26}{'p50':>8}{'p95':>8}{'p99':>8}{'req/s':>8}{'errors':>8}{'p95/healthz':>13}  goal p95<200")
    for name, figures in results.items():
        verdict = "ok" if figures["p95"] < 200 else "MISSED"
        print(
            f"{name:<26}{figures['p50']:8.1f}{figures['p95']:8.1f}{figures['p99']:8.1f}{figures['rps']:8.0f}"
            f"{figures['errors']:8d}{figures['p95'] / base['p95']:12.1f}x  {verdict}"
        )
    raw_ms, rolled_ms = statistics.median(raw), statistics.median(rolled)
    print(
        f"\nKPI report computed afresh from the rollups (total and 4 breakdowns, 9 queries, no memo), serial: "
        f"median {rolled_ms:.1f} ms;\nbaseline: 30-day KPI totals alone from the raw tables (1 query, no rollups): "
        f"median {raw_ms:.1f} ms. Served pages reuse a report until the rollups change (dashboard.kpi_memo)."
    )


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
