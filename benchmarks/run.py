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
  fleet wait, our module waiting per host, and the anchor loop per host; and how those figures grow
  from 10 to 50 to 200 instances (the anchor loop only up to ``--anchor-max`` instances: at 200 it
  would run for most of an hour).

``--quick`` runs tiny fixtures (a few seconds each) into ``.build/bench-quick`` so that a test can
check the whole script runs without touching the committed results.
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
FLEET_SIZES = (10, 50, 200)
ANCHOR_MAX = 50
QUICK = {"count": 2, "fleet_sizes": (1, 2), "anchor_max": 1, "snapshot_seconds": 60}
ANCHOR = "anchor: ec2_snapshot loop per host"


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
    ANCHOR: fleet_play([{
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


def measure_fleet(sim, play, count, workdir, snapshot_seconds):
    sim.reset(speed=SPEED)
    sim.ec2_config(snapshot_seconds_base=snapshot_seconds, snapshot_seconds_per_gib=0)
    instance_ids = [sim.seed_instance(volumes=volumes(4))["instance_id"] for _index in range(count)]
    wall = run_fleet_variant(sim, play, instance_ids, workdir)
    calls = {}
    for entry in sim.journal(service="ec2"):
        calls[entry["action"]] = calls.get(entry["action"], 0) + 1
    limit = snapshot_seconds / SPEED
    return {"instances": count, "wall_seconds": round(wall, 2), "wall_over_snapshot_duration": round(wall / limit, 1),
            "api_calls": sum(calls.values()), "api_calls_per_instance": round(sum(calls.values()) / count, 2),
            "api_calls_by_action": dict(sorted(calls.items()))}


def measure_fleets(sim, sizes, anchor_max, snapshot_seconds, workdir):
    """{size: {variant: figures}} for every fleet size; the anchor loop only up to ``anchor_max`` instances."""
    return {count: {name: measure_fleet(sim, play, count, workdir, snapshot_seconds)
                    for name, play in FLEET_VARIANTS.items() if name != ANCHOR or count <= anchor_max}
            for count in sizes}


def fleet_table(count, results, snapshot_seconds):
    names = list(results)
    anchor = results.get(ANCHOR)
    compared = [n for n in names if n != ANCHOR] if anchor else []
    rows = [f"### EBS fleet: {count} instances x 4 volumes, every snapshot {snapshot_seconds} simulated s "
            f"({snapshot_seconds / SPEED:.0f} s real), {FLEET_FORKS} forks", "",
            "| metric | " + " | ".join(names) + "".join(f" | {n} / anchor" for n in compared) + " |",
            "| --- |" + " ---: |" * (len(names) + len(compared))]
    for metric in ("wall_seconds", "wall_over_snapshot_duration", "api_calls", "api_calls_per_instance"):
        rows.append(f"| {metric} | " + " | ".join(str(results[n][metric]) for n in names)
                    + "".join(f" | {ratio(results[n][metric], anchor[metric])}" for n in compared) + " |")
    for action in sorted({a for r in results.values() for a in r["api_calls_by_action"]}):
        values = {n: results[n]["api_calls_by_action"].get(action, 0) for n in names}
        rows.append(f"| calls: {action} | " + " | ".join(str(values[n]) for n in names)
                    + "".join(f" | {ratio(values[n], values[ANCHOR])}" for n in compared) + " |")
    return "\n".join(rows) + "\n"


def scaling_table(fleets, snapshot_seconds):
    """How each variant's figures grow with the fleet: one column per size."""
    sizes = sorted(fleets)
    names = list(FLEET_VARIANTS)
    rows = [f"### EBS fleet: how the figures grow with the fleet (4 volumes each, every snapshot {snapshot_seconds} simulated s)", "",
            "| variant | metric | " + " | ".join(f"{size} instances" for size in sizes) + " |",
            "| --- | --- |" + " ---: |" * len(sizes)]
    for name in names:
        for metric, read in (("wall_seconds", lambda r: r["wall_seconds"]),
                             ("wall / snapshot duration", lambda r: r["wall_over_snapshot_duration"]),
                             ("api_calls", lambda r: r["api_calls"]),
                             ("DescribeSnapshots", lambda r: r["api_calls_by_action"].get("DescribeSnapshots", 0)),
                             ("api_calls per instance", lambda r: r["api_calls_per_instance"])):
            cells = [str(read(fleets[size][name])) if name in fleets[size] else "not run" for size in sizes]
            rows.append(f"| {name} | {metric} | " + " | ".join(cells) + " |")
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
    parser.add_argument("--quick", action="store_true", help="tiny fixtures into .build/bench-quick: checks that the benchmark runs")
    parser.add_argument("--sizes", type=int, nargs="+", help=f"fleet sizes (default {' '.join(map(str, FLEET_SIZES))})")
    parser.add_argument("--anchor-max", type=int, help=f"largest fleet for the anchor loop (default {ANCHOR_MAX})")
    parser.add_argument("--results", type=pathlib.Path, help="where results.json and results.md go (default benchmarks/results)")
    args = parser.parse_args()
    count = QUICK["count"] if args.quick else 8
    sizes = tuple(args.sizes or (QUICK["fleet_sizes"] if args.quick else FLEET_SIZES))
    anchor_max = args.anchor_max if args.anchor_max is not None else (QUICK["anchor_max"] if args.quick else ANCHOR_MAX)
    snapshot_seconds = QUICK["snapshot_seconds"] if args.quick else FLEET_SNAPSHOT_SECONDS
    results_dir = args.results or (REPO_ROOT / ".build" / "bench-quick" if args.quick else RESULTS)
    results_dir.mkdir(parents=True, exist_ok=True)
    title = f"EBS, one instance with {count} volumes: snapkit.cloud.ebs_multi_snapshot vs amazon.aws.ec2_snapshot loop"
    with CloudSim.start(speed=SPEED) as sim, tempfile.TemporaryDirectory() as workdir:
        ours = measure(sim, ours_tasks, count, workdir)
        anchor = measure(sim, anchor_tasks, count, workdir)
        fleets = {}
        for size in sizes:  # written after each size: a large fleet can take long, the smaller ones are kept
            fleets.update(measure_fleets(sim, (size,), anchor_max, snapshot_seconds, workdir))
            write_results(results_dir, title, ours, anchor, fleets, snapshot_seconds)
    print((results_dir / "results.md").read_text())
    return 0


def write_results(results_dir, title, ours, anchor, fleets, snapshot_seconds):
    report = {"speed": SPEED, "ebs_instance": {"title": title, "ours": ours, "anchor": anchor},
              "ebs_fleet": {"snapshot_seconds": snapshot_seconds, "forks": FLEET_FORKS, "sizes": {str(k): v for k, v in fleets.items()}}}
    markdown = f"# snapkit.cloud benchmarks\n\nSimulated clock at {SPEED}x; times in real seconds unless marked simulated.\n\n"
    markdown += table(title, ours, anchor) + "\n" + scaling_table(fleets, snapshot_seconds)
    markdown += "".join("\n" + fleet_table(size, fleets[size], snapshot_seconds) for size in sorted(fleets))
    (results_dir / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    (results_dir / "results.md").write_text(markdown)


if __name__ == "__main__":
    sys.exit(main())
