# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Every "A first playbook" of README.md, taken from the README itself and run as a new user runs it.

One cloudsim process, as ``make cloudsim`` starts it, writes its endpoints file and, beside it, the vars file, the
environment file and the clouds.yaml (docs/cloudsim.md, "Running a playbook against the local clouds"). Each
example is seeded as docs/cloudsim.md shows (the ids the README only invents are replaced by the seeded ones) and run
with ``ansible-playbook -e @<vars file> <example>``, the environment file's variables set: nothing else is added.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys
import urllib.request

import pytest
import yaml

from cloudsim.client import CloudSim
from cloudsim.playbook_files import companion_paths
from conftest import REPO_ROOT
from conftest import collections_path

README = REPO_ROOT / "README.md"
HEADING = "## A first playbook ("
SPEED = 600
# The id the README's EC2 example invents; replaced by the seeded instance's.
README_INSTANCE_ID = "i-0123456789abcdef0"


def readme_examples() -> dict[str, str]:
    """The first YAML block under each "A first playbook (<cloud>)" heading, by cloud."""
    examples = {}
    sections = re.split(r"^(?=## )", README.read_text(encoding="utf-8"), flags=re.MULTILINE)
    for section in sections:
        if section.startswith(HEADING):
            cloud = section[len(HEADING):section.index(")")]
            found = re.search(r"^```yaml\n(.*?)^```", section, flags=re.MULTILINE | re.DOTALL)
            assert found, f"README: no YAML block under {HEADING}{cloud})"
            examples[cloud] = found.group(1)
    return examples


EXAMPLES = readme_examples()


def test_the_readme_has_one_first_playbook_per_cloud():
    assert sorted(EXAMPLES) == ["AWS", "Lightsail", "OpenStack"]


@pytest.fixture(scope="module")
def local_clouds(tmp_path_factory):
    endpoints = tmp_path_factory.mktemp("cloudsim") / "cloudsim-endpoints.json"
    with CloudSim.start(speed=SPEED, endpoints_file=str(endpoints), services=("ec2", "lightsail", "openstack", "windows")) as running:
        yield running, companion_paths(str(endpoints))


def environment_file(path: str) -> dict:
    """The variables of cloudsim's environment file (``export NAME="value"`` lines)."""
    found = {}
    for line in pathlib.Path(path).read_text(encoding="utf-8").splitlines():
        if line.startswith("export "):
            name, _equals, value = line[len("export "):].partition("=")
            found[name] = json.loads(value)
    return found


def control(cloud, path, body):
    """A seeding call, as docs/cloudsim.md shows it with curl."""
    request = urllib.request.Request(cloud.control_url + path, data=json.dumps(body).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (loopback)
        return json.load(answer)


def run_example(cloud_files, example: str, workdir: pathlib.Path) -> subprocess.CompletedProcess:
    _cloud, files = cloud_files
    playbook = workdir / "first.yml"
    playbook.write_text(example, encoding="utf-8")
    env = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "OS_"))}
    env.update(environment_file(files["env"]), ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="false")
    # No inventory: the implicit localhost, with the Python that runs ansible-playbook, as a new user has it.
    command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-e", "@" + files["vars"], str(playbook)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False, cwd=workdir)


def play_of(example: str) -> dict:
    return yaml.safe_load(example)[0]


def test_aws_first_playbook(local_clouds, tmp_path):
    cloud, _files = local_clouds
    region = play_of(EXAMPLES["AWS"])["module_defaults"]["group/snapkit.cloud.aws"]["region"]
    seeded = control(cloud, "/ec2/instances", {"region": region, "volumes": [{"size": 8}, {"size": 20}], "tags": {"Name": "db1"}})
    example = EXAMPLES["AWS"].replace(README_INSTANCE_ID, seeded["instance_id"])
    run = run_example(local_clouds, example, tmp_path)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "ok=1" in run.stdout and "changed=1" in run.stdout, run.stdout[-2000:]
    snapshots = [entry for entry in cloud.journal(service="ec2", action="CreateSnapshots") if entry["status"] == 200]
    assert [entry["params"]["InstanceSpecification.InstanceId"] for entry in snapshots] == [seeded["instance_id"]]


def test_lightsail_first_playbook(local_clouds, tmp_path):
    cloud, _files = local_clouds
    role = play_of(EXAMPLES["Lightsail"])["roles"][0]
    name, region = role["lightsail_instance_snapshot_instance_name"], role["lightsail_instance_snapshot_region"]
    control(cloud, "/lightsail/instances", {"name": name, "blueprint": "windows", "region": region})
    run = run_example(local_clouds, EXAMPLES["Lightsail"], tmp_path)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "failed=0" in run.stdout
    made = [entry["params"] for entry in cloud.journal(service="lightsail", action="CreateInstancesFromSnapshot") if entry["status"] == 200]
    assert [params["instanceSnapshotName"] for params in made] == re.findall(rf"{name}-sysprep-\d{{8}}-\d{{6}}", run.stdout)[:1]
    sysprep = [entry for entry in cloud.journal(service="windows") if entry["action"] == "snapkit.cloud.win_ec2launch_sysprep"]
    assert len(sysprep) == 1
    state = cloud.lightsail_state(region=region)
    assert [instance["name"] for instance in state["instances"]] == [name], "the temporary instance is deleted"


def test_openstack_first_playbook(local_clouds, tmp_path):
    cloud, _files = local_clouds
    tasks = play_of(EXAMPLES["OpenStack"])["tasks"]
    server = tasks[0]["snapkit.cloud.os_instance_snapshot"]["server"]
    copy_name = tasks[1]["vars"]["openstack_launch_copy_name"]
    control(cloud, "/openstack/servers", {"name": server})
    run = run_example(local_clouds, EXAMPLES["OpenStack"], tmp_path)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "failed=0" in run.stdout
    servers = {entry["name"]: entry for entry in cloud.openstack_state()["servers"]}
    assert servers[copy_name]["status"] == "ACTIVE"
