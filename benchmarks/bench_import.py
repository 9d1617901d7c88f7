"""Importing 10,000 elders with their contacts and devices from one .xlsx (sheets ``elders`` and ``devices``):
dry run and commit through the registers, against ``eldercare seed`` of the same city (which enrols through the
same registers, writing the rows that need no check by COPY), in the same run."""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from benchmarks._support import embedded_server, migrated
from eldercare import imports
from eldercare import seed as seeding
from eldercare.config import CHIBI
from eldercare.seed.sheets import city_sheets, write_workbook_of

CONTEXT = imports.Context("bench", seeding.REFERENCE_DAY, datetime(2026, 1, 1, 2, tzinfo=UTC), CHIBI)


def _timed(conn: psycopg.Connection, kind: str, path: Path, *, dry_run: bool) -> float:
    started = time.perf_counter()
    report = imports.import_file(conn, kind, path.name, path.read_bytes(), CONTEXT, dry_run=dry_run)
    took = time.perf_counter() - started
    if report.problems:
        raise RuntimeError(f"{kind}: {report.problems[0].text('en')} (row {report.problems[0].row})")
    return took


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--elders", type=int, default=10_000)
    args = parser.parse_args(argv or [])
    city = seeding.generate(seeding.SeedPlan(elders=args.elders, seed=1))
    sheets = city_sheets(city)
    contacts = sum(1 for row in sheets["elders"] for n in (1, 2, 3) if row.get(f"contact{n}_name"))
    with tempfile.TemporaryDirectory(prefix="eldercare-bench-import-") as tmp, embedded_server() as server:
        t0 = time.perf_counter()
        book = write_workbook_of(Path(tmp) / "city.xlsx", {"elders": sheets["elders"], "devices": sheets["devices"]})
        written = time.perf_counter() - t0
        places = write_workbook_of(Path(tmp) / "areas.xlsx", {"areas": sheets["areas"]})
        size_mb = book.stat().st_size / 1e6

        with psycopg.connect(migrated(server, "bench_seed")) as conn:
            t0 = time.perf_counter()
            seeding.write(conn, city)
            conn.commit()
            seed_s = time.perf_counter() - t0

        with psycopg.connect(migrated(server, "bench_import")) as conn:
            _timed(conn, "areas", places, dry_run=False)
            dry = {kind: _timed(conn, kind, book, dry_run=True) for kind in ("elders",)}
            commit = {kind: _timed(conn, kind, book, dry_run=False) for kind in ("elders", "devices")}
            again = _timed(conn, "elders", book, dry_run=False)
    elders_s, devices_s = commit["elders"], commit["devices"]
    print(
        f"{args.elders} elders, {contacts} contacts, {len(sheets['devices'])} devices; "
        f"{size_mb:.1f} MB .xlsx written in {written:.1f} s"
    )
    print(f"eldercare seed (whole city):         {seed_s:7.1f} s")
    print(f"import elders, dry run:               {dry['elders']:7.1f} s   ({args.elders / dry['elders']:.0f} rows/s)")
    print(f"import elders, commit:                {elders_s:7.1f} s   ({args.elders / elders_s:.0f} rows/s)")
    print(f"import devices, commit:               {devices_s:7.1f} s   (credentials hashed one by one)")
    print(f"re-import of the same elders (update): {again:6.1f} s")
    print(f"ratio import (elders+devices commit) / seed: {(elders_s + devices_s) / seed_s:.0f}x")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
