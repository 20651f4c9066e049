# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What every benchmark section shares: running a playbook, counting journal entries, ratios and comparison tables."""

from __future__ import annotations

import collections
import datetime
import json
import os
import pathlib
import subprocess
import sys
import time

import yaml

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
for _path in (REPO_ROOT / "tests", REPO_ROOT / "tools" / "demo"):  # cloudsim's client; the demo chapters' helpers
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

CLOUD_NAME = "devstack"  # the OpenStack cloud in the clouds.yaml the benchmark writes, as AWX names it in our tests


def collections_path():
    return os.environ.get("ANSIBLE_COLLECTIONS_PATH") or str(REPO_ROOT / ".build" / "collections")


def write_play(workdir, name, play):
    path = pathlib.Path(workdir) / name
    path.write_text(yaml.safe_dump(play, sort_keys=False))
    return path


def local_play(name, tasks, **extra):
    """A play on localhost with the benchmark's interpreter (the venv, which has boto3 and openstacksdk)."""
    return [dict({"name": name, "hosts": "localhost", "connection": "local", "gather_facts": False,
                  "vars": {"ansible_python_interpreter": sys.executable}}, **extra, tasks=tasks)]


def ansible_playbook(playbook, env, inventory="localhost,", extra_vars=None):
    """Run ``ansible-playbook``; the wall time in real seconds. Raises on failure with the output's tail."""
    command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(playbook)]
    if extra_vars:
        command += ["-e", json.dumps(extra_vars)]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false", **env)
    began = time.monotonic()
    process = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.monotonic() - began
    if process.returncode != 0:
        raise RuntimeError(f"benchmark playbook {pathlib.Path(playbook).name} failed:\n{process.stdout[-3000:]}\n{process.stderr[-3000:]}")
    return wall


def fresh_clouds(sim, speed):
    """Reset the clouds for one measurement, with the visibility delay of new resources off.

    The anchors do not survive EC2's and Lightsail's eventual consistency: amazon.aws ``ec2_snapshot``'s botocore
    waiter fails on the ``InvalidSnapshot.NotFound`` of a snapshot EC2 does not show yet (the reliability suite checks
    that ours wait it out). So that both sides finish, ours and the anchors are measured without the delay.
    """
    sim.reset(speed=speed)
    sim.ec2_config(visibility_delay_min_seconds=0, visibility_delay_max_seconds=0)
    sim.lightsail_config(visibility_delay_seconds=0)


def when(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def count_calls(entries, key=lambda entry: entry["action"]):
    """``{key: count}`` of journal entries, sorted by key."""
    return dict(sorted(collections.Counter(key(entry) for entry in entries).items()))


def service_action(entry):
    return f"{entry['service']} {entry['action']}"


def first_poll_after(entries, actions, moment):
    """Simulated time of the first call of ``actions`` at or after ``moment`` (a datetime), or None."""
    return min((when(e["sim_time"]) for e in entries if e["action"] in actions and when(e["sim_time"]) >= moment), default=None)


def ratio(ours, anchor):
    if ours is None or anchor in (None, 0):
        return "n/a" if anchor != 0 or ours != 0 else "1.00"
    return f"{ours / anchor:.2f}"


def comparison_table(title, ours, anchor, metrics, labels=("ours", "anchor")):
    """Markdown: one row per metric and per API call (``api_calls_by_action``), ours next to the anchor and the ratio."""
    rows = [f"### {title}", "", f"| metric | {labels[0]} | {labels[1]} | ours/anchor |", "| --- | ---: | ---: | ---: |"]
    for metric in metrics:
        rows.append(f"| {metric} | {ours[metric]} | {anchor[metric]} | {ratio(ours[metric], anchor[metric])} |")
    rows += call_rows(ours, anchor)
    return "\n".join(rows) + "\n"


def call_rows(ours, anchor, first_cells="|"):
    """Markdown rows ``calls: <action> | ours | anchor | ratio`` for every action either side called."""
    rows = []
    for action in sorted(set(ours["api_calls_by_action"]) | set(anchor["api_calls_by_action"])):
        mine, theirs = ours["api_calls_by_action"].get(action, 0), anchor["api_calls_by_action"].get(action, 0)
        rows.append(f"{first_cells} calls: {action} | {mine} | {theirs} | {ratio(mine, theirs)} |")
    return rows


def chart_ratios(prefix, ours, anchor, metrics):
    """``[(label, ours/anchor)]`` for the chart: only metrics where both sides have a figure and the anchor's is not 0."""
    return [(f"{prefix}: {metric}", ours[metric] / anchor[metric]) for metric in metrics
            if ours.get(metric) is not None and anchor.get(metric)]
