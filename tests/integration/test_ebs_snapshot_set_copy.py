# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ebs_snapshot_set_copy against the local EC2 cloud: a set copied across regions, found there as a set, re-run, refused."""

from __future__ import annotations

from conftest import mutating_calls

DESTINATION = "eu-west-1"
VOLUMES = [
    {"size": 8, "type": "gp3", "device": "/dev/xvda"},
    {"size": 20, "type": "gp3", "iops": 4000, "throughput": 250, "device": "/dev/sdf", "encrypted": True},
    {"size": 12, "type": "gp2", "device": "/dev/sdg"},
]


def test_copy_across_regions_as_a_set_idempotent_and_within_the_copy_limit(sim, ansible):
    sim.ec2_config(copy_seconds_base=3000, copy_seconds_per_gib=0, copy_concurrent_limit=2)
    source = sim.seed_instance(volumes=VOLUMES)
    made = ansible.module("ebs_multi_snapshot", instance_id=source["instance_id"], set_name="dr", tags={"Team": "ops"})
    assert made["changed"] is True, made.get("msg")
    sim.clear_journal()
    params = dict(source_region=sim.region, region=DESTINATION, instance_id=source["instance_id"], set_name="dr")

    preview = ansible.module("ebs_snapshot_set_copy", check=True, **params)
    assert preview["changed"] is True and mutating_calls(sim.journal(service="ec2")) == []
    assert sorted(s["source_snapshot_id"] for s in preview["snapshots"]) == sorted(s["snapshot_id"] for s in made["snapshots"])

    copied = ansible.module("ebs_snapshot_set_copy", **params)
    assert copied["changed"] is True, copied.get("msg")
    assert (copied["region"], copied["source_region"], copied["set_name"]) == (DESTINATION, sim.region, "dr")
    assert {s["state"] for s in copied["snapshots"]} == {"completed"}
    sources = {s["snapshot_id"]: s for s in made["snapshots"]}
    for copy in copied["snapshots"]:
        original = sources[copy["source_snapshot_id"]]
        assert copy["device_name"] == original["device_name"] and copy["volume_size"] == original["volume_size"]
        assert copy["tags"]["snapkit:volume"] == original["tags"]["snapkit:volume"]
        assert copy["tags"]["snapkit:source-region"] == sim.region and copy["tags"]["Team"] == "ops"
    encrypted = next(c for c in copied["snapshots"] if c["device_name"] == "/dev/sdf")
    assert encrypted["encrypted"] is True and f":{DESTINATION}:" in encrypted["kms_key_id"]
    # Three copies, a limit of two at a time: the third was refused, retried and made once.
    copies = sim.journal(service="ec2", action="CopySnapshot")
    assert [e["error_code"] for e in copies].count(None) == 3
    assert "ResourceLimitExceeded" in [e["error_code"] for e in copies]

    found = ansible.module("ebs_snapshot_set_info", region=DESTINATION, set_name="dr")
    assert len(found["sets"]) == 1 and found["sets"][0]["instance_id"] == source["instance_id"]
    assert found["sets"][0]["snapshot_count"] == 3 and found["sets"][0]["state"] == "completed"

    sim.clear_journal()
    again = ansible.module("ebs_snapshot_set_copy", **params)
    assert again["changed"] is False and mutating_calls(sim.journal(service="ec2")) == []
    assert {s["snapshot_id"] for s in again["snapshots"]} == {s["snapshot_id"] for s in copied["snapshots"]}

    rekeyed = ansible.module("ebs_snapshot_set_copy", kms_key_id="alias/dr", tags={"Copy": "kms"},
                             **dict(params, region="eu-central-1"))
    assert rekeyed["changed"] is True, rekeyed.get("msg")
    assert {(s["encrypted"], s["kms_key_id"]) for s in rekeyed["snapshots"]} == {(True, "alias/dr")}


def test_a_pending_set_is_refused_naming_its_snapshots(sim, ansible):
    source = sim.seed_instance(volumes=VOLUMES)
    sim.set_speed(1)
    made = ansible.module("ebs_multi_snapshot", instance_id=source["instance_id"], set_name="busy", wait=False)
    sim.clear_journal()
    result = ansible.module("ebs_snapshot_set_copy", source_region=sim.region, region=DESTINATION,
                            instance_id=source["instance_id"], set_name="busy")
    assert result["failed"] is True and "completed" in result["msg"]
    assert all(s["snapshot_id"] in result["msg"] for s in made["snapshots"])
    assert mutating_calls(sim.journal(service="ec2")) == []
