# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""snapkit.cloud.ebs_snapshot_set_info through real playbook runs against the local EC2 cloud."""

from __future__ import annotations

from conftest import documented_return
from conftest import ec2_client
from test_ebs_snapshot_set_retention import freeze

FOUR_VOLUMES = [{"size": 8, "type": "gp3", "device": "/dev/xvda"}] + [
    {"size": 8, "type": "gp3", "device": f"/dev/sd{letter}"} for letter in "fgh"
]


def start_sets(sim, ansible, count, set_name, **module_params):
    """Seed ``count`` instances and start one set each, without waiting, in one playbook run."""
    instance_ids = [sim.seed_instance(volumes=FOUR_VOLUMES)["instance_id"] for _index in range(count)]
    run = ansible.run([{
        "name": "Start the sets",
        "snapkit.cloud.ebs_multi_snapshot": dict({"instance_id": "{{ item }}", "set_name": set_name, "wait": False}, **module_params),
        "loop": instance_ids,
        "register": "started",
    }])
    assert not run["started"].get("failed"), run.output
    return instance_ids


def info(ansible, **params):
    return ansible.module("ebs_snapshot_set_info", **params)


def fleet_wait_polls(sim, ansible, count):
    """DescribeSnapshots calls the fleet wait makes for ``count`` instances whose sets complete together."""
    sim.ec2_config(snapshot_seconds_base=1800, snapshot_seconds_per_gib=0)
    freeze(sim)  # every set starts at the same simulated instant, so all complete together
    instance_ids = start_sets(sim, ansible, count, f"fleet-{count}")
    sim.set_speed(600)
    before = len(sim.journal(service="ec2", action="DescribeSnapshots"))
    result = info(ansible, set_name=f"fleet-{count}", instance_ids=instance_ids, wait=True, wait_timeout=120)
    assert result.get("failed") is not True, result.get("msg")
    assert [s["state"] for s in result["sets"]] == ["completed"] * count
    return len(sim.journal(service="ec2", action="DescribeSnapshots")) - before


def test_finds_sets_by_instance_name_and_tags(sim, ansible):
    first, second = (sim.seed_instance(volumes=FOUR_VOLUMES)["instance_id"] for _index in range(2))
    ansible.modules([("ebs_multi_snapshot", {"instance_id": instance_id, "set_name": set_name, "tags": {"Team": team}, "wait": False})
                     for instance_id, set_name, team in ((first, "a", "db"), (first, "b", "web"), (second, "a", "db"))])

    by_instance, by_name, by_tag = ansible.modules([("ebs_snapshot_set_info", {"instance_ids": [first]}),
                                                    ("ebs_snapshot_set_info", {"set_name": "a"}),
                                                    ("ebs_snapshot_set_info", {"tags": {"Team": "web"}})])
    assert sorted(s["set_name"] for s in by_instance["sets"]) == ["a", "b"]
    assert sorted(s["instance_id"] for s in by_name["sets"]) == sorted([first, second])
    assert [(s["instance_id"], s["set_name"]) for s in by_tag["sets"]] == [(first, "b")]
    one = by_tag["sets"][0]
    assert one["snapshot_count"] == 4 and len(one["volume_ids"]) == 4 and one["state"] in ("pending", "completed")
    assert by_tag["changed"] is False
    for key, spec in documented_return("ebs_snapshot_set_info").items():
        assert key in by_tag
        for sub_key in spec.get("contains", {}):
            assert sub_key in one, sub_key


def test_foreign_snapshots_are_ignored(sim, ansible):
    seeded = sim.seed_instance(volumes=FOUR_VOLUMES)
    ansible.module("ebs_multi_snapshot", instance_id=seeded["instance_id"], set_name="ours", wait=False)
    ec2_client(sim).create_snapshot(VolumeId=seeded["volumes"][0]["volume_id"], TagSpecifications=[
        {"ResourceType": "snapshot", "Tags": [{"Key": "Team", "Value": "other"}]}])
    result = info(ansible, instance_ids=[seeded["instance_id"]])
    assert [s["set_name"] for s in result["sets"]] == ["ours"]
    assert info(ansible, tags={"Team": "other"})["sets"] == []


def test_fleet_wait_costs_the_same_polls_for_one_or_eight_instances(sim, ansible):
    one = fleet_wait_polls(sim, ansible, 1)
    sim.reset()
    eight = fleet_wait_polls(sim, ansible, 8)
    assert eight <= one + 1, f"1 instance: {one} polls, 8 instances: {eight} polls"


def test_a_failed_set_is_reported_not_raised(sim, ansible):
    sim.ec2_config(snapshot_seconds_base=600, snapshot_seconds_per_gib=0)
    healthy, doomed = (sim.seed_instance(volumes=FOUR_VOLUMES) for _index in range(2))
    sim.fail_snapshots(instance_id=doomed["instance_id"], at_progress=20)
    ansible.module("ebs_multi_snapshot", instance_id=healthy["instance_id"], set_name="mixed", wait=False)
    ansible.module("ebs_multi_snapshot", instance_id=doomed["instance_id"], set_name="mixed", wait=False)

    result = info(ansible, set_name="mixed", wait=True, wait_timeout=120)
    assert result.get("failed") is not True, result.get("msg")
    states = {s["instance_id"]: s["state"] for s in result["sets"]}
    assert states == {healthy["instance_id"]: "completed", doomed["instance_id"]: "error"}


def test_wait_timeout_fails_naming_the_pending_sets(sim, ansible):
    seeded = sim.seed_instance(volumes=FOUR_VOLUMES)
    sim.set_speed(1)
    ansible.module("ebs_multi_snapshot", instance_id=seeded["instance_id"], set_name="slow", wait=False)
    result = info(ansible, set_name="slow", wait=True, wait_timeout=2)
    assert result["failed"] is True
    assert "slow of " + seeded["instance_id"] in result["msg"] and "pending" in result["msg"]
    assert result["sets"][0]["state"] == "pending"


def test_bad_input_is_rejected_before_any_call(sim, ansible):
    first, second = ansible.modules([("ebs_snapshot_set_info", {"instance_ids": ["web-1"]}),
                                     ("ebs_snapshot_set_info", {"wait": True, "wait_timeout": 0})])
    result = first
    assert result["failed"] is True and "instance_ids" in result["msg"]
    result = second
    assert result["failed"] is True and "wait_timeout" in result["msg"]
    assert sim.journal(service="ec2") == []
