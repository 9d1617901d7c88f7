"""Scripted scenarios: TOML files saying what happens to one elder and when, played on the device fleet
and the simulated caregivers. The demo plays them; tests and ``eldercare simulate scenario`` do too.

A scenario names its subject (which elder, chosen from the manifest) and a list of steps, each ``at`` a
number of seconds after the scenario starts:

- ``event``: a device of the elder's reports an event (``event = "fall"``, ``device = "fall_detector"``);
- ``telemetry``: a device reports chosen readings, ``repeat`` times ``every`` seconds
  (``values = { hr = 142 }``);
- ``offline``: a device loses its connection without a goodbye, so the broker publishes its Last Will;
- ``silence``: the next ``count`` offers for this elder's address go unanswered by the simulated caregivers.

Every step, its repeats included, happens within a day (``LONGEST``) of the scenario's start.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections import deque
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import typer

from devices import DEVICE_TYPES, METRIC_RANGES
from simulators.fleet import CONNECT_SECONDS  # the time given to the subjects' devices to connect

log = logging.getLogger(__name__)

SCENARIOS_DIR = Path(__file__).with_name("scenarios")
Action = Literal["event", "telemetry", "offline", "silence"]
LONGEST = 24 * 3600.0  # seconds from a scenario's start to its last step, at most: a day
MOST_REPEATS = 1000  # each repeat is a timer thread while the scenario plays


class ScenarioError(Exception):
    """A scenario file that cannot be played; the message names the file and what is wrong."""


class Subject(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Which elder the scenario happens to: the first of the manifest (in a seeded order) that fits."""

    code: str | None = None
    lives_alone: bool | None = None
    device: str | None = None  # the elder has a device of this type
    min_ability: int = 0


class Step(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    at: float
    action: Action
    device: str | None = None
    event: str | None = None
    values: dict[str, float] = {}
    repeat: int = 1
    every: float = 10.0
    count: int = 1


class Scenario(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    name: str
    title: str
    subject: Subject
    steps: list[Step]
    description: str = ""


def _check(scenario: Scenario, where: str) -> None:
    def fail(message: str) -> None:
        raise ScenarioError(f"{where}: {message}")

    if scenario.subject.device is not None and scenario.subject.device not in DEVICE_TYPES:
        fail(f"subject.device {scenario.subject.device!r} is not a device type ({', '.join(DEVICE_TYPES)})")
    for n, step in enumerate(scenario.steps, start=1):
        label = f"step {n} ({step.action})"
        if step.at < 0 or not 1 <= step.repeat <= MOST_REPEATS or step.every <= 0 or step.count < 1:
            fail(f"{label}: at must be >= 0, repeat 1 to {MOST_REPEATS}, count >= 1, every > 0")
        last = step.at + (step.repeat - 1) * step.every if step.repeat > 1 else step.at
        if not last <= LONGEST:  # written so that NaN is refused too
            repeats = f", its last repeat at {last:g} s" if step.repeat > 1 else ""
            fail(f"{label}: at = {step.at:g} s{repeats}; a step happens within a day ({LONGEST:g} s) of the start")
        if step.action in ("event", "telemetry", "offline") and step.device not in DEVICE_TYPES:
            fail(f"{label}: device must be one of {', '.join(DEVICE_TYPES)}, not {step.device!r}")
        if step.action == "event":
            kinds = {str(e) for e in DEVICE_TYPES[str(step.device)].events}
            if step.event not in kinds:
                fail(f"{label}: a {step.device} reports {', '.join(sorted(kinds))}, not {step.event!r}")
        if step.action == "telemetry":
            metrics = DEVICE_TYPES[str(step.device)].metrics
            for metric, value in step.values.items():
                if metric not in metrics:
                    fail(f"{label}: a {step.device} does not report {metric!r} ({', '.join(sorted(metrics))})")
                span = METRIC_RANGES[metric]
                if value not in span:
                    fail(f"{label}: {metric} = {value:g} is outside {span.low:g}..{span.high:g} {span.unit}")


def load(path: Path) -> Scenario:
    """Read and check a scenario file; errors say which file, which step and what was expected."""
    try:
        scenario = msgspec.toml.decode(path.read_bytes(), type=Scenario)
    except FileNotFoundError:
        raise ScenarioError(f"no scenario file at {path}") from None
    except (msgspec.ValidationError, msgspec.DecodeError) as err:
        raise ScenarioError(f"{path}: {err}") from None
    _check(scenario, str(path))
    return scenario


def bundled() -> list[Path]:
    """The scenarios that come with the platform, in the order the demo plays them."""
    return sorted(SCENARIOS_DIR.glob("*.toml"))


@dataclass(frozen=True, slots=True)
class Elder:
    """An elder as the manifest describes one."""

    id: int
    code: str
    address: str
    lives_alone: bool
    ability_level: int
    devices: dict[str, str]  # device type -> device id


def elders_from_manifest(path: Path) -> list[Elder]:
    data = json.loads(path.read_text(encoding="utf-8"))
    types = {d["id"]: d["type"] for d in data.get("devices", [])}
    return [
        Elder(
            int(e["id"]),
            str(e["code"]),
            str(e.get("address", "")),
            bool(e.get("lives_alone", False)),
            int(e.get("ability_level", 0)),
            {types[d]: d for d in reversed(e.get("devices", [])) if d in types},
        )
        for e in data.get("elders", [])
    ]


def choose_subject(scenario: Scenario, elders: Iterable[Elder], *, seed: int = 1, avoid: Collection[int] = ()) -> Elder:
    """The elder the scenario happens to: seeded, so the same seed picks the same elder; ``avoid`` skips ids."""
    want = scenario.subject
    fits = [
        e
        for e in elders
        if (want.code is None or e.code == want.code)
        and (want.lives_alone is None or e.lives_alone == want.lives_alone)
        and (want.device is None or want.device in e.devices)
        and e.ability_level >= want.min_ability
        and all(step.device is None or step.device in e.devices for step in scenario.steps)
    ]
    fresh = [e for e in fits if e.id not in avoid] or fits
    if not fresh:
        raise ScenarioError(f"scenario {scenario.name}: no elder in the manifest fits its subject {want}")
    return random.Random(f"{seed}:{scenario.name}").choice(fresh)


class Stage:
    """What a scenario acts on: the fleet's devices and (optionally) the simulated caregivers."""

    def __init__(self, fleet: Any, caregivers: Any | None = None) -> None:
        self.fleet = fleet
        self.caregivers = caregivers

    def perform(self, step: Step, elder: Elder) -> None:
        device_id = elder.devices.get(step.device or "", "")
        if step.action == "event":
            self.fleet.send_event(device_id, str(step.event))
        elif step.action == "telemetry":
            self.fleet.send_telemetry(device_id, **{k: _as_reading(k, v) for k, v in step.values.items()})
        elif step.action == "offline":
            self.fleet.drop(device_id)
        elif step.action == "silence":
            if self.caregivers is None:
                raise ScenarioError("a silence step needs the simulated caregivers")
            if not elder.address:
                raise ScenarioError("the manifest gives no address for the elder; re-run `eldercare seed`")
            self.caregivers.ignore_offers(elder.address, step.count)


def _as_reading(metric: str, value: float) -> float | int:
    return round(value) if METRIC_RANGES[metric].integer else value


class Player:
    """Plays scenarios on a stage in background timers; ``log_line`` hears what happens, for people."""

    def __init__(self, stage: Stage, log_line: Callable[[str], None] = log.info, speed: float = 1.0) -> None:
        self.stage = stage
        self.log_line = log_line
        self.speed = speed
        self._timers: list[threading.Timer] = []
        self.played: list[tuple[str, Elder, Step]] = []
        self._lock = threading.Lock()

    def play(self, scenario: Scenario, elder: Elder, *, delay: float = 0.0) -> None:
        self.log_line(f"scenario {scenario.name}: {scenario.title} — elder {elder.code}")
        self._timers = [t for t in self._timers if t.is_alive()]  # a long rotation keeps only those to come
        for step in scenario.steps:
            for n in range(step.repeat):
                at = delay + (step.at + n * step.every) / self.speed
                timer = threading.Timer(at, self._perform, (scenario, elder, step))
                timer.daemon = True
                timer.start()
                self._timers.append(timer)

    def _perform(self, scenario: Scenario, elder: Elder, step: Step) -> None:
        try:
            self.stage.perform(step, elder)
        except Exception as err:  # a failed step is reported; the others go on
            self.log_line(f"scenario {scenario.name}: step {step.action} failed: {err}")
            return
        with self._lock:
            self.played.append((scenario.name, elder, step))
        what = step.event or ", ".join(f"{k}={v:g}" for k, v in step.values.items()) or step.action
        self.log_line(f"scenario {scenario.name}: {elder.code} {step.device or 'caregivers'}: {what}")

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every step has been performed; False if ``timeout`` passed first."""
        for timer in list(self._timers):
            timer.join(timeout)
            if timer.is_alive():
                return False
        return True

    def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()


class Rotation:
    """The scenarios played in turn, one every ``every`` seconds for as long as it runs, each to a fitting elder
    with no live alarm who was not among the last few played; ``every`` 0 plays each once, all at once."""

    def __init__(
        self,
        player: Player,
        scenarios: Sequence[Scenario],
        elders: Sequence[Elder],
        *,
        every: float,
        seed: int = 1,
        busy: Callable[[], Collection[int]] = frozenset,
    ) -> None:
        self.player = player
        self.scenarios = scenarios
        self.elders = elders
        self.every = every
        self.seed = seed
        self.busy = busy
        self._recent: deque[int] = deque(maxlen=max(1, len(scenarios)))

    def play(self, n: int) -> None:
        """Play the ``n``-th scenario of the rotation (counting from 0)."""
        scenario = self.scenarios[n % len(self.scenarios)]
        avoid = {*self.busy(), *self._recent}
        elder = choose_subject(scenario, self.elders, seed=self.seed + n // len(self.scenarios), avoid=avoid)
        self._recent.append(elder.id)
        self.player.play(scenario, elder)

    def run(self, stop: threading.Event) -> None:
        """Play until ``stop`` is set (or, with ``every`` 0, each scenario once); a scenario no elder fits is
        reported and the rotation goes on."""
        n = 0
        while self.scenarios and not stop.is_set() and (self.every or n < len(self.scenarios)):
            try:
                self.play(n)
            except ScenarioError as err:
                self.player.log_line(str(err))
            n += 1
            if self.every:
                stop.wait(self.every)


def command(
    files: Annotated[list[Path], typer.Argument(help="scenario files (TOML); see simulators/scenarios/")],
    manifest: Annotated[Path, typer.Option(help="the manifest written by `eldercare seed`")] = Path(
        "var/manifest.json"
    ),
    mqtt_url: Annotated[str | None, typer.Option(help="the broker (default: ELDERCARE_MQTT_URL)")] = None,
    twilio: Annotated[
        str | None, typer.Option(help="the Twilio stand-in's URL, for scenarios whose caregivers stay silent")
    ] = None,
    seed: Annotated[int, typer.Option(help="chooses which fitting elder each scenario happens to")] = 1,
    speed: Annotated[float, typer.Option(min=0.01, help="play the steps this many times faster")] = 1.0,
) -> None:
    """Play scenario files against a running platform: the subject elder's devices publish over MQTT.

    Each file names its subject (e.g. an elder living alone with a fall detector) and timed steps: events,
    readings, a device going offline, caregivers who do not answer. See simulators/scenarios/ for examples.
    """
    from devices import ManifestError, load_devices
    from eldercare.component import StopRequested
    from eldercare.config import SettingsError, load_settings
    from eldercare.mqtt import BrokerAddress
    from simulators.caregivers import Behaviour, SimulatedCaregivers, phones_from_manifest
    from simulators.device_fleet import Fleet, homes_from_manifest
    from simulators.fleet import none_connected

    try:
        scenarios = [load(path) for path in files]
        url = mqtt_url or load_settings().mqtt_url
        if not url:
            raise ScenarioError("no broker: set ELDERCARE_MQTT_URL or pass --mqtt-url mqtt://host:port")
        elders = elders_from_manifest(manifest)
        chosen = [(s, choose_subject(s, elders, seed=seed)) for s in scenarios]
        ids = {device for _, elder in chosen for device in elder.devices.values()}
        devices = [d for d in load_devices(manifest) if d.id in ids]
        broker = BrokerAddress.parse(url)
    except (ScenarioError, SettingsError, ManifestError, ValueError, OSError) as err:
        typer.echo(f"eldercare: {err}", err=True)
        raise typer.Exit(2) from None
    silent = any(step.action == "silence" for s in scenarios for step in s.steps)
    if silent and twilio is None:
        typer.echo("eldercare: a scenario has caregivers who stay silent; pass --twilio URL of the stand-in", err=True)
        raise typer.Exit(2)
    stop = StopRequested().install()
    fleet = Fleet(devices, broker, homes=homes_from_manifest(manifest), seed=seed)
    connected = fleet.start(timeout=CONNECT_SECONDS)
    if devices and not connected:
        none_connected(fleet, broker, CONNECT_SECONDS, f"none of the {len(devices)} devices of the scenarios' elders")
    crowd = SimulatedCaregivers(twilio, phones_from_manifest(manifest), Behaviour(), seed) if twilio else None
    player = Player(Stage(fleet, crowd), log_line=typer.echo, speed=speed)
    crowd_thread = None
    if crowd is not None:
        crowd_thread = threading.Thread(target=crowd.run, args=(stop.event,), daemon=True)
        crowd_thread.start()
    for scenario, elder in chosen:
        player.play(scenario, elder)
    try:
        while not stop.event.wait(0.5):
            if player.wait(0):
                fleet.wait_acknowledged(10)
                break
    finally:
        player.stop()
        stop.event.set()
        if crowd_thread is not None:
            crowd_thread.join(5)
        fleet.stop()
    typer.echo(f"played {len(player.played)} steps of {len(scenarios)} scenarios")
