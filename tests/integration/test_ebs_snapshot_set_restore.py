# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ebs_snapshot_set_restore against the local EC2 cloud: a set restored onto a stopped instance, re-run, refused, removed."""

from __future__ import annotations

from conftest import ec2_client
from conftest import mutating_calls

SOURCE = [
    {"size": 8, "type": "gp3", "device": "/dev/xvda"},
    {"size": 20, "type": "gp3", "iops": 4000, "throughput": 250, "device": "/dev/sdf", "encrypted": True, "tags": {"Name": "db"}},
    {"size": 125, "type": "st1", "device": "/dev/sdg"},
    {"size": 10, "type": "io2", "iops": 5000, "device": "/dev/sdh"},
]
TARGET = [{"size": 8, "type": "gp2", "device": "/dev/xvda"}]


def make_set(sim, ansible, set_name="nightly"):
    sim.ec2_config(snapshot_seconds_per_gib=0.5, volume_create_seconds=5)
    source = sim.seed_instance(volumes=SOURCE)
    made = ansible.module("ebs_multi_snapshot", instance_id=source["instance_id"], set_name=set_name)
    assert made["changed"] is True, made.get("msg")
    return source, made


def test_restore_onto_a_stopped_instance_then_rerun_and_remove(sim, ansible):
    source, made = make_set(sim, ansible)
    target = sim.seed_instance(volumes=TARGET, state="stopped")
    old_root = target["volumes"][0]["volume_id"]
    sim.clear_journal()
    params = dict(instance_id=source["instance_id"], set_name="nightly", target_instance_id=target["instance_id"],
                  tags={"Purpose": "drill"})

    preview = ansible.module("ebs_snapshot_set_restore", check=True, diff=True, **params)
    assert preview["changed"] is True, preview.get("msg")
    assert mutating_calls(sim.journal(service="ec2")) == []
    assert [v["volume_id"] for v in preview["volumes"]] == [None] * 4
    assert preview["diff"]["after"]["attach"].keys() == {"/dev/sdf", "/dev/sdg", "/dev/sdh"}

    restored = ansible.module("ebs_snapshot_set_restore", **params)
    assert restored["changed"] is True, restored.get("msg")
    by_device = {v["device_name"]: v for v in restored["volumes"]}
    assert sorted(by_device) == ["/dev/sdf", "/dev/sdg", "/dev/sdh", "/dev/xvda"]
    # The original type, size, IOPS and throughput of every volume, from the tags recorded on the snapshots.
    for spec in SOURCE:
        volume = by_device[spec["device"]]
        assert (volume["volume_type"], volume["size"]) == (spec["type"], spec["size"]), volume
    assert (by_device["/dev/sdf"]["iops"], by_device["/dev/sdf"]["throughput"]) == (4000, 250)
    assert by_device["/dev/sdh"]["iops"] == 5000 and by_device["/dev/sdg"]["iops"] is None
    # Encryption follows the snapshot, with the snapshot's key.
    source_keys = {s["device_name"]: s["kms_key_id"] for s in made["snapshots"]}
    assert by_device["/dev/sdf"]["encrypted"] is True and by_device["/dev/sdf"]["kms_key_id"] == source_keys["/dev/sdf"]
    assert by_device["/dev/sdg"]["encrypted"] is False
    # Tags: the snapshot's own, the user's and the restore tags; not the set's internal ones.
    tags = by_device["/dev/sdf"]["tags"]
    assert tags["Purpose"] == "drill" and tags["snapkit:restored-from-set"] == "nightly"
    assert tags["snapkit:restore-target"] == target["instance_id"] and "snapkit:set-name" not in tags
    # Data volumes attached at their devices; the root snapshot restored but not swapped in (not asked).
    for device in ("/dev/sdf", "/dev/sdg", "/dev/sdh"):
        assert (by_device[device]["attached_to"], by_device[device]["attachment_state"]) == (target["instance_id"], "attached")
    assert by_device["/dev/xvda"]["attached_to"] is None and by_device["/dev/xvda"]["state"] == "available"
    assert restored["replaced_root_volume_id"] is None
    assert any("replace_root_volume" in w for w in restored["warnings"])
    mutations = [e["action"] for e in mutating_calls(sim.journal(service="ec2"))]
    assert sorted(mutations) == ["AttachVolume"] * 3 + ["CreateVolume"] * 4

    sim.clear_journal()
    again = ansible.module("ebs_snapshot_set_restore", **params)
    assert again["changed"] is False, again.get("msg")
    assert mutating_calls(sim.journal(service="ec2")) == []
    assert {v["volume_id"] for v in again["volumes"]} == {v["volume_id"] for v in restored["volumes"]}

    swapped = ansible.module("ebs_snapshot_set_restore", replace_root_volume=True, **params)
    assert swapped["changed"] is True and swapped["replaced_root_volume_id"] == old_root, swapped.get("msg")
    root = next(v for v in swapped["volumes"] if v["device_name"] == "/dev/xvda")
    assert root["attached_to"] == target["instance_id"] and root["volume_id"] == by_device["/dev/xvda"]["volume_id"]
    kept = ec2_client(sim).describe_volumes(VolumeIds=[old_root])["Volumes"][0]
    assert kept["State"] == "available", "the old root volume is detached and kept"

    refused = ansible.module("ebs_snapshot_set_restore", state="absent", instance_id=source["instance_id"], set_name="nightly")
    assert refused["failed"] is True and "attached" in refused["msg"]
    assert not [e for e in mutating_calls(sim.journal(service="ec2")) if e["action"] == "DeleteVolume"]


def test_running_target_and_foreign_device_are_refused_before_any_change(sim, ansible):
    source, _made = make_set(sim, ansible, "refusals")
    running = sim.seed_instance(volumes=TARGET)
    sim.clear_journal()
    result = ansible.module("ebs_snapshot_set_restore", instance_id=source["instance_id"], set_name="refusals",
                            target_instance_id=running["instance_id"])
    assert result["failed"] is True
    assert running["instance_id"] in result["msg"] and "running" in result["msg"]
    assert mutating_calls(sim.journal(service="ec2")) == []

    busy = sim.seed_instance(volumes=TARGET + [{"size": 4, "device": "/dev/sdg"}], state="stopped")
    result = ansible.module("ebs_snapshot_set_restore", instance_id=source["instance_id"], set_name="refusals",
                            target_instance_id=busy["instance_id"])
    assert result["failed"] is True and "/dev/sdg" in result["msg"] and busy["volumes"][1]["volume_id"] in result["msg"]
    assert mutating_calls(sim.journal(service="ec2")) == []


def test_restore_without_target_re_keys_and_absent_deletes(sim, ansible):
    source, _made = make_set(sim, ansible, "zone")
    params = dict(instance_id=source["instance_id"], set_name="zone", kms_key_id="alias/restore")
    restored = ansible.module("ebs_snapshot_set_restore", **params)
    assert restored["changed"] is True, restored.get("msg")
    assert {(v["encrypted"], v["kms_key_id"], v["state"]) for v in restored["volumes"]} == {(True, "alias/restore", "available")}
    assert len({v["availability_zone"] for v in restored["volumes"]}) == 1

    sim.clear_journal()
    removed = ansible.module("ebs_snapshot_set_restore", state="absent", **params)
    assert removed["changed"] is True and len(removed["volumes"]) == 4
    assert [e["action"] for e in mutating_calls(sim.journal(service="ec2"))] == ["DeleteVolume"] * 4
    again = ansible.module("ebs_snapshot_set_restore", state="absent", **params)
    assert again["changed"] is False and again["volumes"] == []
