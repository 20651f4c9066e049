# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The inventory is the fleet: amazon.aws's aws_ec2 inventory plugin, pointed at the local EC2 cloud, feeds the
snapkit.cloud.ebs_instance_snapshot playbook (run by its FQCN, as AWX runs it), one host per instance."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import yaml

from conftest import ec2_client

VOLUMES = [{"size": 8, "type": "gp3", "device": "/dev/xvda"}, {"size": 32, "type": "st1", "device": "/dev/sdf"}]


def write_inventory(sim, workdir, tag_value):
    """An aws_ec2 inventory source as a user writes one: a region, a tag filter, instance ids as host names."""
    path = workdir / "fleet.aws_ec2.yml"
    path.write_text(yaml.safe_dump({
        "plugin": "amazon.aws.aws_ec2",
        "regions": [sim.endpoints["region"]],
        "endpoint_url": sim.endpoints["ec2"],
        "filters": {"tag:Backup": tag_value},
        "hostnames": ["instance-id"],
        "compose": {"ansible_python_interpreter": repr(sys.executable)},
    }))
    return path


def test_aws_ec2_inventory_is_the_fleet(sim, ansible):
    fleet = [sim.seed_instance(volumes=VOLUMES, tags={"Backup": "nightly", "Name": f"web{n}"})["instance_id"] for n in range(2)]
    fleet.append(sim.seed_instance(volumes=VOLUMES, tags={"Backup": "nightly"}, state="stopped")["instance_id"])
    other = sim.seed_instance(volumes=VOLUMES, tags={"Backup": "weekly"})["instance_id"]
    inventory = write_inventory(sim, ansible.workdir, "nightly")
    extra_vars = {"ebs_instance_snapshot_set_name": "nightly-1", "ebs_instance_snapshot_endpoint_url": sim.endpoints["ec2"],
                  "ebs_instance_snapshot_stop_instance": True}
    command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory),
               "snapkit.cloud.ebs_instance_snapshot", "-e", json.dumps(extra_vars)]
    process = subprocess.run(command, env=ansible.environment(), capture_output=True, text=True, timeout=600, check=False)
    output = process.stdout + process.stderr

    assert process.returncode == 0, output
    recap = {line.split()[0] for line in output.splitlines() if " : ok=" in line}
    assert recap == set(fleet), "one host per instance with the tag, named by its instance id"
    journal = sim.journal(service="ec2")
    listing = [e for e in journal if e["action"] == "DescribeInstances" and "tag:Backup" in e["params"].values()]
    assert listing and "nightly" in listing[0]["params"].values(), "the plugin asked EC2 for the tagged instances"
    creates = sorted(e["params"]["InstanceSpecification.InstanceId"] for e in journal if e["action"] == "CreateSnapshots")
    assert creates == sorted(fleet) and other not in json.dumps(journal)
    reservations = ec2_client(sim).describe_instances(InstanceIds=fleet)["Reservations"]
    assert {i["InstanceId"]: i["State"]["Name"] for r in reservations for i in r["Instances"]} == {
        fleet[0]: "running", fleet[1]: "running", fleet[2]: "stopped"}
