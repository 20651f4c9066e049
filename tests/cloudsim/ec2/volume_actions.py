# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Volume and snapshot-copy actions the realism layer answers itself (see :mod:`cloudsim.ec2.volumes`).

Validation follows the EC2 API reference of each action; checks run before anything is created,
so a refused call changes nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from moto.ec2.models import ec2_backends, validate_resource_ids
from moto.ec2.utils import generic_filter, random_snapshot_id, random_volume_id

from cloudsim.clock import iso8601
from cloudsim.ec2.actions import Ec2Call, check_id, described_by_ids, filters_by_name, refuse_dry_run, require, requested_tags, tag_list
from cloudsim.ec2.snapshots import COMPLETED, SnapshotTiming, moto_datetime, whole_milliseconds
from cloudsim.ec2.visibility import check_taggable, visible_snapshot, visible_volume
from cloudsim.ec2.volumes import CopiedSnapshot, SimulatedAttachment, SimulatedVolume, VolumeModificationRecord, attachment_at
from cloudsim.ec2.wire import Ec2Error

IOPS_REQUIRED_TYPES = frozenset({"io1", "io2"})
IOPS_ALLOWED_TYPES = IOPS_REQUIRED_TYPES | {"gp3"}
VOLUME_TYPES = frozenset({"standard", "io1", "io2", "gp2", "gp3", "sc1", "st1"})
GP3_DEFAULT_IOPS = 3000
GP3_DEFAULT_THROUGHPUT = 125
# Multi-Attach: io1/io2 only, at most 16 instances (EBS User Guide, "Amazon EBS Multi-Attach").
MULTI_ATTACH_TYPES = IOPS_REQUIRED_TYPES
MULTI_ATTACH_LIMIT = 16
COPY_LIMIT_MESSAGE = "You have exceeded the maximum number of concurrent snapshot copies to this Region."


def _default_kms_key(backend) -> str:
    """The region's default EBS key (aws/ebs), made on first use as AWS does."""
    if not backend.default_kms_key_id:
        backend._create_default_encryption_key()  # pylint: disable=protected-access
    return backend.default_kms_key_id


def _completed_snapshot(backend, snapshot_id: str, moment: float):
    check_id(snapshot_id, "snap", "InvalidSnapshotID.Malformed")
    snapshot = visible_snapshot(backend, snapshot_id, moment)
    if snapshot.status != COMPLETED:
        raise Ec2Error("IncorrectState", f"Snapshot is in invalid state - {snapshot.status}")
    return snapshot


def _encryption(call: Ec2Call, source_encrypted: bool, source_key: str | None) -> tuple[bool, str | None]:
    """(encrypted, key): the given KmsKeyId wins, else the source's key, else the default key."""
    wanted = bool(call.params.get("Encrypted"))
    key = call.params.get("KmsKeyId")
    if key and not wanted:
        raise Ec2Error("InvalidParameterDependency", "The parameter KmsKeyId requires the parameter Encrypted to be set.")
    if key:
        return True, key
    if source_encrypted:
        return True, source_key or _default_kms_key(call.backend)
    if wanted:
        return True, _default_kms_key(call.backend)
    return False, None


def _performance(call: Ec2Call, volume_type: str) -> tuple[int | None, int | None]:
    iops, throughput = call.params.get("Iops"), call.params.get("Throughput")
    if volume_type not in VOLUME_TYPES:
        raise Ec2Error("InvalidParameterValue", f"Value ({volume_type}) for parameter volumeType is invalid.")
    if volume_type in IOPS_REQUIRED_TYPES and not iops:
        raise Ec2Error("MissingParameter", f"The request must contain the parameter iops for volume type {volume_type}")
    if iops and volume_type not in IOPS_ALLOWED_TYPES:
        raise Ec2Error("InvalidParameterCombination", f"The parameter iops is not supported for {volume_type} volumes.")
    if throughput and volume_type != "gp3":
        raise Ec2Error("InvalidParameterCombination", f"The parameter throughput is not supported for {volume_type} volumes.")
    if volume_type == "gp3":
        return iops or GP3_DEFAULT_IOPS, throughput or GP3_DEFAULT_THROUGHPUT
    return iops, None


def described_attachment(attachment) -> dict:
    mapping = getattr(attachment.instance, "block_device_mapping", {}).get(attachment.device)
    return {"VolumeId": attachment.volume.id, "InstanceId": attachment.instance.id, "Device": attachment.device,
            "State": attachment.status, "AttachTime": attachment.attach_time,
            "DeleteOnTermination": bool(getattr(mapping, "delete_on_termination", False))}


def described_volume(volume) -> dict:
    """A volume in DescribeVolumes' Volume shape; SnapshotId ('' when not from a snapshot) and MultiAttachEnabled are
    always there, as EC2 sends them (amazon.aws.ec2_vol reads both without a default)."""
    fields = {
        "VolumeId": volume.id, "Size": volume.size, "SnapshotId": volume.snapshot_id or "",
        "AvailabilityZone": volume.zone.name, "State": volume.status, "CreateTime": volume.create_time,
        "VolumeType": volume.volume_type, "Encrypted": bool(volume.encrypted),
        "MultiAttachEnabled": bool(getattr(volume, "multi_attach_enabled", False)),
        "Iops": volume.iops, "Throughput": volume.throughput, "KmsKeyId": volume.kms_key_id if volume.encrypted else None,
        "Tags": tag_list(volume) or None,
    }
    described = {key: value for key, value in fields.items() if value is not None}
    attachments = volume.all_attachments() if isinstance(volume, SimulatedVolume) else [volume.attachment] if volume.attachment else []
    described["Attachments"] = [described_attachment(attachment) for attachment in attachments]
    return described


def describe_volumes(call: Ec2Call) -> dict:
    """DescribeVolumes over the volumes EC2 sees: VolumeIds (each must be visible), Filters, MaxResults/NextToken."""
    volume_ids = call.params.get("VolumeIds") or []
    volumes = described_by_ids(call, volume_ids, "vol", call.backend.volumes.values(), visible_volume)
    volumes = sorted(generic_filter(filters_by_name(call), volumes), key=lambda volume: volume.id)
    max_results, token = call.params.get("MaxResults"), call.params.get("NextToken")
    if max_results is not None and volume_ids:
        raise Ec2Error("InvalidParameterCombination", "The parameter volumeIdSet cannot be used with the parameter maxResults")
    if token:
        volumes = [volume for volume in volumes if volume.id > token]
    result: dict = {}
    if max_results is not None:
        if not 5 <= max_results <= 500:
            raise Ec2Error("InvalidParameterValue", f"Value ( {max_results} ) for parameter maxResults is invalid. "
                                                    "Expecting a value between 5 and 500.")
        if len(volumes) > max_results:
            volumes = volumes[:max_results]
            result["NextToken"] = volumes[-1].id
    result["Volumes"] = [described_volume(volume) for volume in volumes]
    return result


def _tag_call(call: Ec2Call, change) -> dict:
    resource_ids = require(call, "Resources", "ResourceId")
    validate_resource_ids(resource_ids)
    check_taggable(call.backend, resource_ids, call.clock.time())
    call.backend.do_resources_exist(resource_ids)
    refuse_dry_run(call)
    change(resource_ids, {tag.get("Key", ""): tag.get("Value") for tag in call.params.get("Tags") or []})
    return {}


def create_tags(call: Ec2Call) -> dict:
    """moto's CreateTags, after the check that EC2 sees every snapshot and volume named."""
    require(call, "Tags")
    return _tag_call(call, lambda ids, tags: call.backend.create_tags(ids, {k: v or "" for k, v in tags.items()}))


def delete_tags(call: Ec2Call) -> dict:
    """moto's DeleteTags, after the check that EC2 sees every snapshot and volume named."""
    return _tag_call(call, call.backend.delete_tags)


def create_volume(call: Ec2Call) -> dict:
    zone_name = require(call, "AvailabilityZone")
    token = call.params.get("ClientToken")
    token_key = (call.account_id, call.region, token)
    if token and token_key in call.book.client_tokens:
        # Idempotent retry: the same request answers with the volume it made the first time.
        return described_volume(call.backend.get_volume(call.book.client_tokens[token_key]))
    tags = requested_tags(call, "volume")
    snapshot = _completed_snapshot(call.backend, call.params["SnapshotId"], call.clock.time()) if call.params.get("SnapshotId") else None
    size = call.params.get("Size") or (snapshot.volume_size if snapshot else None)
    if not size:
        raise Ec2Error("MissingParameter", "The request must contain the parameter size or snapshotId")
    if snapshot and size < snapshot.volume_size:
        raise Ec2Error("InvalidParameterValue", f"Volume of {size}GiB is too small; minimum is {snapshot.volume_size}GiB.")
    volume_type = call.params.get("VolumeType") or "gp2"
    iops, throughput = _performance(call, volume_type)
    multi_attach = bool(call.params.get("MultiAttachEnabled"))
    if multi_attach and volume_type not in MULTI_ATTACH_TYPES:
        raise Ec2Error("InvalidParameterCombination", f"The parameter multiAttachEnabled is not supported for {volume_type} volumes.")
    encrypted, kms_key_id = _encryption(call, bool(snapshot and snapshot.encrypted), snapshot.kms_key_id if snapshot else None)
    zone = call.backend.get_zone_by_name(zone_name)
    if zone is None:
        raise Ec2Error("InvalidParameterValue", f"Invalid availability zone: [{zone_name}]")
    refuse_dry_run(call)
    moment = call.clock.time()
    volume = SimulatedVolume(
        call.backend, random_volume_id(), call.clock, moment + call.settings.volume_create_seconds,
        size=size, zone=zone, snapshot_id=snapshot.id if snapshot else None, encrypted=encrypted, kms_key_id=kms_key_id,
        volume_type=volume_type, iops=iops, throughput=throughput, multi_attach_enabled=multi_attach,
    )
    volume.visible_at = moment + call.settings.visibility_delay(call.book)
    volume.add_tags(tags)
    call.backend.volumes[volume.id] = volume
    if token:
        call.book.client_tokens[token_key] = volume.id
    return described_volume(volume)


def _check_attachable(volume, instance, device: str, backend) -> None:
    """AttachVolume's rules: an available volume (or a Multi-Attach one attached elsewhere), an instance running or
    stopped in the volume's zone, a free device."""
    volume_id, instance_id = volume.id, instance.id
    shared = bool(volume.multi_attach_enabled) and volume.status == "in-use"
    if shared:
        attached = volume.all_attachments()
        if any(attachment.instance.id == instance_id for attachment in attached):
            raise Ec2Error("VolumeInUse", f"{volume_id} is already attached to an instance")
        if len(attached) >= MULTI_ATTACH_LIMIT:
            raise Ec2Error("AttachmentLimitExceeded", f"Volume '{volume_id}' is attached to {MULTI_ATTACH_LIMIT} instances")
    elif volume.status != "available":
        raise Ec2Error("IncorrectState", f"{volume_id} is not 'available'.")
    if instance.state not in ("running", "stopped"):
        raise Ec2Error("IncorrectInstanceState", f"Instance '{instance_id}' is not 'running' or 'stopped'.")
    if volume.zone.name != instance.placement.zone:
        raise Ec2Error("InvalidVolume.ZoneMismatch",
                       f"The volume '{volume_id}' is not in the same availability zone as instance '{instance_id}'")
    if attachment_at(backend, instance_id, device) is not None or device in instance.block_device_mapping:
        raise Ec2Error("InvalidParameterValue", f"Invalid value '{device}' for unixDevice. Attachment point {device} is already in use")


def attach_volume(call: Ec2Call) -> dict:
    volume_id, instance_id, device = require(call, "VolumeId"), require(call, "InstanceId"), require(call, "Device")
    check_id(volume_id, "vol", "InvalidVolumeID.Malformed")
    check_id(instance_id, "i", "InvalidInstanceID.Malformed")
    volume = visible_volume(call.backend, volume_id, call.clock.time())
    instance = call.backend.get_instance(instance_id)
    _check_attachable(volume, instance, device, call.backend)
    refuse_dry_run(call)
    attachment = SimulatedAttachment(volume, instance, device, call.clock, call.clock.time() + call.settings.volume_attach_seconds)
    if volume.status == "in-use":  # a Multi-Attach volume's further instance: moto knows one attachment only
        primary = volume.attachment
        call.backend.attach_volume(volume_id, instance_id, device, delete_on_termination=False)
        volume.attachment = primary
        volume.shared_attachments.append(attachment)
    else:
        call.backend.attach_volume(volume_id, instance_id, device, delete_on_termination=False)
        volume.attachment = attachment
    return {"VolumeId": volume_id, "InstanceId": instance_id, "Device": device, "State": attachment.status,
            "AttachTime": attachment.attach_time}


def detach_volume(call: Ec2Call) -> dict:
    volume_id = require(call, "VolumeId")
    check_id(volume_id, "vol", "InvalidVolumeID.Malformed")
    volume = visible_volume(call.backend, volume_id, call.clock.time())
    instance_id = call.params.get("InstanceId")
    shared = [a for a in getattr(volume, "shared_attachments", []) if a.instance.id == instance_id and a.status not in ("detaching", "detached")]
    attachment = volume.__dict__.get("_attachment") if isinstance(volume, SimulatedVolume) else volume.attachment
    if shared:
        attachment = shared[0]
    elif attachment is None or (instance_id and attachment.instance.id != instance_id):
        raise Ec2Error("IncorrectState", f"Volume '{volume_id}' is in the 'available' state.")
    instance = attachment.instance
    if attachment.device == instance.root_device_name and instance.state != "stopped":
        raise Ec2Error("IncorrectState", f"Unable to detach root volume '{volume_id}' from instance '{instance.id}'")
    refuse_dry_run(call)
    done_at = call.clock.time() + call.settings.volume_detach_seconds
    if shared:
        attachment.begin_detach(done_at)
        instance.block_device_mapping.pop(attachment.device, None)
    else:
        if isinstance(attachment, SimulatedAttachment) and isinstance(volume, SimulatedVolume):
            attachment.begin_detach(done_at)
            volume.begin_detach(attachment)
        call.backend.detach_volume(volume_id, instance.id, attachment.device)
    return {"VolumeId": volume_id, "InstanceId": instance.id, "Device": attachment.device, "State": "detaching",
            "AttachTime": attachment.attach_time}


def next_modification_at(modifications: list, settings, moment: float) -> float:
    """When the volume may be modified again under the rolling window (``moment`` itself when it may be now)."""
    limit, window = settings.volume_modifications_per_window, settings.volume_modification_window_seconds
    recent = sorted(record.start for record in modifications if record.start > moment - window)
    return recent[len(recent) - limit] + window if limit > 0 and len(recent) >= limit else moment


def _check_modifiable(volume, settings, moment: float) -> None:
    """ModifyVolume's rules between modifications (botocore's ec2 model): the previous one must be completed
    (``IncorrectModificationState`` while it is modifying or optimizing), and at most
    ``volume_modifications_per_window`` may start in a rolling window (``VolumeModificationRateExceeded``, saying when
    the next one may start)."""
    running = [record for record in volume.modifications if record.state() != "completed"]
    if running:
        raise Ec2Error("IncorrectModificationState",
                       f"Volume {volume.id} cannot be modified in modification state {running[-1].state().upper()}")
    retry_at = next_modification_at(volume.modifications, settings, moment)
    if retry_at > moment:
        raise Ec2Error("VolumeModificationRateExceeded",
                       f"You've reached the maximum modification rate per volume limit "
                       f"({settings.volume_modifications_per_window} in {settings.volume_modification_window_seconds / 3600:g} hours). "
                       f"You can modify volume {volume.id} again after {iso8601(moto_datetime(retry_at))}.")


def modify_volume(call: Ec2Call) -> dict:
    """ModifyVolume: size up only, type, IOPS, throughput, Multi-Attach (io1/io2); one modification at a time, at most
    a few in a rolling window (``_check_modifiable``)."""
    volume_id = require(call, "VolumeId")
    check_id(volume_id, "vol", "InvalidVolumeID.Malformed")
    volume = visible_volume(call.backend, volume_id, call.clock.time())
    names = ("Size", "VolumeType", "Iops", "Throughput", "MultiAttachEnabled")
    if all(call.params.get(name) is None for name in names):
        raise Ec2Error("InvalidParameterValue", "At least one of size, volumeType, iops, throughput or multiAttachEnabled must be set.")
    _check_modifiable(volume, call.settings, call.clock.time())
    size = call.params.get("Size") or volume.size
    if size < volume.size:
        raise Ec2Error("InvalidParameterValue", f"New size cannot be smaller than existing size of {volume.size} GiB.")
    volume_type = call.params.get("VolumeType") or volume.volume_type
    changing_type = volume_type != volume.volume_type
    iops = call.params.get("Iops") or (None if changing_type and volume_type not in IOPS_ALLOWED_TYPES else volume.iops)
    throughput = call.params.get("Throughput") or (volume.throughput if volume_type == "gp3" else None)
    check = dataclasses.replace(call, params={"Iops": iops if volume_type in IOPS_ALLOWED_TYPES else None,
                                              "Throughput": throughput})
    iops, throughput = _performance(check, volume_type)
    multi_attach = call.params.get("MultiAttachEnabled")
    multi_attach = bool(volume.multi_attach_enabled) if multi_attach is None else bool(multi_attach)
    if multi_attach and volume_type not in MULTI_ATTACH_TYPES:
        raise Ec2Error("InvalidParameterCombination", f"The parameter multiAttachEnabled is not supported for {volume_type} volumes.")
    refuse_dry_run(call)
    original = {name: getattr(volume, attribute) for name, attribute in VolumeModificationRecord.FIELDS}
    volume.size, volume.volume_type, volume.iops, volume.throughput = size, volume_type, iops, throughput
    volume.multi_attach_enabled = multi_attach
    record = VolumeModificationRecord(volume, original, call.clock, call.settings.volume_modify_seconds,
                                      call.settings.volume_optimize_seconds)
    volume.modifications.append(record)
    return {"VolumeModification": record.described(moto_datetime)}


def describe_volumes_modifications(call: Ec2Call) -> dict:
    """The modifications of the volumes asked for (every volume's without VolumeIds), latest of each volume last."""
    volume_ids = call.params.get("VolumeIds") or []
    volumes = described_by_ids(call, volume_ids, "vol", call.backend.volumes.values(), visible_volume)
    described = [record.described(moto_datetime) for volume in volumes for record in getattr(volume, "modifications", [])
                 if isinstance(record, VolumeModificationRecord)]
    wanted = filters_by_name(call)
    field_of = {"volume-id": "VolumeId", "modification-state": "ModificationState", "target-size": "TargetSize",
                "target-volume-type": "TargetVolumeType", "original-size": "OriginalSize",
                "original-volume-type": "OriginalVolumeType"}
    for name, values in wanted.items():
        if name not in field_of:
            raise Ec2Error("InvalidParameterValue", f"The filter '{name}' is invalid")
        described = [item for item in described if str(item.get(field_of[name])) in values]
    return {"VolumesModifications": described}


def copy_snapshot(call: Ec2Call) -> dict:
    source_region, source_id = require(call, "SourceRegion"), require(call, "SourceSnapshotId")
    try:
        source_backend = ec2_backends[call.account_id][source_region]
    except KeyError as error:
        raise Ec2Error("InvalidParameterValue", f"Invalid value '{source_region}' for SourceRegion") from error
    source = _completed_snapshot(source_backend, source_id, call.clock.time())
    tags = requested_tags(call, "snapshot")
    same_region = source_region == call.region
    encrypted, kms_key_id = _encryption(call, bool(source.encrypted), source.kms_key_id if same_region else None)
    moment = call.clock.time()
    if call.book.pending_copies(call.region, moment) >= call.settings.copy_concurrent_limit:
        raise Ec2Error("ResourceLimitExceeded", COPY_LIMIT_MESSAGE)
    refuse_dry_run(call)
    start = whole_milliseconds(moment)
    snapshot_id = random_snapshot_id()
    timing = SnapshotTiming(snapshot_id=snapshot_id, volume_id="", start=start, work_begins=start,
                            duration=call.settings.copy_duration(source.volume_size),
                            visible_at=start + call.settings.visibility_delay(call.book))
    description = call.params.get("Description", f"[Copied {source_id} from {source_region}]")
    copy = CopiedSnapshot(call.backend, snapshot_id, source, description, call.clock, timing, kms_key_id if encrypted else None)
    copy.add_tags(tags)
    call.backend.snapshots[snapshot_id] = copy
    call.book.copies_by_region.setdefault(call.region, []).append(timing)
    return {"SnapshotId": snapshot_id, "Tags": tag_list(copy)}


VOLUME_ACTIONS: dict[str, Callable[[Ec2Call], dict]] = {
    "CreateVolume": create_volume,
    "AttachVolume": attach_volume,
    "DetachVolume": detach_volume,
    "CopySnapshot": copy_snapshot,
    "DescribeVolumes": describe_volumes,
    "CreateTags": create_tags,
    "DeleteTags": delete_tags,
    "ModifyVolume": modify_volume,
    "DescribeVolumesModifications": describe_volumes_modifications,
}
