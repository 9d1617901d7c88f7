"""The attendance-time chart: how long elders waited for a caregiver at the door, per dispatcher."""

from __future__ import annotations

from pathlib import Path
from typing import Any

COLOURS = {"smart": "#1b7837", "nearest": "#b2182b", "planned": "#2166ac"}
SHOWN_MINUTES = 180


def _cumulative(minutes: list[float], total: int) -> tuple[list[float], list[float]]:
    xs = [0.0, *minutes, float(SHOWN_MINUTES)]
    ys = [0.0, *((i + 1) / total for i in range(len(minutes))), len(minutes) / total]
    return xs, ys


def attendance_png(report: dict[str, Any], path: Path) -> Path:
    """Write the share attended by minute (with the roster's best case) and a histogram to ``path``."""
    from eldercare.embedded import require

    matplotlib = require("matplotlib", "the simulated day's chart")
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, (cdf, hist) = plt.subplots(1, 2, figsize=(13, 5), constrained_layout=True)
    bound_drawn = False
    groups, labels, colours = [], [], []
    for name, figures in report["dispatchers"].items():
        found = figures["emergencies"]
        total = found["count"]
        if not total:
            continue
        minutes = found["attendance_minutes"]
        late = sum(1 for m in minutes if m > SHOWN_MINUTES) + found["never_attended"]
        shown = [m for m in minutes if m <= SHOWN_MINUTES]
        colour = COLOURS.get(name)
        label = f"{name}: {total} emergencies, {late} not attended within {SHOWN_MINUTES} min"
        cdf.step(*_cumulative(shown, total), where="post", color=colour, linewidth=2, label=label)
        if not bound_drawn:
            bound = [m for m in found.get("roster_bound_minutes", []) if m <= SHOWN_MINUTES]
            cdf.step(
                *_cumulative(bound, total),
                where="post",
                color="grey",
                linestyle=":",
                label="best the roster allows (everyone free, at home, answering at once)",
            )
            bound_drawn = True
        groups.append([min(m, SHOWN_MINUTES + 2.5) for m in minutes])
        labels.append(name)
        colours.append(colour)
    if groups:
        hist.hist(groups, bins=range(0, SHOWN_MINUTES + 10, 5), color=colours, label=labels)
    for limit, share in ((45, 0.90), (60, 1.0)):
        cdf.plot([limit], [share], marker="o", color="black", markersize=7, linestyle="none")
        cdf.annotate(f"target: {share:.0%} by {limit} min", (limit, share), textcoords="offset points", xytext=(8, 4))
    for axis in (cdf, hist):
        for limit in (30, 45, 60):
            axis.axvline(limit, color="grey", linewidth=0.8, linestyle="--")
        axis.set_xlabel("minutes from alarm to caregiver at the door")
        axis.set_xlim(0, SHOWN_MINUTES + 10)
        if axis.get_legend_handles_labels()[0]:
            axis.legend(loc="lower right" if axis is cdf else "upper right", fontsize=8)
    cdf.set_ylabel("share of emergencies attended")
    cdf.set_ylim(0, 1.08)
    hist.set_ylabel(f"emergencies per 5 minutes (last bar: over {SHOWN_MINUTES} min)")
    fig.suptitle(
        f"Attendance times, simulated day {report['day']}: {report['elders']:,} elders, "
        f"{report['caregivers']:,} caregivers, seed {report['seed']}"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
