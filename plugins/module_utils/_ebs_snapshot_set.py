# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""EBS snapshot sets: how a set is tagged, found, selected, reported and waited on.

A set is the group of snapshots one CreateSnapshots call made for one instance. Every snapshot of
a set carries two tags, written atomically by that call, which is what makes re-runs idempotent
and lets later modules (info, restore, retention) treat the set as one thing.
"""

from __future__ import annotations

import datetime
import functools
import time

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import is_ansible_aws_error_code
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_specifications

from ansible_collections.snapkit.cloud.plugins.module_utils._aws import TAG_PREFIX
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import VOLUME_ID_PATTERN
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import best_effort
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import check_pattern
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import aws_error_text
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import check_user_tags
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import error_code
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import FILTER_VALUES_PER_CALL
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import TAG_RESOURCES_PER_CALL
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import VISIBILITY_GRACE_SECONDS
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import Visibility
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import create_snapshots
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import create_tags_when_visible
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import delete_snapshot
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import describe_snapshots_by_filters
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import describe_snapshots_by_ids
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import describe_snapshots_by_ids_with_server_time
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import describe_snapshots_with_server_time
from ansible_collections.snapkit.cloud.plugins.module_utils._module import InputError
from ansible_collections.snapkit.cloud.plugins.module_utils._module import ModuleFailure
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import poll_made
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import WaitError
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import WaitTimeout
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import deadline_retry
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import wait_until

SET_NAME_TAG = TAG_PREFIX + "set-name"
INSTANCE_TAG = TAG_PREFIX + "instance-id"
SET_TAG_COUNT = 2
# Written on each snapshot after CreateSnapshots, so a restore knows where and how to recreate each
# volume even when the instance and its volumes are gone: the device name, and
# "type=gp3 iops=3000 throughput=125" (the volume's type and performance at snapshot time).
DEVICE_TAG = TAG_PREFIX + "device"
VOLUME_TAG = TAG_PREFIX + "volume"
RECORD_TAG_COUNT = 2
VOLUME_ATTRIBUTES = ("type", "iops", "throughput")
# The EC2 console and API: multi-volume snapshot sets cover at most 40 volumes.
MAX_VOLUMES_PER_SET = 40
# Snapshot states (botocore's SnapshotState enum).
COMPLETED = "completed"
FAILED_STATES = ("error",)
SET_NAME_PATTERN = r"[A-Za-z0-9 ._:/=+@-]{1,200}"
MAX_DESCRIPTION_LENGTH = 255
LIMIT_ERROR = "ConcurrentSnapshotLimitExceeded"
# EC2 did nothing when it answers these: the request may simply be sent again.
SAFE_TO_RESEND = frozenset({LIMIT_ERROR, "RequestLimitExceeded", "Throttling", "ThrottlingException",
                            "SnapshotCreationPerVolumeRateExceeded"})
# Retried until wait_timeout; the server errors only after looking for the set (see create_set).
RETRIED_CREATE_ERRORS = SAFE_TO_RESEND | {"InternalError", "InternalFailure", "ServiceUnavailable", "Unavailable"}


def set_option_spec():
    """The options of a set that ebs_multi_snapshot and ebs_fleet_snapshot share (each documents them)."""
    return dict(
        set_name=dict(type="str"),
        exclude_boot_volume=dict(type="bool", default=False),
        exclude_data_volume_ids=dict(type="list", elements="str", default=[]),
        copy_tags_from_source=dict(type="bool", default=False),
        description=dict(type="str"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        stop_instance=dict(type="bool", default=False),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=3600),
        delete_on_failure=dict(type="bool", default=False),
    )


def check_set_options(params):
    """The rules of the shared set options (see set_option_spec); every message names the option and the rule."""
    check_pattern("set_name", params["set_name"], SET_NAME_PATTERN,
                  "1 to 200 characters: letters, digits, spaces and . _ : / = + @ -")
    for volume_id in params["exclude_data_volume_ids"]:
        check_pattern("exclude_data_volume_ids", volume_id, VOLUME_ID_PATTERN, "an EBS volume id looks like vol-0123456789abcdef0")
    if params["description"] is not None and len(params["description"]) > MAX_DESCRIPTION_LENGTH:
        raise InputError(f"description: {len(params['description'])} characters, at most {MAX_DESCRIPTION_LENGTH} are allowed")
    if params["wait_timeout"] <= 0:
        raise InputError(f"wait_timeout: must be a positive number of seconds, got {params['wait_timeout']}")
    check_user_tags("tags", params["tags"], SET_TAG_COUNT + RECORD_TAG_COUNT)


def default_set_name(instance_id, now=None):
    """A name for a set when the user gives none: the instance and the UTC time, to the second."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return f"{instance_id}-{now.strftime('%Y%m%dT%H%M%SZ')}"


def set_tags(set_name, instance_id, user_tags):
    """The tags every snapshot of the set gets: the user's, plus our two set tags."""
    tags = dict(user_tags or {})
    tags[SET_NAME_TAG] = set_name
    tags[INSTANCE_TAG] = instance_id
    return tags


def _set_filters(instance_id, set_name):
    return [
        {"Name": "tag:" + SET_NAME_TAG, "Values": [set_name]},
        {"Name": "tag:" + INSTANCE_TAG, "Values": [instance_id]},
    ]


def find_set(client, instance_id, set_name):
    """Every snapshot of the set ``set_name`` of ``instance_id`` (empty when there is none)."""
    return describe_snapshots_by_filters(client, _set_filters(instance_id, set_name))


def find_set_with_server_time(client, instance_id, set_name):
    """``find_set`` and EC2's time of the answer, for ``send_without_duplicates``."""
    return describe_snapshots_with_server_time(client, _set_filters(instance_id, set_name))


def load_completed_set(client, set_name, instance_id, snapshot_ids, purpose):
    """The snapshots of a set (by name and instance, or by ids); every one must exist and be completed."""
    if snapshot_ids:
        snapshots = describe_snapshots_by_ids(client, snapshot_ids)
        missing = sorted(set(snapshot_ids) - {s["SnapshotId"] for s in snapshots})
        if missing:
            raise ModuleFailure(f"Snapshot(s) {', '.join(missing)} not found; check snapshot_ids and region")
    else:
        snapshots = find_set(client, instance_id, set_name)
        if not snapshots:
            raise ModuleFailure(f"No snapshot set {set_name} of instance {instance_id} found; list the sets with "
                                "snapkit.cloud.ebs_snapshot_set_info")
    unfinished = [s for s in snapshots if s.get("State") != COMPLETED]
    if unfinished:
        raise ModuleFailure(f"Only a completed set can be {purpose}; not completed: {describe(unfinished, {})}. "
                            "Wait for it (ebs_snapshot_set_info with wait=true) and run again")
    return snapshots


class _NotVisibleYet(Exception):
    """A create whose answer was lost found nothing yet: EC2 may not show what it made for a while."""


def send_without_duplicates(send, find_made, timeout, safe_to_resend, retried, visibility_factory=Visibility):
    """Call ``send`` (a create call without a client token) until it succeeds, never doing its work twice.

    Errors in ``safe_to_resend`` (throttling, limits) mean EC2 did nothing: send again. Any other
    retried error (a server error, a lost connection: code None) may hide a request EC2 processed,
    so before sending again ``find_made`` looks for the result by its tags and is returned when found.
    ``find_made`` returns (result or a falsy value, EC2's time of the answer or None): EC2 is eventually
    consistent, so what it made may not be listed yet; the lookup is repeated until the visibility grace has
    passed on EC2's clock, and only then is the request sent again.
    Retries go on until ``timeout`` (the task's Deadline, or seconds) has passed; then the last error is raised.
    """
    maybe_made = []

    def attempt():
        if maybe_made:
            found, server_time = find_made()
            if found:
                return found
            maybe_made[-1].observe((), server_time)
            if not maybe_made[-1].gone(None):
                raise _NotVisibleYet()
        try:
            return send()
        except AnsibleAWSError as error:
            if error_code(error) not in safe_to_resend:
                maybe_made.append(visibility_factory())
            raise

    def should_retry(error):
        return isinstance(error, _NotVisibleYet) or (isinstance(error, AnsibleAWSError) and error_code(error) in set(retried) | {None})

    return deadline_retry(attempt, should_retry, timeout=timeout)


def set_queries(set_name=None, instance_ids=(), tags=None):
    """The DescribeSnapshots filter lists that together find our sets matching these criteria.

    Only snapshots with our set tag match. EC2 takes at most 200 values per filter, so more than
    200 instances mean several queries.
    """
    base = [{"Name": "tag-key", "Values": [SET_NAME_TAG]}]
    if set_name:
        base.append({"Name": "tag:" + SET_NAME_TAG, "Values": [set_name]})
    for key, value in (tags or {}).items():
        base.append({"Name": "tag:" + key, "Values": [str(value)]})
    instance_ids = sorted(set(instance_ids))
    if not instance_ids:
        return [base]
    return [
        base + [{"Name": "tag:" + INSTANCE_TAG, "Values": instance_ids[start:start + FILTER_VALUES_PER_CALL]}]
        for start in range(0, len(instance_ids), FILTER_VALUES_PER_CALL)
    ]


def snapshots_of_sets(client, set_name, instance_ids):
    """The snapshots of the sets ``set_name`` of ``instance_ids`` (one DescribeSnapshots per 200 instances), and EC2's
    time of the first answer (for a Visibility)."""
    found, server_time = [], None
    for filters in set_queries(set_name, instance_ids) if instance_ids else []:
        snapshots, answered_at = describe_snapshots_with_server_time(client, filters)
        server_time = server_time or answered_at
        found.extend(snapshots)
    return found, server_time


def attached_ebs_volumes(instance):
    """The instance's EBS volumes as [{volume_id, device_name, root}], in device order."""
    root_device = instance.get("RootDeviceName")
    volumes = []
    for mapping in instance.get("BlockDeviceMappings", []):
        ebs = mapping.get("Ebs")
        if not ebs or not ebs.get("VolumeId"):
            continue
        volumes.append({
            "volume_id": ebs["VolumeId"],
            "device_name": mapping.get("DeviceName"),
            "root": mapping.get("DeviceName") == root_device,
        })
    return volumes


def select_volumes(instance, exclude_boot_volume, exclude_data_volume_ids, fleet=False):
    """The volumes CreateSnapshots will snapshot, after checking the exclusions against the instance.

    For one instance every excluded volume must be attached to it; in a ``fleet`` an excluded volume is left out where it
    is attached (the caller checks that it is attached somewhere).
    """
    volumes = attached_ebs_volumes(instance)
    by_id = {volume["volume_id"]: volume for volume in volumes}
    instance_id = instance["InstanceId"]
    for volume_id in exclude_data_volume_ids:
        if volume_id not in by_id and fleet:
            continue
        if volume_id not in by_id:
            raise InputError(
                f"exclude_data_volume_ids: volume {volume_id} is not attached to instance {instance_id} "
                f"(attached: {', '.join(sorted(by_id)) or 'none'})"
            )
        if by_id[volume_id]["root"]:
            raise InputError(
                f"exclude_data_volume_ids: volume {volume_id} is the root volume of instance {instance_id}; "
                "use exclude_boot_volume=true to leave the root volume out"
            )
    selected = [
        volume for volume in volumes
        if volume["volume_id"] not in exclude_data_volume_ids and not (exclude_boot_volume and volume["root"])
    ]
    if not selected:
        raise InputError(f"instance {instance_id}: no EBS volume is left to snapshot after the exclusions")
    if len(selected) > MAX_VOLUMES_PER_SET:
        raise InputError(
            f"instance {instance_id}: {len(selected)} volumes selected, a multi-volume snapshot set holds at most "
            f"{MAX_VOLUMES_PER_SET}; leave some out with exclude_data_volume_ids"
        )
    return selected


def volume_record(volume):
    """The tags that record a snapshotted volume's device and attributes (``volume`` as select_volumes + details)."""
    values = {"type": volume.get("volume_type"), "iops": volume.get("iops"), "throughput": volume.get("throughput")}
    attributes = " ".join(f"{name}={values[name]}" for name in VOLUME_ATTRIBUTES if values[name] is not None)
    return {DEVICE_TAG: volume["device_name"], VOLUME_TAG: attributes}


def record_volumes(client, made):
    """Tag the new snapshots with their volume's device and attributes: one CreateTags per distinct record (up to 1000
    snapshots each), so a fleet of identical instances costs one call per device (``made``: pairs of the snapshots
    CreateSnapshots made and the volumes they were made from, with_volume_details).

    After the instances run again, so it costs no downtime. EC2 may not show the new snapshots yet (eventual
    consistency): their InvalidSnapshot.NotFound is retried until they show, within one visibility grace for all (EC2
    shows a set's snapshots at about the same time). Best effort: a failure must not lose a set, the restore falls back
    to describing the source volumes. Returns the snapshot ids (comma-separated per call) that could not be tagged.
    """
    groups = {}
    for created, volumes in made:
        by_volume = {volume["volume_id"]: volume for volume in volumes}
        for snapshot in created:
            volume = by_volume.get(snapshot.get("VolumeId"))
            if volume is not None:
                groups.setdefault(tuple(sorted(volume_record(volume).items())), []).append(snapshot)
    untagged = []
    grace_ends = time.monotonic() + VISIBILITY_GRACE_SECONDS
    for record, snapshots in groups.items():
        for start in range(0, len(snapshots), TAG_RESOURCES_PER_CALL):
            chunk = snapshots[start:start + TAG_RESOURCES_PER_CALL]
            ids = [s["SnapshotId"] for s in chunk]
            tag = functools.partial(create_tags_when_visible, client, ids, dict(record),
                                    timeout=max(0.0, grace_ends - time.monotonic()))
            if best_effort(untagged, tag, ", ".join(ids)):
                for snapshot in chunk:
                    snapshot["Tags"] = snapshot.get("Tags", []) + [{"Key": k, "Value": v} for k, v in record]
    return untagged


def read_volume_record(tags):
    """(device name, {volume_type, iops, throughput}) from a snapshot's tags dict, or None when not recorded."""
    device, attributes = tags.get(DEVICE_TAG), tags.get(VOLUME_TAG)
    if not device or not attributes:
        return None
    values = dict(part.split("=", 1) for part in attributes.split() if "=" in part)
    if not values.get("type"):
        return None
    numbers = {name: int(values[name]) if values.get(name, "").isdigit() else None for name in ("iops", "throughput")}
    return device, {"volume_type": values["type"], **numbers}


def progress_percent(snapshot):
    """Progress as a number (EC2 returns '' at first, then '42%')."""
    text = (snapshot.get("Progress") or "").rstrip("%")
    try:
        return float(text)
    except ValueError:
        return None


def _isoformat(value):
    return value.isoformat() if isinstance(value, (datetime.datetime, datetime.date)) else value


def format_snapshot(snapshot, devices):
    """A snapshot as this collection returns it: snake_case keys, tags as a dict, device name added."""
    result = camel_dict_to_snake_dict(snapshot, ignore_list=["Tags"])
    result["tags"] = boto3_tag_list_to_ansible_dict(snapshot.get("Tags", []))
    result["start_time"] = _isoformat(snapshot.get("StartTime"))
    result["device_name"] = devices.get(snapshot.get("VolumeId")) or result["tags"].get(DEVICE_TAG)
    result.setdefault("progress", snapshot.get("Progress") or "")
    result.setdefault("kms_key_id", None)
    result.setdefault("state_message", None)
    return result


def describe(snapshots, devices):
    """One line naming every snapshot, its volume, device, state and progress (for messages)."""
    parts = []
    for snapshot in sorted(snapshots, key=lambda s: s.get("VolumeId", "")):
        part = (
            f"{snapshot.get('SnapshotId')} ({snapshot.get('VolumeId')} {devices.get(snapshot.get('VolumeId'), '?')}): "
            f"{snapshot.get('State')} {snapshot.get('Progress') or '0%'}"
        )
        if snapshot.get("StateMessage"):
            part += f" - {snapshot['StateMessage']}"
        parts.append(part)
    return "; ".join(parts)


def wait_for_set(client, snapshot_ids, devices, timeout, seen=(), **engine_options):
    """Wait until every snapshot of the set is completed; one DescribeSnapshots call per poll.

    A snapshot that disappears while we wait (deleted by someone) is reported as failed, since the
    set can no longer be restored whole. One that EC2 has not shown yet is pending: EC2 is eventually
    consistent, and a new snapshot may be missing from its answers for a while. It counts as gone only
    once it was seen (``seen``: ids already seen before the wait), or after the visibility grace.
    """
    poll = poll_made(lambda ids: describe_snapshots_by_ids_with_server_time(client, ids), list(snapshot_ids), "SnapshotId", seen,
                     missing_snapshot)
    return wait_until(
        poll,
        done=lambda s: s.get("State") == COMPLETED,
        failed=lambda s: s.get("State") in FAILED_STATES + ("deleted",),
        timeout=timeout,
        describe=lambda items: describe(items, devices),
        key=lambda s: s["SnapshotId"],
        progress=progress_percent,
        **engine_options,
    )


def wait_for_sets(client, set_name, instance_ids, snapshot_ids, deadline, seen=()):
    """One wait for the sets ``set_name`` of many instances: each poll is one DescribeSnapshots per 200 instances. A set
    that fails is done (the caller reports it), so one failed set does not end the wait of the others. The snapshots of
    the last poll, and the WaitTimeout when the deadline passed first (None otherwise)."""
    poll = poll_made(lambda _ids: snapshots_of_sets(client, set_name, instance_ids), list(snapshot_ids), "SnapshotId", seen,
                     missing_snapshot)
    try:
        return wait_until(
            poll, done=lambda s: s.get("State") != "pending", failed=lambda s: False, timeout=deadline,
            describe=lambda items: f"{sum(s.get('State') == 'pending' for s in items)} snapshots pending",
            key=lambda s: s["SnapshotId"], progress=progress_percent), None
    except WaitTimeout as timed_out:
        return timed_out.items, timed_out


def missing_snapshot(snapshot_id, visibility):
    """What a wait reports for a snapshot missing from EC2's answer: deleted, or not visible yet (pending)."""
    if visibility.gone(snapshot_id):
        return {"SnapshotId": snapshot_id, "State": "deleted", "StateMessage": "snapshot no longer exists"}
    return {"SnapshotId": snapshot_id, "State": "pending", "StateMessage": "not shown by EC2 yet (eventual consistency)"}


def set_state(snapshots):
    """A set fails as a whole: error if any snapshot failed, pending while any is pending."""
    states = {snapshot.get("State") for snapshot in snapshots}
    if states & set(FAILED_STATES):
        return "error"
    if "pending" in states:
        return "pending"
    return COMPLETED


def group_sets(snapshots):
    """Snapshots grouped into sets by their two set tags; newest set first."""
    groups = {}
    for snapshot in snapshots:
        tags = {tag["Key"]: tag["Value"] for tag in snapshot.get("Tags", [])}
        key = (tags.get(INSTANCE_TAG, ""), tags.get(SET_NAME_TAG, ""))
        groups.setdefault(key, []).append(snapshot)
    found = []
    for (instance_id, set_name), members in groups.items():
        members.sort(key=lambda s: s.get("VolumeId", ""))
        progress = [progress_percent(s) or 0.0 for s in members]
        found.append({
            "set_name": set_name,
            "instance_id": instance_id,
            "state": set_state(members),
            "progress": min(progress) if progress else 0.0,
            "start_time": _isoformat(min(s.get("StartTime") for s in members)),
            "snapshot_count": len(members),
            "volume_ids": sorted(s.get("VolumeId") for s in members),
            "snapshots": [format_snapshot(s, {}) for s in members],
        })
    found.sort(key=lambda s: (s["start_time"] or "", s["instance_id"], s["set_name"]), reverse=True)
    return found


def describe_sets(found):
    """One line naming every set with its state and progress (for messages)."""
    return "; ".join(
        f"{s['set_name']} of {s['instance_id']}: {s['state']} {s['progress']:.0f}% ({s['snapshot_count']} snapshots)"
        for s in found
    )


# The procedure of one set, shared by ebs_multi_snapshot (one instance) and ebs_fleet_snapshot (many) ---------------


def device_map(instance):
    """{volume id: device name} of the instance's attached EBS volumes."""
    return {volume["volume_id"]: volume["device_name"] for volume in attached_ebs_volumes(instance or {})}


def formatted(snapshots, devices):
    """Snapshots as returned, in device order."""
    ordered = sorted(snapshots, key=lambda s: (devices.get(s.get("VolumeId")) or "~", s.get("VolumeId", "")))
    return [format_snapshot(snapshot, devices) for snapshot in ordered]


def with_volume_details(selected, details):
    """The selected volumes (select_volumes) with size, type, encryption and tags from DescribeVolumes (``details``:
    {volume id: volume})."""
    volumes = []
    for volume in selected:
        detail = details.get(volume["volume_id"], {})
        volumes.append(dict(volume, size=detail.get("Size"), volume_type=detail.get("VolumeType"),
                            encrypted=detail.get("Encrypted"), iops=detail.get("Iops"),
                            throughput=detail.get("Throughput"), tags=detail.get("Tags", [])))
    return volumes


def without_tags(volumes):
    """The volumes as the modules return them (without the volume tags read for copy_tags_from_source)."""
    return [{k: v for k, v in volume.items() if k != "tags"} for volume in volumes]


def check_copied_tag_count(volumes, tags):
    """With copied tags, each snapshot gets its volume's tags plus ours: EC2 refuses more than 50."""
    for volume in volumes:
        merged = {t["Key"] for t in volume["tags"] if not t["Key"].startswith("aws:")} | set(tags) | {DEVICE_TAG, VOLUME_TAG}
        if len(merged) > 50:
            raise InputError(
                f"copy_tags_from_source: volume {volume['volume_id']} has {len(volume['tags'])} tags; with the set's "
                f"tags its snapshot would carry {len(merged)}, EC2 allows 50"
            )


def check_instance(instance, instance_id, region):
    """Raise ModuleFailure when the instance cannot have a set: not found, going away, or hibernation configured."""
    if instance is None:
        raise ModuleFailure(f"Instance {instance_id} was not found in region {region}; check instance_id and region")
    state = (instance.get("State") or {}).get("Name", "unknown")
    if state in ("shutting-down", "terminated"):
        raise ModuleFailure(f"Instance {instance_id} is {state}; there is nothing left to snapshot")
    if instance.get("HibernationOptions", {}).get("Configured"):
        raise ModuleFailure(
            f"Instance {instance_id} has hibernation configured: EC2 does not snapshot instances for which hibernation "
            "is enabled. Snapshot its volumes one by one, or use an instance without hibernation"
        )
    return instance


def pending_snapshots_by_volume(client, volume_ids):
    pending = describe_snapshots_by_filters(client, [
        {"Name": "volume-id", "Values": list(volume_ids)},
        {"Name": "status", "Values": ["pending"]},
    ])
    counts = {}
    for snapshot in pending:
        counts[snapshot["VolumeId"]] = counts.get(snapshot["VolumeId"], 0) + 1
    return counts


def create_request(params, tags):
    """The CreateSnapshots parameters (other than the instance) from the set options."""
    request = {
        "ExcludeBootVolume": params["exclude_boot_volume"],
        "TagSpecifications": boto3_tag_specifications(tags, types=["snapshot"]),
    }
    if params["exclude_data_volume_ids"]:
        request["ExcludeDataVolumeIds"] = params["exclude_data_volume_ids"]
    if params["copy_tags_from_source"]:
        request["CopyTagsFromSource"] = "volume"
    if params["description"] is not None:
        request["Description"] = params["description"]
    return request


def create_set(once, client, params, instance_id, set_name, volumes, tags, deadline):
    """One CreateSnapshots call, retried until the task's ``deadline`` without ever making a second set.

    ``once`` is a client that sends each request exactly once (botocore's own retries would resend blindly).
    Throttling and the per-volume limit on pending snapshots mean EC2 did nothing: resend. A
    server error or a lost connection may hide a set that was made: look for it by its tags first.
    """
    request = create_request(params, tags)
    try:
        return send_without_duplicates(
            lambda: create_snapshots(once, instance_id, **request),
            lambda: find_set_with_server_time(client, instance_id, set_name),
            deadline, SAFE_TO_RESEND, RETRIED_CREATE_ERRORS,
        )
    except is_ansible_aws_error_code(LIMIT_ERROR):
        counts = pending_snapshots_by_volume(client, [v["volume_id"] for v in volumes])
        busy = ", ".join(f"{volume_id} ({count} pending)" for volume_id, count in sorted(counts.items())) or "none any more"
        raise ModuleFailure(
            f"EC2 kept refusing the snapshot set of instance {instance_id} for {params['wait_timeout']} seconds "
            f"because volumes have too many pending snapshots (5 per volume, 1 for st1/sc1). Volumes with pending "
            f"snapshots: {busy}. Wait for them to complete, or raise wait_timeout"
        ) from None


def delete_all(client, snapshots):
    """Delete the snapshots; the ids of those deleted."""
    deleted = []
    for snapshot in snapshots:
        if delete_snapshot(client, snapshot["SnapshotId"]):
            deleted.append(snapshot["SnapshotId"])
    return deleted


def failed_set_message(set_name, instance_id, deleted, failure):
    outcome = f"all {len(deleted)} snapshots of the set were deleted" if deleted else "its snapshots were kept"
    return f"Snapshot set {set_name or ''} of instance {instance_id} failed ({outcome}): {failure}"


def timed_out_set_message(instance_id, wait_timeout, timeout):
    return (f"Snapshot set of instance {instance_id} did not complete within wait_timeout={wait_timeout} "
            f"seconds; the snapshots go on in EC2 and a re-run with the same set_name waits for them again: {timeout}")


def existing_set_failed_message(set_name, instance_id, existing, devices):
    return (f"Snapshot set {set_name} of instance {instance_id} exists and has failed: "
            f"{describe(existing, devices)}. Delete it with state=absent, or choose another set_name")


def restart_or_report(guard, set_name, created, failure, restore):
    """Start the instance again if we stopped it (``restore``: a _ec2_power.PowerGuard method); if EC2 refuses, say so
    and what became of the set."""
    try:
        restore()
    except (AnsibleAWSError, WaitError) as error:
        if created:
            outcome = f"The set was created: {', '.join(sorted(s['SnapshotId'] for s in created))}."
        else:
            outcome = "No set was created" + (f" ({aws_error_text(failure)})." if failure else ".")
        raise ModuleFailure(
            f"Instance {guard.instance_id} was stopped for snapshot set {set_name} and could not be started again: "
            f"{aws_error_text(error)}. It is left stopped: start it (for example aws ec2 start-instances --instance-ids "
            f"{guard.instance_id}). {outcome}"
        ) from error
