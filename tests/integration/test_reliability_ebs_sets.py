# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reliability suite for the EBS set modules: ebs_snapshot_set_restore, _copy, _retention and _info.

The same method as ``test_reliability_faults.py`` and ``test_reliability_kill_rerun.py``. Steps come from the
journal of a clean run. Transient faults (throttling, 5xx, the copy limit) at every step must be retried to success
with no second volume or copy. Hard faults (a denied action, the quotas EC2 answers with: VolumeLimitExceeded,
InsufficientVolumeCapacity, AttachmentLimitExceeded, SnapshotLimitExceeded, InvalidSnapshot.InUse) at one step at a
time must fail naming the instance, set or snapshot and the refused call, report every volume or copy made, and leave
the target instance stopped with a root volume at its root device (its own, or, once the swap is done, the
restored one). A failed attach of the restored root volume puts the old one back. Timeouts and killed runs complete
the matrix.

Kill and rerun: a kill between the detach of the old root and the attach of the new one leaves the target without a
root volume; the rerun attaches the restored root (no duplicate volume), and the detached old root is kept (not
reported by the rerun: ``replaced_root_volume_id`` is only set by the run that detached it).
"""

from __future__ import annotations

import boto3

from _reliability import aws_cloud  # noqa: F401  pylint: disable=unused-import
from _reliability import aws_sim as sim  # noqa: F401  pylint: disable=unused-import
from _reliability import SOME_INSTANCE_ID
from _reliability import ec2_power_states
from _reliability import module_command
from _reliability import task
from _reliability import kill_points
from _reliability import run_and_kill
from _reliability import run_to_the_end
from _reliability import kill_rng  # noqa: F401  pylint: disable=unused-import
from _reliability_aws import refused_before_any_change
from _reliability_aws import run_cases
from _reliability_aws import succeeded_calls
from conftest import ec2_client
from test_reliability_faults import EC2_5XX
from test_reliability_faults import EC2_DENIED
from test_reliability_faults import EC2_THROTTLING
from test_reliability_faults import inject_everywhere
from test_reliability_faults import sets_of
from test_reliability_faults import steps
from test_reliability_faults import transient
from test_reliability_faults import unmet_faults

SOURCE = [{"size": 8, "type": "gp3", "device": "/dev/xvda"}, {"size": 4, "type": "gp3", "device": "/dev/sdf"}]
TARGET = [{"size": 8, "type": "gp2", "device": "/dev/xvda"}]
ROOT = "/dev/xvda"
DESTINATION = "eu-west-1"
RESTORE_TARGET_TAG = "snapkit:restore-target"
COPIED_FROM_TAG = "snapkit:copied-from"
# EC2's concurrent copy limit: nothing was done, send again (the copy module retries it until wait_timeout).
COPY_LIMIT = ("ResourceLimitExceeded", 400)
# Quotas and capacity: retrying does not help, the step fails (EC2 API reference, "Error codes").
# InsufficientVolumeCapacity is a server error (500): botocore itself retries it up to 4 times, so it is planted for 5 calls.
RESTORE_QUOTAS = [("CreateVolume", ("VolumeLimitExceeded", 400)), ("CreateVolume", ("InsufficientVolumeCapacity", 500, 5)),
                  ("AttachVolume", ("AttachmentLimitExceeded", 400))]


def make_sets(sim, ansible, names, volumes=None):  # pylint: disable=redefined-outer-name
    """A running instance with one completed set per name; the seeded instance."""
    source = sim.seed_instance(volumes=volumes or SOURCE)
    run = ansible.run([task(sim, "ebs_multi_snapshot", f"set_{n}", instance_id=source["instance_id"], set_name=name)
                       for n, name in enumerate(names)])
    for number in range(len(names)):
        assert run[f"set_{number}"].get("changed") is True, run[f"set_{number}"].get("msg")
    return source


def stopped_target(sim):  # pylint: disable=redefined-outer-name
    return sim.seed_instance(volumes=TARGET, state="stopped")


def restored_volumes(sim, target_id):  # pylint: disable=redefined-outer-name
    """The volumes restored for this target (by the restore's tag), from EC2."""
    filters = [{"Name": "tag:" + RESTORE_TARGET_TAG, "Values": [target_id]}]
    return [v for v in ec2_client(sim).describe_volumes(Filters=filters)["Volumes"] if v["State"] not in ("deleting", "deleted")]


def root_of(sim, instance_id):  # pylint: disable=redefined-outer-name
    """The volume at the instance's root device (None: no root volume), from the control API."""
    instance = next(i for i in sim.ec2_state()["instances"] if i["instance_id"] == instance_id)
    return instance["volumes"].get(instance["root_device"])


def copies_in(sim, region, source_ids):  # pylint: disable=redefined-outer-name
    """{source snapshot id: [copy ids]} in ``region``."""
    client = boto3.client("ec2", **dict(sim.aws_client_kwargs(), region_name=region))
    filters = [{"Name": "tag:" + COPIED_FROM_TAG, "Values": sorted(source_ids)}]
    found = {source_id: [] for source_id in source_ids}
    for snapshot in client.describe_snapshots(OwnerIds=["self"], Filters=filters)["Snapshots"]:
        source_id = next(t["Value"] for t in snapshot["Tags"] if t["Key"] == COPIED_FROM_TAG)
        found[source_id].append(snapshot["SnapshotId"])
    return found


def set_snapshot_ids(sim, instance_id, set_name):  # pylint: disable=redefined-outer-name
    filters = [{"Name": "tag:snapkit:set-name", "Values": [set_name]}, {"Name": "tag:snapkit:instance-id", "Values": [instance_id]}]
    return sorted(s["SnapshotId"] for s in ec2_client(sim).describe_snapshots(OwnerIds=["self"], Filters=filters)["Snapshots"])


def clean_steps(sim, run):  # pylint: disable=redefined-outer-name
    """The EC2 actions of ``run()`` (a clean run), then an empty journal."""
    sim.clear_journal()
    result = run()
    assert result.get("failed") is not True and result["changed"] is True, result.get("msg")
    actions = steps(sim.journal(service="ec2"))
    sim.clear_journal()
    return actions


def with_copy_limit(number, action):
    """Throttling and a 5xx on every step, and the concurrent copy limit on CopySnapshot."""
    return transient(EC2_THROTTLING, EC2_5XX)(number, action) + ([COPY_LIMIT] if action == "CopySnapshot" else [])


# Transient faults --------------------------------------------------------------------------------

def test_restore_with_root_swap_retries_every_step_with_no_second_volume(sim, ansible):  # pylint: disable=redefined-outer-name
    source = make_sets(sim, ansible, ["nightly"])
    clean_target, target = stopped_target(sim), stopped_target(sim)
    params = dict(instance_id=source["instance_id"], set_name="nightly", replace_root_volume=True)
    actions = clean_steps(sim, lambda: ansible.module("ebs_snapshot_set_restore", target_instance_id=clean_target["instance_id"], **params))
    assert {"CreateVolume", "DetachVolume", "AttachVolume"} <= set(actions)

    injected = inject_everywhere(sim, "ec2", actions, transient(EC2_THROTTLING, EC2_5XX))
    result = ansible.module("ebs_snapshot_set_restore", target_instance_id=target["instance_id"], **params)

    assert result.get("failed") is not True, result.get("msg")
    assert unmet_faults(sim, injected, "ec2") == [] and sim.faults() == []
    assert len(succeeded_calls(sim, "ec2", "CreateVolume")) == 2, "a retried CreateVolume (same ClientToken) makes no second volume"
    volumes = restored_volumes(sim, target["instance_id"])
    assert sorted(v["VolumeId"] for v in volumes) == sorted(v["volume_id"] for v in result["volumes"]) and len(volumes) == 2
    assert root_of(sim, target["instance_id"]) == next(v["volume_id"] for v in result["volumes"] if v["device_name"] == ROOT)
    assert result["replaced_root_volume_id"] == target["volumes"][0]["volume_id"]
    assert ec2_power_states(sim, [target["instance_id"]]) == {target["instance_id"]: "stopped"}


def test_copy_retries_every_step_and_the_copy_limit_with_no_second_copy(sim, ansible):  # pylint: disable=redefined-outer-name
    source = make_sets(sim, ansible, ["first", "second"])
    params = dict(source_region=sim.region, region=DESTINATION, instance_id=source["instance_id"])
    actions = clean_steps(sim, lambda: ansible.module("ebs_snapshot_set_copy", set_name="first", **params))
    assert "CopySnapshot" in actions

    injected = inject_everywhere(sim, "ec2", actions, with_copy_limit)
    result = ansible.module("ebs_snapshot_set_copy", set_name="second", **params)

    assert result.get("failed") is not True, result.get("msg")
    assert unmet_faults(sim, injected, "ec2") == [] and sim.faults() == []
    sources = set_snapshot_ids(sim, source["instance_id"], "second")
    assert len(succeeded_calls(sim, "ec2", "CopySnapshot")) == 2
    copies = copies_in(sim, DESTINATION, sources)
    assert all(len(ids) == 1 for ids in copies.values()), copies
    assert {s["state"] for s in result["snapshots"]} == {"completed"}


def test_retention_and_info_retry_every_step(sim, ansible):  # pylint: disable=redefined-outer-name
    names = ["n1", "n2", "n3"]
    clean_source, source = make_sets(sim, ansible, names), make_sets(sim, ansible, names)
    actions = clean_steps(sim, lambda: ansible.module("ebs_snapshot_set_retention", instance_ids=[clean_source["instance_id"]], keep_count=1))
    assert "DeleteSnapshot" in actions

    injected = inject_everywhere(sim, "ec2", actions, transient(EC2_THROTTLING, EC2_5XX))
    run = ansible.run([task(sim, "ebs_snapshot_set_retention", "kept", instance_ids=[source["instance_id"]], keep_count=1)])
    injected += inject_everywhere(sim, "ec2", ["DescribeSnapshots"], transient(EC2_THROTTLING, EC2_5XX[::-1]))
    run = dict(run.results, **ansible.run([task(sim, "ebs_snapshot_set_info", "found", instance_ids=[source["instance_id"]], wait=True)]).results)

    assert run["kept"].get("failed") is not True and run["found"].get("failed") is not True, (run["kept"].get("msg"), run["found"].get("msg"))
    assert unmet_faults(sim, injected, "ec2") == [] and sim.faults() == []
    assert [s["set_name"] for s in run["kept"]["deleted_sets"]] == ["n1", "n2"]
    assert len(sets_of(sim, source["instance_id"])) == 1 and [s["set_name"] for s in run["found"]["sets"]] == ["n3"]
    assert len(succeeded_calls(sim, "ec2", "DeleteSnapshot")) == 4


# Hard faults -------------------------------------------------------------------------------------

def restore_problems(sim, result, action, code, target):  # pylint: disable=redefined-outer-name
    """What is wrong with a restore refused at ``action``: it must fail naming the call, the code and the target,
    report every volume it made, and leave the target stopped with a root volume (its old one unless the new one is in)."""
    target_id = target["instance_id"]
    if result.get("failed") is not True:
        return ["did not fail"]
    problems = []
    message = result["msg"]
    if action not in message or code not in message or target_id not in message:
        problems.append(f"message does not name {action}, {code} and {target_id}: {message}")
    made = {v["VolumeId"] for v in restored_volumes(sim, target_id)}
    unreported = made - {v["volume_id"] for v in result.get("volumes", [])}
    if unreported:
        problems.append(f"volumes made but not reported: {sorted(unreported)}")
    root = root_of(sim, target_id)
    if root not in (target["volumes"][0]["volume_id"], *made) or root is None:
        problems.append(f"root device holds {root}")
    elif root != target["volumes"][0]["volume_id"] and result.get("replaced_root_volume_id") != target["volumes"][0]["volume_id"]:
        problems.append("the old root was replaced but replaced_root_volume_id does not say so")
    if ec2_power_states(sim, [target_id])[target_id] != "stopped":
        problems.append("target not stopped")
    return problems


def test_restore_refused_at_each_step_and_at_each_quota_fails_cleanly(sim, ansible):  # pylint: disable=redefined-outer-name
    source = make_sets(sim, ansible, ["nightly"])
    params = dict(instance_id=source["instance_id"], set_name="nightly", replace_root_volume=True)
    actions = clean_steps(sim, lambda: ansible.module("ebs_snapshot_set_restore", target_instance_id=stopped_target(sim)["instance_id"], **params))
    faults = [(action, EC2_DENIED) for action in actions] + RESTORE_QUOTAS
    targets = [stopped_target(sim) for _fault in faults]
    cases = [(action, fault, dict(params, target_instance_id=target["instance_id"])) for (action, fault), target in zip(faults, targets)]
    results = run_cases(sim, ansible, cases, "ebs_snapshot_set_restore", "ec2")

    problems = []
    for (action, (code, *_status)), target, result in zip(faults, targets, results):
        problems.extend(f"{action} {code}: {problem}" for problem in restore_problems(sim, result, action, code, target))
    assert not problems, "\n".join(problems)
    assert sim.faults() == []


def test_restore_puts_the_old_root_back_when_the_new_root_cannot_be_attached(sim, ansible):  # pylint: disable=redefined-outer-name
    source = make_sets(sim, ansible, ["nightly"])
    params = dict(instance_id=source["instance_id"], set_name="nightly", replace_root_volume=True)
    rolled_back, stranded = stopped_target(sim), stopped_target(sim)
    # The attach of the new root is refused: the old root goes back to its device, attached, and is not reported as replaced.
    sim.inject_fault("ec2", "AttachVolume", EC2_DENIED[0], status=EC2_DENIED[1])
    result = ansible.module("ebs_snapshot_set_restore", target_instance_id=rolled_back["instance_id"], **params)
    old_root = rolled_back["volumes"][0]["volume_id"]
    assert result["failed"] is True and "put back" in result["msg"] and old_root in result["msg"], result["msg"]
    assert root_of(sim, rolled_back["instance_id"]) == old_root and result["replaced_root_volume_id"] is None
    attachment = ec2_client(sim).describe_volumes(VolumeIds=[old_root])["Volumes"][0]["Attachments"][0]
    assert (attachment["InstanceId"], attachment["Device"]) == (rolled_back["instance_id"], ROOT)
    assert {v["VolumeId"] for v in restored_volumes(sim, rolled_back["instance_id"])} == {v["volume_id"] for v in result["volumes"]}
    assert ec2_power_states(sim, [rolled_back["instance_id"]]) == {rolled_back["instance_id"]: "stopped"}

    # The attach back is refused too: the message says where the old root is and what to do.
    sim.inject_fault("ec2", "AttachVolume", EC2_DENIED[0], status=EC2_DENIED[1], count=2)
    result = ansible.module("ebs_snapshot_set_restore", target_instance_id=stranded["instance_id"], **params)
    old_root = stranded["volumes"][0]["volume_id"]
    assert result["failed"] is True and old_root in result["msg"] and "not attached" in result["msg"], result["msg"]
    assert root_of(sim, stranded["instance_id"]) is None and result["replaced_root_volume_id"] == old_root
    assert ec2_client(sim).describe_volumes(VolumeIds=[old_root])["Volumes"][0]["State"] == "available", "kept, not deleted"


def test_restore_timeout_names_the_volumes_and_leaves_the_target_alone(sim, ansible):  # pylint: disable=redefined-outer-name
    source = make_sets(sim, ansible, ["nightly"])
    target = stopped_target(sim)
    sim.ec2_config(volume_create_seconds=10 ** 7)
    result = ansible.module("ebs_snapshot_set_restore", instance_id=source["instance_id"], set_name="nightly",
                            target_instance_id=target["instance_id"], replace_root_volume=True, wait_timeout=20)
    assert result["failed"] is True and "creating" in result["msg"], result.get("msg")
    made = {v["VolumeId"] for v in restored_volumes(sim, target["instance_id"])}
    assert len(made) == 2 and made == {v["volume_id"] for v in result["volumes"]} and all(v in result["msg"] for v in made)
    assert root_of(sim, target["instance_id"]) == target["volumes"][0]["volume_id"]


def copy_problems(sim, result, action, code, instance_id, set_name):  # pylint: disable=redefined-outer-name
    if result.get("failed") is not True:
        return ["did not fail"]
    problems = []
    message = result["msg"]
    if code not in message or not (set_name in message or instance_id in message or any(s in message for s in set_snapshot_ids(sim, instance_id, set_name))):
        problems.append(f"message does not name {code} and the set or its snapshots: {message}")
    made = {c for ids in copies_in(sim, DESTINATION, set_snapshot_ids(sim, instance_id, set_name)).values() for c in ids}
    unreported = made - {s["snapshot_id"] for s in result.get("snapshots", [])}
    if unreported:
        problems.append(f"{action}: copies made but not reported: {sorted(unreported)}")
    return problems


def test_copy_refused_at_each_step_limited_and_timed_out_reports_its_copies(sim, ansible):  # pylint: disable=redefined-outer-name
    source = make_sets(sim, ansible, ["clean", *(f"case{n}" for n in range(4))])
    single = make_sets(sim, ansible, ["slow"], volumes=SOURCE[:1])
    params = dict(source_region=sim.region, region=DESTINATION, instance_id=source["instance_id"])
    actions = clean_steps(sim, lambda: ansible.module("ebs_snapshot_set_copy", set_name="clean", **params))
    faults = [(action, EC2_DENIED) for action in actions] + [("CopySnapshot", ("SnapshotLimitExceeded", 400))]
    assert len(faults) <= 4, faults
    results = run_cases(sim, ansible, [(a, f, dict(params, set_name=f"case{n}")) for n, (a, f) in enumerate(faults)], "ebs_snapshot_set_copy", "ec2")
    problems = []
    for number, ((action, (code, _status)), result) in enumerate(zip(faults, results)):
        problems.extend(copy_problems(sim, result, action, code, source["instance_id"], f"case{number}"))
    assert not problems, "\n".join(problems)

    # One copy at a time, and copies that take forever: the second copy of the set meets the limit until wait_timeout,
    # the single copy of the other set is still pending at wait_timeout. Both fail naming what was made.
    sim.ec2_config(copy_concurrent_limit=1, copy_seconds_base=10 ** 7)
    limited = ansible.module("ebs_snapshot_set_copy", set_name="clean", wait_timeout=20, **dict(params, region="eu-central-1"))
    made = [c for ids in copies_in(sim, "eu-central-1", set_snapshot_ids(sim, source["instance_id"], "clean")).values() for c in ids]
    assert limited["failed"] is True and COPY_LIMIT[0] in limited["msg"] and len(made) == 1 and made[0] in limited["msg"], limited["msg"]
    assert made[0] in {s["snapshot_id"] for s in limited["snapshots"]}
    pending = ansible.module("ebs_snapshot_set_copy", set_name="slow", wait_timeout=20, **dict(params, instance_id=single["instance_id"]))
    made = [c for ids in copies_in(sim, DESTINATION, set_snapshot_ids(sim, single["instance_id"], "slow")).values() for c in ids]
    assert pending["failed"] is True and "pending" in pending["msg"] and made[0] in pending["msg"], pending["msg"]
    assert [(s["snapshot_id"], s["state"]) for s in pending["snapshots"]] == [(made[0], "pending")]


def test_retention_and_info_refused_or_timed_out_name_the_set(sim, ansible):  # pylint: disable=redefined-outer-name
    names = ["n1", "n2", "n3"]
    sources = [make_sets(sim, ansible, names)["instance_id"] for _source in range(3)]
    faults = [("DescribeSnapshots", EC2_DENIED), ("DeleteSnapshot", EC2_DENIED), ("DeleteSnapshot", ("InvalidSnapshot.InUse", 400))]
    results = run_cases(sim, ansible, [(action, fault, {"instance_ids": [instance_id], "keep_count": 1})
                                       for (action, fault), instance_id in zip(faults, sources)], "ebs_snapshot_set_retention", "ec2")
    for (action, (code, _status)), instance_id, result in zip(faults, sources, results):
        assert result.get("failed") is True and code in result["msg"] and action in result["msg"], result.get("msg")
        if action == "DeleteSnapshot":
            left = set_snapshot_ids(sim, instance_id, "n1")
            assert instance_id in result["msg"] and "n1" in result["msg"] and all(s in result["msg"] for s in left), result["msg"]
            assert [s["set_name"] for s in result["kept_sets"]] == ["n3"], "what was decided is reported"
    assert sim.faults() == []

    sim.ec2_config(snapshot_seconds_base=10 ** 7)
    busy = sim.seed_instance(volumes=SOURCE)["instance_id"]
    started = ansible.module("ebs_multi_snapshot", instance_id=busy, set_name="busy", wait=False)
    waited = ansible.module("ebs_snapshot_set_info", instance_ids=[busy], wait=True, wait_timeout=10)
    assert waited["failed"] is True and "busy" in waited["msg"] and "pending" in waited["msg"], waited["msg"]
    assert {s["snapshot_id"] for s in started["snapshots"]} == {sn["snapshot_id"] for s in waited["sets"] for sn in s["snapshots"]}


# Kill and rerun ----------------------------------------------------------------------------------

def test_restore_with_root_swap_killed_and_rerun(sim, ansible, kill_rng):  # pylint: disable=redefined-outer-name
    source = make_sets(sim, ansible, ["nightly"])
    params = dict(instance_id=source["instance_id"], set_name="nightly", replace_root_volume=True)

    def procedure(target_id, name):
        return module_command(sim, ansible, [task(sim, "ebs_snapshot_set_restore", "made", target_instance_id=target_id, **params)], name)

    since = sim.journal()[-1]["seq"] if sim.journal() else 0
    assert run_to_the_end(*procedure(stopped_target(sim)["instance_id"], "clean")).returncode == 0
    clean_calls = sim.journal(service="ec2", since=since)
    actions = [entry["action"] for entry in clean_calls]
    # One kill inside the swap (after the old root is detached, before the new one is attached), and the random ones.
    points = kill_points(kill_rng, clean_calls, besides=[actions.index("DetachVolume") + 1])
    for point in points:
        target = stopped_target(sim)
        seen = run_and_kill(sim, *procedure(target["instance_id"], f"killed-{point}"), "ec2", point)
        rerun = run_to_the_end(*procedure(target["instance_id"], f"rerun-{point}"))

        context = (point, [e["action"] for e in seen])
        assert rerun.returncode == 0, (context, rerun.stdout[-2000:])
        volumes = restored_volumes(sim, target["instance_id"])
        assert sorted(v["SnapshotId"] for v in volumes) == sorted(set_snapshot_ids(sim, source["instance_id"], "nightly")), context
        by_device = {v["Attachments"][0]["Device"]: v["VolumeId"] for v in volumes if v["Attachments"]}
        assert sorted(by_device) == ["/dev/sdf", ROOT] and root_of(sim, target["instance_id"]) == by_device[ROOT], context
        old_root = ec2_client(sim).describe_volumes(VolumeIds=[target["volumes"][0]["volume_id"]])["Volumes"][0]
        assert old_root["State"] == "available", "the old root is kept, detached"
        assert ec2_power_states(sim, [target["instance_id"]]) == {target["instance_id"]: "stopped"}
    assert len(points) >= 3


def test_copy_killed_and_rerun(sim, ansible, kill_rng):  # pylint: disable=redefined-outer-name
    source = make_sets(sim, ansible, ["nightly"])

    def procedure(region, name):
        return module_command(sim, ansible, [task(sim, "ebs_snapshot_set_copy", "made", source_region=sim.region, region=region,
                                                  instance_id=source["instance_id"], set_name="nightly")], name)

    since = sim.journal()[-1]["seq"] if sim.journal() else 0
    assert run_to_the_end(*procedure(DESTINATION, "clean")).returncode == 0
    clean_calls = sim.journal(service="ec2", since=since)
    actions = [entry["action"] for entry in clean_calls]
    points = kill_points(kill_rng, clean_calls, besides=[actions.index("CopySnapshot") + 1])
    sources = set_snapshot_ids(sim, source["instance_id"], "nightly")
    # Each kill point copies to a region of its own, so that each starts with no copy.
    for point, region in zip(points, ["eu-central-1", "us-east-1", "us-west-2", "ap-southeast-2"]):
        seen = run_and_kill(sim, *procedure(region, f"killed-{point}"), "ec2", point)
        rerun = run_to_the_end(*procedure(region, f"rerun-{point}"))

        assert rerun.returncode == 0, (point, rerun.stdout[-2000:])
        copies = copies_in(sim, region, sources)
        assert all(len(ids) == 1 for ids in copies.values()), (point, [e["action"] for e in seen], copies)
    assert len(points) >= 3


# Bad input ---------------------------------------------------------------------------------------

I = SOME_INSTANCE_ID
SNAP = "snap-0123456789abcdef0"
SET = {"instance_id": I, "set_name": "nightly"}
COPY = {"source_region": "eu-north-1", **SET}
# New cases only: test_reliability_bad_input.py has those of ebs_snapshot_set_info and ebs_snapshot_set_retention it lists.
BAD_INPUT = [
    ("ebs_snapshot_set_restore", {"instance_id": I}, "set_name"),
    ("ebs_snapshot_set_restore", {"snapshot_ids": [SNAP], "set_name": "nightly"}, "snapshot_ids"),
    ("ebs_snapshot_set_restore", {"snapshot_ids": ["snap-12345"]}, "snapshot_ids"),
    ("ebs_snapshot_set_restore", dict(SET, target_instance_id="i-XYZ"), "target_instance_id"),
    ("ebs_snapshot_set_restore", dict(SET, availability_zone="eu-north-1"), "availability_zone"),
    ("ebs_snapshot_set_restore", dict(SET, replace_root_volume=True), "replace_root_volume"),
    ("ebs_snapshot_set_restore", dict(SET, replace_root_volume="sometimes", target_instance_id=I), "replace_root_volume"),
    ("ebs_snapshot_set_restore", dict(SET, wait_timeout=0), "wait_timeout"),
    ("ebs_snapshot_set_restore", dict(SET, tags={"aws:owner": "me"}), "tags"),
    ("ebs_snapshot_set_restore", dict(SET, state="detached"), "state"),
    ("ebs_snapshot_set_copy", dict(COPY, source_region="north"), "source_region"),
    ("ebs_snapshot_set_copy", {"source_region": "eu-north-1", "snapshot_ids": [SNAP], "set_name": "nightly"}, "snapshot_ids"),
    ("ebs_snapshot_set_copy", dict(COPY, instance_id="i-1"), "instance_id"),
    ("ebs_snapshot_set_copy", dict(COPY, description="d" * 256), "description"),
    ("ebs_snapshot_set_copy", dict(COPY, wait_timeout=-1), "wait_timeout"),
    ("ebs_snapshot_set_copy", dict(COPY, tags={"k" * 129: "v"}), "tags"),
    ("ebs_snapshot_set_copy", dict(COPY, encrypted="yes please"), "encrypted"),
    ("ebs_snapshot_set_copy", {"set_name": "nightly", "instance_id": I}, "source_region"),
    ("ebs_snapshot_set_retention", {"instance_ids": [I]}, "keep_count"),
    ("ebs_snapshot_set_retention", {"keep_count": "two"}, "keep_count"),
    ("ebs_snapshot_set_retention", {"keep_count": 0}, "keep_count"),
    ("ebs_snapshot_set_info", {"instance_ids": ["i-0123456789abcdef"]}, "instance_ids"),
    ("ebs_snapshot_set_info", {"wait": True, "wait_timeout": 0}, "wait_timeout"),
]


def test_bad_input_to_the_set_modules_is_refused_before_any_call(sim, ansible):  # pylint: disable=redefined-outer-name
    missed, _changes = refused_before_any_change(sim, ansible, BAD_INPUT)
    assert missed == []
    assert sim.journal() == [], "argument checks come before the first API call"
