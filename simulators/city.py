"""A simulated city as one component: the device fleet streaming readings, caregivers answering SMS, and
scenarios played on top. The demo runs it next to the platform's own components."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

from devices import load_devices
from eldercare.clock import SYSTEM_CLOCK, Clock
from eldercare.mqtt import BrokerAddress
from simulators.caregivers import Behaviour, SimulatedCaregivers, phones_from_manifest
from simulators.device_fleet import Fleet, homes_from_manifest
from simulators.scenario import Player, Rotation, Scenario, Stage, elders_from_manifest

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CityPlan:
    manifest: Path
    mqtt_url: str
    standin_url: str
    telemetry_interval: float = 60.0  # seconds between two readings of one device
    behaviour: Behaviour = field(default_factory=Behaviour)
    scenarios: tuple[Scenario, ...] = ()
    seed: int = 1
    scenario_every: float = 0.0  # seconds between two scenarios played in turn; 0: each once, at the start


class SimulatedCity:
    """``start()`` connects the fleet, starts the caregivers and schedules the scenarios; ``stop()`` undoes it."""

    name = "simulated city"

    def __init__(
        self,
        plan: CityPlan,
        clock: Clock = SYSTEM_CLOCK,
        *,
        busy_elders: Callable[[], Collection[int]] = frozenset,
        say: Callable[[str], None] = log.info,
    ) -> None:
        self.plan = plan
        self.clock = clock
        self.busy_elders = busy_elders
        self.say = say
        self.fleet: Fleet | None = None
        self.caregivers: SimulatedCaregivers | None = None
        self.player: Player | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._scenarios: threading.Thread | None = None

    def start(self) -> None:
        plan = self.plan
        devices = load_devices(plan.manifest)
        self.fleet = Fleet(
            devices,
            BrokerAddress.parse(plan.mqtt_url),
            homes=homes_from_manifest(plan.manifest),
            seed=plan.seed,
            clock=self.clock,
        )
        connected = self.fleet.start(timeout=max(30.0, len(devices) / 200))
        self.say(f"{connected} of {len(devices)} simulated devices connected")
        self.fleet.stream(len(devices) / plan.telemetry_interval)
        self.caregivers = SimulatedCaregivers(
            plan.standin_url, phones_from_manifest(plan.manifest), plan.behaviour, plan.seed
        )
        self._thread = threading.Thread(target=self.caregivers.run, args=(self._stop,), name="caregivers", daemon=True)
        self._thread.start()
        self.player = Player(Stage(self.fleet, self.caregivers), log_line=self.say)
        rotation = Rotation(
            self.player,
            plan.scenarios,
            elders_from_manifest(plan.manifest),
            every=plan.scenario_every,
            seed=plan.seed,
            busy=self.busy_elders,
        )
        self._scenarios = threading.Thread(target=rotation.run, args=(self._stop,), name="scenarios", daemon=True)
        self._scenarios.start()

    def stop(self) -> None:
        self._stop.set()
        if self._scenarios is not None:
            self._scenarios.join(10)  # no scenario starts after this
        if self.player is not None:
            self.player.stop()
        if self._thread is not None:
            self._thread.join(10)
        if self.caregivers is not None:
            self.caregivers.close()
        if self.fleet is not None:
            # the devices go quiet rather than offline: ending the simulation is not every elder's watch dying
            self.fleet.stop(announce=False)
