# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fidelity: amazon.aws's ec2_vol and ec2_vol_info (as a user makes and attaches test volumes) against the EC2 simulator."""

from __future__ import annotations

import pathlib

from cloudsim.ec2.testing import consistent_ec2  # noqa: F401  pylint: disable=unused-import
from cloudsim.testing import needs_collection, run_collection_tasks

pytestmark = needs_collection("amazon.aws")


def run_tasks(cloud, tmp_path: pathlib.Path, tasks: list[tuple]) -> list[dict]:
    """Run ``(module, args)`` tasks of amazon.aws in one ansible-playbook run; their results (failed ones too)."""
    return run_collection_tasks("amazon.aws", tmp_path, tasks, env=cloud.aws_env(), module_args={"endpoint_url": cloud.ec2_url},
                                ignore_errors=True)


def test_ec2_vol_creates_attaches_modifies_and_lists_volumes(fresh, tmp_path):
    seeded = fresh.seed_instance(volumes=[{"size": 8}])
    zone = f"{fresh.region}a"
    created, attached, again, grown, listed, multi = run_tasks(fresh, tmp_path, [
        ("ec2_vol", {"name": "data", "zone": zone, "volume_size": 4, "volume_type": "gp3", "tags": {"Team": "a"}}),
        ("ec2_vol", {"name": "logs", "instance": seeded["instance_id"], "device_name": "/dev/sdg", "volume_size": 2}),
        ("ec2_vol", {"name": "data", "zone": zone, "volume_size": 4, "volume_type": "gp3", "tags": {"Team": "a"}}),
        ("ec2_vol", {"name": "data", "zone": zone, "volume_size": 6, "volume_type": "gp3", "iops": 4000, "modify_volume": True}),
        ("ec2_vol_info", {"filters": {"tag:Name": ["data", "logs"]}}),
        ("ec2_vol", {"name": "shared", "zone": zone, "volume_size": 4, "volume_type": "io2", "iops": 1000, "multi_attach": True}),
    ])
    for result in (created, attached, again, grown, listed, multi):
        assert not result.get("failed"), (result.get("msg"), result)
    assert created["changed"] is True and again["changed"] is False
    assert attached["volume"]["attachment_set"][0]["status"] == "attached"
    assert attached["volume"]["attachment_set"][0]["instance_id"] == seeded["instance_id"]
    assert grown["changed"] is True and grown["volume"]["size"] == 6 and grown["volume"]["iops"] == 4000
    volumes = {v["tags"]["Name"]: v for v in listed["volumes"]}
    assert set(volumes) == {"data", "logs"} and volumes["data"]["snapshot_id"] == ""
    assert multi["volume"]["multi_attach_enabled"] is True
