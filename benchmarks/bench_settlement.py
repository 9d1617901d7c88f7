"""Settlement of the busiest month of the seeded year (10,000 elders, the year bench_dashboard builds), and its
.xlsx export, against reading the same visit rows with one plain SELECT in the same run.

The seeded history has orders but no visits (it predates verification), so every completed order gets a visit
at its recorded times, one in twenty left with an open exception; the elders' categories and the example
entitlements are those the seed and the migration write.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime

import psycopg

from benchmarks._support import scratch_database
from dashboard import settlement, settlement_export
from eldercare import seed
from eldercare.config import Settings
from eldercare.seed.history import HistoryPlan, write_history

VISITS = """
INSERT INTO visit (order_id, caregiver_id, arrived_at, arrival_via, arrival_check, completed_at, completion_via,
                   completion_check, status, verified_minutes)
SELECT id, caregiver_id, arrived_at, 'page', 'near', completed_at, 'page', 'near',
       CASE WHEN id % 20 = 0 THEN 'exception' ELSE 'verified' END,
       floor(extract(epoch FROM completed_at - arrived_at) / 60)
FROM service_order
WHERE caregiver_id IS NOT NULL AND arrived_at IS NOT NULL AND completed_at >= arrived_at
"""
BUSIEST = """
SELECT to_char(completed_at AT TIME ZONE %s, 'YYYY-MM') AS month, count(*) FROM visit
GROUP BY 1 ORDER BY 2 DESC LIMIT 1
"""
PLAIN = """
SELECT v.*, so.provider_id, so.elder_id, so.service_type FROM visit v JOIN service_order so ON so.id = v.order_id
WHERE v.completed_at >= (%(first)s::timestamp AT TIME ZONE %(tz)s)
  AND v.completed_at < (%(after)s::timestamp AT TIME ZONE %(tz)s)
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--elders", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv or [])
    tz = Settings().timezone
    with scratch_database() as url, psycopg.connect(url) as conn:
        started = time.perf_counter()
        seed.write(conn, seed.generate(seed.SeedPlan(elders=args.elders, seed=1)))
        stats = write_history(conn, HistoryPlan(end=datetime.now(UTC), days=args.days, seed=1, timeline_days=30))
        visits = conn.execute(VISITS).rowcount
        conn.commit()
        conn.execute("ANALYZE")
        print(f"{stats.orders} orders, {visits} visits in {time.perf_counter() - started:.0f} s")
        month, in_month = conn.execute(BUSIEST, (tz,)).fetchone()  # type: ignore[misc]
        first, after = settlement.month_bounds(month)
        largest = conn.execute(
            "SELECT so.provider_id FROM visit v JOIN service_order so ON so.id = v.order_id "
            "WHERE to_char(v.completed_at AT TIME ZONE %s, 'YYYY-MM') = %s GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
            (tz, month),
        ).fetchone()[0]  # type: ignore[index]
        plain, every, one, exported = [], [], [], []
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            rows = conn.execute(PLAIN, {"first": first, "after": after, "tz": tz}).fetchall()
            plain.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            lines = settlement.visit_lines(conn, month, tz)
            every.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            report = settlement.settlement(conn, largest, month, tz)
            one.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            size = len(settlement_export.as_xlsx(report))
            exported.append(time.perf_counter() - t0)
        ms = {name: statistics.median(times) * 1000 for name, times in (("plain", plain), ("every", every),
              ("one", one), ("xlsx", exported))}  # fmt: skip
        print(
            f"busiest month {month}: {in_month} visits; the plain SELECT read {len(rows)}, "
            f"settlement priced {len(lines)}"
        )
        print(f"baseline, one plain SELECT of the month's visits: median {ms['plain']:.0f} ms")
        print(f"settlement lines of every provider (one pass, entitlements applied): median {ms['every']:.0f} ms")
        print(f"settlement of the largest provider ({len(report.lines)} lines, totals): median {ms['one']:.0f} ms")
        print(f"its xlsx export ({size / 1024:.0f} KiB): median {ms['xlsx']:.0f} ms")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
