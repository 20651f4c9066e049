# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""EC2 API wrappers: one function per API call, each with retries and an error handler.

amazon.aws already wraps DescribeInstances, DescribeVolumes, StopInstances, StartInstances and
DeleteSnapshot the same way; we re-export those instead of writing them again, and add the calls
it lacks (CreateSnapshots, a paginated DescribeSnapshots by filters, CreateTags, DeleteTags, CopySnapshot). Its
CreateVolume, AttachVolume, DetachVolume and DeleteVolume wrappers serve the restore of a set.
"""

from __future__ import annotations

import datetime
import email.utils
import time

from ansible_collections.amazon.aws.plugins.module_utils.ec2 import EC2InstanceErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import EC2SnapshotErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import EC2VolumeErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import attach_volume  # pylint: disable=unused-import
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import create_volume  # pylint: disable=unused-import
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import delete_snapshot  # pylint: disable=unused-import
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import delete_volume  # pylint: disable=unused-import
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import describe_instances
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import describe_volumes  # pylint: disable=unused-import
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import detach_volume  # pylint: disable=unused-import
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import start_instances  # pylint: disable=unused-import
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import stop_instances  # pylint: disable=unused-import

from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list

from ansible_collections.snapkit.cloud.plugins.module_utils._aws import error_code
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import throttling_retry
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import Backoff
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import deadline_retry
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import wait_until

# DescribeSnapshots accepts at most 1000 results per page; filter values are limited to 200 per filter.
SNAPSHOT_PAGE_SIZE = 1000
FILTER_VALUES_PER_CALL = 200
# CreateTags: "Constraints: Up to 1000 resource IDs" (EC2 API Reference); the same tags on many resources in one call.
TAG_RESOURCES_PER_CALL = 1000
# EC2 is eventually consistent (EC2 Developer Guide, "Eventual consistency in the Amazon EC2 API"): a snapshot, copy or
# volume just created may be missing from Describe* answers and answer Invalid*.NotFound (by id, to CreateTags) for a
# while, usually seconds, in rare cases minutes. Until this many seconds have passed (on EC2's clock) a resource we
# made and never saw counts as not visible yet, not as gone.
VISIBILITY_GRACE_SECONDS = 300
NOT_VISIBLE_YET_CODES = frozenset({"InvalidSnapshot.NotFound", "InvalidVolume.NotFound"})


class Visibility:
    """Which resources we made EC2 has shown us, and whether the grace for the others has passed.

    Time is EC2's own (the Date header of its answers, given to ``observe``) when it sends one, else this host's
    monotonic clock: the grace is about the service's delay, so it is measured where the delay happens.
    """

    def __init__(self, seen=(), grace=VISIBILITY_GRACE_SECONDS, monotonic=time.monotonic):
        self.seen = set(seen)
        self.grace = grace
        self._monotonic = monotonic
        self._first = None
        self._last = None

    def observe(self, found_ids, server_time=None):
        """Record an answer: the ids it held and EC2's time (or None)."""
        self.seen.update(found_ids)
        moment = (server_time, self._monotonic())
        self._first = self._first or moment
        self._last = moment

    def elapsed(self):
        """Seconds between the first and the last answer observed."""
        if self._first is None:
            return 0.0
        (first_server, first_local), (last_server, last_local) = self._first, self._last
        if first_server is not None and last_server is not None:
            return (last_server - first_server).total_seconds()
        return last_local - first_local

    def gone(self, resource_id):
        """A resource missing from the last answer is gone once it was seen before, or once the grace has passed."""
        return resource_id in self.seen or self.elapsed() >= self.grace


def describe_instance(client, instance_id):
    """The instance with this id, or None when EC2 does not know it."""
    for reservation in describe_instances(client, InstanceIds=[instance_id]):
        for instance in reservation.get("Instances", []):
            if instance.get("InstanceId") == instance_id:
                return instance
    return None


def describe_instances_by_filters(client, filters):
    """Every instance matching EC2 filters (all pages), as a flat list."""
    return [instance for reservation in describe_instances(client, Filters=filters) for instance in reservation.get("Instances", [])]


def describe_instances_by_ids(client, instance_ids):
    """The instances with these ids that EC2 knows, one call per 200 ids (an instance-id filter: an unknown id drops out
    of the answer instead of failing the whole call)."""
    return [instance for filters in _by_id_filters("instance-id", instance_ids) for instance in describe_instances_by_filters(client, filters)]


@EC2InstanceErrorHandler.common_error_handler("create the snapshot set of instance {instance_id}")
def create_snapshots(client, instance_id, **params):
    """CreateSnapshots: one crash-consistent snapshot per selected volume, all started at one instant.

    Deliberately without a retry decorator: CreateSnapshots has no client token, so resending it
    after an answer that got lost could create a second set. The caller retries, and looks for
    the set by its tags before it resends after any error that may have been processed.
    """
    specification = {"InstanceId": instance_id}
    for name in ("ExcludeBootVolume", "ExcludeDataVolumeIds"):
        if name in params:
            specification[name] = params.pop(name)
    return client.create_snapshots(InstanceSpecification=specification, **params)["Snapshots"]


@EC2SnapshotErrorHandler.common_error_handler("describe snapshots")
@throttling_retry()
def _describe_snapshot_pages(client, filters):
    """Every page of DescribeSnapshots for these filters (our own snapshots only), and EC2's clock.

    EC2's clock is the Date header of the first page: ages computed from it do not depend on the
    controller's clock being right.
    """
    snapshots = []
    params = {"Filters": filters, "OwnerIds": ["self"], "MaxResults": SNAPSHOT_PAGE_SIZE}
    server_time = None
    while True:
        page = client.describe_snapshots(**params)
        server_time = server_time or _server_time(page)
        snapshots.extend(page.get("Snapshots", []))
        token = page.get("NextToken")
        if not token:
            return snapshots, server_time
        params["NextToken"] = token


def _server_time(response):
    header = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    try:
        moment = email.utils.parsedate_to_datetime(header) if header else None
    except (TypeError, ValueError):
        return None
    return moment.replace(tzinfo=moment.tzinfo or datetime.timezone.utc) if moment else None


def describe_snapshots_by_filters(client, filters):
    """Our snapshots matching EC2 filters, all pages."""
    return _describe_snapshot_pages(client, filters)[0]


def describe_snapshots_with_server_time(client, filters):
    """Our snapshots matching EC2 filters, and EC2's current time (None if it sent none)."""
    return _describe_snapshot_pages(client, filters)


def _by_id_filters(name, ids):
    ids = list(ids)
    return [[{"Name": name, "Values": ids[start:start + FILTER_VALUES_PER_CALL]}] for start in range(0, len(ids), FILTER_VALUES_PER_CALL)]


def _pages_by_ids(describe_pages, name, ids):
    """(resources, EC2's time of the first answer) of one call per 200 ids."""
    found, server_time = [], None
    for filters in _by_id_filters(name, ids):
        resources, answered_at = describe_pages(filters)
        found.extend(resources)
        server_time = server_time or answered_at
    return found, server_time


def describe_snapshots_by_ids_with_server_time(client, snapshot_ids):
    """The snapshots with these ids, one call per 200 ids, and EC2's time.

    A snapshot-id filter instead of SnapshotIds: a deleted snapshot (or one EC2 does not show yet) simply drops out
    of the answer instead of failing the whole call with InvalidSnapshot.NotFound, so a wait can name it.
    """
    return _pages_by_ids(lambda filters: _describe_snapshot_pages(client, filters), "snapshot-id", snapshot_ids)


def describe_snapshots_by_ids(client, snapshot_ids):
    """The snapshots with these ids, one call per 200 ids (see describe_snapshots_by_ids_with_server_time)."""
    return describe_snapshots_by_ids_with_server_time(client, snapshot_ids)[0]


@EC2VolumeErrorHandler.common_error_handler("describe volumes")
@throttling_retry()
def _describe_volume_pages(client, filters):
    """Every page of DescribeVolumes for these filters, and EC2's clock (the Date header of the first page)."""
    volumes, params, server_time = [], {"Filters": filters}, None
    while True:
        page = client.describe_volumes(**params)
        server_time = server_time or _server_time(page)
        volumes.extend(page.get("Volumes", []))
        if not page.get("NextToken"):
            return volumes, server_time
        params["NextToken"] = page["NextToken"]


def describe_volumes_by_ids_with_server_time(client, volume_ids):
    """The volumes with these ids that EC2 shows, one call per 200 ids (a filter: a gone volume drops out), and EC2's time."""
    return _pages_by_ids(lambda filters: _describe_volume_pages(client, filters), "volume-id", volume_ids)


def poll_made(describe_with_server_time, ids, id_key, seen, missing):
    """A wait's poll of resources we made: one ``describe_with_server_time(ids)`` per round (the resources EC2 lists and
    its time), each of ``ids`` in order, ``missing(id, visibility)`` for one EC2 does not list (gone, or not visible yet:
    see Visibility; ``seen``: ids seen before the wait)."""
    visibility = Visibility(seen)

    def poll():
        listed, server_time = describe_with_server_time(ids)
        found = {item[id_key]: item for item in listed}
        visibility.observe(found, server_time)
        return [found.get(item_id) or missing(item_id, visibility) for item_id in ids]

    return poll


# Volumes become available and attach in seconds: poll briskly.
VOLUME_BACKOFF = dict(initial=1.0, factor=1.5, cap=5.0)


def attachment_state(volume):
    attachments = volume.get("Attachments") or []
    return attachments[0].get("State") if attachments else None


def wait_for_volumes(client, volume_ids, done, failed, deadline, seen=()):
    """Wait until ``done`` holds for every volume, one DescribeVolumes per poll for all; ``failed`` (or vanishing) fails
    at once (WaitFailed). A new volume EC2 does not list yet (eventual consistency) is waited for; it counts as vanished
    (state ``deleted``) only once it was seen (``seen``: ids seen before this wait) or after the visibility grace."""
    poll = poll_made(lambda ids: describe_volumes_by_ids_with_server_time(client, ids), sorted(volume_ids), "VolumeId", seen,
                     lambda vid, visibility: {"VolumeId": vid, "State": "deleted" if visibility.gone(vid) else "not listed by EC2 yet"})

    def describe(items):
        return "; ".join(f"{v['VolumeId']}: {v.get('State')}" + (f"/{attachment_state(v)}" if attachment_state(v) else "") for v in items)

    return wait_until(poll, done=done, failed=failed, timeout=deadline, describe=describe, backoff=Backoff(**VOLUME_BACKOFF))


def describe_volumes_by_ids(client, volume_ids):
    """The volumes with these ids that exist (see describe_volumes_by_ids_with_server_time)."""
    return describe_volumes_by_ids_with_server_time(client, volume_ids)[0]


@EC2SnapshotErrorHandler.common_error_handler("tag {resource_id}")
@throttling_retry()
def create_tags(client, resource_id, tags):
    """CreateTags on one resource (or a list of them: the same tags on each, in one call); setting a tag to the value it
    has is harmless, so retries are safe."""
    resources = list(resource_id) if isinstance(resource_id, (list, tuple)) else [resource_id]
    client.create_tags(Resources=resources, Tags=ansible_dict_to_boto3_tag_list(tags))
    return True


def create_tags_when_visible(client, resource_id, tags, timeout=VISIBILITY_GRACE_SECONDS, sleep=time.sleep):
    """CreateTags on a resource we just made: its Invalid*.NotFound means EC2 does not show it yet, so the call is
    retried with backoff for up to ``timeout`` seconds (EC2's advice for eventual consistency)."""
    return deadline_retry(lambda: create_tags(client, resource_id, tags),
                          lambda error: error_code(error) in NOT_VISIBLE_YET_CODES, timeout=timeout, sleep=sleep)


@EC2SnapshotErrorHandler.common_error_handler("untag {resource_id}")
@throttling_retry()
def delete_tags(client, resource_id, tags):
    """DeleteTags on one resource. Each key is given with its value, and EC2 then deletes the tag only while it
    still has that value; deleting a tag that is gone is harmless, so retries are safe."""
    client.delete_tags(Resources=[resource_id], Tags=ansible_dict_to_boto3_tag_list(tags))
    return True


@EC2SnapshotErrorHandler.common_error_handler("copy snapshot {source_snapshot_id} from {source_region}")
def copy_snapshot(client, source_region, source_snapshot_id, **params):
    """CopySnapshot in the client's (destination) region.

    Deliberately without a retry decorator: CopySnapshot has no client token, so a resend after a
    lost answer could make a second copy. The caller looks for the copy by its tags before resending.
    """
    return client.copy_snapshot(SourceRegion=source_region, SourceSnapshotId=source_snapshot_id, **params)["SnapshotId"]
