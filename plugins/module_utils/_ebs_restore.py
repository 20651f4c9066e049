# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Restoring an EBS snapshot set: the pure planning rules, apart from the API calls.

A restore makes one volume per snapshot. Each volume carries three tags that identify the restore
(the set, the snapshot, and the target: the instance it is for, or the availability zone), so a
re-run finds the volumes it made instead of making new ones.
"""

from __future__ import annotations

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.snapkit.cloud.plugins.module_utils import _ebs_snapshot_set as sets
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import MAX_TAGS_PER_RESOURCE
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import TAG_PREFIX
from ansible_collections.snapkit.cloud.plugins.module_utils._module import InputError
from ansible_collections.snapkit.cloud.plugins.module_utils._module import ModuleFailure

RESTORED_FROM_SET_TAG = TAG_PREFIX + "restored-from-set"
RESTORED_FROM_SNAPSHOT_TAG = TAG_PREFIX + "restored-from-snapshot"
RESTORE_TARGET_TAG = TAG_PREFIX + "restore-target"
RESTORE_TAG_COUNT = 3
# Volumes in these states are gone or going; a re-run makes a new one.
GONE_STATES = ("deleting", "deleted", "error")


def tag_dict(resource):
    return boto3_tag_list_to_ansible_dict(resource.get("Tags", []))


def restore_target(target_instance_id, availability_zone):
    """What a restore is for: the target instance if there is one, else the availability zone."""
    return target_instance_id or availability_zone


def volume_specs(snapshots, source_volumes):
    """One spec per snapshot: device and attributes from the recorded tags, else from the source volume.

    ``source_volumes`` maps volume id -> DescribeVolumes entry of the source volumes that still exist.
    A snapshot with neither is named in the error: without its type and device it cannot be restored as it was.
    """
    specs, unknown = [], []
    for snapshot in sorted(snapshots, key=lambda s: s["SnapshotId"]):
        tags = tag_dict(snapshot)
        recorded = sets.read_volume_record(tags)
        if recorded is None:
            recorded = _from_source_volume(source_volumes.get(snapshot.get("VolumeId")))
        if recorded is None:
            unknown.append(snapshot["SnapshotId"])
            continue
        device, attributes = recorded
        specs.append(dict(attributes, snapshot_id=snapshot["SnapshotId"], device_name=device,
                          size=snapshot.get("VolumeSize"), source_tags=tags))
    if unknown:
        raise ModuleFailure(
            f"Cannot tell the device and volume type of snapshot(s) {', '.join(unknown)}: they carry no "
            f"{sets.DEVICE_TAG}/{sets.VOLUME_TAG} tags (sets made before this collection recorded them) and their source "
            "volumes no longer exist or are not attached. Restore them one by one with amazon.aws.ec2_vol"
        )
    devices = [spec["device_name"] for spec in specs]
    duplicated = sorted({device for device in devices if devices.count(device) > 1})
    if duplicated:
        raise ModuleFailure(f"The snapshots record the same device more than once ({', '.join(duplicated)}); "
                            "pass the snapshot_ids of one set only")
    return sorted(specs, key=lambda spec: spec["device_name"])


def _from_source_volume(volume):
    if not volume or not volume.get("Attachments"):
        return None
    return volume["Attachments"][0].get("Device"), {
        "volume_type": volume.get("VolumeType"), "iops": volume.get("Iops"), "throughput": volume.get("Throughput"),
    }


def volume_tags(spec, set_name, target, user_tags):
    """The snapshot's own tags (not ours, not aws:), the user's, and the three restore tags."""
    tags = {key: value for key, value in spec["source_tags"].items()
            if not key.startswith(TAG_PREFIX) and not key.lower().startswith("aws:")}
    tags.update(user_tags or {})
    tags.update({RESTORED_FROM_SET_TAG: set_name or "", RESTORED_FROM_SNAPSHOT_TAG: spec["snapshot_id"], RESTORE_TARGET_TAG: target})
    if len(tags) > MAX_TAGS_PER_RESOURCE:
        raise InputError(
            f"tags: the volume of snapshot {spec['snapshot_id']} would carry {len(tags)} tags (the snapshot's, yours and "
            f"{RESTORE_TAG_COUNT} restore tags); EC2 allows {MAX_TAGS_PER_RESOURCE}"
        )
    return tags


def create_request(spec, availability_zone, kms_key_id, tags):
    """CreateVolume parameters that recreate the original volume; encryption follows the snapshot unless re-keyed."""
    request = {"AvailabilityZone": availability_zone, "SnapshotId": spec["snapshot_id"], "VolumeType": spec["volume_type"]}
    if spec.get("size"):
        request["Size"] = spec["size"]
    if spec.get("iops") and spec["volume_type"] in ("gp3", "io1", "io2"):
        request["Iops"] = spec["iops"]
    if spec.get("throughput") and spec["volume_type"] == "gp3":
        request["Throughput"] = spec["throughput"]
    if kms_key_id:
        request.update(Encrypted=True, KmsKeyId=kms_key_id)
    request["TagSpecifications"] = [{"ResourceType": "volume", "Tags": [{"Key": k, "Value": str(v)} for k, v in tags.items()]}]
    return request


def attachment_plan(specs, existing, target, replace_root_volume):
    """What to do on the target, per spec: attach, leave, or replace the root; foreign devices fail first.

    ``existing`` maps snapshot id -> our restored volume (or None). Returns (to_attach, old_root, skipped_root)
    where ``to_attach`` lists specs to attach, ``old_root`` is the volume id of the root to detach (or None).
    """
    instance_id = target["InstanceId"]
    root_device = target.get("RootDeviceName")
    occupied = {m["DeviceName"]: m.get("Ebs", {}).get("VolumeId") for m in target.get("BlockDeviceMappings", [])}
    to_attach, old_root, skipped_root, foreign = [], None, None, []
    for spec in specs:
        ours = existing.get(spec["snapshot_id"])
        current = occupied.get(spec["device_name"])
        if ours and current == ours["VolumeId"]:
            continue
        if spec["device_name"] == root_device and not replace_root_volume:
            skipped_root = spec
            continue
        if current and spec["device_name"] == root_device:
            old_root = current
        elif current:
            foreign.append(f"{spec['device_name']} (held by {current})")
        to_attach.append(spec)
    if foreign:
        raise ModuleFailure(
            f"Target instance {instance_id} already has volumes at the set's devices: {', '.join(foreign)}. Detach them "
            "first, or restore without target_instance_id and attach the volumes yourself"
        )
    return to_attach, old_root, skipped_root


def format_volume(volume, snapshot_id=None, device_name=None):
    """A volume as this module returns it (contract keys), from a DescribeVolumes/CreateVolume entry."""
    attachments = volume.get("Attachments") or []
    result = camel_dict_to_snake_dict({k: v for k, v in volume.items() if k in ("VolumeId", "Size", "VolumeType", "Encrypted", "AvailabilityZone", "State")})
    tags = tag_dict(volume)
    result.update(
        volume_id=volume.get("VolumeId"),
        snapshot_id=volume.get("SnapshotId") or snapshot_id,
        device_name=attachments[0].get("Device") if attachments else device_name,
        iops=volume.get("Iops"),
        throughput=volume.get("Throughput"),
        kms_key_id=volume.get("KmsKeyId"),
        attached_to=attachments[0].get("InstanceId") if attachments else None,
        attachment_state=attachments[0].get("State") if attachments else None,
        tags=tags,
    )
    return result


def planned_volume(spec, availability_zone, kms_key_id, tags):
    """What check mode reports for a volume that would be created."""
    return {
        "volume_id": None, "snapshot_id": spec["snapshot_id"], "device_name": spec["device_name"], "size": spec.get("size"),
        "volume_type": spec["volume_type"], "iops": spec.get("iops"), "throughput": spec.get("throughput"),
        "encrypted": None, "kms_key_id": kms_key_id, "availability_zone": availability_zone, "state": None,
        "attached_to": None, "attachment_state": None, "tags": tags,
    }
