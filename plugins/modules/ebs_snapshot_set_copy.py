#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ebs_snapshot_set_copy
short_description: Copy an EBS snapshot set to another region, as a set
version_added: 0.1.0
description:
  - Copies every snapshot of a completed set made by M(snapkit.cloud.ebs_multi_snapshot) from O(source_region) to the
    module's region (O(region)) with C(CopySnapshot), optionally (re-)encrypting with a KMS key.
  - The copies carry the source snapshots' tags, including the set tags C(snapkit:set-name) and C(snapkit:instance-id)
    and the recorded device and volume attributes, so M(snapkit.cloud.ebs_snapshot_set_info) finds the copy as a set
    in the destination and M(snapkit.cloud.ebs_snapshot_set_restore) can restore it there. Each copy also gets
    C(snapkit:copied-from) (the source snapshot) and C(snapkit:source-region).
  - Idempotent. Copies that already exist in the destination are found by those tags and not made again.
  - Waits for all copies at once, with one C(DescribeSnapshots) call per poll.
  - Refuses a set that is not fully C(completed), naming the snapshots that are not.
author:
  - snapkit.cloud maintainers (@snapkit)
options:
  source_region:
    description:
      - The region the set is in.
    type: str
    required: true
  set_name:
    description:
      - The set to copy, as M(snapkit.cloud.ebs_multi_snapshot) named it. Needs O(instance_id).
    type: str
  instance_id:
    description:
      - The instance the set was taken of (its C(snapkit:instance-id) tag).
    type: str
  snapshot_ids:
    description:
      - The snapshots to copy (in O(source_region)), instead of O(set_name) and O(instance_id).
    type: list
    elements: str
  encrypted:
    description:
      - Encrypt the copies. Copies of encrypted snapshots are always encrypted; with neither this nor O(kms_key_id),
        EC2 uses the destination region's default EBS key for them (KMS keys are regional).
    type: bool
    default: false
  kms_key_id:
    description:
      - Encrypt the copies with this KMS key of the destination region (id, alias or ARN). Implies O(encrypted=true).
    type: str
  description:
    description:
      - Description of the copies (at most 255 characters). Default, the description of each source snapshot.
    type: str
  tags:
    description:
      - Tags for every copy, on top of the source snapshot's tags. Keys starting with C(aws:) or C(snapkit:) are reserved.
    type: dict
    aliases: [resource_tags]
  wait:
    description:
      - Wait until every copy is C(completed).
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds that bound the whole task. The retries while the destination
        refuses more concurrent copies (C(ResourceLimitExceeded)) and the wait for the copies take from this one budget.
    type: int
    default: 3600
notes:
  - EC2 limits the number of concurrent snapshot copies to one destination region. While it answers
    C(ResourceLimitExceeded), the module retries with backoff until O(wait_timeout) has passed.
  - "IAM permissions: C(ec2:DescribeSnapshots) in both regions, C(ec2:CopySnapshot) and C(ec2:CreateTags) in the
    destination, and for encrypted snapshots C(kms:Decrypt) on the source keys and C(kms:CreateGrant),
    C(kms:GenerateDataKeyWithoutPlaintext) on the destination key."
seealso:
  - module: snapkit.cloud.ebs_multi_snapshot
  - module: snapkit.cloud.ebs_snapshot_set_info
  - module: community.aws.ec2_snapshot_copy
    description: Copies one snapshot, without set semantics or idempotency.
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
      - Makes no change; returns the copies that exist and the source snapshots still to copy.
  diff_mode:
    support: full
  idempotent:
    support: full
"""

EXAMPLES = r"""
- name: Copy last night's set to the disaster-recovery region
  snapkit.cloud.ebs_snapshot_set_copy:
    source_region: eu-north-1
    region: eu-west-1
    instance_id: i-0123456789abcdef0
    set_name: nightly-2026-11-22
    kms_key_id: alias/dr-snapshots
  register: copied

- name: Find the copy as a set in the destination
  snapkit.cloud.ebs_snapshot_set_info:
    region: eu-west-1
    set_name: nightly-2026-11-22
"""

RETURN = r"""
set_name:
  description: The set copied (from the snapshots' C(snapkit:set-name) tag when O(snapshot_ids) is used).
  returned: always
  type: str
  sample: nightly-2026-11-22
source_region:
  description: The region the set was copied from.
  returned: always
  type: str
  sample: eu-north-1
region:
  description: The region the copies are in.
  returned: always
  type: str
  sample: eu-west-1
snapshots:
  description:
    - The copies, sorted by device name, with the keys of RV(snapkit.cloud.ebs_multi_snapshot#module:snapshots) plus
      C(source_snapshot_id). In check mode, copies still to make have a null C(snapshot_id).
  returned: always
  type: list
  elements: dict
  contains:
    snapshot_id:
      description: The copy.
      type: str
      sample: snap-0fedcba9876543210
    source_snapshot_id:
      description: The snapshot it is a copy of.
      type: str
      sample: snap-0123456789abcdef0
    device_name:
      description: The device name recorded on the source snapshot.
      type: str
      sample: /dev/sdf
    state:
      description: C(pending), C(completed) or C(error).
      type: str
      sample: completed
    progress:
      description: Progress, as EC2 reports it.
      type: str
      sample: 100%
    encrypted:
      description: Whether the copy is encrypted.
      type: bool
      sample: true
    kms_key_id:
      description: The KMS key of an encrypted copy.
      type: str
      sample: arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d
    volume_size:
      description: Size of the original volume in GiB.
      type: int
      sample: 100
    volume_id:
      description: An arbitrary volume id that EC2 gives every copy (not the source volume; not to be used).
      type: str
      sample: vol-ffffffff
    start_time:
      description: When the copy began (ISO 8601).
      type: str
      sample: "2026-11-22T11:02:00+00:00"
    completion_time:
      description: When the copy completed (ISO 8601), once it has.
      type: str
      sample: "2026-11-22T11:40:12+00:00"
    state_message:
      description: Why the copy failed, when it did.
      type: str
      sample: null
    description:
      description: The description of the copy.
      type: str
      sample: "[Copied snap-0123456789abcdef0 from eu-north-1] Nightly set"
    owner_id:
      description: The AWS account that owns the copy.
      type: str
      sample: "123456789012"
    storage_tier:
      description: C(standard), or C(archive) for a copy moved to the archive tier.
      type: str
      sample: standard
    tags:
      description: The tags of the copy.
      type: dict
      sample: {"snapkit:set-name": "nightly-2026-11-22", "snapkit:copied-from": "snap-0123456789abcdef0"}
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.snapkit.cloud.plugins.module_utils import _ebs_snapshot_set as sets
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import INSTANCE_ID_PATTERN
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import MAX_TAGS_PER_RESOURCE
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import SNAPSHOT_ID_PATTERN
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import TAG_PREFIX
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import SnapkitAWSModule
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import check_pattern
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import check_user_tags
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import aws_error_text
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import copy_snapshot
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import describe_snapshots_by_ids
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import describe_snapshots_with_server_time
from ansible_collections.snapkit.cloud.plugins.module_utils._module import InputError
from ansible_collections.snapkit.cloud.plugins.module_utils._module import ModuleFailure
from ansible_collections.snapkit.cloud.plugins.module_utils._module import run_module
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import Deadline
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import WaitError

COPIED_FROM_TAG = TAG_PREFIX + "copied-from"
SOURCE_REGION_TAG = TAG_PREFIX + "source-region"
COPY_TAG_COUNT = 2
REGION_PATTERN = r"[a-z]{2}(-[a-z]+)+-\d"
MAX_DESCRIPTION_LENGTH = 255
# EC2 did nothing when it answers these: the copy may simply be requested again.
SAFE_TO_RESEND = frozenset({"ResourceLimitExceeded", "RequestLimitExceeded", "Throttling", "ThrottlingException"})
RETRIED_ERRORS = SAFE_TO_RESEND | {"InternalError", "InternalFailure", "ServiceUnavailable", "Unavailable"}


def argument_spec():
    return dict(
        source_region=dict(type="str", required=True),
        set_name=dict(type="str"),
        instance_id=dict(type="str"),
        snapshot_ids=dict(type="list", elements="str"),
        encrypted=dict(type="bool", default=False),
        kms_key_id=dict(type="str", no_log=False),
        description=dict(type="str"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=3600),
    )


def validate(params):
    """Reject bad input before any API call; every message names the option and the rule."""
    check_pattern("source_region", params["source_region"], REGION_PATTERN, "a region name such as eu-north-1")
    if not params["snapshot_ids"] and not (params["set_name"] and params["instance_id"]):
        raise InputError("set_name and instance_id, or snapshot_ids, are required to find the set")
    if params["snapshot_ids"] and params["set_name"]:
        raise InputError("set_name and snapshot_ids are mutually exclusive")
    check_pattern("instance_id", params["instance_id"], INSTANCE_ID_PATTERN, "an EC2 instance id looks like i-0123456789abcdef0")
    for snapshot_id in params["snapshot_ids"] or []:
        check_pattern("snapshot_ids", snapshot_id, SNAPSHOT_ID_PATTERN, "an EBS snapshot id looks like snap-0123456789abcdef0")
    if params["description"] is not None and len(params["description"]) > MAX_DESCRIPTION_LENGTH:
        raise InputError(f"description: {len(params['description'])} characters, at most {MAX_DESCRIPTION_LENGTH} are allowed")
    if params["wait_timeout"] <= 0:
        raise InputError(f"wait_timeout: must be a positive number of seconds, got {params['wait_timeout']}")
    check_user_tags("tags", params["tags"], COPY_TAG_COUNT)


def copy_tags(source, source_region, user_tags):
    """The source snapshot's tags (set tags and recorded attributes included), the user's, and the two copy tags."""
    tags = {t["Key"]: t["Value"] for t in source.get("Tags", []) if not t["Key"].lower().startswith("aws:")}
    tags.pop(COPIED_FROM_TAG, None)
    tags.update(user_tags or {})
    tags.update({COPIED_FROM_TAG: source["SnapshotId"], SOURCE_REGION_TAG: source_region})
    if len(tags) > MAX_TAGS_PER_RESOURCE:
        raise InputError(f"tags: the copy of {source['SnapshotId']} would carry {len(tags)} tags (the snapshot's, yours and "
                         f"{COPY_TAG_COUNT} copy tags); EC2 allows {MAX_TAGS_PER_RESOURCE}")
    return tags


def copy_request(params, source, tags):
    request = {
        "Description": params["description"] if params["description"] is not None else source.get("Description", ""),
        "TagSpecifications": [{"ResourceType": "snapshot", "Tags": [{"Key": k, "Value": str(v)} for k, v in tags.items()]}],
    }
    if params["encrypted"] or params["kms_key_id"]:
        request["Encrypted"] = True
    if params["kms_key_id"]:
        request["KmsKeyId"] = params["kms_key_id"]
    return request


def find_copies_with_server_time(client, source_ids, source_region):
    """Copies of these source snapshots in the client's region, by source snapshot id; and EC2's time of the answer."""
    filters = [{"Name": "tag:" + COPIED_FROM_TAG, "Values": sorted(source_ids)},
               {"Name": "tag:" + SOURCE_REGION_TAG, "Values": [source_region]}]
    copies, server_time = describe_snapshots_with_server_time(client, filters)
    return {next(t["Value"] for t in c["Tags"] if t["Key"] == COPIED_FROM_TAG): c for c in copies}, server_time


def find_copies(client, source_ids, source_region):
    """Copies of these source snapshots in the client's region, by source snapshot id."""
    return find_copies_with_server_time(client, source_ids, source_region)[0]


def found_copy_id(client, source_id, source_region):
    """The id of the copy of ``source_id`` if EC2 lists one, and EC2's time (for ``send_without_duplicates``)."""
    copies, server_time = find_copies_with_server_time(client, [source_id], source_region)
    return copies.get(source_id, {}).get("SnapshotId"), server_time


def copy_one(module, client, once, source, request, deadline):
    """One CopySnapshot, retried until the task's deadline without ever making a second copy.

    The concurrent-copy limit and throttling mean EC2 did nothing: resend. A server error or a lost
    connection may hide a copy that was made: look for it by its tags before resending.
    """
    source_region, source_id = module.params["source_region"], source["SnapshotId"]
    return sets.send_without_duplicates(
        lambda: copy_snapshot(once, source_region, source_id, **request),
        lambda: found_copy_id(client, source_id, source_region),
        deadline, SAFE_TO_RESEND, RETRIED_ERRORS,
    )


def formatted(copies, sources):
    result = []
    for copy in copies:
        item = sets.format_snapshot(copy, {})
        item["source_snapshot_id"] = item["tags"].get(COPIED_FROM_TAG)
        result.append(item)
    return ordered(result)


def ordered(copies):
    """Copies in the order of the result: by device, then source snapshot."""
    return sorted(copies, key=lambda s: (s["device_name"] or "~", s["source_snapshot_id"] or ""))


def planned(source, tags):
    return {"snapshot_id": None, "source_snapshot_id": source["SnapshotId"], "device_name": tags.get(sets.DEVICE_TAG),
            "state": None, "progress": "", "encrypted": None, "kms_key_id": None,
            "volume_size": source.get("VolumeSize"), "tags": tags}


def subject(params):
    """What the task copies, for messages about AWS errors that do not say it."""
    what = (f"set {params['set_name']} of instance {params['instance_id']}" if params["set_name"]
            else f"snapshots {', '.join(params['snapshot_ids'] or [])}")
    return f"Copying {what} from {params['source_region']}"


def ensure_copied(module, result, deadline):
    params = module.params
    source_client = module.client("ec2", region=params["source_region"])
    client = module.client("ec2")
    sources = sets.load_completed_set(source_client, params["set_name"], params["instance_id"], params["snapshot_ids"], "copied")
    result["set_name"] = params["set_name"] or next(
        (t["Value"] for t in sources[0].get("Tags", []) if t["Key"] == sets.SET_NAME_TAG), "")
    wanted = {source["SnapshotId"]: copy_tags(source, params["source_region"], params["tags"]) for source in sources}
    existing = find_copies(client, list(wanted), params["source_region"])
    missing = [source for source in sources if source["SnapshotId"] not in existing]
    result["changed"] = bool(missing)
    result["snapshots"] = formatted(existing.values(), sources) + [planned(s, wanted[s["SnapshotId"]]) for s in missing]
    if module._diff:
        result["diff"] = {"before": {"copies": sorted(existing)}, "after": {"copies": sorted(wanted)}}
    if module.check_mode:
        return result

    copy_ids = [c["SnapshotId"] for c in existing.values()]
    made = []
    # botocore's own retries would resend blindly; this client sends each request exactly once.
    once = module.client("ec2", config={"retries": {"total_max_attempts": 1}})
    try:
        for source in missing:
            made.append(copy_one(module, client, once, source, copy_request(params, source, wanted[source["SnapshotId"]]), deadline))
    except AnsibleAWSError as error:
        # Every copy made so far is reported (pending), beside those that exist and those still to make.
        done = dict(zip((source["SnapshotId"] for source in missing), made))
        snapshots = formatted(existing.values(), sources) + [
            dict(planned(source, wanted[source["SnapshotId"]]), snapshot_id=done.get(source["SnapshotId"]),
                 state="pending" if source["SnapshotId"] in done else None) for source in missing]
        raise ModuleFailure(f"Copying the set stopped at an error after {len(made)} of {len(missing)} new copies "
                            f"({', '.join(made) or 'none'}); a re-run copies the rest: {aws_error_text(error)}", snapshots=snapshots) from None
    seen = list(copy_ids)
    copy_ids += made
    if params["wait"]:
        try:
            copies = sets.wait_for_set(client, copy_ids, {}, deadline, seen=seen)
        except WaitError as error:
            raise ModuleFailure(f"The copies did not all complete: {error}", snapshots=formatted(error.items, sources)) from None
    else:
        copies = describe_snapshots_by_ids(client, copy_ids) if copy_ids else []
        # A copy EC2 does not list yet (eventual consistency) is reported pending, with its id.
        listed = {c["SnapshotId"] for c in copies}
        by_copy = dict(zip(made, missing))
        copies = formatted(copies, sources) + [
            dict(planned(source, wanted[source["SnapshotId"]]), snapshot_id=copy_id, state="pending")
            for copy_id, source in by_copy.items() if copy_id not in listed]
        result["snapshots"] = ordered(copies)
        return result
    result["snapshots"] = formatted(copies, sources)
    return result


def run(module):
    params = module.params
    result = dict(changed=False, set_name=params["set_name"] or "", source_region=params["source_region"],
                  region=module.region or "", snapshots=[])

    def work():
        validate(params)
        if not module.region:
            raise InputError("region: the destination region is required")
        # The one deadline of the run: every copy's retries and the wait share wait_timeout.
        ensure_copied(module, result, Deadline(params["wait_timeout"]))

    module.subject = subject(params)
    run_module(module, result, work)


def main():
    module = SnapkitAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    run(module)


if __name__ == "__main__":
    main()
