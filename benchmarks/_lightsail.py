# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Lightsail: ``lightsail_snapshot`` against community.aws's, and the whole Windows procedure against the seed's sequence.

The Windows procedure reuses demo chapter 20 (tools/demo/chapter_20_lightsail_windows.py): its ``run_ours`` runs the AWX
playbook with Sysprep through WinRM on the emulated guest, its ``DowntimeMeter`` adds up the simulated time the instance
is not running. The anchor is the demo's community.aws playbook with one change: its wait for the Sysprep shutdown
(``community.aws.lightsail: state=stopped``) is retried, because that module reads the state before waiting for a
transition to end and then calls StopInstance on the instance Sysprep has meanwhile stopped, which fails (see the report).
"""

from __future__ import annotations

import contextlib
import datetime
import io
import pathlib
import time


import chapter_20_lightsail_windows as chapter_20  # tools/demo, on sys.path through _common
from _common import REPO_ROOT
from _common import chart_ratios
from _common import comparison_table
from _common import count_calls
from _common import first_poll_after
from _common import fresh_clouds
from _common import local_play
from _common import when
from _common import write_play

SPEED = chapter_20.SPEED  # slow enough that both sides' polling (community.aws: a fixed 5 s) stays small in simulated time
SETTINGS = chapter_20.SETTINGS
QUICK_SETTINGS = {"instance_transition_seconds": 10, "snapshot_seconds_base": 30, "snapshot_seconds_per_gib": 0, "windows_password_seconds": 20}
INSTANCE = "bench-1"
SNAPSHOT_READS = ("GetInstanceSnapshot", "GetInstanceSnapshots", "GetOperation", "GetOperations")
SNAPSHOT_METRICS = ("wall_seconds", "api_calls", "detection_latency_seconds", "detection_latency_simulated_seconds")
WINDOWS_METRICS = ("wall_seconds", "api_calls", "not_running_simulated_minutes", "instance_snapshots", "refused_calls")
ANCHOR_PLAYBOOK = REPO_ROOT / "tools" / "demo" / "lightsail_windows_community_aws.yml"


def snapshot_task(module):
    return {"name": f"{module}: one snapshot, waiting until available",
            module: {"instance_name": INSTANCE, "snapshot_name": f"{INSTANCE}-bench", "endpoint_url": "{{ bench_endpoint }}"}}


def measure_snapshot(sim, module, settings, workdir):
    """One snapshot of one (Linux) instance: calls, wall time, and how long after it became available the module knew."""
    fresh_clouds(sim, SPEED)
    sim.lightsail_config(**settings)
    sim.seed_lightsail_instance(INSTANCE)
    playbook = write_play(workdir, "lightsail-snapshot.yml", local_play("Lightsail snapshot benchmark", [snapshot_task(module)]))
    wall = chapter_20_ansible(sim, playbook, {"bench_endpoint": sim.lightsail_url})
    journal = sim.journal(service="lightsail")
    create = next(e for e in journal if e["action"] == "CreateInstanceSnapshot")
    available = when(create["sim_time"]) + datetime.timedelta(seconds=settings["snapshot_seconds_base"])  # snapshot_seconds_per_gib is 0
    seen = first_poll_after(journal, SNAPSHOT_READS, available)
    latency = (seen - available).total_seconds() if seen else None
    calls = count_calls(journal)
    return {"wall_seconds": round(wall, 2), "api_calls": sum(calls.values()), "api_calls_by_action": calls,
            "detection_latency_seconds": round(latency / SPEED, 3) if seen else None,
            "detection_latency_simulated_seconds": round(latency, 1) if seen else None}


def chapter_20_ansible(sim, playbook, extra_vars):
    """The demo's ``playbook`` runner (credentials and endpoints of the local cloud); wall time, raising on failure."""
    began = time.monotonic()
    process = chapter_20.playbook(sim, playbook, extra_vars)
    wall = time.monotonic() - began
    if process.returncode != 0:
        raise RuntimeError(f"benchmark playbook {pathlib.Path(playbook).name} failed:\n{process.stdout[-3000:]}\n{process.stderr[-3000:]}")
    return wall


def windows_figures(sim, since, downtime, wall):
    """Calls, downtime, snapshots made, and calls the cloud refused (lookups of names not taken yet aside: both sides make them)."""
    entries = sim.journal(service="lightsail", since=since)
    calls = count_calls(entries)
    return {"wall_seconds": round(wall, 2), "api_calls": sum(calls.values()), "api_calls_by_action": calls,
            "not_running_simulated_minutes": round(downtime / 60, 2), "instance_snapshots": calls.get("CreateInstanceSnapshot", 0),
            "refused_calls": sum(1 for e in entries if e["status"] >= 400 and "NotFound" not in (e["error_code"] or ""))}


def windows_ours(sim, workdir):
    """The AWX playbook through demo chapter 20 (its own instance win-1, Sysprep over WinRM); its narration is kept out of our output."""
    narration = io.StringIO()
    with contextlib.redirect_stdout(narration):
        result = chapter_20.run_ours(sim, pathlib.Path(workdir))
    if result is None:
        raise RuntimeError(f"the lightsail_instance_snapshot playbook failed:\n{narration.getvalue()[-4000:]}")
    counts, downtime, wall = result
    del counts  # windows_figures reads the journal itself, for the failed calls too
    return windows_figures(sim, 0, downtime, wall)


def windows_anchor(sim):
    sim.seed_lightsail_instance("win-2", blueprint="windows")
    since = sim.journal()[-1]["seq"] if sim.journal() else 0
    with chapter_20.DowntimeMeter(sim, "win-2") as meter:
        wall = chapter_20_ansible(sim, ANCHOR_PLAYBOOK, {"demo_instance": "win-2", "demo_endpoint_url": sim.lightsail_url,
                                                         "demo_control_url": sim.control_url})
    return windows_figures(sim, since, meter.seconds, wall)


def fresh(sim, settings):
    fresh_clouds(sim, SPEED)
    sim.lightsail_config(**settings)


def section(sim, workdir, quick):
    settings = QUICK_SETTINGS if quick else SETTINGS
    ours = measure_snapshot(sim, "snapkit.cloud.lightsail_snapshot", settings, workdir)
    anchor = measure_snapshot(sim, "community.aws.lightsail_snapshot", settings, workdir)
    fresh(sim, settings)
    windows = {"ours": windows_ours(sim, workdir)}
    fresh(sim, settings)
    windows["anchor"] = windows_anchor(sim)
    snapshot_title = (f"Lightsail, one instance: snapkit.cloud.lightsail_snapshot vs community.aws.lightsail_snapshot "
                      f"(snapshot {settings['snapshot_seconds_base']:.0f} simulated s, clock {SPEED}x)")
    windows_title = (f"Lightsail Windows procedure (backup snapshot, Sysprep, Sysprep snapshot): role lightsail_instance_snapshot "
                     f"vs the seed's sequence with community.aws (transitions {settings['instance_transition_seconds']:.0f} s, "
                     f"snapshots {settings['snapshot_seconds_base']:.0f} s simulated, clock {SPEED}x)")
    markdown = (comparison_table(snapshot_title, ours, anchor, SNAPSHOT_METRICS) + "\n"
                + comparison_table(windows_title, windows["ours"], windows["anchor"], WINDOWS_METRICS))
    ratios = (chart_ratios("Lightsail snapshot", ours, anchor, ("wall_seconds", "api_calls", "detection_latency_seconds"))
              + chart_ratios("Lightsail Windows", windows["ours"], windows["anchor"], ("wall_seconds", "api_calls", "not_running_simulated_minutes")))
    return {"key": "lightsail", "markdown": markdown, "ratios": ratios,
            "json": {"speed": SPEED, "settings": settings, "snapshot": {"title": snapshot_title, "ours": ours, "anchor": anchor},
                     "windows": dict(windows, title=windows_title)}}
