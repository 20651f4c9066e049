# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""snapkit.cloud.ebs_snapshot_set_retention through real playbook runs against the local EC2 cloud."""

from __future__ import annotations

from conftest import documented_return
from conftest import ec2_client

TWO_VOLUMES = [{"size": 8, "type": "gp3", "device": "/dev/xvda"}, {"size": 8, "type": "gp3", "device": "/dev/sdf"}]
DAY = 86400


def make_sets(sim, ansible, instance_id, names, days_apart=1):
    """Sets of ``instance_id``, one simulated day apart, completed."""
    for name in names:
        result = ansible.module("ebs_multi_snapshot", instance_id=instance_id, set_name=name, wait=False)
        assert result["changed"] is True, result.get("msg")
        sim.advance(days_apart * DAY)


def remaining(sim, instance_id):
    snapshots = ec2_client(sim).describe_snapshots(
        OwnerIds=["self"], Filters=[{"Name": "tag:snapkit:instance-id", "Values": [instance_id]}])["Snapshots"]
    return sorted({t["Value"] for s in snapshots for t in s["Tags"] if t["Key"] == "snapkit:set-name"})


def freeze(sim):
    """Simulated time frozen (only advance() moves it), and new snapshots visible at once: the visibility delay would
    never pass on a frozen clock."""
    sim.set_speed(0)
    sim.ec2_config(visibility_delay_max_seconds=0)


def test_keep_count_per_instance_with_check_mode_first(sim, ansible):
    freeze(sim)
    one, two = (sim.seed_instance(volumes=TWO_VOLUMES)["instance_id"] for _index in range(2))
    make_sets(sim, ansible, one, ["nightly-1", "nightly-2", "nightly-3", "nightly-4"])
    make_sets(sim, ansible, two, ["nightly-1", "nightly-2"])

    preview = ansible.module("ebs_snapshot_set_retention", check=True, diff=True, set_name_prefix="nightly-", keep_count=2)
    assert preview["changed"] is True
    assert [(s["instance_id"], s["set_name"]) for s in preview["deleted_sets"]] == [(one, "nightly-1"), (one, "nightly-2")]
    assert "DeleteSnapshot" not in [e["action"] for e in sim.journal(service="ec2")]
    assert remaining(sim, one) == ["nightly-1", "nightly-2", "nightly-3", "nightly-4"]

    applied = ansible.module("ebs_snapshot_set_retention", set_name_prefix="nightly-", keep_count=2)
    assert applied["deleted_sets"] == preview["deleted_sets"]
    assert remaining(sim, one) == ["nightly-3", "nightly-4"] and remaining(sim, two) == ["nightly-1", "nightly-2"]
    assert len([e for e in sim.journal(service="ec2") if e["action"] == "DeleteSnapshot"]) == 4
    again = ansible.module("ebs_snapshot_set_retention", set_name_prefix="nightly-", keep_count=2)
    assert again["changed"] is False and again["deleted_sets"] == []
    for key in documented_return("ebs_snapshot_set_retention"):
        assert key in applied


def test_age_by_the_clouds_clock_and_other_snapshots_untouched(sim, ansible):
    freeze(sim)
    instance = sim.seed_instance(volumes=TWO_VOLUMES)
    instance_id = instance["instance_id"]
    make_sets(sim, ansible, instance_id, ["daily-a", "daily-b", "daily-c"], days_apart=10)
    foreign = ec2_client(sim).create_snapshot(VolumeId=instance["volumes"][0]["volume_id"])["SnapshotId"]
    ansible.module("ebs_multi_snapshot", instance_id=instance_id, set_name="before-upgrade", wait=False)
    sim.advance(DAY)

    result = ansible.module("ebs_snapshot_set_retention", instance_ids=[instance_id], keep_newer_than="15d",
                            set_name_prefix="daily-")
    # daily-a is 31 days old, daily-b 21, daily-c 11 (by EC2's clock, which runs far ahead of this machine's).
    assert [s["set_name"] for s in result["deleted_sets"]] == ["daily-a", "daily-b"]
    assert remaining(sim, instance_id) == ["before-upgrade", "daily-c"]
    assert foreign in [s["SnapshotId"] for s in ec2_client(sim).describe_snapshots(OwnerIds=["self"])["Snapshots"]]


def test_pending_sets_are_never_deleted_nor_counted(sim, ansible):
    freeze(sim)
    instance_id = sim.seed_instance(volumes=TWO_VOLUMES)["instance_id"]
    make_sets(sim, ansible, instance_id, ["n-1", "n-2"])
    ansible.module("ebs_multi_snapshot", instance_id=instance_id, set_name="n-3", wait=False)  # clock frozen: pending
    result = ansible.module("ebs_snapshot_set_retention", instance_ids=[instance_id], keep_count=1)
    assert [s["set_name"] for s in result["pending_sets"]] == ["n-3"]
    assert [s["set_name"] for s in result["kept_sets"]] == ["n-2"]
    assert [s["set_name"] for s in result["deleted_sets"]] == ["n-1"]
    assert remaining(sim, instance_id) == ["n-2", "n-3"]


def test_a_rule_is_required_and_bad_input_is_refused(sim, ansible):
    cases = (({}, "keep_count or keep_newer_than"), ({"keep_count": 0}, "keep_count"),
             ({"keep_newer_than": "a month"}, "keep_newer_than"), ({"keep_count": 1, "instance_ids": ["x"]}, "instance_ids"))
    results = ansible.modules([("ebs_snapshot_set_retention", params) for params, _field in cases])
    for (params, field), result in zip(cases, results):
        assert result["failed"] is True and field in result["msg"], (params, result["msg"])
    assert sim.journal(service="ec2") == []
