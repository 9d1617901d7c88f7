"""The attendance-time chart: how long elders waited for a caregiver at the door, per dispatcher."""

from __future__ import annotations

from pathlib import Path
from typing import Any

COLOURS = {"smart": "#1b7837", "nearest": "#b2182b"}


def attendance_png(report: dict[str, Any], path: Path) -> Path:
    """Write the cumulative share attended by minute and a histogram, both dispatchers on each, to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, (cdf, hist) = plt.subplots(1, 2, figsize=(12, 4.8), constrained_layout=True)
    longest = 60.0
    for name, figures in report["dispatchers"].items():
        found = figures["emergencies"]
        minutes = found["attendance_minutes"]
        total = found["count"]
        if not total:
            continue
        longest = max(longest, *minutes) if minutes else longest
        colour = COLOURS.get(name)
        xs = [0.0, *minutes]
        ys = [0.0, *((i + 1) / total for i in range(len(minutes)))]
        cdf.step(xs, ys, where="post", color=colour, label=f"{name} ({total} emergencies)")
        hist.hist(minutes, bins=range(0, int(longest) + 6, 5), alpha=0.5, color=colour, label=name)
    for limit, share in ((45, 0.90), (60, 1.0)):
        cdf.plot([limit], [share], marker="v", color="black", markersize=9, linestyle="none")
        cdf.annotate(f"target {share:.0%} by {limit} min", (limit, share), textcoords="offset points", xytext=(6, -14))
    for axis in (cdf, hist):
        for limit in (30, 45, 60):
            axis.axvline(limit, color="grey", linewidth=0.8, linestyle="--")
        axis.set_xlabel("minutes from alarm to caregiver at the door")
        axis.set_xlim(0, max(75.0, longest + 5))
        if axis.get_legend_handles_labels()[0]:
            axis.legend(loc="lower right" if axis is cdf else "upper right")
    cdf.set_ylabel("share of emergencies attended")
    cdf.set_ylim(0, 1.05)
    hist.set_ylabel("emergencies")
    fig.suptitle(
        f"Attendance times, simulated day {report['day']}: {report['elders']:,} elders, "
        f"{report['caregivers']:,} caregivers, seed {report['seed']}"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
