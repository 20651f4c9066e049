# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The ebs_instance_snapshot role through playbooks/ebs_instance_snapshot.yml, run as an AWX job would run it."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import yaml

from conftest import REPO_ROOT
from conftest import ec2_client

VOLUMES = [{"size": 8, "type": "gp3", "device": "/dev/xvda"}, {"size": 16, "type": "gp3", "device": "/dev/sdf"},
           {"size": 32, "type": "st1", "device": "/dev/sdg"}]


def run_fleet_playbook(sim, ansible, hosts, **extra_vars):
    """Run the AWX entry point over an inventory of instances: extra vars only, credentials in the environment."""
    inventory = ansible.workdir / "fleet.yml"
    inventory.write_text(yaml.safe_dump({"all": {
        "hosts": {name: {"instance_id": instance_id} for name, instance_id in hosts.items()},
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
    }}))
    extra_vars.setdefault("ebs_instance_snapshot_endpoint_url", sim.endpoints["ec2"])
    command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory),
               str(REPO_ROOT / "playbooks" / "ebs_instance_snapshot.yml"), "-e", json.dumps(extra_vars)]
    return subprocess.run(command, env=ansible.environment(), capture_output=True, text=True, timeout=600, check=False)


def states(sim, instance_ids):
    reservations = ec2_client(sim).describe_instances(InstanceIds=list(instance_ids))["Reservations"]
    return {i["InstanceId"]: i["State"]["Name"] for r in reservations for i in r["Instances"]}


def set_states(sim, set_name):
    snapshots = ec2_client(sim).describe_snapshots(
        OwnerIds=["self"], Filters=[{"Name": "tag:snapkit:set-name", "Values": [set_name]}])["Snapshots"]
    by_instance = {}
    for snapshot in snapshots:
        tags = {t["Key"]: t["Value"] for t in snapshot["Tags"]}
        by_instance.setdefault(tags["snapkit:instance-id"], set()).add(snapshot["State"])
    return by_instance


def test_fleet_run_snapshots_healthy_hosts_and_reports_the_others(sim, ansible):
    web = [sim.seed_instance(volumes=VOLUMES)["instance_id"] for _index in range(3)]
    stopped = sim.seed_instance(volumes=VOLUMES, state="stopped")["instance_id"]
    sleepy = sim.seed_instance(volumes=VOLUMES, hibernation=True)["instance_id"]
    doomed = sim.seed_instance(volumes=VOLUMES)["instance_id"]
    sim.fail_snapshots(instance_id=doomed, at_progress=30)
    hosts = {f"web{n}": instance_id for n, instance_id in enumerate(web)}
    hosts.update(stopped_host=stopped, sleepy_host=sleepy, doomed_host=doomed)

    process = run_fleet_playbook(sim, ansible, hosts, ebs_instance_snapshot_set_name="fleet-1",
                                 ebs_instance_snapshot_stop_instance=True, ebs_instance_snapshot_delete_on_failure=True,
                                 ebs_instance_snapshot_tags={"Job": "awx-42"})
    output = process.stdout + process.stderr

    assert process.returncode == 2, output
    creates = [entry["params"]["InstanceSpecification.InstanceId"]
               for entry in sim.journal(service="ec2", action="CreateSnapshots") if entry["status"] == 200]
    assert sorted(creates) == sorted(web + [stopped, doomed])
    assert set_states(sim, "fleet-1") == {instance_id: {"completed"} for instance_id in web + [stopped]}
    assert "hibernation" in output and sleepy in output
    assert f"fleet-1 of {doomed} failed" in output or f"{doomed} is error" in output
    assert states(sim, web + [stopped, sleepy, doomed]) == dict(
        {instance_id: "running" for instance_id in web + [sleepy, doomed]}, **{stopped: "stopped"})
    recap = {line.split()[0]: line for line in output.splitlines() if " : ok=" in line}
    assert all("failed=0" in recap[host] for host in ("web0", "web1", "web2", "stopped_host"))
    assert all("failed=1" in recap[host] for host in ("sleepy_host", "doomed_host"))
    waits = [e for e in sim.journal(service="ec2", action="DescribeSnapshots")
             if any(v == "fleet-1" for k, v in e["params"].items() if k.endswith("Value.1"))]
    assert waits, "the fleet wait polls by set name"
    assert ansible.environment()["AWS_SECRET_ACCESS_KEY"] not in output


def test_rerun_of_the_fleet_makes_no_new_sets(sim, ansible):
    web = [sim.seed_instance(volumes=VOLUMES)["instance_id"] for _index in range(2)]
    hosts = {f"web{n}": instance_id for n, instance_id in enumerate(web)}
    first = run_fleet_playbook(sim, ansible, hosts, ebs_instance_snapshot_set_name="nightly")
    second = run_fleet_playbook(sim, ansible, hosts, ebs_instance_snapshot_set_name="nightly")
    assert first.returncode == 0 and second.returncode == 0, first.stdout + second.stdout
    assert len([e for e in sim.journal(service="ec2", action="CreateSnapshots") if e["status"] == 200]) == 2


def test_missing_required_variable_is_refused_by_the_argument_spec(sim, ansible):
    web = sim.seed_instance(volumes=VOLUMES)["instance_id"]
    process = run_fleet_playbook(sim, ansible, {"web0": web})
    assert process.returncode != 0
    assert "ebs_instance_snapshot_set_name" in process.stdout + process.stderr
    assert sim.journal(service="ec2") == []
