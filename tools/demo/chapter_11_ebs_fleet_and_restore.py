# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Demo chapter: a small fleet snapshotted through the role with one wait, then one set restored onto a standby.

Starts the local clouds, makes four simulated EC2 instances tagged for nightly backups (three
running, one stopped) and a stopped standby, runs the AWX playbook over an ``aws_ec2`` inventory
that finds the fleet by its tag (one set per instance, one wait for all of them, every instance
back in the power state it had), restores one instance's set onto the standby, prints what
happened, and stops the clouds.
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

import boto3
import yaml

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tests"))

from cloudsim.client import CloudSim  # noqa: E402  pylint: disable=wrong-import-position

TITLE = "EBS: a fleet snapshotted with one wait, and a set restored onto a standby instance"
SPEED = 240  # one simulated hour passes in 15 real seconds
SET_NAME = "nightly-{date}"  # the simulated clock's date
APP_VOLUMES = [
    {"size": 20, "type": "gp3", "device": "/dev/xvda", "tags": {"Name": "root"}},
    {"size": 100, "type": "gp3", "device": "/dev/sdf", "tags": {"Name": "postgres-data"}},
    {"size": 250, "type": "st1", "device": "/dev/sdg", "tags": {"Name": "archive"}},
]
FLEET = [("app-1", "running"), ("app-2", "running"), ("app-3", "running"), ("batch-1", "stopped")]


def collections_path():
    return os.environ.get("ANSIBLE_COLLECTIONS_PATH") or str(REPO_ROOT / ".build" / "collections")


def write_inventory(sim, workdir):
    """The fleet as an inventory source: every instance tagged Backup=nightly, named by its instance id."""
    path = pathlib.Path(workdir) / "fleet.aws_ec2.yml"
    path.write_text(yaml.safe_dump({
        "plugin": "amazon.aws.aws_ec2", "regions": [sim.endpoints["region"]], "endpoint_url": sim.endpoints["ec2"],
        "filters": {"tag:Backup": "nightly"}, "hostnames": ["instance-id"],
        # The plugin's host variables as aws_*: its old "tags" variable clashes with Ansible's reserved name. The role
        # finds each instance by the host name, which is the instance id.
        "hostvars_prefix": "aws_",
        "compose": {"ansible_python_interpreter": repr(sys.executable)},
    }))
    return path


def set_name(sim):
    return SET_NAME.format(date=sim.clock()["now"][:10])


def run_playbook(sim, workdir, restore_from, standby, result_file):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_DISPLAY_OK_HOSTS="false", ANSIBLE_DISPLAY_SKIPPED_HOSTS="false",
               AWS_ACCESS_KEY_ID="AKIASNAPKITDEMO00001", AWS_SECRET_ACCESS_KEY="snapkit-demo-secret-not-a-real-key",
               AWS_REGION=sim.endpoints["region"],
               # amazon.aws 11's aws_ec2 plugin announces on every parse that its "tags" host variable is deprecated
               # (use ec2_tags), whether anything reads it or not: this inventory reads no tags (hostvars_prefix above).
               ANSIBLE_DEPRECATION_WARNINGS="false")
    extra_vars = {"ebs_instance_snapshot_set_name": set_name(sim), "ebs_instance_snapshot_stop_instance": True,
                  "ebs_instance_snapshot_tags": {"Backup": "nightly"}, "ebs_instance_snapshot_endpoint_url": sim.endpoints["ec2"],
                  "demo_restore_from": restore_from, "demo_standby_instance_id": standby, "demo_result_file": str(result_file)}
    command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", str(write_inventory(sim, workdir)),
               str(REPO_ROOT / "tools" / "demo" / "chapter_11_ebs_fleet_and_restore.yml"), "-e", json.dumps(extra_vars)]
    return subprocess.run(command, env=env, check=False)


def when(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def instance_states(client, instance_ids):
    reservations = client.describe_instances(InstanceIds=list(instance_ids))["Reservations"]
    return {i["InstanceId"]: i for r in reservations for i in r["Instances"]}


def fleet_waits(journal, instance_ids):
    """DescribeSnapshots calls that named every instance of the fleet in one query."""
    return [e for e in journal if e["action"] == "DescribeSnapshots" and set(instance_ids) <= set(e["params"].values())]


def report_fleet(client, fleet, before, journal):
    after = instance_states(client, fleet.values())
    sets = {}
    for snapshot in client.describe_snapshots(OwnerIds=["self"])["Snapshots"]:
        tags = {t["Key"]: t["Value"] for t in snapshot.get("Tags", [])}
        sets.setdefault(tags.get("snapkit:instance-id"), []).append(snapshot)
    print()
    print(f"The aws_ec2 inventory plugin found the {len(fleet)} instances tagged Backup=nightly; each became one host.")
    print(f"  {'host':<22} {'name':<8} {'power before':<13} {'after':<9} {'set':<10} {'snapshots':>9}  downtime")
    for name, instance_id in fleet.items():
        snapshots = sets.get(instance_id, [])
        stop = [e for e in journal if e["action"] == "StopInstances" and instance_id in e["params"].values()]
        start = [e for e in journal if e["action"] == "StartInstances" and instance_id in e["params"].values()]
        downtime = (f"{(when(start[0]['sim_time']) - when(stop[0]['sim_time'])).total_seconds() / 60:.1f} simulated minutes"
                    if stop and start else "none (left as it was)")
        state = sorted({s["State"] for s in snapshots})
        print(f"  {instance_id:<22} {name:<8} {before[instance_id]:<13} {after[instance_id]['State']['Name']:<9} "
              f"{'/'.join(state) or '-':<10} {len(snapshots):>9}  {downtime}")
    print("Downtime runs from the StopInstances call to the StartInstances call: the stop, one CreateSnapshots call and"
          " the start, never the time the snapshots take to complete.")
    starts = {s["StartTime"] for s in sets.get(fleet["app-1"], [])}
    print(f"Each set is crash-consistent: the snapshots of one instance share one start time ({len(starts)} distinct on app-1).")
    waits = fleet_waits(journal, fleet.values())
    print(f"One wait for the whole fleet: {len(waits)} DescribeSnapshots calls, each asking about all {len(fleet)} instances "
          f"at once. With a wait per instance, each of the {len(fleet)} would have polled on its own.")


def report_restore(client, restore, standby):
    print()
    print(f"Set '{restore['set_name']}' of app-1 restored onto the stopped standby {standby}: {len(restore['volumes'])} new volumes.")
    print(f"  {'device':<10} {'from snapshot':<22} {'new volume':<22} {'GiB':>4} {'type':<5} {'state':<9} attached to")
    for volume in restore["volumes"]:
        print(f"  {volume['device_name']:<10} {volume['snapshot_id']:<22} {volume['volume_id']:<22} {volume['size']:>4} "
              f"{volume['volume_type']:<5} {volume['state']:<9} {volume['attached_to'] or '-'}")
    mappings = instance_states(client, [standby])[standby]["BlockDeviceMappings"]
    print("The standby now has: " + ", ".join(f"{m['DeviceName']} {m['Ebs']['VolumeId']}" for m in mappings)
          + ". It stays stopped until you start it; its old root volume was detached only because the playbook asked"
            " for replace_root_volume.")


def report_calls(journal, wall_seconds):
    counts = {}
    for entry in journal:
        counts[entry["action"]] = counts.get(entry["action"], 0) + 1
    print()
    print(f"Everything took {wall_seconds:.1f} s of real time at {SPEED}x. EC2 API calls: {sum(counts.values())} in all: "
          + ", ".join(f"{action} {count}" for action, count in sorted(counts.items(), key=lambda kv: -kv[1])) + ".")


def key_figure(output):
    """The summary's figure: the fleet's one wait, its longest downtime, the restore and the calls."""
    waits = re.search(r"One wait for the whole fleet: (\d+) DescribeSnapshots calls", output)
    downtimes = [float(value) for value in re.findall(r"([\d.]+) simulated minutes$", output, flags=re.MULTILINE)]
    restored = re.search(r": (\d+) new volumes\.", output)
    calls = re.search(r"EC2 API calls: (\d+) in all", output)
    parts = [f"one wait for the fleet ({waits[1]} DescribeSnapshots calls)" if waits else None,
             f"downtime up to {max(downtimes):.1f} simulated minutes" if downtimes else None,
             f"{restored[1]} volumes restored" if restored else None, f"{calls[1]} EC2 API calls" if calls else None]
    return ", ".join(part for part in parts if part) or "-"


def run():
    with CloudSim.start(speed=SPEED) as sim:
        print(f"Local clouds up: EC2 at {sim.endpoints['ec2']} (simulated time runs {SPEED}x faster).")
        fleet = {name: sim.seed_instance(volumes=APP_VOLUMES, state=state, tags={"Name": name, "Backup": "nightly"})["instance_id"]
                 for name, state in FLEET}
        standby = sim.seed_instance(volumes=APP_VOLUMES[:1], state="stopped", tags={"Name": "standby"})["instance_id"]
        print(f"Simulated fleet: {', '.join(f'{n} ({s})' for n, s in FLEET)}, each with {len(APP_VOLUMES)} EBS volumes "
              f"(one of them st1); a stopped standby {standby} that is not tagged for backups.")
        client = boto3.client("ec2", **sim.aws_client_kwargs())
        before = {i: s["State"]["Name"] for i, s in instance_states(client, fleet.values()).items()}
        sim.clear_journal()
        with tempfile.TemporaryDirectory() as workdir:
            result_file = pathlib.Path(workdir) / "restore.json"
            began = time.monotonic()
            process = run_playbook(sim, workdir, fleet["app-1"], standby, result_file)
            wall = time.monotonic() - began
            if process.returncode != 0 or not result_file.exists():
                print(f"The demo playbook failed (exit code {process.returncode}).")
                return 1
            journal = sim.journal(service="ec2")
            report_fleet(client, fleet, before, journal)
            report_restore(client, json.loads(result_file.read_text()), standby)
            report_calls(journal, wall)
    print("Local clouds stopped.")
    return 0
