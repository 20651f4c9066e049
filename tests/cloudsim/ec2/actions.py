# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EC2 actions the realism layer answers itself instead of passing them to moto.

Each handler takes an :class:`Ec2Call` (parameters already nested per botocore's input shape)
and returns a result dict in botocore's output shape; :mod:`cloudsim.ec2.wire` renders it.
Handlers work directly on moto's backend objects so moto's other actions see the same state.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime
import json
import re
from collections.abc import Callable

from moto.ec2.utils import generic_filter, random_snapshot_id

from cloudsim.clock import SimClock
from cloudsim.ec2 import instances as instance_states
from cloudsim.ec2.snapshots import (
    CONCURRENT_LIMIT_MESSAGE, SimulatedSnapshot, SnapshotBook, SnapshotSet, SnapshotTiming, concurrent_limit, whole_milliseconds,
)
from cloudsim.ec2.settings import Ec2Settings  # noqa: F401 (re-exported: its old home)
from cloudsim.ec2.visibility import is_visible, visible_snapshot
from cloudsim.ec2.wire import Ec2Error

DRY_RUN_MESSAGE = "Request would have succeeded, but DryRun flag is set."
# AWS documents that hibernation-enabled instances cannot get multi-volume snapshots, not the code.
HIBERNATION_MESSAGE = "Snapshots cannot be created from instances for which hibernation is enabled."
DESCRIBE_PAGE_LIMIT = 1000


@dataclasses.dataclass
class Ec2Call:
    """One EC2 API call as the handlers see it."""

    action: str
    params: dict
    backend: object
    account_id: str
    region: str
    clock: SimClock
    settings: Ec2Settings
    book: SnapshotBook


# Validation helpers ------------------------------------------------------------------------------

_ID_PATTERN = "^{prefix}-(?:[0-9a-f]{{8}}|[0-9a-f]{{17}})$"


def check_id(value: str, prefix: str, code: str) -> None:
    """Reject ids that cannot exist, the way EC2 does (``Invalid...ID.Malformed``)."""
    if not re.match(_ID_PATTERN.format(prefix=prefix), value or ""):
        raise Ec2Error(code, f'Invalid id: "{value}"')


def require(call: Ec2Call, name: str, wire_name: str | None = None):
    value = call.params.get(name)
    if value in (None, "", []):
        raise Ec2Error("MissingParameter", f"The request must contain the parameter {wire_name or name}")
    return value


def refuse_dry_run(call: Ec2Call) -> None:
    """EC2 answers a permitted DryRun with HTTP 412 DryRunOperation and changes nothing."""
    if call.params.get("DryRun"):
        raise Ec2Error("DryRunOperation", DRY_RUN_MESSAGE, status=412)


def requested_snapshot_tags(call: Ec2Call) -> dict:
    return requested_tags(call, "snapshot")


def requested_tags(call: Ec2Call, taggable: str) -> dict:
    """The TagSpecifications of a create call, all of which must be for the ``taggable`` resource type."""
    tags: dict = {}
    for spec in call.params.get("TagSpecifications") or []:
        resource_type = spec.get("ResourceType")
        if not resource_type:
            raise Ec2Error("InvalidParameterValue", "Tag specification resource type must have a value")
        if resource_type != taggable:
            raise Ec2Error("InvalidParameterValue", f"'{resource_type}' is not a valid taggable resource type for this operation.")
        for tag in spec.get("Tags") or []:
            tags[tag.get("Key", "")] = tag.get("Value", "")
    return tags


def resource_tags(resource) -> dict:
    """``{key: value}`` of a resource, read from moto's tag store directly: its ``get_tags()`` goes through
    ``describe_tags``, which scans every tag of the account with a pattern per resource id (seconds per call at
    thousands of snapshots)."""
    return dict(resource.ec2_backend.tags.get(resource.id) or {})


def tag_list(resource) -> list[dict]:
    return [{"Key": key, "Value": value} for key, value in resource_tags(resource).items()]


def copyable_volume_tags(volume) -> dict:
    # Keys under aws: are reserved for AWS itself; a user cannot put them on a snapshot.
    return {tag["key"]: tag["value"] for tag in volume.get_tags() if not tag["key"].startswith("aws:")}


def hibernation_configured(instance) -> bool:
    configured = (instance.hibernation_options or {}).get("Configured")
    return configured is True or str(configured).lower() == "true"


# Snapshot creation -------------------------------------------------------------------------------

def check_concurrency(call: Ec2Call, volumes: list) -> None:
    """ConcurrentSnapshotLimitExceeded before anything is created (CreateSnapshots is all or nothing)."""
    moment = call.clock.time()
    for volume in volumes:
        if call.book.blocking_count(volume.id, moment) >= concurrent_limit(volume.volume_type):
            raise Ec2Error("ConcurrentSnapshotLimitExceeded", CONCURRENT_LIMIT_MESSAGE)


def create_simulated_snapshot(call: Ec2Call, volume, description: str, start: float,
                              snapshot_set: SnapshotSet | None, instance_id: str | None) -> SimulatedSnapshot:
    plan = call.book.take_failure(volume.id, instance_id)
    timing = SnapshotTiming(
        snapshot_id=random_snapshot_id(),
        volume_id=volume.id,
        start=start,
        work_begins=call.book.queue_free_at(volume.id, start),
        duration=call.settings.snapshot_duration(volume.size),
        fail_at_progress=plan.at_progress if plan else None,
        snapshot_set=snapshot_set,
        visible_at=start + call.settings.visibility_delay(call.book),
    )
    snapshot = SimulatedSnapshot(call.backend, timing.snapshot_id, volume, description, call.clock, timing)
    call.backend.snapshots[snapshot.id] = snapshot
    call.book.add(timing)
    if snapshot_set is not None:
        snapshot_set.timings.append(timing)
    return snapshot


def new_snapshot_fields(snapshot) -> dict:
    """Fields both create responses share; a new snapshot is always pending with empty progress."""
    fields = {
        "SnapshotId": snapshot.id,
        "VolumeId": snapshot.volume_id,
        "State": "pending",
        "StartTime": snapshot.start_time,
        "Progress": "",
        "OwnerId": snapshot.owner_id,
        "VolumeSize": snapshot.volume_size,
        "Description": snapshot.description or "",
        "Encrypted": bool(snapshot.encrypted),
    }
    tags = tag_list(snapshot)
    if tags:
        fields["Tags"] = tags
    return fields


def create_snapshot(call: Ec2Call) -> dict:
    volume_id = require(call, "VolumeId")
    check_id(volume_id, "vol", "InvalidVolumeID.Malformed")
    tags = requested_snapshot_tags(call)
    refuse_dry_run(call)
    volume = call.backend.get_volume(volume_id)
    check_concurrency(call, [volume])
    instance_id = volume.attachment.instance.id if volume.attachment else None
    start = whole_milliseconds(call.clock.time())
    snapshot = create_simulated_snapshot(call, volume, call.params.get("Description", ""), start, None, instance_id)
    snapshot.add_tags(tags)
    result = new_snapshot_fields(snapshot)
    # CreateSnapshot answers with a tagSet even when it is empty: the AWS CLI's create-snapshot example
    # output shows "Tags": [], and amazon.aws.ec2_snapshot reads snapshot["Tags"] unconditionally.
    result.setdefault("Tags", [])
    if snapshot.kms_key_id:
        result["KmsKeyId"] = snapshot.kms_key_id
    return result


def volumes_for_set(call: Ec2Call, instance, spec: dict) -> list:
    """The instance's volumes minus ExcludeBootVolume / ExcludeDataVolumeIds, in attachment order."""
    mappings = instance.get_block_device_mapping
    root_volume_ids = {mapping.volume_id for device, mapping in mappings if device == instance.root_device_name}
    attached_ids = {mapping.volume_id for _device, mapping in mappings}
    excluded_ids = spec.get("ExcludeDataVolumeIds") or []
    for volume_id in excluded_ids:
        check_id(volume_id, "vol", "InvalidVolumeID.Malformed")
        if volume_id in root_volume_ids:
            raise Ec2Error("InvalidParameterValue", f"The root volume '{volume_id}' cannot be excluded with ExcludeDataVolumeIds; use ExcludeBootVolume.")
        if volume_id not in attached_ids:
            call.backend.get_volume(volume_id)  # InvalidVolume.NotFound when it does not exist at all
            raise Ec2Error("InvalidParameterValue", f"The volume '{volume_id}' is not attached to instance '{instance.id}'.")
    exclude_boot = bool(spec.get("ExcludeBootVolume"))
    return [
        call.backend.get_volume(mapping.volume_id)
        for device, mapping in mappings
        if not (exclude_boot and device == instance.root_device_name) and mapping.volume_id not in excluded_ids
    ]


def create_snapshots(call: Ec2Call) -> dict:
    spec = require(call, "InstanceSpecification", "InstanceSpecification.InstanceId")
    instance_id = spec.get("InstanceId")
    if not instance_id:
        raise Ec2Error("MissingParameter", "The request must contain the parameter InstanceSpecification.InstanceId")
    check_id(instance_id, "i", "InvalidInstanceID.Malformed")
    copy_tags_from = call.params.get("CopyTagsFromSource")
    if copy_tags_from not in (None, "volume"):
        raise Ec2Error("InvalidParameterValue", f"Value ({copy_tags_from}) for parameter CopyTagsFromSource is invalid.")
    user_tags = requested_snapshot_tags(call)
    refuse_dry_run(call)
    instance = call.backend.get_instance(instance_id)
    if hibernation_configured(instance):
        raise Ec2Error("UnsupportedOperation", HIBERNATION_MESSAGE)
    volumes = volumes_for_set(call, instance, spec)
    check_concurrency(call, volumes)
    start = whole_milliseconds(call.clock.time())
    snapshot_set = SnapshotSet(instance.id)
    created = []
    for volume in volumes:
        tags = copyable_volume_tags(volume) if copy_tags_from == "volume" else {}
        tags.update(user_tags)
        snapshot = create_simulated_snapshot(call, volume, call.params.get("Description", ""), start, snapshot_set, instance.id)
        snapshot.add_tags(tags)
        created.append(snapshot)
    return {"Snapshots": [new_snapshot_fields(snapshot) for snapshot in created]}


# Snapshot reads and deletion ---------------------------------------------------------------------

def described_snapshot(snapshot) -> dict:
    """A snapshot in DescribeSnapshots' Snapshot shape, with the simulated state."""
    fields = {
        "SnapshotId": snapshot.id,
        "VolumeId": snapshot.volume_id,
        "State": snapshot.status,
        "StartTime": snapshot.start_time,
        "Progress": snapshot.progress,
        "OwnerId": snapshot.owner_id,
        "Description": snapshot.description or "",
        "VolumeSize": snapshot.volume_size,
        "Encrypted": bool(snapshot.encrypted),
        "StorageTier": snapshot.storage_tier,
    }
    optional = {
        "KmsKeyId": snapshot.kms_key_id if snapshot.encrypted else None,
        "StateMessage": getattr(snapshot, "state_message", None),
        "CompletionTime": snapshot.completion_time() if isinstance(snapshot, SimulatedSnapshot) else None,
        "Tags": tag_list(snapshot) or None,
    }
    fields.update({key: value for key, value in optional.items() if value is not None})
    return fields


def visible_to(snapshot, account_id: str) -> bool:
    """Own snapshots, public ones and ones shared with the account (create volume permission)."""
    return (
        snapshot.owner_id == account_id
        or "all" in snapshot.create_volume_permission_groups
        or account_id in snapshot.create_volume_permission_userids
    )


def owned_by_any(snapshot, owners: list[str], account_id: str) -> bool:
    wanted = {account_id if owner == "self" else owner for owner in owners}
    return snapshot.owner_id in wanted or ("amazon" in wanted and getattr(snapshot, "owner_alias", None) == "amazon")


def restorable_by_any(snapshot, users: list[str], account_id: str) -> bool:
    for user in users:
        if user == "all" and "all" in snapshot.create_volume_permission_groups:
            return True
        user_id = account_id if user == "self" else user
        if snapshot.owner_id == user_id or user_id in snapshot.create_volume_permission_userids:
            return True
    return False


def filtered(filters: dict, resources: list) -> list:
    """moto's ``generic_filter``, with the tag filters whose values hold no wildcard (``*``, ``?``, ``[``) matched first
    by set lookup: the same answer (moto matches such a value only by equality), without moto compiling a pattern per
    value for every resource (a 200-instance ``tag:`` filter over thousands of snapshots took tens of seconds)."""
    rest = {}
    for name, values in filters.items():
        plain = (name == "tag-key" or name.startswith("tag:")) and values and not any(c in v for v in values for c in "*?[")
        if not plain:
            rest[name] = values
            continue
        wanted = set(values)
        if name == "tag-key":
            resources = [item for item in resources if wanted & set(resource_tags(item))]
        else:
            key = name[4:]
            resources = [item for item in resources if key in resource_tags(item) and resource_tags(item)[key] in wanted]
    return generic_filter(rest, resources)


def filters_by_name(call: Ec2Call) -> dict:
    filters: dict = {}
    for item in call.params.get("Filters") or []:
        filters.setdefault(item.get("Name", ""), []).extend(item.get("Values") or [])
    return filters


def _sort_key(snapshot) -> tuple:
    start = snapshot.start_time
    if start.tzinfo is None:
        start = start.replace(tzinfo=datetime.timezone.utc)
    return (start.timestamp(), snapshot.id)


def _encode_token(key: tuple) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": list(key)}).encode()).decode()


def _decode_token(token: str) -> tuple:
    try:
        return tuple(json.loads(base64.urlsafe_b64decode(token.encode()))["after"])
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        raise Ec2Error("InvalidParameterValue", f"Invalid value '{token}' for NextToken") from error


def paginate(call: Ec2Call, snapshots: list) -> tuple[list, str | None]:
    """MaxResults/NextToken over a stable order (StartTime, id), robust to concurrent changes."""
    ordered = sorted(snapshots, key=_sort_key)
    token = call.params.get("NextToken")
    if token:
        after = _decode_token(token)
        ordered = [snapshot for snapshot in ordered if _sort_key(snapshot) > after]
    max_results = call.params.get("MaxResults")
    if max_results is None and not token:
        return ordered, None
    if max_results is not None and max_results < 1:
        raise Ec2Error("InvalidParameterValue", f"Value ( {max_results} ) for parameter maxResults is invalid. Expecting a value greater than 0.")
    page_size = min(max_results or DESCRIBE_PAGE_LIMIT, DESCRIBE_PAGE_LIMIT)
    page = ordered[:page_size]
    next_token = _encode_token(_sort_key(page[-1])) if len(ordered) > page_size else None
    return page, next_token


def described_by_ids(call: Ec2Call, ids: list[str], prefix: str, resources, find: Callable) -> list:
    """The ``resources`` a Describe* call with these ids sees: every id well formed and found (``find`` raises the
    NotFound of a resource that does not exist or is not visible yet), then the visible ones, those ids only if given."""
    for resource_id in ids:
        check_id(resource_id, prefix, f"Invalid{'Snapshot' if prefix == 'snap' else 'Volume'}ID.Malformed")
    refuse_dry_run(call)
    moment = call.clock.time()
    for resource_id in ids:
        find(call.backend, resource_id, moment)
    return [resource for resource in resources if is_visible(resource, moment) and (not ids or resource.id in ids)]


def describe_snapshots(call: Ec2Call) -> dict:
    snapshot_ids = call.params.get("SnapshotIds") or []
    snapshots = [snapshot for snapshot in described_by_ids(call, snapshot_ids, "snap", call.backend.snapshots.values(), visible_snapshot)
                 if visible_to(snapshot, call.account_id)]
    if call.params.get("OwnerIds"):
        snapshots = [snapshot for snapshot in snapshots if owned_by_any(snapshot, call.params["OwnerIds"], call.account_id)]
    if call.params.get("RestorableByUserIds"):
        snapshots = [snapshot for snapshot in snapshots if restorable_by_any(snapshot, call.params["RestorableByUserIds"], call.account_id)]
    snapshots = filtered(filters_by_name(call), snapshots)
    page, next_token = paginate(call, snapshots)
    result = {"Snapshots": [described_snapshot(snapshot) for snapshot in page]}
    if next_token:
        result["NextToken"] = next_token
    return result


def delete_snapshot(call: Ec2Call) -> dict:
    snapshot_id = require(call, "SnapshotId")
    check_id(snapshot_id, "snap", "InvalidSnapshotID.Malformed")
    refuse_dry_run(call)
    visible_snapshot(call.backend, snapshot_id, call.clock.time())
    call.backend.delete_snapshot(snapshot_id)
    # A snapshot deleted while pending keeps running (and counting against the limit) on AWS.
    call.book.mark_deleted(snapshot_id)
    return {}


# Snapshot attributes (create volume permissions) -------------------------------------------------

CREATE_VOLUME_PERMISSION = "createVolumePermission"


def _own_snapshot(call: Ec2Call):
    snapshot_id = require(call, "SnapshotId")
    check_id(snapshot_id, "snap", "InvalidSnapshotID.Malformed")
    snapshot = visible_snapshot(call.backend, snapshot_id, call.clock.time())
    if snapshot.owner_id != call.account_id:
        raise Ec2Error("UnauthorizedOperation", "You are not authorized to perform this operation.", status=403)
    return snapshot


def _permission_attribute(call: Ec2Call, allowed: tuple[str, ...]) -> str:
    attribute = call.params.get("Attribute")
    if attribute is not None and attribute not in allowed:
        raise Ec2Error("InvalidParameterValue", f"Value ({attribute}) for parameter attribute is invalid. "
                                                f"Expected: {', '.join(allowed)}.")
    return attribute


def describe_snapshot_attribute(call: Ec2Call) -> dict:
    snapshot = _own_snapshot(call)
    attribute = require(call, "Attribute")
    _permission_attribute(call, (CREATE_VOLUME_PERMISSION, "productCodes"))
    refuse_dry_run(call)
    result: dict = {"SnapshotId": snapshot.id}
    if attribute == CREATE_VOLUME_PERMISSION:
        result["CreateVolumePermissions"] = ([{"Group": group} for group in sorted(snapshot.create_volume_permission_groups)]
                                             + [{"UserId": user} for user in sorted(snapshot.create_volume_permission_userids)])
    else:
        result["ProductCodes"] = []
    return result


def modify_snapshot_attribute(call: Ec2Call) -> dict:
    """Add or remove create volume permissions: the CreateVolumePermission structure, or OperationType with UserIds /
    GroupNames (the only group is ``all``: public)."""
    snapshot = _own_snapshot(call)
    _permission_attribute(call, (CREATE_VOLUME_PERMISSION,))
    changes = {"Add": [], "Remove": []}
    for operation in ("Add", "Remove"):
        changes[operation] = list((call.params.get("CreateVolumePermission") or {}).get(operation) or [])
    operation_type = call.params.get("OperationType")
    if operation_type not in (None, "add", "remove"):
        raise Ec2Error("InvalidParameterValue", f"Value ({operation_type}) for parameter operationType is invalid.")
    given = [{"UserId": user} for user in call.params.get("UserIds") or []] + [{"Group": g} for g in call.params.get("GroupNames") or []]
    if given and not operation_type:
        raise Ec2Error("MissingParameter", "The request must contain the parameter operationType")
    changes["Add" if operation_type == "add" else "Remove"] += given
    if not changes["Add"] and not changes["Remove"]:
        raise Ec2Error("MissingParameter", "The request must contain the parameter createVolumePermission")
    for permission in changes["Add"] + changes["Remove"]:
        if permission.get("Group") not in (None, "all"):
            raise Ec2Error("InvalidParameterValue", f"Value ({permission['Group']}) for parameter group is invalid.")
        if permission.get("UserId") is not None and not re.match(r"^\d{12}$", permission["UserId"]):
            raise Ec2Error("InvalidParameterValue", f"Value ({permission['UserId']}) for parameter userId is invalid.")
    refuse_dry_run(call)
    for operation, change in (("Add", set.update), ("Remove", set.difference_update)):
        change(snapshot.create_volume_permission_groups, {p["Group"] for p in changes[operation] if p.get("Group")})
        change(snapshot.create_volume_permission_userids, {p["UserId"] for p in changes[operation] if p.get("UserId")})
    return {}


def reset_snapshot_attribute(call: Ec2Call) -> dict:
    """Back to private: only createVolumePermission can be reset."""
    snapshot = _own_snapshot(call)
    require(call, "Attribute")
    _permission_attribute(call, (CREATE_VOLUME_PERMISSION,))
    refuse_dry_run(call)
    snapshot.create_volume_permission_groups.clear()
    snapshot.create_volume_permission_userids.clear()
    return {}


# Instance state changes --------------------------------------------------------------------------

def _instances_for_state_change(call: Ec2Call, check: Callable) -> list:
    instance_ids = require(call, "InstanceIds", "InstanceId")
    for instance_id in instance_ids:
        check_id(instance_id, "i", "InvalidInstanceID.Malformed")
    refuse_dry_run(call)
    found = call.backend.get_multi_instances_by_id(instance_ids)
    # All instances are checked before any changes: the call fails as a whole.
    for instance in found:
        check(instance)
    return found


def _change_states(call: Ec2Call, check: Callable, begin: Callable, result_key: str) -> dict:
    changes = []
    for instance in _instances_for_state_change(call, check):
        previous = instance_states.current_state(instance)
        begin(call.backend, instance, call.clock, call.settings.instance_transition_seconds)
        changes.append({"InstanceId": instance.id, "CurrentState": instance_states.current_state(instance), "PreviousState": previous})
    return {result_key: changes}


def stop_instances(call: Ec2Call) -> dict:
    return _change_states(call, instance_states.check_stoppable, instance_states.begin_stop, "StoppingInstances")


def start_instances(call: Ec2Call) -> dict:
    return _change_states(call, instance_states.check_startable, instance_states.begin_start, "StartingInstances")


def terminate_instances(call: Ec2Call) -> dict:
    return _change_states(call, instance_states.check_terminable, instance_states.begin_terminate, "TerminatingInstances")


def reboot_instances(call: Ec2Call) -> dict:
    """A reboot keeps the instance running on EC2; moto's would flip any state to running at once."""
    _instances_for_state_change(call, lambda _instance: None)
    return {}


OWNED_ACTIONS: dict[str, Callable[[Ec2Call], dict]] = {
    "CreateSnapshot": create_snapshot,
    "CreateSnapshots": create_snapshots,
    "DescribeSnapshots": describe_snapshots,
    "DeleteSnapshot": delete_snapshot,
    "DescribeSnapshotAttribute": describe_snapshot_attribute,
    "ModifySnapshotAttribute": modify_snapshot_attribute,
    "ResetSnapshotAttribute": reset_snapshot_attribute,
    "StopInstances": stop_instances,
    "StartInstances": start_instances,
    "TerminateInstances": terminate_instances,
    "RebootInstances": reboot_instances,
}
