# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""snapkit.cloud.ebs_multi_snapshot through real playbook runs against the local EC2 cloud."""

from __future__ import annotations

import datetime

import pytest

from _collection import STOPPED_FOR_SET_TAG
from cloudsim.ec2.testing import past_visibility_delay
from conftest import PLANTED_ACCESS_KEY
from conftest import PLANTED_SECRET_KEY
from conftest import documented_return
from conftest import ec2_client
from conftest import mutating_calls

EIGHT_VOLUMES = [{"size": 8, "type": "gp3", "device": "/dev/xvda"}] + [
    {"size": 4 + n, "type": "gp3", "device": f"/dev/sd{chr(ord('f') + n)}", "tags": {"Name": f"data-{n}", "Tier": "db"}}
    for n in range(7)
]
THREE_VOLUMES = EIGHT_VOLUMES[:3]


def actions(sim, action=None):
    return [entry["action"] for entry in sim.journal(service="ec2", action=action)]


def instance_state(sim, instance_id):
    reservations = ec2_client(sim).describe_instances(InstanceIds=[instance_id])["Reservations"]
    return reservations[0]["Instances"][0]["State"]["Name"]


STOP_MARK = STOPPED_FOR_SET_TAG


def instance_tags(sim, instance_id):
    reservations = ec2_client(sim).describe_instances(InstanceIds=[instance_id])["Reservations"]
    return {tag["Key"]: tag["Value"] for tag in reservations[0]["Instances"][0].get("Tags", [])}


def set_snapshots(sim, set_name):
    return ec2_client(sim).describe_snapshots(OwnerIds=["self"], Filters=[{"Name": "tag:snapkit:set-name", "Values": [set_name]}])["Snapshots"]


def assert_documented_keys(result, module_name="ebs_multi_snapshot"):
    """Every documented return key that is returned always is in the result, and so is every documented key of each
    list element."""
    documented = documented_return(module_name)
    for key, spec in documented.items():
        if spec.get("returned", "always") != "always":
            continue
        assert key in result, f"documented return key {key} missing"
        for element in result[key] if spec.get("type") == "list" else []:
            for sub_key, sub_spec in spec.get("contains", {}).items():
                if (sub_spec or {}).get("returned", "always") != "always":
                    continue
                assert sub_key in element, f"documented key {key}[].{sub_key} missing"


def test_one_call_makes_a_consistent_set_of_eight_volumes(sim, ansible):
    seeded = sim.seed_instance(volumes=EIGHT_VOLUMES)
    result = ansible.module("ebs_multi_snapshot", instance_id=seeded["instance_id"], set_name="nightly",
                            description="Nightly set", tags={"Team": "storage"})

    assert result["changed"] is True, result.get("msg")
    assert actions(sim, "CreateSnapshots") == ["CreateSnapshots"]
    snapshots = result["snapshots"]
    assert len(snapshots) == 8
    assert {s["volume_id"] for s in snapshots} == {v["volume_id"] for v in seeded["volumes"]}
    assert {s["state"] for s in snapshots} == {"completed"}
    assert {s["progress"] for s in snapshots} == {"100%"}
    assert len({s["start_time"] for s in snapshots}) == 1, "a crash-consistent set shares one start time"
    devices = {v["volume_id"]: v["device"] for v in seeded["volumes"]}
    assert all(s["device_name"] == devices[s["volume_id"]] for s in snapshots)
    assert all(s["tags"] == {"Team": "storage", "snapkit:set-name": "nightly", "snapkit:instance-id": seeded["instance_id"],
                             "snapkit:device": s["device_name"], "snapkit:volume": "type=gp3 iops=3000 throughput=125"}
               for s in snapshots)
    assert all(s["description"] == "Nightly set" for s in snapshots)
    assert result["set_name"] == "nightly" and result["instance_id"] == seeded["instance_id"]
    assert result["instance_stopped"] is False and result["instance_restarted"] is False
    assert_documented_keys(result)


def test_rerun_with_the_same_set_name_finds_the_set(sim, ansible):
    seeded = sim.seed_instance(volumes=THREE_VOLUMES)
    first = ansible.module("ebs_multi_snapshot", instance_id=seeded["instance_id"], set_name="weekly")
    second = ansible.module("ebs_multi_snapshot", instance_id=seeded["instance_id"], set_name="weekly")

    assert first["changed"] is True and second["changed"] is False
    assert actions(sim, "CreateSnapshots") == ["CreateSnapshots"]
    assert sorted(s["snapshot_id"] for s in second["snapshots"]) == sorted(s["snapshot_id"] for s in first["snapshots"])
    assert_documented_keys(second)


def test_same_set_name_on_another_instance_is_another_set(sim, ansible):
    one = sim.seed_instance(volumes=THREE_VOLUMES)
    two = sim.seed_instance(volumes=THREE_VOLUMES)
    ansible.module("ebs_multi_snapshot", instance_id=one["instance_id"], set_name="shared", wait=False)
    result = ansible.module("ebs_multi_snapshot", instance_id=two["instance_id"], set_name="shared", wait=False)
    assert result["changed"] is True
    assert {s["volume_id"] for s in result["snapshots"]} == {v["volume_id"] for v in two["volumes"]}


def test_exclusions_are_honoured(sim, ansible):
    seeded = sim.seed_instance(volumes=EIGHT_VOLUMES)
    volumes = seeded["volumes"]
    excluded = [volumes[2]["volume_id"], volumes[5]["volume_id"]]
    result = ansible.module("ebs_multi_snapshot", instance_id=seeded["instance_id"], set_name="data-only",
                            exclude_boot_volume=True, exclude_data_volume_ids=excluded)

    expected = {v["volume_id"] for v in volumes[1:]} - set(excluded)
    assert result["changed"] is True, result.get("msg")
    assert {s["volume_id"] for s in result["snapshots"]} == expected
    assert {v["volume_id"] for v in result["volumes"]} == expected
    assert not any(v["root"] for v in result["volumes"])
    request = sim.journal(service="ec2", action="CreateSnapshots")[0]["params"]
    assert request["InstanceSpecification.ExcludeBootVolume"] == "true"


def test_copied_tags_are_merged_with_the_set_tags(sim, ansible):
    seeded = sim.seed_instance(volumes=THREE_VOLUMES)
    result = ansible.module("ebs_multi_snapshot", instance_id=seeded["instance_id"], set_name="copied",
                            copy_tags_from_source=True, tags={"Owner": "ops"})

    assert result["changed"] is True, result.get("msg")
    by_volume = {s["volume_id"]: s["tags"] for s in result["snapshots"]}
    root, first_data = seeded["volumes"][0]["volume_id"], seeded["volumes"][1]["volume_id"]
    recorded = {"snapkit:volume": "type=gp3 iops=3000 throughput=125"}
    assert by_volume[first_data] == {"Name": "data-0", "Tier": "db", "Owner": "ops", "snapkit:device": "/dev/sdf", **recorded,
                                     "snapkit:set-name": "copied", "snapkit:instance-id": seeded["instance_id"]}
    assert by_volume[root] == {"Owner": "ops", "snapkit:set-name": "copied", "snapkit:instance-id": seeded["instance_id"],
                               "snapkit:device": "/dev/xvda", **recorded}
    # One CreateTags per snapshot; a record EC2 refused because it did not show the new snapshot yet (eventual
    # consistency) is sent again, and only then.
    tagging = sim.journal(service="ec2", action="CreateTags")
    assert len([entry for entry in tagging if entry["status"] == 200]) == 3
    assert {entry["error_code"] for entry in tagging if entry["status"] != 200} <= {"InvalidSnapshot.NotFound"}


def test_failed_recording_of_volume_attributes_keeps_the_set_with_a_warning(sim, ansible):
    seeded = sim.seed_instance(volumes=THREE_VOLUMES)
    sim.inject_fault("ec2", "CreateTags", "UnauthorizedOperation", status=403, count=1,
                     message="You are not authorized to perform this operation.")
    result = ansible.module("ebs_multi_snapshot", instance_id=seeded["instance_id"], set_name="untagged")

    assert result["changed"] is True and result.get("failed") is False, result.get("msg")
    assert {s["state"] for s in result["snapshots"]} == {"completed"}
    untagged = [s["snapshot_id"] for s in result["snapshots"] if "snapkit:device" not in s["tags"]]
    assert len(untagged) == 1 and untagged[0] in " ".join(result["warnings"])
    assert len(set_snapshots(sim, "untagged")) == 3


def test_check_mode_changes_nothing_and_lists_the_volumes(sim, ansible):
    seeded = sim.seed_instance(volumes=THREE_VOLUMES)
    result = ansible.module("ebs_multi_snapshot", check=True, diff=True, instance_id=seeded["instance_id"],
                            set_name="preview", stop_instance=True)

    assert result["changed"] is True
    assert mutating_calls(sim.journal(service="ec2")) == []
    assert [v["volume_id"] for v in result["volumes"]] == [v["volume_id"] for v in seeded["volumes"]]
    assert result["volumes"][0]["root"] is True and result["volumes"][0]["size"] == 8
    assert result["snapshots"] == []
    assert result["diff"]["after"]["volume_ids"] == [v["volume_id"] for v in seeded["volumes"]]
    assert instance_state(sim, seeded["instance_id"]) == "running"
    assert_documented_keys(result)


def test_stop_instance_restarts_it_as_soon_as_the_set_is_created(sim, ansible):
    seeded = sim.seed_instance(volumes=THREE_VOLUMES)
    result = ansible.module("ebs_multi_snapshot", instance_id=seeded["instance_id"], set_name="cold",
                            stop_instance=True, wait=False)

    assert result["changed"] is True, result.get("msg")
    assert result["instance_stopped"] is True and result["instance_restarted"] is True
    # Not waited for: the instance is running again while every snapshot is still pending.
    assert {s["state"] for s in result["snapshots"]} == {"pending"}
    assert instance_state(sim, seeded["instance_id"]) == "running"
    mutations = [entry["action"] for entry in mutating_calls(sim.journal(service="ec2"))]
    # The instance is marked before the stop and unmarked after the restart; the device and volume attributes are
    # recorded on each snapshot after the restart: no extra downtime.
    assert mutations == ["CreateTags", "StopInstances", "CreateSnapshots", "StartInstances", "DeleteTags"] + ["CreateTags"] * 3
    marks = [entry for entry in sim.journal(service="ec2") if entry["action"] in ("CreateTags", "DeleteTags")][:2]
    assert [seeded["instance_id"] in entry["params"].values() for entry in marks] == [True, True]
    assert STOP_MARK not in instance_tags(sim, seeded["instance_id"])


def test_stop_instance_then_wait_polls_after_the_restart(sim, ansible):
    seeded = sim.seed_instance(volumes=THREE_VOLUMES)
    result = ansible.module("ebs_multi_snapshot", instance_id=seeded["instance_id"], set_name="cold-wait", stop_instance=True)

    assert result["changed"] is True, result.get("msg")
    assert {s["state"] for s in result["snapshots"]} == {"completed"}
    journal = sim.journal(service="ec2")
    seq = {entry["action"]: entry["seq"] for entry in journal if entry["action"] in ("StopInstances", "CreateSnapshots", "StartInstances")}
    last_poll = max(e["seq"] for e in journal if e["action"] == "DescribeSnapshots")
    assert seq["StopInstances"] < seq["CreateSnapshots"] < seq["StartInstances"] < last_poll


def test_a_stopped_instance_stays_stopped(sim, ansible):
    seeded = sim.seed_instance(volumes=THREE_VOLUMES, state="stopped")
    result = ansible.module("ebs_multi_snapshot", instance_id=seeded["instance_id"], set_name="offline", stop_instance=True)

    assert result["changed"] is True, result.get("msg")
    assert result["instance_stopped"] is False and result["instance_restarted"] is False
    assert instance_state(sim, seeded["instance_id"]) == "stopped"
    assert "StartInstances" not in actions(sim) and "StopInstances" not in actions(sim)


def test_a_run_cut_off_while_the_instance_was_stopped_is_finished_and_the_instance_started(sim, ansible):
    # What a run killed between StopInstances and CreateSnapshots leaves: the instance stopped, carrying our mark.
    seeded = sim.seed_instance(volumes=THREE_VOLUMES, state="stopped", tags={STOP_MARK: "cut-off", "Name": "db"})
    result = ansible.module("ebs_multi_snapshot", instance_id=seeded["instance_id"], set_name="cut-off")

    assert result["changed"] is True, result.get("msg")
    assert result["instance_stopped"] is True and result["instance_restarted"] is True
    assert any("cut off" in warning and seeded["instance_id"] in warning for warning in result.get("warnings", []))
    assert instance_state(sim, seeded["instance_id"]) == "running"
    assert instance_tags(sim, seeded["instance_id"]) == {"Name": "db"}, "the mark is gone, the owner's tags stay"
    assert len(set_snapshots(sim, "cut-off")) == 3 and actions(sim, "CreateSnapshots") == ["CreateSnapshots"]
    assert actions(sim, "StopInstances") == [], "it was already down: the snapshot is still taken stopped"


def test_a_run_cut_off_after_making_the_set_is_finished_by_starting_the_instance(sim, ansible):
    # Killed between CreateSnapshots and StartInstances: the set exists, the instance is stopped and marked.
    seeded = sim.seed_instance(volumes=THREE_VOLUMES, state="stopped")
    first = ansible.module("ebs_multi_snapshot", instance_id=seeded["instance_id"], set_name="made", wait=False)
    assert first["changed"] is True and instance_state(sim, seeded["instance_id"]) == "stopped"
    ec2_client(sim).create_tags(Resources=[seeded["instance_id"]], Tags=[{"Key": STOP_MARK, "Value": "made"}])
    sim.clear_journal()

    result = ansible.module("ebs_multi_snapshot", instance_id=seeded["instance_id"], set_name="made")

    assert result["changed"] is True and result["instance_restarted"] is True, result.get("msg")
    assert instance_state(sim, seeded["instance_id"]) == "running"
    assert STOP_MARK not in instance_tags(sim, seeded["instance_id"])
    assert actions(sim, "CreateSnapshots") == [], "the set was found: no second set"
    assert {s["state"] for s in result["snapshots"]} == {"completed"}


def test_an_instance_stopped_for_another_set_is_left_stopped_with_a_warning(sim, ansible):
    seeded = sim.seed_instance(volumes=THREE_VOLUMES, state="stopped", tags={STOP_MARK: "other-set"})
    result = ansible.module("ebs_multi_snapshot", instance_id=seeded["instance_id"], set_name="this-set", stop_instance=True)

    assert result["changed"] is True, result.get("msg")
    assert result["instance_stopped"] is False and result["instance_restarted"] is False
    assert any("other-set" in warning and "left stopped" in warning for warning in result.get("warnings", []))
    assert instance_state(sim, seeded["instance_id"]) == "stopped"
    assert instance_tags(sim, seeded["instance_id"]) == {STOP_MARK: "other-set"}, "another run's mark is not ours to remove"


def test_a_mark_left_on_a_running_instance_is_removed_without_a_stop(sim, ansible):
    # Killed between StartInstances and DeleteTags.
    seeded = sim.seed_instance(volumes=THREE_VOLUMES, tags={STOP_MARK: "warm"})
    result = ansible.module("ebs_multi_snapshot", instance_id=seeded["instance_id"], set_name="warm")

    assert result["changed"] is True and result["instance_stopped"] is False, result.get("msg")
    assert instance_tags(sim, seeded["instance_id"]) == {}
    assert actions(sim, "StopInstances") == [] and actions(sim, "StartInstances") == []


def test_a_refused_mark_only_warns(sim, ansible):
    seeded = sim.seed_instance(volumes=THREE_VOLUMES)
    sim.inject_fault("ec2", "CreateTags", "UnauthorizedOperation", status=403, count=1)
    result = ansible.module("ebs_multi_snapshot", instance_id=seeded["instance_id"], set_name="unmarked", stop_instance=True)

    assert result["changed"] is True and result["instance_restarted"] is True, result.get("msg")
    assert any(STOP_MARK in warning and "UnauthorizedOperation" in warning for warning in result.get("warnings", []))
    assert instance_state(sim, seeded["instance_id"]) == "running"
    assert actions(sim, "DeleteTags") == [], "nothing to remove"


def test_power_state_is_restored_when_the_set_cannot_be_created(sim, ansible):
    seeded = sim.seed_instance(volumes=THREE_VOLUMES)
    sim.inject_fault("ec2", "CreateSnapshots", "InvalidParameterValue", status=400, count=1,
                     message="Simulated refusal of the request")
    result = ansible.module("ebs_multi_snapshot", instance_id=seeded["instance_id"], set_name="refused", stop_instance=True)

    assert result["failed"] is True
    assert seeded["instance_id"] in result["msg"] and "InvalidParameterValue" in result["msg"] + str(result.get("error"))
    assert result["instance_stopped"] is True and result["instance_restarted"] is True
    assert instance_state(sim, seeded["instance_id"]) == "running"
    assert set_snapshots(sim, "refused") == []


def test_unknown_instance_is_named_in_the_error(sim, ansible):
    result = ansible.module("ebs_multi_snapshot", instance_id="i-0123456789abcdef0", set_name="ghost")
    assert result["failed"] is True
    assert "i-0123456789abcdef0" in result["msg"] and "not found" in result["msg"]
    assert mutating_calls(sim.journal(service="ec2")) == []


def test_hibernation_is_refused_before_any_snapshot_call(sim, ansible):
    seeded = sim.seed_instance(volumes=THREE_VOLUMES, hibernation=True)
    result = ansible.module("ebs_multi_snapshot", instance_id=seeded["instance_id"], set_name="sleepy", stop_instance=True)
    assert result["failed"] is True
    assert "hibernation" in result["msg"] and seeded["instance_id"] in result["msg"]
    assert mutating_calls(sim.journal(service="ec2")) == []


def test_more_than_forty_volumes_is_refused(sim, ansible):
    volumes = [{"size": 1, "type": "gp3", "device": "/dev/xvda"}] + [
        {"size": 1, "type": "gp3", "device": f"/dev/xvd{chr(ord('b') + n // 26)}{chr(ord('a') + n % 26)}"} for n in range(40)
    ]
    seeded = sim.seed_instance(volumes=volumes)
    result = ansible.module("ebs_multi_snapshot", instance_id=seeded["instance_id"], set_name="huge")
    assert result["failed"] is True
    assert "41 volumes" in result["msg"] and "40" in result["msg"] and seeded["instance_id"] in result["msg"]
    assert mutating_calls(sim.journal(service="ec2")) == []


def test_a_failing_set_fails_as_a_whole_and_reports_every_snapshot(sim, ansible):
    seeded = sim.seed_instance(volumes=THREE_VOLUMES)
    sim.fail_snapshots(volume_id=seeded["volumes"][1]["volume_id"], at_progress=30)
    result = ansible.module("ebs_multi_snapshot", instance_id=seeded["instance_id"], set_name="doomed")

    assert result["failed"] is True
    assert {s["state"] for s in result["snapshots"]} == {"error"}
    for snapshot in result["snapshots"]:
        assert snapshot["snapshot_id"] in result["msg"] and snapshot["volume_id"] in result["msg"]
    assert "kept" in result["msg"]
    assert len(set_snapshots(sim, "doomed")) == 3
    rerun = ansible.module("ebs_multi_snapshot", instance_id=seeded["instance_id"], set_name="doomed")
    assert rerun["failed"] is True and "has failed" in rerun["msg"] and "state=absent" in rerun["msg"]


def test_delete_on_failure_removes_the_whole_failed_set(sim, ansible):
    seeded = sim.seed_instance(volumes=THREE_VOLUMES)
    sim.fail_snapshots(instance_id=seeded["instance_id"], at_progress=50)
    result = ansible.module("ebs_multi_snapshot", instance_id=seeded["instance_id"], set_name="cleaned", delete_on_failure=True)

    assert result["failed"] is True
    assert "deleted" in result["msg"]
    assert sorted(result["deleted_snapshot_ids"]) == sorted(s["snapshot_id"] for s in result["snapshots"])
    assert len(actions(sim, "DeleteSnapshot")) == 3
    assert set_snapshots(sim, "cleaned") == []


def test_throttling_is_retried_without_a_second_set(sim, ansible):
    seeded = sim.seed_instance(volumes=THREE_VOLUMES)
    sim.inject_fault("ec2", "CreateSnapshots", "RequestLimitExceeded", status=503, count=3, message="Request limit exceeded.")
    sim.inject_fault("ec2", "DescribeSnapshots", "RequestLimitExceeded", status=503, count=2, message="Request limit exceeded.")
    result = ansible.module("ebs_multi_snapshot", instance_id=seeded["instance_id"], set_name="throttled")

    assert result["changed"] is True, result.get("msg")
    assert {s["state"] for s in result["snapshots"]} == {"completed"}
    creates = sim.journal(service="ec2", action="CreateSnapshots")
    assert [e["status"] for e in creates] == [503, 503, 503, 200]
    assert len(set_snapshots(sim, "throttled")) == 3


def test_a_server_error_after_creation_does_not_make_a_second_set(sim, ansible):
    seeded = sim.seed_instance(volumes=THREE_VOLUMES)
    sim.inject_fault("ec2", "CreateSnapshots", "InternalError", status=500, count=1, message="An internal error has occurred")
    result = ansible.module("ebs_multi_snapshot", instance_id=seeded["instance_id"], set_name="ambiguous", wait=False)
    assert result["changed"] is True, result.get("msg")
    assert len(set_snapshots(sim, "ambiguous")) == 3


def test_pending_snapshot_limit_is_retried_until_it_clears(sim, ansible):
    seeded = sim.seed_instance(volumes=THREE_VOLUMES)
    sim.inject_fault("ec2", "CreateSnapshots", "ConcurrentSnapshotLimitExceeded", status=400, count=2,
                     message="Too many pending snapshots for volume")
    result = ansible.module("ebs_multi_snapshot", instance_id=seeded["instance_id"], set_name="limited", wait=False)
    assert result["changed"] is True, result.get("msg")
    assert [e["status"] for e in sim.journal(service="ec2", action="CreateSnapshots")] == [400, 400, 200]


def test_pending_snapshot_limit_fails_at_the_deadline_naming_the_busy_volume(sim, ansible):
    seeded = sim.seed_instance(volumes=[{"size": 500, "type": "st1", "device": "/dev/xvda"}])
    sim.set_speed(1)
    busy = seeded["volumes"][0]["volume_id"]
    ec2_client(sim).create_snapshot(VolumeId=busy)
    # The busy volume is named from DescribeSnapshots: let EC2 list the new snapshot first (eventual consistency).
    past_visibility_delay(sim)
    sim.clear_journal()
    result = ansible.module("ebs_multi_snapshot", instance_id=seeded["instance_id"], set_name="blocked", wait_timeout=5)

    assert result["failed"] is True
    assert busy in result["msg"] and "1 pending" in result["msg"] and "wait_timeout" in result["msg"]
    creates = sim.journal(service="ec2", action="CreateSnapshots")
    assert len(creates) >= 2 and all(e["error_code"] == "ConcurrentSnapshotLimitExceeded" for e in creates)


def test_timeout_reports_what_is_still_pending(sim, ansible):
    seeded = sim.seed_instance(volumes=THREE_VOLUMES)
    sim.set_speed(1)
    result = ansible.module("ebs_multi_snapshot", instance_id=seeded["instance_id"], set_name="slow", wait_timeout=3)

    assert result["failed"] is True
    assert "wait_timeout=3" in result["msg"]
    assert {s["state"] for s in result["snapshots"]} == {"pending"}
    for snapshot in result["snapshots"]:
        assert snapshot["snapshot_id"] in result["msg"]
    # A re-run with the same name picks the set up again instead of making another one.
    sim.set_speed(100000)
    rerun = ansible.module("ebs_multi_snapshot", instance_id=seeded["instance_id"], set_name="slow")
    assert rerun["changed"] is False and {s["state"] for s in rerun["snapshots"]} == {"completed"}
    assert len(actions(sim, "CreateSnapshots")) == 1


def test_absent_deletes_the_set_and_a_second_run_changes_nothing(sim, ansible):
    seeded = sim.seed_instance(volumes=THREE_VOLUMES)
    ansible.module("ebs_multi_snapshot", instance_id=seeded["instance_id"], set_name="old", wait=False)
    check = ansible.module("ebs_multi_snapshot", check=True, state="absent", instance_id=seeded["instance_id"], set_name="old")
    assert check["changed"] is True and len(set_snapshots(sim, "old")) == 3

    first = ansible.module("ebs_multi_snapshot", state="absent", instance_id=seeded["instance_id"], set_name="old")
    second = ansible.module("ebs_multi_snapshot", state="absent", instance_id=seeded["instance_id"], set_name="old")
    assert first["changed"] is True and len(first["snapshots"]) == 3
    assert second["changed"] is False and second["snapshots"] == []
    assert set_snapshots(sim, "old") == []
    assert len(actions(sim, "DeleteSnapshot")) == 3
    assert_documented_keys(first)


def test_absent_by_snapshot_ids(sim, ansible):
    seeded = sim.seed_instance(volumes=THREE_VOLUMES)
    made = ansible.module("ebs_multi_snapshot", instance_id=seeded["instance_id"], set_name="by-id", wait=False)
    ids = [s["snapshot_id"] for s in made["snapshots"]]
    result = ansible.module("ebs_multi_snapshot", state="absent", snapshot_ids=ids)
    assert result["changed"] is True
    assert set_snapshots(sim, "by-id") == []


@pytest.mark.parametrize("params, field", [
    ({"instance_id": "instance-1"}, "instance_id"),
    ({"instance_id": "i-0123456789abcdef0", "set_name": "bad|name"}, "set_name"),
    ({"instance_id": "i-0123456789abcdef0", "set_name": "x" * 201}, "set_name"),
    ({"instance_id": "i-0123456789abcdef0", "exclude_data_volume_ids": ["volume-1"]}, "exclude_data_volume_ids"),
    ({"instance_id": "i-0123456789abcdef0", "tags": {"aws:owner": "x"}}, "tags"),
    ({"instance_id": "i-0123456789abcdef0", "tags": {"snapkit:set-name": "x"}}, "tags"),
    ({"instance_id": "i-0123456789abcdef0", "tags": {f"k{n}": "v" for n in range(47)}}, "tags"),
    ({"instance_id": "i-0123456789abcdef0", "wait_timeout": 0}, "wait_timeout"),
    ({"instance_id": "i-0123456789abcdef0", "description": "d" * 256}, "description"),
    ({"instance_id": "i-0123456789abcdef0", "snapshot_ids": ["snap-0123456789abcdef0"]}, "snapshot_ids"),
    ({"state": "absent", "instance_id": "i-0123456789abcdef0"}, "state=absent"),
    ({"state": "absent", "snapshot_ids": ["snapshot-1"]}, "snapshot_ids"),
    ({"set_name": "no-instance"}, "instance_id"),
    ({"instance_id": "i-0123456789abcdef0", "wait_timeout": "soon"}, "wait_timeout"),
])
def test_bad_input_is_rejected_before_any_call(sim, ansible, params, field):
    result = ansible.module("ebs_multi_snapshot", **params)
    assert result["failed"] is True
    assert field in result["msg"]
    assert sim.journal(service="ec2") == []


def test_planted_credentials_never_reach_the_output(sim, ansible):
    seeded = sim.seed_instance(volumes=THREE_VOLUMES)
    run = ansible.run([{
        "name": "Snapshot with keys given as options too",
        "snapkit.cloud.ebs_multi_snapshot": {
            "instance_id": seeded["instance_id"], "set_name": "secret-check", "wait": False,
            "access_key": PLANTED_ACCESS_KEY, "secret_key": PLANTED_SECRET_KEY,
        },
        "register": "result",
    }], verbosity=4)
    assert run["result"]["changed"] is True
    assert PLANTED_SECRET_KEY not in run.output
    assert PLANTED_SECRET_KEY not in str(run.results)


def sim_seconds(entry):
    return datetime.datetime.fromisoformat(entry["sim_time"].replace("Z", "+00:00")).timestamp()


def test_wait_timeout_bounds_the_whole_task_not_each_step(sim, ansible):
    """The stop, the create, the start and the wait for the set share one wait_timeout: the task gives up about
    wait_timeout after its first call (the last poll at the deadline), where each step used to get a fresh one."""
    seeded = sim.seed_instance(volumes=THREE_VOLUMES)
    sim.ec2_config(instance_transition_seconds=1, snapshot_seconds_base=100000, visibility_delay_max_seconds=0)
    sim.set_speed(1)
    sim.clear_journal()
    result = ansible.module("ebs_multi_snapshot", instance_id=seeded["instance_id"], set_name="bounded", stop_instance=True,
                            wait_timeout=8)

    assert result["failed"] is True
    assert "did not complete within wait_timeout=8 seconds" in result["msg"], result["msg"]
    journal = sim.journal(service="ec2")
    assert result["instance_restarted"] is True and instance_state(sim, seeded["instance_id"]) in ("pending", "running")
    # One poll interval (the engine's first, 1 s) of slack for the calls' own time; each step's own budget took
    # 1 + 1 + 8 seconds and more.
    assert sim_seconds(journal[-1]) - sim_seconds(journal[0]) <= 8 + 1
