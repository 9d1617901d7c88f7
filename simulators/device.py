"""One simulated device: its counter, plausible readings for its type, and the messages it sends."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from devices import (
    DEVICE_TYPES,
    DeviceStatus,
    Event,
    EventType,
    Presence,
    ProvisionedDevice,
    Sample,
    Telemetry,
    epoch_ms,
)

FIRMWARE = "sim-1.0"


@dataclass(frozen=True, slots=True)
class Home:
    lat: float
    lon: float


class SimulatedDevice:
    """Builds the contract's messages for one device; not thread-safe (the fleet's loop thread owns it)."""

    def __init__(self, provisioned: ProvisionedDevice, rng: random.Random, home: Home | None, seq_base: int) -> None:
        self.id = provisioned.id
        self.type = DEVICE_TYPES[provisioned.type]
        self.secret = provisioned.secret
        self.elder_id = provisioned.elder_id
        self._rng = rng
        self._home = home or Home(29.7167, 113.9000)  # Chibi, Hubei
        self._seq = seq_base
        self._battery = rng.uniform(55, 100)
        self._steps = rng.randint(0, 3000)
        self._resting_hr = rng.gauss(72, 6)

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def sample(self, when: datetime, **overrides: Any) -> Sample:
        """Plausible readings for this type of device at ``when``; ``overrides`` set chosen metrics."""
        rng, metrics = self._rng, self.type.metrics
        values: dict[str, Any] = {}
        self._battery = max(30.0, self._battery - rng.uniform(0, 0.02))
        values["battery"] = round(self._battery)
        if "hr" in metrics:
            values["hr"] = max(40, min(110, round(rng.gauss(self._resting_hr, 4))))
        if "spo2" in metrics:
            values["spo2"] = rng.choice((95, 96, 97, 97, 98, 98, 99))
        if "temp" in metrics:
            values["temp"] = round(rng.gauss(36.5, 0.2), 1)
        if "sbp" in metrics and rng.random() < 0.1:
            values["sbp"] = round(rng.gauss(128, 10))
            values["dbp"] = round(rng.gauss(80, 6))
        if "steps" in metrics:
            self._steps += rng.randint(0, 30)
            values["steps"] = self._steps
        if "lat" in metrics:
            drift = rng.uniform(0, 0.002)
            angle = rng.uniform(0, 2 * math.pi)
            values["lat"] = round(self._home.lat + drift * math.sin(angle), 6)
            values["lon"] = round(self._home.lon + drift * math.cos(angle), 6)
        values.update(overrides)
        return Sample(ts=epoch_ms(when), **values)

    def telemetry(
        self, now: datetime, samples: int = 1, spacing: timedelta = timedelta(seconds=1), **overrides: Any
    ) -> Telemetry:
        """A telemetry message: the readings at ``now``, or ``samples`` of them ending at ``now``."""
        seq = self.next_seq()
        if samples <= 1:
            s = self.sample(now, **overrides)
            return Telemetry(seq=seq, **{f: getattr(s, f) for f in s.__struct_fields__})
        batch = [self.sample(now - spacing * (samples - 1 - i), **overrides) for i in range(samples)]
        return Telemetry(ts=epoch_ms(now), seq=seq, samples=batch)

    def event(
        self, now: datetime, kind: EventType | str, *, lat: float | None = None, lon: float | None = None
    ) -> Event:
        if lat is None and "lat" in self.type.metrics:
            lat, lon = self._home.lat, self._home.lon
        return Event(ts=epoch_ms(now), seq=self.next_seq(), type=EventType(kind), lat=lat, lon=lon)

    def status(self, now: datetime, state: Presence) -> DeviceStatus:
        online = state is Presence.ONLINE
        return DeviceStatus(
            ts=epoch_ms(now),
            seq=self.next_seq(),
            state=state,
            battery=round(self._battery) if online else None,
            firmware=FIRMWARE if online else None,
        )
