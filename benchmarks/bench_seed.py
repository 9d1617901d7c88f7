"""Seeding a city of 10,000 elders: `eldercare seed` (through the registers, with COPY where many rows go at
once) against a raw row-by-row INSERT of the same rows with no checks."""

from __future__ import annotations

import argparse
import time

import psycopg
from psycopg import sql

from benchmarks._support import scratch_database
from eldercare import seed as seeding


def insert_row_by_row(conn: psycopg.Connection, city: seeding.City) -> None:
    """The baseline: one INSERT per row through executemany."""
    for table in seeding.TABLES:
        columns = seeding.COLUMNS[table]
        identity = "id" in columns and table != "device"
        statement = sql.SQL("INSERT INTO {} ({}) {} VALUES ({})").format(
            sql.Identifier(table),
            sql.SQL(", ").join(map(sql.Identifier, columns)),
            sql.SQL("OVERRIDING SYSTEM VALUE" if identity else ""),
            sql.SQL(", ").join(sql.Placeholder() * len(columns)),
        )
        with conn.cursor() as cur:
            cur.executemany(statement, city.rows[table])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--elders", type=int, default=10_000)
    args = parser.parse_args(argv or [])
    started = time.perf_counter()
    city = seeding.generate(seeding.SeedPlan(elders=args.elders, seed=1))
    generated = time.perf_counter() - started
    rows = sum(len(r) for r in city.rows.values())
    with scratch_database() as url, psycopg.connect(url) as conn:
        t0 = time.perf_counter()
        seeding.write(conn, city)
        conn.commit()
        copy_s = time.perf_counter() - t0
        seeding.reset(conn)
        conn.commit()
        t0 = time.perf_counter()
        insert_row_by_row(conn, city)
        conn.commit()
        insert_s = time.perf_counter() - t0
    print(f"city of {args.elders} elders: {rows} rows generated in {generated:.2f} s")
    print(f"eldercare seed:          {copy_s:6.2f} s   total with generation {generated + copy_s:.2f} s")
    print(f"baseline row-by-row:     {insert_s:6.2f} s")
    print(f"ratio baseline/seed:     {insert_s / copy_s:6.1f}x   goal: whole seed under 60 s")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
