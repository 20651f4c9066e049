# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reliability suite: eventual consistency, a row of the fault matrix for every EC2 and Lightsail module and both roles.

AWS documents that a snapshot, copy or volume just created may be missing from Describe* answers and answer
InvalidSnapshot.NotFound / InvalidVolume.NotFound (by id, to CreateTags) for a while. The cloud here holds every new
resource invisible for ``DELAY`` simulated seconds, longer than the modules take between a create and the calls that
follow it, so every step that reads or tags a new resource meets the delay. A missing resource that was never seen
must be waited for (not read as deleted), tagging must be retried, and a create whose answer was lost must be looked
for until EC2 can show it, never sent twice.

Lightsail likewise answers NotFoundException for a new instance or instance snapshot (and leaves it out of listings) for
a while; its row holds every new Lightsail resource invisible for ``LIGHTSAIL_DELAY``. A module that made the resource
waits for it (``lightsail_snapshot``, ``lightsail_instance_from_snapshot``, with ``wait`` or without: without, the task
returns the resource as Lightsail first shows it), so the modules that take it next (``lightsail_snapshot_info``,
``lightsail_instance_state``, ``lightsail_instance_port``) find it; the ``lightsail_instance_snapshot`` role does too.
"""
# pytest fixtures are parameters named like the imported fixture functions.
# pylint: disable=redefined-outer-name

from __future__ import annotations

from _reliability import aws_cloud  # noqa: F401  pylint: disable=unused-import
from _reliability import aws_sim as sim  # noqa: F401  pylint: disable=unused-import
from _reliability import ec2_power_states
from _reliability_aws import run_lightsail_role
from _reliability import run_role
from _reliability import task
from conftest import ec2_client
from test_reliability_ebs_sets import DESTINATION
from test_reliability_ebs_sets import copies_in
from test_reliability_ebs_sets import make_sets
from test_reliability_ebs_sets import restored_volumes
from test_reliability_ebs_sets import set_snapshot_ids
from test_reliability_ebs_sets import stopped_target
from test_reliability_faults import TWO_VOLUMES
from test_reliability_faults import sets_of

# Simulated seconds a new resource stays invisible: about 0.2 s of real time at the suite's speed, longer than a
# module takes from a create to the next call, shorter than the modules' grace (300 s of EC2's clock).
DELAY = 120
LOST_ANSWER_SPEED = 60
LOST_DELAY = 200
RECORD_TAGS = {"snapkit:device", "snapkit:volume"}
NOT_FOUND = {"InvalidSnapshot.NotFound", "InvalidVolume.NotFound"}


def delay_new_resources(sim):
    sim.ec2_config(visibility_delay_min_seconds=DELAY, visibility_delay_max_seconds=DELAY)


def met_the_delay(sim, actions):
    """The actions that answered a NotFound for a resource not visible yet: the delay was exercised there."""
    return {e["action"] for e in sim.journal(service="ec2") if e["error_code"] in NOT_FOUND} & set(actions)


def recorded(sim, snapshot_ids):
    """{snapshot id: the record tag keys it carries}, read once everything is visible."""
    sim.advance(DELAY)
    described = ec2_client(sim).describe_snapshots(SnapshotIds=list(snapshot_ids))["Snapshots"]
    return {s["SnapshotId"]: {t["Key"] for t in s.get("Tags", [])} & RECORD_TAGS for s in described}


def test_ebs_multi_snapshot_waits_for_and_tags_a_set_ec2_does_not_show_yet(sim, ansible):
    plain, stopped = (sim.seed_instance(volumes=TWO_VOLUMES)["instance_id"] for _number in range(2))
    delay_new_resources(sim)
    run = ansible.run([
        task(sim, "ebs_multi_snapshot", "plain", instance_id=plain, set_name="new", delete_on_failure=True),
        task(sim, "ebs_multi_snapshot", "stopped", instance_id=stopped, set_name="new", stop_instance=True, delete_on_failure=True),
    ])

    for name, instance_id in (("plain", plain), ("stopped", stopped)):
        result = run[name]
        assert result.get("failed") is not True, result.get("msg")
        assert not result.get("warnings"), result.get("warnings")
        assert [s["state"] for s in result["snapshots"]] == ["completed", "completed"]
        assert list(sets_of(sim, instance_id).values()) == [["completed", "completed"]], "one set, not deleted"
        assert recorded(sim, set_snapshot_ids(sim, instance_id, "new")) == {
            s["snapshot_id"]: RECORD_TAGS for s in result["snapshots"]}, "device and volume recorded on every snapshot"
    assert met_the_delay(sim, {"CreateTags"}) == {"CreateTags"}
    assert ec2_power_states(sim, [plain, stopped]) == {plain: "running", stopped: "running"}


def test_a_lost_create_answer_is_looked_for_until_ec2_can_show_it(sim, ansible):
    source = make_sets(sim, ansible, ["nightly"])
    instance_id = sim.seed_instance(volumes=TWO_VOLUMES)["instance_id"]
    # The first lookup comes 0.2 to 2 s (jittered backoff) after the lost answer: at this speed at most 120 simulated
    # seconds, so a delay of LOST_DELAY always hides what was made from it (and is shorter than the grace).
    sim.set_speed(LOST_ANSWER_SPEED)
    sim.ec2_config(visibility_delay_min_seconds=LOST_DELAY, visibility_delay_max_seconds=LOST_DELAY,
                   snapshot_seconds_base=10, snapshot_seconds_per_gib=0, copy_seconds_base=10, copy_seconds_per_gib=0)
    for action in ("CreateSnapshots", "CopySnapshot"):
        sim.inject_fault("ec2", action, "InternalError", status=500, processed=True)
    run = ansible.run([
        task(sim, "ebs_multi_snapshot", "created", instance_id=instance_id, set_name="lost"),
        task(sim, "ebs_snapshot_set_copy", "copied", source_region=sim.region, region=DESTINATION,
             instance_id=source["instance_id"], set_name="nightly"),
    ])

    assert sim.faults() == []
    assert len(sets_of(sim, instance_id)) == 1, "no second set"
    assert run["created"].get("failed") is not True, run["created"].get("msg")
    assert list(sets_of(sim, instance_id).values()) == [["completed", "completed"]]
    assert run["copied"].get("failed") is not True, run["copied"].get("msg")
    copies = copies_in(sim, DESTINATION, set_snapshot_ids(sim, source["instance_id"], "nightly"))
    assert sorted(len(ids) for ids in copies.values()) == [1, 1], copies


def test_copy_waits_for_and_reports_copies_ec2_does_not_show_yet(sim, ansible):
    source = make_sets(sim, ansible, ["nightly"])
    other = make_sets(sim, ansible, ["nightly"])
    delay_new_resources(sim)
    run = ansible.run([
        task(sim, "ebs_snapshot_set_copy", "waited", source_region=sim.region, region=DESTINATION,
             instance_id=source["instance_id"], set_name="nightly"),
        task(sim, "ebs_snapshot_set_copy", "started", source_region=sim.region, region=DESTINATION,
             instance_id=other["instance_id"], set_name="nightly", wait=False),
    ])

    waited, started = run["waited"], run["started"]
    assert waited.get("failed") is not True, waited.get("msg")
    assert [s["state"] for s in waited["snapshots"]] == ["completed", "completed"]
    assert started.get("failed") is not True, started.get("msg")
    assert len(started["snapshots"]) == 2 and all(s["snapshot_id"] for s in started["snapshots"]), started["snapshots"]
    for instance_id in (source["instance_id"], other["instance_id"]):
        copies = copies_in(sim, DESTINATION, set_snapshot_ids(sim, instance_id, "nightly"))
        assert sorted(len(ids) for ids in copies.values()) == [1, 1], copies


def test_restore_waits_for_volumes_ec2_does_not_show_yet(sim, ansible):
    source = make_sets(sim, ansible, ["nightly"])
    target = stopped_target(sim)
    delay_new_resources(sim)
    result = ansible.module("ebs_snapshot_set_restore", instance_id=source["instance_id"], set_name="nightly",
                            target_instance_id=target["instance_id"], replace_root_volume=True)

    assert result.get("failed") is not True, result.get("msg")
    assert {v["attachment_state"] for v in result["volumes"]} == {"attached"}
    volumes = restored_volumes(sim, target["instance_id"])
    assert sorted(v["VolumeId"] for v in volumes) == sorted(v["volume_id"] for v in result["volumes"]) and len(volumes) == 2


def test_role_info_and_retention_over_a_fleet_whose_sets_ec2_does_not_show_yet(sim, ansible):
    hosts = {f"web{n}": sim.seed_instance(volumes=TWO_VOLUMES)["instance_id"] for n in range(2)}
    delay_new_resources(sim)
    completed = run_role(sim, ansible, hosts, ebs_instance_snapshot_set_name="fleet", ebs_instance_snapshot_keep_count=1)

    assert completed.returncode == 0, completed.stdout[-3000:]
    assert "could not be recorded" not in completed.stdout + completed.stderr, completed.stderr[-3000:]
    for instance_id in hosts.values():
        assert list(sets_of(sim, instance_id).values()) == [["completed", "completed"]]
        ids = set_snapshot_ids(sim, instance_id, "fleet")
        assert recorded(sim, ids) == {snapshot_id: RECORD_TAGS for snapshot_id in ids}
    assert ec2_power_states(sim, hosts.values()) == {instance_id: "running" for instance_id in hosts.values()}


# Lightsail -----------------------------------------------------------------------------------------

# Simulated seconds a new Lightsail resource stays invisible: 2 s of real time at the suite's speed, longer than a module
# takes from a create to its next call, shorter than the modules' grace (30 s).
LIGHTSAIL_DELAY = 1200
CIDR = "198.51.100.7/32"


def delay_new_lightsail_resources(sim):
    sim.lightsail_config(visibility_delay_min_seconds=LIGHTSAIL_DELAY, visibility_delay_seconds=LIGHTSAIL_DELAY)


def lightsail_not_found(sim, action, name_param, name):
    """How many of ``action``'s calls for ``name`` answered NotFoundException: the delay was met there."""
    return sum(1 for e in sim.journal(service="lightsail", action=action)
               if e["params"].get(name_param) == name and e["error_code"] == "NotFoundException")


def test_every_lightsail_module_waits_for_what_lightsail_does_not_show_yet(sim, ansible):
    sim.seed_lightsail_instance("web-1")
    delay_new_lightsail_resources(sim)
    tasks = [
        task(sim, "lightsail_snapshot", "waited", instance_name="web-1", snapshot_name="web-1-waited"),
        task(sim, "lightsail_snapshot", "started", instance_name="web-1", snapshot_name="web-1-started", wait=False),
        task(sim, "lightsail_snapshot_info", "listed", snapshot_names=["web-1-started"]),
        task(sim, "lightsail_instance_from_snapshot", "copy_waited", instance_name="copy-1", snapshot_name="web-1-waited"),
        task(sim, "lightsail_instance_from_snapshot", "copy_started", instance_name="copy-2", snapshot_name="web-1-waited", wait=False),
        task(sim, "lightsail_instance_state", "copy_running", instance_name="copy-2", state="running"),
        task(sim, "lightsail_instance_port", "copy_port", instance_name="copy-2", port=5986, cidr=CIDR),
        task(sim, "lightsail_instance_from_snapshot", "copy_deleted", instance_name="copy-2", snapshot_name="web-1-waited",
             state="absent"),
    ]
    run = ansible.run(tasks)

    failed = {t["register"]: run[t["register"]].get("msg") for t in tasks if run[t["register"]].get("failed")}
    assert failed == {}
    assert run["waited"]["snapshot"]["state"] == "available"
    # Without wait, the task returns what Lightsail says of the new resource (it has an ARN and a state), not a guess.
    # (By the time it shows, the delay being longer than the snapshot takes, it may be available already.)
    assert run["started"]["snapshot"]["state"] in ("pending", "available") and run["started"]["snapshot"]["arn"], run["started"]
    assert [s["name"] for s in run["listed"]["snapshots"]] == ["web-1-started"]
    assert run["copy_waited"]["instance"]["state"] == "running"
    assert run["copy_started"]["instance"]["state"] in ("pending", "running") and run["copy_started"]["instance"]["arn"], run["copy_started"]
    assert run["copy_running"]["instance"]["state"] == "running"
    assert {i["name"] for i in sim.lightsail_state()["instances"]} == {"web-1", "copy-1"}
    for action, param, name in (("GetInstanceSnapshot", "instanceSnapshotName", "web-1-waited"),
                                ("GetInstanceSnapshot", "instanceSnapshotName", "web-1-started"),
                                ("GetInstance", "instanceName", "copy-1"), ("GetInstance", "instanceName", "copy-2")):
        assert lightsail_not_found(sim, action, param, name) >= 1, f"the delay was not met by {action} of {name}"


def test_lightsail_role_waits_for_a_snapshot_lightsail_does_not_show_yet(sim, ansible):
    sim.seed_lightsail_instance("web-1")
    delay_new_lightsail_resources(sim)
    completed = run_lightsail_role(sim, ansible, lightsail_instance_snapshot_instance_name="web-1",
                                   lightsail_instance_snapshot_stop_instance=True)

    assert completed.returncode == 0, completed.stdout[-3000:]
    assert [(s["name"], s["state"]) for s in sim.lightsail_state()["instance_snapshots"]] == [("web-1-t1", "available")]
    assert {i["name"]: i["state"] for i in sim.lightsail_state()["instances"]} == {"web-1": "running"}
    assert lightsail_not_found(sim, "GetInstanceSnapshot", "instanceSnapshotName", "web-1-t1") >= 1
