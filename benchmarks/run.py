# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""``make bench``: ours against the anchor collections, side by side, on the same local clouds.

Every comparison runs both playbooks in one process against one cloudsim, on identical fresh
fixtures, and reports ratios (ours / anchor) next to the raw figures. Times measured in the
simulated clock are converted back to real seconds at the run's speed.

So far:

* EBS, one instance with 8 volumes: ``snapkit.cloud.ebs_multi_snapshot`` against
  ``amazon.aws.ec2_snapshot`` looped over the instance's devices (the way the anchor documents it);
* EBS fleet, N instances x 4 volumes at a fixed simulated snapshot duration: our role with its one
  fleet wait, our module waiting per host, and the anchor loop per host.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import boto3
import yaml

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests"))

from cloudsim.client import CloudSim  # noqa: E402  pylint: disable=wrong-import-position

RESULTS = REPO_ROOT / "benchmarks" / "results"
SPEED = 600


def volumes(count):
    devices = ["/dev/xvda"] + [f"/dev/sd{chr(ord('f') + n)}" for n in range(count - 1)]
    return [{"size": 8 * (n + 1), "type": "gp3", "device": device} for n, device in enumerate(devices)]


def ours_tasks(instance_id, devices):
    del devices  # one call covers every volume
    return [{
        "name": "snapkit.cloud: one crash-consistent set",
        "snapkit.cloud.ebs_multi_snapshot": {"instance_id": instance_id, "set_name": "bench", "wait_timeout": 7200},
    }]


def anchor_tasks(instance_id, devices):
    return [{
        "name": "amazon.aws: one snapshot per device",
        "amazon.aws.ec2_snapshot": {"instance_id": instance_id, "device_name": "{{ item }}", "wait": True, "wait_timeout": 7200},
        "loop": devices,
    }]


def run_playbook(sim, tasks, workdir):
    play = [{
        "name": "benchmark", "hosts": "localhost", "connection": "local", "gather_facts": False,
        "vars": {"ansible_python_interpreter": sys.executable},
        "module_defaults": {
            "group/snapkit.cloud.aws": {"endpoint_url": sim.endpoints["ec2"]},
            "group/amazon.aws.aws": {"endpoint_url": sim.endpoints["ec2"]},
        },
        "tasks": tasks,
    }]
    path = pathlib.Path(workdir) / "bench.yml"
    path.write_text(yaml.safe_dump(play, sort_keys=False))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.environ.get("ANSIBLE_COLLECTIONS_PATH") or str(REPO_ROOT / ".build" / "collections"),
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
               AWS_ACCESS_KEY_ID="AKIASNAPKITBENCH0001", AWS_SECRET_ACCESS_KEY="snapkit-bench-secret", AWS_REGION=sim.endpoints["region"])
    began = time.monotonic()
    process = subprocess.run([str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", str(path)],
                             env=env, capture_output=True, text=True, check=False)
    wall = time.monotonic() - began
    if process.returncode != 0:
        raise RuntimeError(f"benchmark playbook failed:\n{process.stdout[-3000:]}\n{process.stderr[-3000:]}")
    return wall


def when(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def measure(sim, make_tasks, volume_count, workdir):
    sim.reset(speed=SPEED)
    seeded = sim.seed_instance(volumes=volumes(volume_count))
    devices = [v["device"] for v in seeded["volumes"]]
    wall = run_playbook(sim, make_tasks(seeded["instance_id"], devices), workdir)
    journal = sim.journal(service="ec2")
    client = boto3.client("ec2", **sim.aws_client_kwargs())
    snapshots = client.describe_snapshots(OwnerIds=["self"])["Snapshots"]
    starts = [s["StartTime"] for s in snapshots]
    completions = [s["CompletionTime"] for s in snapshots if s.get("CompletionTime")]
    polls = [when(e["sim_time"]) for e in journal if e["action"] == "DescribeSnapshots"]
    last_completion = max(completions)
    seen = min((p for p in polls if p >= last_completion), default=None)
    calls = {}
    for entry in journal:
        calls[entry["action"]] = calls.get(entry["action"], 0) + 1
    return {
        "snapshots": len(snapshots),
        "wall_seconds": round(wall, 2),
        "api_calls": sum(calls.values()),
        "api_calls_by_action": dict(sorted(calls.items())),
        "start_skew_seconds": round((max(starts) - min(starts)).total_seconds() / SPEED, 3),
        "start_skew_simulated_seconds": round((max(starts) - min(starts)).total_seconds(), 3),
        "detection_latency_seconds": round((seen - last_completion).total_seconds() / SPEED, 3) if seen else None,
    }


FLEET_FORKS = 10
FLEET_SNAPSHOT_SECONDS = 1800  # simulated; 3 s of real time at 600x


def fleet_inventory(workdir, instance_ids):
    path = pathlib.Path(workdir) / "fleet.yml"
    path.write_text(yaml.safe_dump({"all": {
        "hosts": {f"host{n:03d}": {"instance_id": instance_id} for n, instance_id in enumerate(instance_ids)},
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
    }}))
    return path


def fleet_play(tasks):
    return [{"name": "fleet benchmark", "hosts": "all", "gather_facts": False, "tasks": tasks}]


FLEET_VARIANTS = {
    "role, one fleet wait": None,  # playbooks/ebs_instance_snapshot.yml itself
    "module, wait per host": fleet_play([{
        "name": "One set per host, each host waiting for its own",
        "snapkit.cloud.ebs_multi_snapshot": {"instance_id": "{{ instance_id }}", "set_name": "bench", "wait_timeout": 7200,
                                             "endpoint_url": "{{ bench_endpoint }}"},
        "delegate_to": "localhost",
    }]),
    "anchor: ec2_snapshot loop per host": fleet_play([{
        "name": "One snapshot per device, waiting for each",
        "amazon.aws.ec2_snapshot": {"instance_id": "{{ instance_id }}", "device_name": "{{ item }}", "wait": True,
                                    "wait_timeout": 7200, "endpoint_url": "{{ bench_endpoint }}"},
        "loop": ["/dev/xvda", "/dev/sdf", "/dev/sdg", "/dev/sdh"],
        "delegate_to": "localhost",
    }]),
}


def run_fleet_variant(sim, play, instance_ids, workdir):
    inventory = fleet_inventory(workdir, instance_ids)
    if play is None:
        playbook = REPO_ROOT / "playbooks" / "ebs_instance_snapshot.yml"
        extra = {"ebs_instance_snapshot_set_name": "bench", "ebs_instance_snapshot_endpoint_url": sim.endpoints["ec2"],
                 "ebs_instance_snapshot_wait_timeout": 7200}
    else:
        playbook = pathlib.Path(workdir) / "fleet-play.yml"
        playbook.write_text(yaml.safe_dump(play, sort_keys=False))
        extra = {"bench_endpoint": sim.endpoints["ec2"]}
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.environ.get("ANSIBLE_COLLECTIONS_PATH") or str(REPO_ROOT / ".build" / "collections"),
               ANSIBLE_FORKS=str(FLEET_FORKS), AWS_ACCESS_KEY_ID="AKIASNAPKITBENCH0001", AWS_SECRET_ACCESS_KEY="snapkit-bench-secret",
               AWS_REGION=sim.endpoints["region"])
    began = time.monotonic()
    process = subprocess.run([str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(playbook),
                              "-e", json.dumps(extra)], env=env, capture_output=True, text=True, check=False)
    wall = time.monotonic() - began
    if process.returncode != 0:
        raise RuntimeError(f"fleet benchmark playbook failed:\n{process.stdout[-3000:]}\n{process.stderr[-3000:]}")
    return wall


def measure_fleet(sim, play, count, workdir):
    sim.reset(speed=SPEED)
    sim.ec2_config(snapshot_seconds_base=FLEET_SNAPSHOT_SECONDS, snapshot_seconds_per_gib=0)
    instance_ids = [sim.seed_instance(volumes=volumes(4))["instance_id"] for _index in range(count)]
    wall = run_fleet_variant(sim, play, instance_ids, workdir)
    calls = {}
    for entry in sim.journal(service="ec2"):
        calls[entry["action"]] = calls.get(entry["action"], 0) + 1
    limit = FLEET_SNAPSHOT_SECONDS / SPEED
    return {"instances": count, "wall_seconds": round(wall, 2), "wall_over_snapshot_duration": round(wall / limit, 1),
            "api_calls": sum(calls.values()), "api_calls_by_action": dict(sorted(calls.items()))}


def fleet_table(count, results):
    names = list(results)
    anchor = results[names[-1]]
    rows = [f"### EBS fleet: {count} instances x 4 volumes, every snapshot {FLEET_SNAPSHOT_SECONDS} simulated s "
            f"({FLEET_SNAPSHOT_SECONDS / SPEED:.0f} s real), {FLEET_FORKS} forks", "",
            "| metric | " + " | ".join(names) + " | " + " | ".join(f"{n} / anchor" for n in names[:-1]) + " |",
            "| --- |" + " ---: |" * (2 * len(names) - 1)]
    for metric in ("wall_seconds", "wall_over_snapshot_duration", "api_calls"):
        values = [results[n][metric] for n in names]
        rows.append(f"| {metric} | " + " | ".join(str(v) for v in values) + " | "
                    + " | ".join(ratio(results[n][metric], anchor[metric]) for n in names[:-1]) + " |")
    actions = sorted({a for r in results.values() for a in r["api_calls_by_action"]})
    for action in actions:
        values = [results[n]["api_calls_by_action"].get(action, 0) for n in names]
        rows.append(f"| calls: {action} | " + " | ".join(str(v) for v in values) + " | "
                    + " | ".join(ratio(v, values[-1]) for v in values[:-1]) + " |")
    return "\n".join(rows) + "\n"


def ratio(ours, anchor):
    if ours is None or anchor in (None, 0):
        return "n/a" if anchor != 0 or ours != 0 else "1.00"
    return f"{ours / anchor:.2f}"


def table(title, ours, anchor):
    rows = [f"### {title}", "", "| metric | ours | anchor | ours/anchor |", "| --- | ---: | ---: | ---: |"]
    for metric in ("wall_seconds", "api_calls", "start_skew_seconds", "start_skew_simulated_seconds", "detection_latency_seconds"):
        rows.append(f"| {metric} | {ours[metric]} | {anchor[metric]} | {ratio(ours[metric], anchor[metric])} |")
    for action in sorted(set(ours["api_calls_by_action"]) | set(anchor["api_calls_by_action"])):
        mine, theirs = ours["api_calls_by_action"].get(action, 0), anchor["api_calls_by_action"].get(action, 0)
        rows.append(f"| calls: {action} | {mine} | {theirs} | {ratio(mine, theirs)} |")
    return "\n".join(rows) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small fixtures: checks that the benchmark runs")
    args = parser.parse_args()
    count = 3 if args.quick else 8
    fleet_size = 5 if args.quick else 50
    RESULTS.mkdir(parents=True, exist_ok=True)
    with CloudSim.start(speed=SPEED) as sim, tempfile.TemporaryDirectory() as workdir:
        ours = measure(sim, ours_tasks, count, workdir)
        anchor = measure(sim, anchor_tasks, count, workdir)
        fleet = {name: measure_fleet(sim, play, fleet_size, workdir) for name, play in FLEET_VARIANTS.items()}
    title = f"EBS, one instance with {count} volumes: snapkit.cloud.ebs_multi_snapshot vs amazon.aws.ec2_snapshot loop"
    report = {"speed": SPEED, "ebs_instance": {"title": title, "ours": ours, "anchor": anchor}, "ebs_fleet": fleet}
    markdown = f"# snapkit.cloud benchmarks\n\nSimulated clock at {SPEED}x; times in real seconds unless marked simulated.\n\n"
    markdown += table(title, ours, anchor) + "\n" + fleet_table(fleet_size, fleet)
    (RESULTS / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "results.md").write_text(markdown)
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
