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

from ansible_collections.amazon.aws.plugins.module_utils.ec2 import EC2InstanceErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import EC2SnapshotErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import attach_volume  # pylint: disable=unused-import
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import create_volume  # pylint: disable=unused-import
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import delete_snapshot  # pylint: disable=unused-import
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import delete_volume  # pylint: disable=unused-import
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import describe_instances
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import describe_volumes
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import detach_volume  # pylint: disable=unused-import
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import start_instances  # pylint: disable=unused-import
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import stop_instances  # pylint: disable=unused-import

from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list

from ansible_collections.snapkit.cloud.plugins.module_utils._aws import throttling_retry

# DescribeSnapshots accepts at most 1000 results per page; filter values are limited to 200 per filter.
SNAPSHOT_PAGE_SIZE = 1000
FILTER_VALUES_PER_CALL = 200


def describe_instance(client, instance_id):
    """The instance with this id, or None when EC2 does not know it."""
    for reservation in describe_instances(client, InstanceIds=[instance_id]):
        for instance in reservation.get("Instances", []):
            if instance.get("InstanceId") == instance_id:
                return instance
    return None


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


def describe_snapshots_by_ids(client, snapshot_ids):
    """The snapshots with these ids, one call per 200 ids.

    A snapshot-id filter instead of SnapshotIds: a deleted snapshot simply drops out of the
    answer instead of failing the whole call with InvalidSnapshot.NotFound, so a wait can name it.
    """
    snapshots = []
    ids = list(snapshot_ids)
    for start in range(0, len(ids), FILTER_VALUES_PER_CALL):
        chunk = ids[start:start + FILTER_VALUES_PER_CALL]
        snapshots.extend(describe_snapshots_by_filters(client, [{"Name": "snapshot-id", "Values": chunk}]))
    return snapshots


def describe_volumes_by_ids(client, volume_ids):
    """The volumes with these ids that exist, one call per 200 ids (a filter, so a gone volume just drops out)."""
    volumes = []
    ids = list(volume_ids)
    for start in range(0, len(ids), FILTER_VALUES_PER_CALL):
        volumes.extend(describe_volumes(client, Filters=[{"Name": "volume-id", "Values": ids[start:start + FILTER_VALUES_PER_CALL]}]))
    return volumes


@EC2SnapshotErrorHandler.common_error_handler("tag {resource_id}")
@throttling_retry()
def create_tags(client, resource_id, tags):
    """CreateTags on one resource; setting a tag to the value it has is harmless, so retries are safe."""
    client.create_tags(Resources=[resource_id], Tags=ansible_dict_to_boto3_tag_list(tags))
    return True


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
