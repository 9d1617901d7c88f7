"""Failover of the gateway's broker session: how long an SOS waits when the gateway instance holding the session
dies (SIGKILL) or hangs (SIGSTOP: PostgreSQL ends its silent lock connection), against the same SOS on a healthy
gateway, measured in the same run.

Mosquitto runs deploy/mosquitto/mosquitto.conf; the holding gateway is `python -m eldercare gateway` in its own
process with the shipped settings, the standby a gateway in this process with the shipped settings too, both
under the shipped client id. Each round: a holder that has stored a first message (so it is subscribed), SOS
presses timed on it while healthy, then the fault, one SOS pressed just after it, and the times until the standby
holds the session and until that SOS is in ``device_event``. The ratio compares the time from the takeover to
the SOS stored with a healthy gateway's time from the press to the SOS stored.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._support import scratch_database
from benchmarks.bench_gateway import PLATFORM, mosquitto
from eldercare.component import Context
from eldercare.config import Settings
from eldercare.embedded import quiet_library_loggers
from gateway import GatewaySettings, create
from simulators.fleet import Fleet
from tests.gateway.running import City, GatewayProcess, later_message_stored, scalar, seed_city, start_fleet

STORED = "SELECT count(*) FROM device_event WHERE device_id = %s AND seq = %s"


def _until_stored(database_url: str, device_id: str, seq: int, limit: float = 120.0) -> float:
    """time.monotonic() when the event ``device_id``/``seq`` is in device_event (polled every 5 ms)."""
    deadline = time.monotonic() + limit
    while not scalar(database_url, STORED, device_id, seq):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the SOS {device_id}/{seq} was not stored within {limit:.0f} s")
        time.sleep(0.005)
    return time.monotonic()


def _healthy(city: City, fleet: Fleet, presses: int) -> list[float]:
    """Seconds from an SOS press to its row, ``presses`` times, on the gateway holding the session."""
    buttons = [d for d in city.devices if d.type == "button"]
    took = []
    for n in range(presses):
        button = buttons[n % len(buttons)]
        pressed = time.monotonic()
        seq = fleet.send_event(button.id, "sos")
        took.append(_until_stored(city.database_url, button.id, seq) - pressed)
    return took


def _failover(
    city: City, fleet: Fleet, broker_url: str, folder: Path, fault: signal.Signals, presses: int
) -> dict[str, Any]:
    holder = GatewayProcess(city.database_url, broker_url, folder, ELDERCARE_GATEWAY_BATCH_WAIT="0.1")
    holder.start()
    standby = None
    try:
        deadline = time.monotonic() + 60
        while not holder.logged("holding the broker session"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the gateway did not take the session; see {holder.log}")
            time.sleep(0.05)
        later_message_stored(city, fleet, city.device("watch"))  # subscribed and storing
        healthy = _healthy(city, fleet, presses)
        standby = create(Context(Settings(), city.database_url, broker_url), settings=GatewaySettings())
        standby.start()
        if not standby.session.standing_by.wait(30):
            raise RuntimeError("the second gateway did not stand by")
        button = city.device("button", 1)
        assert holder.process is not None
        holder.process.send_signal(fault)
        faulted = time.monotonic()
        seq = fleet.send_event(button.id, "sos")
        if not standby.session.held.wait(standby.session.silence + 60):
            raise RuntimeError("the standby did not take the session over")
        took_over = time.monotonic()
        stored = _until_stored(city.database_url, button.id, seq)
        return {
            "healthy": healthy,
            "takeover": took_over - faulted,
            "stored": stored - faulted,
            "after takeover": stored - took_over,
        }
    finally:
        holder.kill(signal.SIGKILL)  # a frozen process takes SIGKILL too
        if standby is not None:
            standby.stop()


def run(args: argparse.Namespace) -> None:
    quiet_library_loggers()
    with tempfile.TemporaryDirectory(prefix="eldercare-bench-failover-") as tmp, scratch_database("failover") as db:
        folder = Path(tmp)
        city = seed_city(db, folder, elders=args.elders)
        (folder / "broker").mkdir()
        with mosquitto(folder / "broker", city.devices) as broker:
            fleet = start_fleet(city, broker.url())
            results: list[tuple[str, dict[str, Any]]] = []
            try:
                for n in range(args.rounds):
                    for fault in (signal.SIGKILL, signal.SIGSTOP):
                        result = _failover(city, fleet, broker.url(PLATFORM), folder, fault, args.presses)
                        results.append((fault.name, result))
                        print(
                            f"  round {n + 1}/{args.rounds}, {fault.name}: takeover {result['takeover']:.2f} s, "
                            f"SOS stored {result['stored']:.2f} s after the fault",
                            flush=True,
                        )
            finally:
                fleet.stop()
    healthy = statistics.median(t for _, r in results for t in r["healthy"])
    presses = sum(len(r["healthy"]) for _, r in results)
    print(f"\nSOS press to its row on a healthy gateway: median {healthy * 1000:.0f} ms over {presses} presses")
    print(f"{'fault':<9}{'takeover s':>11}{'SOS stored s':>13}{'after takeover ms':>19}{'ratio to healthy':>18}")
    for name, r in results:
        print(
            f"{name:<9}{r['takeover']:>11.2f}{r['stored']:>13.2f}{r['after takeover'] * 1000:>19.0f}"
            f"{r['after takeover'] / healthy:>18.1f}"
        )
    print(
        "takeover: from the fault to the standby holding the session (SIGKILL: PostgreSQL ends the dead one's lock "
        "at once; SIGSTOP: after `silence`); SOS stored: from the fault to the SOS pressed just after it in "
        "device_event; ratio: after takeover / healthy median"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="failovers of each kind")
    parser.add_argument("--presses", type=int, default=10, help="SOS presses timed on the healthy gateway per round")
    parser.add_argument("--elders", type=int, default=40, help="elders of the seeded city (their devices connect)")
    run(parser.parse_args(argv or []))


if __name__ == "__main__":
    main(sys.argv[1:])
