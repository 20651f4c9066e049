# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The benchmark's outputs: results.json, results.md and results.png (the ratios ours/anchor as a bar chart)."""

from __future__ import annotations

import json
import os

import matplotlib

matplotlib.use("Agg")  # no display: render to a file

from matplotlib import pyplot  # noqa: E402  pylint: disable=wrong-import-position

CHART = "results.png"
FLOOR = 0.01  # where a ratio of 0 is drawn on the log scale


def load_average():
    return "/".join(f"{value:.2f}" for value in os.getloadavg())


def notes(run):
    """The paragraph that says under which conditions the figures were measured."""
    ended = run.get("load_average_end", "(still running)")
    return (f"Notes on this run ({run['date']}, `{run['command']}`): load average (1/5/15 min) {run['load_average_start']} at the start "
            f"and {ended} at the end, on {run['cpus']} CPUs. Wall times depend on that load; API call counts do not.\n")


def markdown(sections, run, speeds):
    """results.md: every section's tables, the chart, the run's notes."""
    clocks = ", ".join(f"{name} {speed}x" for name, speed in speeds.items())
    text = ("# snapkit.cloud benchmarks\n\n"
            f"Simulated clocks: {clocks}; times in real seconds unless marked simulated. Ratios are ours / anchor: below 1.00 "
            "ours is faster or makes fewer calls. How to read each row: [docs/benchmarks.md](../../docs/benchmarks.md).\n\n"
            f"![Ratios ours/anchor for every comparison]({CHART})\n\n")
    text += "\n".join(section["markdown"] for section in sections)
    return text + "\n" + notes(run)


def chart(path, sections):
    """Horizontal bars, one per ratio, on a log scale (0.1 and 10 are as far from parity), the parity line at 1, each value written out.

    A ratio of 0 (ours has no start skew at all, for example) is drawn at ``FLOOR``; its label still says 0.00.
    """
    ratios = [pair for section in sections for pair in section["ratios"]]
    labels, values = [label for label, _value in ratios], [value for _label, value in ratios]
    figure, axes = pyplot.subplots(figsize=(11, 0.3 * len(ratios) + 1.6))
    colours = ["#2b8a3e" if value <= 1 else "#c92a2a" for value in values]
    axes.barh(range(len(values)), [max(value, FLOOR) for value in values], color=colours)
    axes.set_xscale("log")
    axes.set_yticks(range(len(values)), labels, fontsize=8)
    axes.invert_yaxis()
    axes.axvline(1.0, color="black", linewidth=1)
    for index, value in enumerate(values):
        axes.text(max(value, FLOOR), index, f" {value:.2f}", va="center", fontsize=7)
    axes.set_xlabel("ours / anchor, log scale (below 1: ours is faster, waits less or makes fewer calls)")
    axes.set_title("snapkit.cloud against amazon.aws, community.aws, openstack.cloud and openstacksdk")
    axes.set_xlim(FLOOR * 0.8, max(values + [1.0]) * 3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)


def write(results_dir, sections, run, speeds):
    report = {"speeds": speeds, "run": run, **{section["key"]: section["json"] for section in sections}}
    (results_dir / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    (results_dir / "results.md").write_text(markdown(sections, run, speeds))
    if any(section["ratios"] for section in sections):
        chart(results_dir / CHART, sections)
