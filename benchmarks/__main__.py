"""Run every benchmark in this package, one after another (``make bench``)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time

import benchmarks


def main() -> int:
    names = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_"))
    only = sys.argv[1:]
    failed = []
    for name in names:
        if only and not any(o in name for o in only):
            continue
        print(f"=== {name}", flush=True)
        started = time.monotonic()
        try:
            importlib.import_module(f"benchmarks.{name}").main()
        except Exception as err:  # report and go on with the others
            print(f"{name} failed: {err!r}", flush=True)
            failed.append(name)
        print(f"=== {name} took {time.monotonic() - started:.0f} s\n", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
