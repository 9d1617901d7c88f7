"""Why the platform's sessions run with ``jit = off`` (``eldercare.db.SESSION_OPTIONS``): the dashboard's reads on a
year of a 10,000-elder city, on a PostgreSQL that compiles queries when their estimated cost is high (Debian's 15,
the one TimescaleDB is built into here; the embedded PostgreSQL has no JIT), with JIT off and on.

Figures: the median of nine runs of each read, each way, in three rounds (off first, then on first, then off); the
baseline measured in the same run is JIT on, the server's default, and the ratio is on over off (above 1: off is
faster). Goal: no read slower with JIT off beyond the machine's noise (a ratio under 0.8 on a read of tens of
milliseconds would say so; reads of a few milliseconds wander by a millisecond either way). The emergency matching
query, the case that set the platform's sessions to ``jit = off``, is measured by
``bench_sos_to_sms --history-days``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from benchmarks._support import migrated, timescale_server
from benchmarks.bench_dashboard import RAW_KPI
from dashboard import alarms, kpi_rollup, kpis, orders, reports, settlement
from eldercare import seed
from eldercare.config import Settings
from eldercare.seed.history import HistoryPlan, write_history


def _reads(conn: psycopg.Connection, timezone: str) -> dict[str, Callable[[], Any]]:
    today = datetime.now(UTC).date()
    last_month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    return {
        "alarm live board": lambda: alarms.live_board(conn),
        "alarm list, 50": lambda: alarms.list_alarms(conn, alarms.AlarmFilter(), 50, 0),
        "order list, 50": lambda: orders.list_orders(conn, orders.OrderFilter(), 50, 0),
        "KPI report, 30 days": lambda: kpis.report(
            conn, kpis.KpiFilter(from_day=today - timedelta(days=29), to_day=today)
        ),
        "KPI report, 365 days": lambda: kpis.report(
            conn, kpis.KpiFilter(from_day=today - timedelta(days=364), to_day=today)
        ),
        f"monthly report {last_month}": lambda: reports.monthly(conn, last_month),
        f"settlement lines {last_month}": lambda: settlement.visit_lines(conn, last_month, timezone),
        "KPI figures of 30 days, from raw rows": lambda: conn.execute(RAW_KPI).fetchall(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--elders", type=int, default=10_000, help="elders of the seeded city (default 10,000)")
    parser.add_argument("--days", type=int, default=365, help="days of history (default 365)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each read per round; three rounds each way")
    args = parser.parse_args(argv or [])
    timezone = Settings().timezone
    with timescale_server(preload=False) as server_url:
        url = migrated(server_url, "bench")
        started = time.perf_counter()
        with psycopg.connect(url) as conn:
            seed.write(conn, seed.generate(seed.SeedPlan(elders=args.elders, seed=1)))
            stats = write_history(conn, HistoryPlan(end=datetime.now(UTC), days=args.days, seed=1, timeline_days=30))
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        print(
            f"history: {args.elders} elders, {args.days} days: {stats.orders} orders, {stats.alarms} alarms; "
            f"seeded in {time.perf_counter() - started:.0f} s"
        )
        with psycopg.connect(url) as conn:
            available = conn.execute("SELECT pg_jit_available(), current_setting('jit_above_cost')").fetchone()
            assert available is not None
            if not available[0]:
                raise SystemExit("this PostgreSQL has no JIT (llvmjit): nothing to compare")
            kpi_rollup.ensure_timezone(conn, timezone)
            kpi_rollup.refresh(conn)
            conn.commit()
            reads = _reads(conn, timezone)
            timings: dict[tuple[str, str], list[float]] = {}
            for round_ in range(3):
                for jit in ("off", "on") if round_ % 2 == 0 else ("on", "off"):  # either first in turn
                    conn.execute(f"SET jit = {jit}")
                    for name, read in reads.items():
                        read()  # warm: the same pages cached for both
                        for _ in range(args.runs):
                            t0 = time.perf_counter()
                            read()
                            timings.setdefault((name, jit), []).append((time.perf_counter() - t0) * 1000)
                    conn.rollback()
    print(f"JIT compiles a query estimated above {available[1]} (the server's jit_above_cost)")
    print(f"{'read':36s} {'jit off ms':>11s} {'jit on ms':>11s} {'on / off':>9s}")
    for name in reads:
        off, on = statistics.median(timings[(name, "off")]), statistics.median(timings[(name, "on")])
        print(f"{name:36s} {off:11.1f} {on:11.1f} {on / off:9.2f}")


if __name__ == "__main__":
    main()
