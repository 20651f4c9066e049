#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ebs_multi_snapshot
short_description: Crash-consistent snapshot set of an EC2 instance's EBS volumes
version_added: 0.1.0
description:
  - Creates one crash-consistent snapshot set of the EBS volumes attached to an EC2 instance with a single
    C(CreateSnapshots) call, so that every snapshot of the set captures the same point in time.
  - Every snapshot of the set is tagged C(snapkit:set-name) and C(snapkit:instance-id) in the same call that creates
    it. A re-run with the same O(set_name) finds the set and reports no change, even after an interrupted run.
  - Right after the set is created, each snapshot also gets C(snapkit:device) (the device name of its volume) and
    C(snapkit:volume) (for example V(type=gp3 iops=3000 throughput=125)), one C(CreateTags) call per snapshot, so
    M(snapkit.cloud.ebs_snapshot_set_restore) can recreate the volumes even when the instance is gone. If that
    tagging fails the set is kept and a warning names the snapshots.
  - Waits until every snapshot is C(completed), polling all of them with one C(DescribeSnapshots) call per round.
    If one snapshot of the set fails, EC2 fails them all, and so does this module, reporting the state of each.
  - Optionally stops the instance first, as AWS recommends when the root volume is included, and starts it again
    as soon as the set is created (the snapshots are point-in-time from then on), not when they complete.
  - O(state=absent) deletes every snapshot of a set.
  - Runs on the controller. Use C(delegate_to=localhost) when the inventory host is the instance.
author:
  - snapkit.cloud maintainers (@snapkit)
options:
  state:
    description:
      - V(present) creates the set if it does not exist yet (and waits for it when O(wait=true)).
      - V(absent) deletes every snapshot of the set, found by O(set_name) and O(instance_id), or by O(snapshot_ids).
    type: str
    choices: [present, absent]
    default: present
  instance_id:
    description:
      - The EC2 instance whose volumes are snapshotted, for example V(i-0123456789abcdef0).
      - Required with O(state=present), and with O(state=absent) unless O(snapshot_ids) is given.
    type: str
  set_name:
    description:
      - A name for the set, stored in the C(snapkit:set-name) tag of every snapshot of the set.
      - With O(state=present), a set of O(instance_id) with this name that already exists is returned
        unchanged; nothing new is created. This is what makes the task safe to re-run.
      - When omitted, the name is the instance id and the UTC time, for example V(i-0123456789abcdef0-20261122T101500Z),
        and every run creates a new set.
      - "1 to 200 characters: letters, digits, spaces and C(. _ - : / = + @)."
  snapshot_ids:
    description:
      - With O(state=absent), the snapshots to delete, instead of finding them by O(set_name).
    type: list
    elements: str
  exclude_boot_volume:
    description:
      - Leave the root volume out of the set.
  exclude_data_volume_ids:
    description:
      - Data volumes of the instance to leave out of the set. Each must be attached to the instance and must not be
        its root volume (use O(exclude_boot_volume) for that).
  description:
    description:
      - Description of every snapshot of the set (at most 255 characters).
  tags:
    description:
      - Tags for every snapshot of the set. EC2 allows 50 tags per snapshot; this module uses four of them.
      - Keys starting with C(aws:) or C(snapkit:) are reserved.
  stop_instance:
    description:
      - Stop the instance before creating the set and start it again as soon as the set is created.
      - AWS recommends stopping an instance before snapshotting its root volume. An instance that was already
        stopped stays stopped. If anything fails after the instance was stopped, it is started again.
      - Just before stopping it, the module tags the instance C(snapkit:stopped-for-snapshot) with the set name, and removes
        the tag once the instance runs again. If the run is cut off in between (the controller dies, the job is
        cancelled), the next run with the same O(set_name) finds the tag on the stopped instance, finishes the set and
        starts the instance, whatever O(stop_instance) says. An instance stopped for another set is left stopped,
        with a warning.
  wait:
    description:
      - Wait until every snapshot of the set is C(completed).
      - Large or first snapshots can take hours; see O(wait_timeout).
  wait_timeout:
    description:
      - Seconds that bound the whole task. The waits for the instance to stop and
        start, the retries while EC2 refuses new snapshots because a volume has too many pending ones, and the wait
        for the set to complete all take from this one budget.
  delete_on_failure:
    description:
      - When the set fails (its snapshots are in C(error)), delete all of its snapshots before failing.
notes:
  - EC2 refuses snapshots of instances that have hibernation configured; this module refuses them before any
    snapshot call.
  - A volume may have at most five pending snapshots (one for C(st1) and C(sc1) volumes). While EC2 answers
    C(ConcurrentSnapshotLimitExceeded), the module retries with backoff until O(wait_timeout) has passed.
  - Throttling and server errors are retried with jittered backoff.
  - "IAM permissions: C(ec2:DescribeInstances), C(ec2:DescribeVolumes), C(ec2:DescribeSnapshots),
    C(ec2:CreateSnapshots), C(ec2:CreateTags) (for the tags written on creation and the recorded volume attributes),
    C(ec2:DeleteSnapshot), and
    C(ec2:StopInstances)/C(ec2:StartInstances) and C(ec2:CreateTags)/C(ec2:DeleteTags) on the instance with
    O(stop_instance). Without the tag permissions on the instance the module still works, with a warning that a
    run cut off while the instance is stopped could not be resumed."
seealso:
  - module: amazon.aws.ec2_snapshot
    description: One snapshot of one volume.
  - module: amazon.aws.ec2_snapshot_info
    description: Gather information about EC2 snapshots.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - snapkit.cloud._aws
  - snapkit.cloud._ebs_set_options
  - snapkit.cloud._attributes
  - snapkit.cloud._attributes.ACTIONGROUP_AWS
attributes:
  check_mode:
    support: full
    details:
      - Makes no change; returns the volumes that would be snapshotted in RV(volumes).
  diff_mode:
    support: full
  idempotent:
    support: partial
    details:
      - Idempotent when O(set_name) is given. Without it, every run creates a new set.
"""

EXAMPLES = r"""
- name: Snapshot every volume of an instance, as one crash-consistent set
  snapkit.cloud.ebs_multi_snapshot:
    instance_id: i-0123456789abcdef0
    set_name: nightly-2026-11-22
    description: Nightly set
    tags:
      Team: storage
  register: snapshot_set

- name: Data volumes only, copying each volume's tags, without waiting for completion
  snapkit.cloud.ebs_multi_snapshot:
    instance_id: i-0123456789abcdef0
    set_name: before-upgrade
    exclude_boot_volume: true
    exclude_data_volume_ids:
      - vol-0fedcba9876543210
    copy_tags_from_source: true
    wait: false

- name: Stop the instance for a consistent root volume, restart it as soon as the set is created
  snapkit.cloud.ebs_multi_snapshot:
    instance_id: i-0123456789abcdef0
    set_name: cold-backup
    stop_instance: true
    wait_timeout: 14400
    delete_on_failure: true

- name: Set the region once for every snapkit.cloud AWS module
  module_defaults:
    group/snapkit.cloud.aws:
      region: eu-north-1
  block:
    - name: One set per host of the inventory (the host is the instance)
      snapkit.cloud.ebs_multi_snapshot:
        instance_id: "{{ instance_id }}"
        set_name: "weekly-{{ now(utc=true, fmt='%G-W%V') }}"
      delegate_to: localhost

- name: Delete a set
  snapkit.cloud.ebs_multi_snapshot:
    state: absent
    instance_id: i-0123456789abcdef0
    set_name: before-upgrade
"""

RETURN = r"""
instance_id:
  description: The instance the set belongs to.
  returned: always
  type: str
  sample: i-0123456789abcdef0
set_name:
  description: The name of the set (the value of its C(snapkit:set-name) tag). Empty when deleting by O(snapshot_ids).
  returned: always
  type: str
  sample: nightly-2026-11-22
volumes:
  description:
    - The volumes of the set, in device order. With O(state=present), the volumes that are (or, in check mode,
      would be) snapshotted; empty when an existing set was found or with O(state=absent).
  returned: always
  type: list
  elements: dict
  contains:
    volume_id:
      description: The volume.
      type: str
      sample: vol-0123456789abcdef0
    device_name:
      description: The device name the volume is attached at.
      type: str
      sample: /dev/xvda
    root:
      description: Whether it is the instance's root volume.
      type: bool
      sample: true
    size:
      description: Size in GiB.
      type: int
      sample: 8
    volume_type:
      description: The EBS volume type.
      type: str
      sample: gp3
    encrypted:
      description: Whether the volume is encrypted.
      type: bool
      sample: false
    iops:
      description: The volume's provisioned IOPS (C(gp3), C(io1), C(io2)); null for other types.
      type: int
      sample: 3000
    throughput:
      description: The volume's throughput in MiB/s (C(gp3)); null for other types.
      type: int
      sample: 125
snapshots:
  description:
    - The snapshots of the set, sorted by device name, as they are after the wait (or, with O(state=absent), as they
      were before deletion). Empty in check mode when the set does not exist yet.
  returned: always
  type: list
  elements: dict
  contains:
    snapshot_id:
      description: The snapshot.
      type: str
      sample: snap-0123456789abcdef0
    volume_id:
      description: The volume it is a snapshot of.
      type: str
      sample: vol-0123456789abcdef0
    device_name:
      description:
        - The device name of that volume on the instance, when it is (still) attached, else as recorded in the
          snapshot's C(snapkit:device) tag when the set was made.
      type: str
      sample: /dev/xvda
    state:
      description: C(pending), C(completed) or C(error).
      type: str
      sample: completed
    state_message:
      description: Why the snapshot failed, when it did.
      type: str
      sample: null
    progress:
      description: Progress, as EC2 reports it (empty at first, then a percentage).
      type: str
      sample: 100%
    start_time:
      description: When the snapshot was taken (ISO 8601). Identical for every snapshot of a set.
      type: str
      sample: "2026-11-22T10:15:00+00:00"
    completion_time:
      description: When the snapshot completed (ISO 8601), once it has; absent while it is pending.
      type: str
      sample: "2026-11-22T10:31:07+00:00"
    storage_tier:
      description: C(standard), or C(archive) for a snapshot moved to the archive tier.
      type: str
      sample: standard
    volume_size:
      description: Size of the volume in GiB.
      type: int
      sample: 8
    encrypted:
      description: Whether the snapshot is encrypted (it is when the volume is).
      type: bool
      sample: false
    kms_key_id:
      description: The KMS key of an encrypted snapshot.
      type: str
      sample: null
    description:
      description: The description of the snapshot.
      type: str
      sample: Nightly set
    owner_id:
      description: The AWS account that owns the snapshot.
      type: str
      sample: "123456789012"
    tags:
      description: The tags of the snapshot, as a dictionary.
      type: dict
      sample: {"snapkit:set-name": "nightly-2026-11-22", "snapkit:instance-id": "i-0123456789abcdef0", "Team": "storage",
               "snapkit:device": "/dev/xvda", "snapkit:volume": "type=gp3 iops=3000 throughput=125"}
deleted_snapshot_ids:
  description: The snapshots of a failed set that were deleted (O(delete_on_failure)).
  returned: when the set failed
  type: list
  elements: str
  sample: [snap-0123456789abcdef0]
instance_stopped:
  description:
    - Whether the module stopped the instance, in this run or in an earlier run of the same set that was cut off
      before it could start the instance again (see O(stop_instance)).
  returned: always
  type: bool
  sample: false
instance_restarted:
  description: Whether the module started the instance again after stopping it.
  returned: always
  type: bool
  sample: false
"""

from ansible_collections.snapkit.cloud.plugins.module_utils import _ebs_snapshot_set as sets
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import INSTANCE_ID_PATTERN
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import SNAPSHOT_ID_PATTERN
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import SnapkitAWSModule
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import check_pattern
from ansible_collections.snapkit.cloud.plugins.module_utils._ebs_snapshot_set import check_copied_tag_count
from ansible_collections.snapkit.cloud.plugins.module_utils._ebs_snapshot_set import delete_all
from ansible_collections.snapkit.cloud.plugins.module_utils._ebs_snapshot_set import device_map
from ansible_collections.snapkit.cloud.plugins.module_utils._ebs_snapshot_set import formatted
from ansible_collections.snapkit.cloud.plugins.module_utils._ebs_snapshot_set import restart_or_report
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import describe_instance
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import describe_snapshots_by_ids
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import describe_volumes
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2_power import PowerGuard
from ansible_collections.snapkit.cloud.plugins.module_utils._module import InputError
from ansible_collections.snapkit.cloud.plugins.module_utils._module import ModuleFailure
from ansible_collections.snapkit.cloud.plugins.module_utils._module import run_module
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import Deadline
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import WaitError
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import WaitFailed


def argument_spec():
    return dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        instance_id=dict(type="str"),
        snapshot_ids=dict(type="list", elements="str"),
        **sets.set_option_spec(),
    )


def validate(params):
    """Reject bad input before any API call; every message names the option and the rule."""
    present = params["state"] == "present"
    if present and not params["instance_id"]:
        raise InputError("instance_id: required with state=present")
    if not present and not params["snapshot_ids"] and not (params["instance_id"] and params["set_name"]):
        raise InputError("state=absent needs snapshot_ids, or both instance_id and set_name, to find the set")
    if params["snapshot_ids"] and present:
        raise InputError("snapshot_ids: only used with state=absent")
    check_pattern("instance_id", params["instance_id"], INSTANCE_ID_PATTERN, "an EC2 instance id looks like i-0123456789abcdef0")
    check_pattern("set_name", params["set_name"], sets.SET_NAME_PATTERN,
                  "1 to 200 characters: letters, digits, spaces and . _ : / = + @ -")
    for snapshot_id in params["snapshot_ids"] or []:
        check_pattern("snapshot_ids", snapshot_id, SNAPSHOT_ID_PATTERN, "an EBS snapshot id looks like snap-0123456789abcdef0")
    sets.check_set_options(params)


def describe_selected_volumes(client, selected):
    """Size, type, encryption and tags of each selected volume (one DescribeVolumes call)."""
    details = {v["VolumeId"]: v for v in describe_volumes(client, VolumeIds=[s["volume_id"] for s in selected])}
    return sets.with_volume_details(selected, details)


def load_instance(module, client, instance_id):
    return sets.check_instance(describe_instance(client, instance_id), instance_id, module.region)


def create_set(module, client, set_name, volumes, tags, deadline):
    """One CreateSnapshots call, retried until the deadline without ever making a second set (see sets.create_set)."""
    # botocore's own retries would resend blindly; this client sends each request exactly once.
    once = module.client("ec2", config={"retries": {"total_max_attempts": 1}})
    return sets.create_set(once, client, module.params, module.params["instance_id"], set_name, volumes, tags, deadline)


def wait_for_set(module, client, snapshots, devices, deadline, seen=()):
    """Wait for the set (``seen``: the ids EC2 has listed already); on failure delete it when asked, and always report
    every snapshot's state."""
    params = module.params
    instance_id = params["instance_id"]
    try:
        return sets.wait_for_set(client, [s["SnapshotId"] for s in snapshots], devices, deadline, seen=seen)
    except WaitFailed as failure:
        deleted = delete_all(client, failure.items) if params["delete_on_failure"] else []
        raise ModuleFailure(sets.failed_set_message(params["set_name"], instance_id, deleted, failure),
                            snapshots=formatted(failure.items, devices), deleted_snapshot_ids=deleted) from None
    except WaitError as timeout:
        raise ModuleFailure(sets.timed_out_set_message(instance_id, params["wait_timeout"], timeout),
                            snapshots=formatted(timeout.items, devices)) from None


def ensure_present(module, client, result, deadline):
    params = module.params
    instance_id = params["instance_id"]
    instance = load_instance(module, client, instance_id)
    devices = device_map(instance)
    set_name = params["set_name"] or sets.default_set_name(instance_id)
    result["set_name"] = set_name
    guard = PowerGuard(client, instance, set_name, deadline)

    existing = sets.find_set(client, instance_id, set_name) if params["set_name"] else []
    if existing:
        return use_existing_set(module, client, guard, existing, devices, result, deadline)

    volumes = describe_selected_volumes(
        client, sets.select_volumes(instance, params["exclude_boot_volume"], params["exclude_data_volume_ids"]))
    tags = sets.set_tags(set_name, instance_id, params["tags"])
    if params["copy_tags_from_source"]:
        check_copied_tag_count(volumes, tags)
    result["volumes"] = sets.without_tags(volumes)
    result["changed"] = True
    if module._diff:
        after = {"set_name": set_name, "instance_id": instance_id, "volume_ids": [v["volume_id"] for v in volumes]}
        result["diff"] = {"before": {}, "after": after}
    if module.check_mode:
        return result

    created, failure = [], None
    try:
        if params["stop_instance"] or guard.left_down_by_a_cut_off_run:
            guard.stop()
        created = create_set(module, client, set_name, volumes, tags, deadline)
    except Exception as error:  # pylint: disable=broad-exception-caught
        failure = error  # raised again once the instance has its power state back
    # Set made or not, the instance goes back to the state we found it in, at once: the
    # snapshots are point-in-time from the moment CreateSnapshots answered.
    result["snapshots"] = formatted(created, devices)
    restore_power(module, guard, created, failure, result)
    if failure is not None:
        raise failure
    untagged = sets.record_volumes(client, [(created, volumes)])
    if untagged:
        module.warn(
            f"The set was created, but the device and volume attributes could not be recorded on {', '.join(untagged)}; "
            "ebs_snapshot_set_restore will read them from the source volumes while those exist"
        )
    result["snapshots"] = formatted(created, devices)
    if params["wait"]:
        result["snapshots"] = formatted(wait_for_set(module, client, created, devices, deadline), devices)
    return result


def restore_power(module, guard, created, failure, result, cut_off_run=False):
    """Give the instance its power state back (after a run that was cut off, if ``cut_off_run``) and report what was done."""
    restore = guard.resume_cut_off_run if cut_off_run else guard.restore
    try:
        restart_or_report(guard, result["set_name"], created, failure, restore)
    finally:
        result["instance_stopped"] = guard.stopped
        result["instance_restarted"] = guard.restarted
        for warning in guard.warnings:
            module.warn(warning)
        guard.warnings.clear()


def use_existing_set(module, client, guard, existing, devices, result, deadline):
    """The set exists: start the instance if the run that made it was cut off while it was down; then report the set,
    wait for it if asked, fail if it failed."""
    params = module.params
    if guard.left_down_by_a_cut_off_run:
        result["changed"] = True
    if not module.check_mode:
        restore_power(module, guard, existing, None, result, cut_off_run=True)
    failed = [s for s in existing if s.get("State") in sets.FAILED_STATES]
    if failed:
        raise ModuleFailure(sets.existing_set_failed_message(result["set_name"], params["instance_id"], existing, devices),
                            snapshots=formatted(existing, devices))
    if params["wait"] and not module.check_mode:
        existing = wait_for_set(module, client, existing, devices, deadline, seen=[s["SnapshotId"] for s in existing])
    result["snapshots"] = formatted(existing, devices)
    return result


def ensure_absent(module, client, result, _deadline):
    params = module.params
    if params["snapshot_ids"]:
        snapshots = describe_snapshots_by_ids(client, params["snapshot_ids"])
    else:
        result["set_name"] = params["set_name"]
        snapshots = sets.find_set(client, params["instance_id"], params["set_name"])
    result["snapshots"] = formatted(snapshots, {})
    if not snapshots:
        return result
    result["changed"] = True
    if module._diff:
        result["diff"] = {"before": {"snapshot_ids": sorted(s["SnapshotId"] for s in snapshots)}, "after": {}}
    if not module.check_mode:
        delete_all(client, snapshots)
    return result


def run(module):
    params = module.params
    result = dict(changed=False, instance_id=params["instance_id"] or "", set_name=params["set_name"] or "",
                  volumes=[], snapshots=[], instance_stopped=False, instance_restarted=False)

    def work():
        validate(params)  # before the client: bad input is reported as such, whatever else is missing
        # The one deadline of the run: the stop, the create's retries, the start and the wait share wait_timeout.
        deadline = Deadline(params["wait_timeout"])
        ensure = ensure_present if params["state"] == "present" else ensure_absent
        ensure(module, module.client("ec2"), result, deadline)

    module.subject = lambda: subject(result)
    module.gave_up_wording = "Gave up waiting: {error}"
    run_module(module, result, work)


def subject(result):
    """What the failed call was for, so that the message names the resource (the set name once it is known)."""
    if not result["instance_id"]:
        return ""
    return f"Instance {result['instance_id']}" + (f", snapshot set {result['set_name']}" if result["set_name"] else "")


def main():
    module = SnapkitAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    run(module)


if __name__ == "__main__":
    main()
