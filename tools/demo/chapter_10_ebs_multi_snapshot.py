# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Demo chapter: one crash-consistent EBS snapshot set of an instance with eight volumes.

Starts the local clouds, makes a simulated EC2 instance with eight EBS volumes, runs the demo
playbook (one crash-consistent snapshot set, the instance stopped for the root volume and started
again as soon as the set exists), prints what happened, and stops the clouds.
"""

from __future__ import annotations

import datetime
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tests"))

from cloudsim.client import CloudSim  # noqa: E402  pylint: disable=wrong-import-position

TITLE = "EBS: one crash-consistent snapshot set of an instance with eight volumes"
SPEED = 240  # one simulated hour passes in 15 real seconds
VOLUMES = [
    {"size": 30, "type": "gp3", "device": "/dev/xvda", "tags": {"Name": "root"}},
    {"size": 100, "type": "gp3", "device": "/dev/sdf", "tags": {"Name": "postgres-data"}},
    {"size": 50, "type": "gp3", "device": "/dev/sdg", "tags": {"Name": "postgres-wal"}},
    {"size": 20, "type": "gp2", "device": "/dev/sdh", "tags": {"Name": "logs"}},
    {"size": 10, "type": "gp3", "device": "/dev/sdi", "tags": {"Name": "config"}},
    {"size": 200, "type": "st1", "device": "/dev/sdj", "tags": {"Name": "archive"}},
    {"size": 40, "type": "io2", "device": "/dev/sdk", "tags": {"Name": "index"}},
    {"size": 15, "type": "gp3", "device": "/dev/sdl", "tags": {"Name": "scratch"}},
]


def collections_path():
    return os.environ.get("ANSIBLE_COLLECTIONS_PATH") or str(REPO_ROOT / ".build" / "collections")


def run_playbook(sim, instance_id, result_file):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false", AWS_ACCESS_KEY_ID="AKIASNAPKITDEMO00001", AWS_SECRET_ACCESS_KEY="snapkit-demo-secret-not-a-real-key",
               AWS_REGION=sim.endpoints["region"])
    command = [
        str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,",
        str(REPO_ROOT / "tools" / "demo" / "ebs_multi_snapshot.yml"),
        "-e", json.dumps({"demo_instance_id": instance_id, "demo_endpoint_url": sim.endpoints["ec2"],
                          "demo_result_file": str(result_file), "ansible_python_interpreter": sys.executable}),
    ]
    return subprocess.run(command, env=env, check=False)


def seconds(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def report(result, journal, wall_seconds):
    snapshots = result["snapshots"]
    print()
    print(f"Snapshot set '{result['set_name']}' of instance {result['instance_id']}: {len(snapshots)} snapshots, "
          f"all {', '.join(sorted({s['state'] for s in snapshots}))}.")
    print(f"  {'device':<10} {'volume':<22} {'GiB':>4}  {'snapshot':<22} {'state':<10} {'progress':>8}")
    for snap in snapshots:
        print(f"  {snap['device_name'] or '-':<10} {snap['volume_id']:<22} {snap['volume_size']:>4}  "
              f"{snap['snapshot_id']:<22} {snap['state']:<10} {snap['progress']:>8}")
    starts = {s["start_time"] for s in snapshots}
    print(f"Every snapshot was taken at the same instant ({starts.pop()}): the set is crash-consistent."
          if len(starts) == 1 else f"Start times differ: {sorted(starts)}")
    if result["instance_stopped"]:
        stop = next(e for e in journal if e["action"] == "StopInstances")
        start = next(e for e in journal if e["action"] == "StartInstances")
        down = (seconds(start["sim_time"]) - seconds(stop["sim_time"])).total_seconds()
        print(f"The instance was stopped for the root volume and started again as soon as the set existed: "
              f"about {down / 60:.1f} simulated minutes of downtime, while the snapshots went on completing.")
    created = next(e for e in journal if e["action"] == "CreateSnapshots")
    last = journal[-1]
    took = (seconds(last["sim_time"]) - seconds(created["sim_time"])).total_seconds()
    print(f"The set took {took / 60:.0f} simulated minutes to complete ({wall_seconds:.1f} s of real time at {SPEED}x).")
    counts = {}
    for entry in journal:
        counts[entry["action"]] = counts.get(entry["action"], 0) + 1
    print(f"EC2 API calls: {sum(counts.values())} in all: "
          + ", ".join(f"{action} {count}" for action, count in sorted(counts.items(), key=lambda kv: -kv[1])) + ".")


def key_figure(output):
    """The summary's figure: the set, the downtime and the calls."""
    snapshots = re.search(r": (\d+) snapshots, all (\w+)\.", output)
    down = re.search(r"about ([\d.]+) simulated minutes of downtime", output)
    calls = re.search(r"EC2 API calls: (\d+) in all", output)
    parts = [f"{snapshots[1]} snapshots {snapshots[2]}" if snapshots else None,
             f"{down[1]} simulated minutes of downtime" if down else None, f"{calls[1]} EC2 API calls" if calls else None]
    return ", ".join(part for part in parts if part) or "-"


def run():
    with CloudSim.start(speed=SPEED) as sim:
        print(f"Local clouds up: EC2 at {sim.endpoints['ec2']} (simulated time runs {SPEED}x faster).")
        seeded = sim.seed_instance(volumes=VOLUMES, tags={"Name": "demo-db-server"})
        print(f"Simulated instance {seeded['instance_id']} has {len(VOLUMES)} EBS volumes, "
              f"{sum(v['size'] for v in VOLUMES)} GiB in all.")
        sim.clear_journal()
        with tempfile.TemporaryDirectory() as workdir:
            result_file = pathlib.Path(workdir) / "result.json"
            began = time.monotonic()
            process = run_playbook(sim, seeded["instance_id"], result_file)
            wall = time.monotonic() - began
            if process.returncode != 0 or not result_file.exists():
                print(f"The demo playbook failed (exit code {process.returncode}).")
                return 1
            report(json.loads(result_file.read_text()), sim.journal(service="ec2"), wall)
    print("Local clouds stopped.")
    return 0
