#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ebs_snapshot_set_restore
short_description: Restore an EBS snapshot set as volumes, optionally attached to a stopped instance
version_added: 0.1.0
description:
  - Creates one EBS volume per snapshot of a set made by M(snapkit.cloud.ebs_multi_snapshot), with the original volume
    type, size, IOPS and throughput, and the snapshot's tags plus restore tags.
  - The original device names and volume attributes come from the C(snapkit:device) and C(snapkit:volume) tags that
    M(snapkit.cloud.ebs_multi_snapshot) records on each snapshot; for older sets, from the source volumes while they
    still exist. A snapshot with neither is named in the error and nothing is created.
  - Optionally attaches the volumes to O(target_instance_id) at the original device names. The target must be
    C(stopped); the root volume is swapped only with O(replace_root_volume=true).
  - Every volume is tagged C(snapkit:restored-from-set), C(snapkit:restored-from-snapshot) and
    C(snapkit:restore-target) (the target instance, or the availability zone without one). A re-run with the same set
    and target finds these volumes and changes nothing.
  - Waits for all volumes at once, with one C(DescribeVolumes) call per poll.
  - O(state=absent) deletes the volumes of a restore, refusing (before deleting anything) while any is attached.
author:
  - snapkit.cloud maintainers (@snapkit)
options:
  state:
    description:
      - V(present) restores the set; V(absent) deletes the volumes an earlier restore of the set made.
    type: str
    choices: [present, absent]
    default: present
  set_name:
    description:
      - The set to restore, as M(snapkit.cloud.ebs_multi_snapshot) named it. Needs O(instance_id).
    type: str
  instance_id:
    description:
      - The instance the set was taken of (its C(snapkit:instance-id) tag).
    type: str
  snapshot_ids:
    description:
      - The snapshots to restore, instead of O(set_name) and O(instance_id).
    type: list
    elements: str
  availability_zone:
    description:
      - Where to create the volumes.
      - Default, the availability zone of O(target_instance_id), else that of the instance the set was taken of,
        else that of its source volumes. Must be the target's zone when O(target_instance_id) is given.
    type: str
  target_instance_id:
    description:
      - Attach the volumes to this instance at the original device names. It must be C(stopped); the module fails,
        naming the instance and its state, before any change otherwise.
      - A device of the set that the target already uses for another volume fails the module before any change,
        except the root device with O(replace_root_volume=true).
    type: str
  replace_root_volume:
    description:
      - Swap the target's root volume for the restored one. The current root volume is detached (never deleted) and
        returned in RV(replaced_root_volume_id).
      - When false, the volume restored from the root snapshot is created but left unattached, with a warning.
    type: bool
    default: false
  kms_key_id:
    description:
      - Encrypt the volumes with this KMS key (id, alias or ARN).
      - By default encryption follows each snapshot. An encrypted snapshot gives a volume encrypted with the same key,
        an unencrypted one an unencrypted volume.
    type: str
  tags:
    description:
      - Tags for every volume, on top of the snapshot's own tags. Keys starting with C(aws:) or C(snapkit:) are reserved.
    type: dict
    aliases: [resource_tags]
  wait:
    description:
      - Wait until every volume is C(available), or C(in-use) and attached when attached to O(target_instance_id).
      - With O(target_instance_id) the module always waits until the volumes are C(available), since EC2 attaches only
        available volumes; O(wait=false) then skips only the wait for the attachments.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds that bound the whole task. Every wait for the volumes (to become
        available, to detach, to attach) takes from this one budget.
    type: int
    default: 900
notes:
  - Fast Snapshot Restore is not enabled by this module; restored volumes load their blocks lazily from S3.
  - "IAM permissions: C(ec2:DescribeSnapshots), C(ec2:DescribeVolumes), C(ec2:DescribeInstances), C(ec2:CreateVolume),
    C(ec2:CreateTags), C(ec2:AttachVolume), C(ec2:DetachVolume) (root swap), C(ec2:DeleteVolume) (O(state=absent)), and
    C(kms:CreateGrant)/C(kms:Decrypt)/C(kms:GenerateDataKeyWithoutPlaintext) on the keys of encrypted snapshots."
seealso:
  - module: snapkit.cloud.ebs_multi_snapshot
  - module: snapkit.cloud.ebs_snapshot_set_info
  - module: amazon.aws.ec2_vol
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - snapkit.cloud._aws
  - snapkit.cloud._attributes
  - snapkit.cloud._attributes.ACTIONGROUP_AWS
attributes:
  check_mode:
    support: full
    details:
      - Makes no change; returns the volumes that exist and those that would be created.
  diff_mode:
    support: full
  idempotent:
    support: full
"""

EXAMPLES = r"""
- name: Restore a set as volumes in the original availability zone
  snapkit.cloud.ebs_snapshot_set_restore:
    instance_id: i-0123456789abcdef0
    set_name: nightly-2026-11-22
  register: restored

- name: Restore a set onto a stopped instance, data volumes and root volume
  snapkit.cloud.ebs_snapshot_set_restore:
    instance_id: i-0123456789abcdef0
    set_name: before-upgrade
    target_instance_id: i-0fedcba9876543210
    replace_root_volume: true
    kms_key_id: alias/restore-key
    tags:
      Purpose: restore-test

- name: Remove the volumes of that restore (they must be detached first)
  snapkit.cloud.ebs_snapshot_set_restore:
    state: absent
    instance_id: i-0123456789abcdef0
    set_name: nightly-2026-11-22
"""

RETURN = r"""
set_name:
  description: The set restored (from the snapshots' C(snapkit:set-name) tag when O(snapshot_ids) is used).
  returned: always
  type: str
  sample: nightly-2026-11-22
volumes:
  description:
    - One volume per snapshot, sorted by device name. In check mode, volumes that would be created have a null
      C(volume_id). With O(state=absent), the volumes deleted (or that would be).
  returned: always
  type: list
  elements: dict
  contains:
    volume_id:
      description: The volume.
      type: str
      sample: vol-0123456789abcdef0
    snapshot_id:
      description: The snapshot it was created from.
      type: str
      sample: snap-0123456789abcdef0
    device_name:
      description: The original device name (where it is attached, when it is).
      type: str
      sample: /dev/sdf
    size:
      description: Size in GiB.
      type: int
      sample: 100
    volume_type:
      description: The volume type.
      type: str
      sample: gp3
    iops:
      description: Provisioned IOPS, when the type has them.
      type: int
      sample: 3000
    throughput:
      description: Throughput in MiB/s (C(gp3)).
      type: int
      sample: 125
    encrypted:
      description: Whether the volume is encrypted.
      type: bool
      sample: true
    kms_key_id:
      description: The KMS key of an encrypted volume.
      type: str
      sample: arn:aws:kms:eu-north-1:123456789012:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d
    availability_zone:
      description: The availability zone of the volume.
      type: str
      sample: eu-north-1a
    state:
      description: The volume state (C(creating), C(available), C(in-use)).
      type: str
      sample: in-use
    attached_to:
      description: The instance the volume is attached to, or null.
      type: str
      sample: i-0fedcba9876543210
    attachment_state:
      description: The attachment state (C(attaching), C(attached)), or null.
      type: str
      sample: attached
    tags:
      description: The volume's tags.
      type: dict
      sample: {"snapkit:restored-from-set": "nightly-2026-11-22", "snapkit:restore-target": "i-0fedcba9876543210"}
replaced_root_volume_id:
  description: The target's former root volume, detached and kept, when O(replace_root_volume=true) swapped it.
  returned: always
  type: str
  sample: null
"""

import uuid

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.snapkit.cloud.plugins.module_utils import _ebs_restore as restore
from ansible_collections.snapkit.cloud.plugins.module_utils import _ebs_snapshot_set as sets
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import INSTANCE_ID_PATTERN
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import SNAPSHOT_ID_PATTERN
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import SnapkitAWSModule
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import check_pattern
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import check_user_tags
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import aws_error_text
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import attach_volume
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import create_volume
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import delete_volume
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import describe_instance
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import describe_volumes
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import describe_volumes_by_ids
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import attachment_state
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import detach_volume
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import wait_for_volumes as ec2_wait_for_volumes
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2_power import instance_state
from ansible_collections.snapkit.cloud.plugins.module_utils._module import InputError
from ansible_collections.snapkit.cloud.plugins.module_utils._module import ModuleFailure
from ansible_collections.snapkit.cloud.plugins.module_utils._module import run_module
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import Deadline
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import WaitError


def argument_spec():
    return dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        set_name=dict(type="str"),
        instance_id=dict(type="str"),
        snapshot_ids=dict(type="list", elements="str"),
        availability_zone=dict(type="str"),
        target_instance_id=dict(type="str"),
        replace_root_volume=dict(type="bool", default=False),
        kms_key_id=dict(type="str", no_log=False),
        tags=dict(type="dict", aliases=["resource_tags"]),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=900),
    )


def validate(params):
    """Reject bad input before any API call; every message names the option and the rule."""
    if not params["snapshot_ids"] and not (params["set_name"] and params["instance_id"]):
        raise InputError("set_name and instance_id, or snapshot_ids, are required to find the set")
    if params["snapshot_ids"] and params["set_name"]:
        raise InputError("set_name and snapshot_ids are mutually exclusive")
    check_pattern("instance_id", params["instance_id"], INSTANCE_ID_PATTERN, "an EC2 instance id looks like i-0123456789abcdef0")
    check_pattern("target_instance_id", params["target_instance_id"], INSTANCE_ID_PATTERN,
                  "an EC2 instance id looks like i-0123456789abcdef0")
    for snapshot_id in params["snapshot_ids"] or []:
        check_pattern("snapshot_ids", snapshot_id, SNAPSHOT_ID_PATTERN, "an EBS snapshot id looks like snap-0123456789abcdef0")
    check_pattern("availability_zone", params["availability_zone"], r"[a-z]{2}(-[a-z]+)+-\d[a-z]", "for example eu-north-1a")
    if params["replace_root_volume"] and not params["target_instance_id"]:
        raise InputError("replace_root_volume: needs target_instance_id")
    if params["wait_timeout"] <= 0:
        raise InputError(f"wait_timeout: must be a positive number of seconds, got {params['wait_timeout']}")
    check_user_tags("tags", params["tags"], restore.RESTORE_TAG_COUNT)


def source_volumes(client, snapshots):
    """The source volumes of snapshots without recorded attributes (the fallback for older sets)."""
    wanted = [s["VolumeId"] for s in snapshots if sets.read_volume_record(restore.tag_dict(s)) is None and s.get("VolumeId")]
    return {v["VolumeId"]: v for v in describe_volumes_by_ids(client, wanted)} if wanted else {}


def load_target(client, target_instance_id):
    target = describe_instance(client, target_instance_id)
    if target is None:
        raise ModuleFailure(f"Target instance {target_instance_id} was not found; check target_instance_id and region")
    state = instance_state(target)
    if state != "stopped":
        raise ModuleFailure(
            f"Target instance {target_instance_id} is {state}; volumes are attached only to a stopped instance. "
            "Stop it first (snapkit.cloud.ebs_multi_snapshot does not do this for a restore)")
    return target


def choose_zone(client, params, target, snapshots, sources):
    zone = params["availability_zone"]
    if target is not None:
        target_zone = target["Placement"]["AvailabilityZone"]
        if zone and zone != target_zone:
            raise InputError(f"availability_zone: {zone} is not the zone of target instance {target['InstanceId']} ({target_zone})")
        return target_zone
    if zone:
        return zone
    instance_ids = {restore.tag_dict(s).get(sets.INSTANCE_TAG) for s in snapshots} - {None}
    for instance_id in sorted(instance_ids):
        original = describe_instance(client, instance_id)
        if original is not None:
            return original["Placement"]["AvailabilityZone"]
    for volume in sources.values():
        return volume["AvailabilityZone"]
    raise InputError("availability_zone: required, since neither a target instance nor the original instance is known here")


def find_restored(client, snapshot_ids, target):
    """Our volumes of this restore, by snapshot id (volumes being deleted do not count)."""
    filters = [{"Name": "tag:" + restore.RESTORED_FROM_SNAPSHOT_TAG, "Values": sorted(snapshot_ids)}]
    if target:
        filters.append({"Name": "tag:" + restore.RESTORE_TARGET_TAG, "Values": [target]})
    volumes = [v for v in describe_volumes(client, Filters=filters) if v.get("State") not in restore.GONE_STATES]
    return {restore.tag_dict(v)[restore.RESTORED_FROM_SNAPSHOT_TAG]: v for v in volumes}


def wait_for_volumes(client, volume_ids, done, deadline, what, seen=()):
    """_ec2.wait_for_volumes within the task's deadline; a vanished or failed volume fails at once."""
    try:
        return ec2_wait_for_volumes(client, volume_ids, done, lambda v: v.get("State") in restore.GONE_STATES, deadline, seen=seen)
    except WaitError as error:
        raise ModuleFailure(f"Volumes did not become {what} within wait_timeout={deadline.seconds} seconds: {error}") from None


def is_available(volume):
    return volume.get("State") == "available"


def is_attached(volume):
    return volume.get("State") == "in-use" and attachment_state(volume) == "attached"


def create_volumes(module, client, specs, zone, target, set_name, existing):
    """CreateVolume for each spec without a volume; a ClientToken per run and snapshot makes retries safe."""
    run_id = uuid.uuid4().hex[:24]
    for spec in specs:
        if spec["snapshot_id"] in existing:
            continue
        tags = restore.volume_tags(spec, set_name, target, module.params["tags"])
        request = restore.create_request(spec, zone, module.params["kms_key_id"], tags)
        existing[spec["snapshot_id"]] = create_volume(client, ClientToken=f"{run_id}-{spec['snapshot_id']}", **request)


def swap_and_attach(client, target, to_attach, old_root, existing, result, deadline):
    """Detach the old root (kept) when swapping, then attach, the new root first: the instance is without a root volume
    as briefly as possible, and if the new root cannot be attached the old one is put back before the module fails."""
    instance_id = target["InstanceId"]
    root_device = target.get("RootDeviceName")
    if old_root:
        detach_volume(client, old_root, InstanceId=instance_id)
        result["replaced_root_volume_id"] = old_root
        wait_for_volumes(client, [old_root], is_available, deadline, "detached", seen=[old_root])
    for spec in sorted(to_attach, key=lambda spec: spec["device_name"] != root_device):
        volume_id = existing[spec["snapshot_id"]]["VolumeId"]
        try:
            attach_volume(client, spec["device_name"], instance_id, volume_id)
        except AnsibleAWSError as error:
            failure = (f"Attaching restored volume {volume_id} at {spec['device_name']} of target instance {instance_id} failed: "
                       f"{aws_error_text(error)}")
            if old_root and spec["device_name"] == root_device:
                failure += put_back(client, instance_id, root_device, old_root, deadline, result)
            raise ModuleFailure(failure) from None


def put_back(client, instance_id, device, old_root, deadline, result):
    """Attach the old root again after the new one was refused; what became of it, for the failure message."""
    try:
        attach_volume(client, device, instance_id, old_root)
        wait_for_volumes(client, [old_root], is_attached, deadline, "attached", seen=[old_root])
    except (AnsibleAWSError, ModuleFailure) as error:
        reason = aws_error_text(error)
        return (f". The old root volume {old_root} is detached and not attached again ({reason}): attach it at {device} "
                "before starting the instance")
    result["replaced_root_volume_id"] = None
    return f". The old root volume {old_root} is put back at {device}: the instance is as it was"


def subject(params):
    """What the task restores, for messages about AWS errors that do not say it."""
    what = (f"set {params['set_name']} of instance {params['instance_id']}" if params["set_name"]
            else f"snapshots {', '.join(params['snapshot_ids'] or [])}")
    onto = f" onto target instance {params['target_instance_id']}" if params["target_instance_id"] else ""
    return f"Restoring {what}{onto}"


def ensure_present(module, client, result, deadline):
    params = module.params
    snapshots = sets.load_completed_set(client, params["set_name"], params["instance_id"], params["snapshot_ids"], "restored")
    set_name = params["set_name"] or restore.tag_dict(snapshots[0]).get(sets.SET_NAME_TAG, "")
    result["set_name"] = set_name
    sources = source_volumes(client, snapshots)
    specs = restore.volume_specs(snapshots, sources)
    target = load_target(client, params["target_instance_id"]) if params["target_instance_id"] else None
    zone = choose_zone(client, params, target, snapshots, sources)
    target_key = restore.restore_target(params["target_instance_id"], zone)
    existing = find_restored(client, [spec["snapshot_id"] for spec in specs], target_key)
    to_attach, old_root, skipped_root = ([], None, None)
    if target is not None:
        to_attach, old_root, skipped_root = restore.attachment_plan(specs, existing, target, params["replace_root_volume"])
    missing = [spec for spec in specs if spec["snapshot_id"] not in existing]
    for spec in missing:  # tag limits are checked for every volume before the first is created
        restore.volume_tags(spec, set_name, target_key, params["tags"])
    result["changed"] = bool(missing or to_attach)
    report(result, specs, existing, zone, params, target_key)
    if module._diff:
        result["diff"] = {
            "before": {"volume_ids": sorted(v["VolumeId"] for v in existing.values())},
            "after": {"snapshot_ids": [spec["snapshot_id"] for spec in specs],
                      "attach": {spec["device_name"]: spec["snapshot_id"] for spec in to_attach},
                      "detach_root": old_root},
        }
    if skipped_root:
        module.warn(f"The root snapshot {skipped_root['snapshot_id']} ({skipped_root['device_name']}) is restored but not "
                    "attached; set replace_root_volume=true to swap the target's root volume")
    if module.check_mode or not result["changed"]:
        return result

    listed_before = [v["VolumeId"] for v in existing.values()]
    try:
        create_volumes(module, client, missing, zone, target_key, set_name, existing)
    finally:
        # Every volume made is reported, also when a later CreateVolume fails.
        report(result, specs, existing, zone, params, target_key)
    volume_ids = [v["VolumeId"] for v in existing.values()]
    # EC2 attaches only available volumes: those to attach are waited for even with wait=false.
    waited = volume_ids if params["wait"] else [existing[s["snapshot_id"]]["VolumeId"] for s in to_attach]
    if waited:
        ready = wait_for_volumes(client, waited, lambda v: v.get("State") in ("available", "in-use"), deadline, "available",
                                 seen=listed_before)
        existing.update({restore.tag_dict(v)[restore.RESTORED_FROM_SNAPSHOT_TAG]: v for v in ready})
    if to_attach:
        swap_and_attach(client, target, to_attach, old_root, existing, result, deadline)
        if params["wait"]:
            attached = {existing[s["snapshot_id"]]["VolumeId"] for s in to_attach}
            wait_for_volumes(client, attached, is_attached, deadline, "attached", seen=attached)
    # A volume EC2 does not list yet (wait=false) is reported as CreateVolume answered.
    existing.update({restore.tag_dict(v)[restore.RESTORED_FROM_SNAPSHOT_TAG]: v for v in describe_volumes_by_ids(client, volume_ids)})
    report(result, specs, existing, zone, params, target_key)
    return result


def report(result, specs, volumes, zone, params, target_key):
    result["volumes"] = []
    for spec in specs:
        volume = volumes.get(spec["snapshot_id"])
        if volume is not None:
            result["volumes"].append(restore.format_volume(volume, spec["snapshot_id"], spec["device_name"]))
        else:
            tags = restore.volume_tags(spec, result["set_name"], target_key, params["tags"])
            result["volumes"].append(restore.planned_volume(spec, zone, params["kms_key_id"], tags))


def ensure_absent(module, client, result):
    params = module.params
    if params["snapshot_ids"]:
        snapshot_ids = params["snapshot_ids"]
    else:
        snapshot_ids = [s["SnapshotId"] for s in sets.find_set(client, params["instance_id"], params["set_name"])]
        result["set_name"] = params["set_name"]
    target_key = restore.restore_target(params["target_instance_id"], params["availability_zone"])
    volumes = list(find_restored(client, snapshot_ids, target_key).values()) if snapshot_ids else []
    result["volumes"] = [restore.format_volume(v) for v in sorted(volumes, key=lambda v: v["VolumeId"])]
    attached = [v for v in volumes if v.get("Attachments")]
    if attached:
        held = ", ".join(f"{v['VolumeId']} ({v['Attachments'][0]['InstanceId']} {v['Attachments'][0]['Device']})" for v in attached)
        raise ModuleFailure(f"Refusing to delete restored volumes that are attached: {held}. Detach them first; "
                            "nothing was deleted")
    if not volumes:
        return result
    result["changed"] = True
    if module._diff:
        result["diff"] = {"before": {"volume_ids": sorted(v["VolumeId"] for v in volumes)}, "after": {"volume_ids": []}}
    if not module.check_mode:
        for volume in volumes:
            delete_volume(client, volume["VolumeId"])
    return result


def run(module):
    params = module.params
    result = dict(changed=False, set_name=params["set_name"] or "", volumes=[], replaced_root_volume_id=None)

    def work():
        validate(params)
        # The one deadline of the run: the waits for the volumes share wait_timeout.
        deadline = Deadline(params["wait_timeout"])
        client = module.client("ec2")
        if params["state"] == "present":
            ensure_present(module, client, result, deadline)
        else:
            ensure_absent(module, client, result)

    module.subject = subject(params)
    run_module(module, result, work)


def main():
    module = SnapkitAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    run(module)


if __name__ == "__main__":
    main()
