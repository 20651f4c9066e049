# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Per-task overhead: one read-only call through our module against the anchor's module for the same call.

Each module runs N times in one playbook (a loop of N items: N full module runs, each its own Python process); the mean
is the time between two timestamps taken by the play around the loop, so ansible-playbook's own start is left out.
Import time is ``python -X importtime`` of the module file in a fresh interpreter (the best of a few runs).
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys

from _common import CLOUD_NAME
from _common import ansible_playbook
from _common import call_rows
from _common import chart_ratios
from _common import collections_path
from _common import count_calls
from _common import fresh_clouds
from _common import local_play
from _common import ratio
from _common import service_action
from _common import write_play
from _openstack import clouds_yaml

SPEED = 600
REPEATS = {"quick": 3, "full": 20}
IMPORT_RUNS = {"quick": 2, "full": 5}  # the best run: the first one may read cold files from disk
METRICS = ("mean_task_seconds", "api_calls_per_task", "import_seconds")

# (label, ours, anchor): a module and its arguments each, the same read on an empty account.
PAIRS = (
    ("EC2 snapshot lookup (empty account)",
     ("snapkit.cloud.ebs_snapshot_set_info", {"endpoint_url": "{{ bench_ec2 }}"}),
     ("amazon.aws.ec2_snapshot_info", {"owner_ids": ["self"], "endpoint_url": "{{ bench_ec2 }}"})),
    ("Lightsail snapshot lookup (community.aws: lightsail_snapshot, check mode)",
     ("snapkit.cloud.lightsail_snapshot_info", {"endpoint_url": "{{ bench_lightsail }}"}),
     ("community.aws.lightsail_snapshot", {"instance_name": "none", "snapshot_name": "bench-none", "endpoint_url": "{{ bench_lightsail }}"})),
    ("Cinder snapshot list (empty project)",
     ("snapkit.cloud.os_volume_snapshot_info", {"cloud": CLOUD_NAME}),
     ("openstack.cloud.volume_snapshot_info", {"cloud": CLOUD_NAME})),
)


def timed_loop(module, arguments, repeats, result_file):
    """Timestamps before and after ``repeats`` runs of the module, written to ``result_file`` as JSON."""
    stamp = "{{ lookup('ansible.builtin.pipe', 'date +%s.%N') }}"
    task = {"name": f"{module} x {repeats}", module: arguments, "loop": list(range(repeats))}
    if module == "community.aws.lightsail_snapshot":
        task["check_mode"] = True  # read only: it looks the snapshot up and stops
    return [{"name": "Time before", "ansible.builtin.set_fact": {"bench_began": stamp}}, task,
            {"name": "Time after", "ansible.builtin.set_fact": {"bench_ended": stamp}},
            {"name": "Save", "ansible.builtin.copy": {"dest": str(result_file), "mode": "0600",
                                                      "content": "{{ {'began': bench_began | float, 'ended': bench_ended | float} | to_json }}"}}]


def import_seconds(module, runs):
    """Cumulative import time of the module in a fresh interpreter, as ``-X importtime`` reports it (best of ``runs``)."""
    namespace, collection, name = module.split(".")
    dotted = f"ansible_collections.{namespace}.{collection}.plugins.modules.{name}"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([collections_path(), os.environ.get("PYTHONPATH", "")]))
    best = None
    for _run in range(runs):
        process = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {dotted}"], env=env, capture_output=True, text=True, check=True)
        line = next(line for line in process.stderr.splitlines() if line.rstrip().endswith("| " + dotted))
        seconds = int(re.split(r"\s*\|\s*", line)[1]) / 1e6
        best = seconds if best is None else min(best, seconds)
    return round(best, 3)


def measure(sim, module, arguments, size, workdir):
    fresh_clouds(sim, SPEED)
    env = dict(sim.aws_env(), OS_CLIENT_CONFIG_FILE=str(clouds_yaml(sim, workdir)))
    repeats = REPEATS[size]
    result_file = pathlib.Path(workdir) / "overhead.json"
    playbook = write_play(workdir, "overhead.yml", local_play("Per-task overhead", timed_loop(module, arguments, repeats, result_file)))
    ansible_playbook(playbook, env, extra_vars={"bench_ec2": sim.ec2_url, "bench_lightsail": sim.lightsail_url})
    times = json.loads(result_file.read_text())
    calls = count_calls(sim.journal(), key=service_action)
    return {"module": module, "repeats": repeats, "mean_task_seconds": round((times["ended"] - times["began"]) / repeats, 3),
            "api_calls_per_task": round(sum(calls.values()) / repeats, 2), "api_calls_by_action": calls,
            "import_seconds": import_seconds(module, IMPORT_RUNS[size])}


def table(results):
    rows = [f"### Per-task overhead: mean of {results[0]['ours']['repeats']} runs of one read-only task, and the module's import time", "",
            "| call | metric | ours | anchor | ours/anchor |", "| --- | --- | ---: | ---: | ---: |"]
    for entry in results:
        ours, anchor = entry["ours"], entry["anchor"]
        rows.append(f"| {entry['label']} | module | {ours['module']} | {anchor['module']} | |")
        for metric in METRICS:
            rows.append(f"| {entry['label']} | {metric} | {ours[metric]} | {anchor[metric]} | {ratio(ours[metric], anchor[metric])} |")
        rows += call_rows(ours, anchor, first_cells=f"| {entry['label']} |")
    return "\n".join(rows) + "\n"


def section(sim, workdir, quick):
    size = "quick" if quick else "full"
    results = [{"label": label, "ours": measure(sim, *ours, size, workdir), "anchor": measure(sim, *anchor, size, workdir)}
               for label, ours, anchor in PAIRS]
    ratios = [pair for entry in results
              for pair in chart_ratios(f"Overhead {entry['ours']['module'].split('.')[-1]}", entry["ours"], entry["anchor"],
                                       ("mean_task_seconds", "import_seconds"))]
    return {"key": "overhead", "markdown": table(results), "ratios": ratios, "json": {"pairs": results}}
