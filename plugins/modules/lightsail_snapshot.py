#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: lightsail_snapshot
short_description: Create or delete a snapshot of an Amazon Lightsail instance
version_added: 0.1.0
description:
  - Creates a Lightsail instance snapshot and waits until it is C(available), or deletes one and waits until it is gone.
  - Idempotent by snapshot name B(and) source instance. A snapshot with the same name taken from another instance is
    an error, never a silent success.
  - A snapshot that ends in C(error) fails the task, naming the snapshot and its state.
  - While Lightsail refuses manual snapshots because an automatic snapshot of the instance is being created, the
    module retries with backoff until O(wait_timeout) has passed.
  - Returns the snapshot in RV(snapshot) on every path, in the same form.
author:
  - snapkit.cloud maintainers (@snapkit)
options:
  state:
    description:
      - V(present) creates the snapshot if it does not exist yet (and waits for it when O(wait=true)).
      - V(absent) deletes the snapshot and waits until Lightsail no longer knows it.
    type: str
    choices: [present, absent]
    default: present
  instance_name:
    description:
      - The Lightsail instance to snapshot. Required with O(state=present).
      - With O(state=absent), when given, the snapshot is only deleted if it was taken from this instance.
    type: str
  snapshot_name:
    description:
      - The name of the instance snapshot, unique in the region among instances, snapshots and static IPs.
      - "2 to 255 characters: letters, digits, C(.), C(-) and C(_); the first and the last must be a letter or a digit."
    type: str
    required: true
  tags:
    description:
      - Tags for the snapshot. On an existing snapshot, missing or different tags are added or updated;
        other tags are left alone.
      - Keys starting with C(aws:) or C(snapkit:) are reserved.
    type: dict
  wait:
    description:
      - Wait until the new snapshot is C(available) (or an existing C(pending) one).
      - Deleting always waits until the snapshot is gone.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds that bound the whole task. The retries while an automatic snapshot
        of the instance is being created and the wait for the snapshot to become available or to disappear take from
        this one budget.
    type: int
    default: 1800
notes:
  - Throttling and server errors are retried with jittered backoff.
  - A C(pending) snapshot cannot be deleted; with O(state=absent) the module waits until it has settled first.
  - "IAM permissions: C(lightsail:GetInstance), C(lightsail:GetInstanceSnapshot), C(lightsail:CreateInstanceSnapshot),
    C(lightsail:GetOperation) (read once, for the error details of a snapshot that failed), C(lightsail:DeleteInstanceSnapshot)
    and C(lightsail:TagResource) (for O(tags))."
seealso:
  - module: community.aws.lightsail_snapshot
    description: The community.aws module, idempotent by name only.
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
      - Makes no change; RV(snapshot) shows the snapshot as it would be.
  diff_mode:
    support: full
  idempotent:
    support: full
"""

EXAMPLES = r"""
- name: Snapshot an instance and wait until the snapshot is available
  snapkit.cloud.lightsail_snapshot:
    instance_name: web-1
    snapshot_name: web-1-before-upgrade
    tags:
      team: web

- name: Start a snapshot without waiting for it
  snapkit.cloud.lightsail_snapshot:
    instance_name: web-1
    snapshot_name: web-1-nightly
    wait: false

- name: Delete a snapshot, only if it was taken from web-1
  snapkit.cloud.lightsail_snapshot:
    state: absent
    instance_name: web-1
    snapshot_name: web-1-before-upgrade
"""

RETURN = r"""
snapshot:
  description:
    - The instance snapshot, as it is after the wait (or, with O(state=absent), as it was before deletion).
    - In check mode, when the snapshot would be created, values not known before creation are null.
    - Empty when O(state=absent) and the snapshot does not exist.
  returned: always
  type: dict
  contains:
    name:
      description: The name of the snapshot.
      type: str
      sample: web-1-before-upgrade
    arn:
      description: The ARN of the snapshot.
      type: str
      sample: arn:aws:lightsail:eu-west-1:123456789012:InstanceSnapshot/0b5e4a7c-4b1d-4a47-9e0f-3c8d2a1f6e21
    state:
      description: C(pending), C(available) or C(error).
      type: str
      sample: available
    progress:
      description: Progress as Lightsail reports it (usually null for instance snapshots).
      type: str
      sample: null
    created_at:
      description: When the snapshot was created (ISO 8601).
      type: str
      sample: "2026-11-22T10:15:00+00:00"
    from_instance_name:
      description: The instance the snapshot was taken from.
      type: str
      sample: web-1
    from_instance_arn:
      description: The ARN of that instance.
      type: str
      sample: arn:aws:lightsail:eu-west-1:123456789012:Instance/4a1f1f0e-1c1e-4a2b-8a77-2d7c9a2e9b10
    from_blueprint_id:
      description: The blueprint of that instance.
      type: str
      sample: ubuntu_22_04
    from_bundle_id:
      description: The bundle of that instance.
      type: str
      sample: small_3_0
    is_from_auto_snapshot:
      description: Whether the snapshot was created from an automatic snapshot.
      type: bool
      sample: false
    size_in_gb:
      description: The size of the snapshot in GB.
      type: int
      sample: 40
    location:
      description: Where the snapshot is, with C(availability_zone) and C(region_name).
      type: dict
      sample: {"availability_zone": "eu-west-1a", "region_name": "eu-west-1"}
    resource_type:
      description: Always C(InstanceSnapshot).
      type: str
      sample: InstanceSnapshot
    support_code:
      description: The code AWS support asks for.
      type: str
      sample: 123456789012/0b5e4a7c-4b1d-4a47-9e0f-3c8d2a1f6e21
    tags:
      description: The tags of the snapshot, as a dictionary.
      type: dict
      sample: {"team": "web"}
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.snapkit.cloud.plugins.module_utils import _lightsail as lightsail
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import SnapkitAWSModule
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import check_pattern
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import check_user_tags
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import error_code
from ansible_collections.snapkit.cloud.plugins.module_utils._module import InputError
from ansible_collections.snapkit.cloud.plugins.module_utils._module import ModuleFailure
from ansible_collections.snapkit.cloud.plugins.module_utils._module import run_module
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import Deadline
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import WaitError
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import WaitFailed
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import deadline_retry

RESOURCE_NAME_PATTERN = lightsail.RESOURCE_NAME_PATTERN
RESOURCE_NAME_RULE = lightsail.RESOURCE_NAME_RULE
SNAPSHOT_KEYS = lightsail.SNAPSHOT_KEYS
FAILED_OPERATION_STATUS = "Failed"


def snapshot_failure(message, snapshot=None):
    """The task cannot succeed; ``snapshot`` is the snapshot's last known form, returned in the result."""
    return ModuleFailure(message, snapshot=lightsail.formatted_snapshot(snapshot))


def argument_spec():
    return dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        instance_name=dict(type="str"),
        snapshot_name=dict(type="str", required=True),
        tags=dict(type="dict"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=1800),
    )


def validate(params):
    """Reject bad input before any API call; every message names the option and the rule."""
    if params["state"] == "present" and not params["instance_name"]:
        raise InputError("instance_name: required with state=present")
    check_pattern("snapshot_name", params["snapshot_name"], RESOURCE_NAME_PATTERN, RESOURCE_NAME_RULE)
    check_pattern("instance_name", params["instance_name"], RESOURCE_NAME_PATTERN, RESOURCE_NAME_RULE)
    if params["wait_timeout"] <= 0:
        raise InputError(f"wait_timeout: must be a positive number of seconds, got {params['wait_timeout']}")
    check_user_tags("tags", params["tags"], 0)


# One form for every module that returns snapshots (lightsail_snapshot_info too).
formatted = lightsail.formatted_snapshot


def predicted(instance, snapshot_name, tags):
    """The snapshot check mode would create, in Lightsail's form: only what is known beforehand."""
    return {
        "name": snapshot_name, "fromInstanceName": instance["name"], "fromInstanceArn": instance.get("arn"),
        "fromBlueprintId": instance.get("blueprintId"), "fromBundleId": instance.get("bundleId"),
        "isFromAutoSnapshot": False, "location": instance.get("location"), "resourceType": "InstanceSnapshot",
        "tags": lightsail.tag_list(tags),
    }


def diff_view(snapshot):
    if not snapshot:
        return {}
    return {"name": snapshot.get("name"), "from_instance_name": snapshot.get("fromInstanceName"),
            "tags": lightsail.tag_dict(snapshot.get("tags"))}


def is_auto_snapshot_refusal(error):
    """Lightsail refuses manual snapshots while it creates an automatic one; that clears by itself."""
    return (isinstance(error, AnsibleAWSError) and error_code(error) == "OperationFailureException"
            and "automatic snapshot" in lightsail.error_message(error).lower())


def create(client, params, deadline):
    """CreateInstanceSnapshot, retried while an automatic snapshot of the instance is being created; its operations."""
    try:
        return deadline_retry(
            lambda: lightsail.create_instance_snapshot(client, params["snapshot_name"], params["instance_name"], params["tags"]),
            is_auto_snapshot_refusal, timeout=deadline,
        )
    except AnsibleAWSError as error:
        if not is_auto_snapshot_refusal(error):
            raise
        raise snapshot_failure(
            f"Lightsail kept refusing snapshot {params['snapshot_name']} of instance {params['instance_name']} for "
            f"{deadline.seconds} seconds because an automatic snapshot of the instance is being created. Tip: run the task "
            "again once the automatic snapshot is done, raise wait_timeout, or move the instance's automatic snapshot time"
        ) from None


def create_once(client, params, deadline):
    """``create``, taking the snapshot as this run's when a retried create finds its name held by a snapshot of the same
    instance (the first create was carried out, its answer lost); the create's operations, if it answered."""
    return lightsail.create_or_adopt(
        lambda: create(client, params, deadline), lambda: lightsail.get_instance_snapshot(client, params["snapshot_name"]),
        lambda snapshot: bool(snapshot) and snapshot.get("fromInstanceName") == params["instance_name"],
    ) or []


describe_state = lightsail.describe_snapshot_state


def operation_details(client, operation):
    """What Lightsail says about a failed create operation, read once (best effort: the snapshot's state says enough)."""
    if not operation:
        return ""
    try:
        item = lightsail.get_operation(client, operation["id"])
    except AnsibleAWSError:
        return ""
    if not (item.get("errorCode") or item.get("status") == FAILED_OPERATION_STATUS):
        return ""
    return f"; operation {item.get('operationType')} {item.get('status')} ({item.get('errorCode')}: {item.get('errorDetails')})"


def wait_for_snapshot(client, snapshot_name, deadline, new=False):
    """Poll the snapshot until it leaves ``pending``; ``error`` fails the task naming the snapshot and state."""
    try:
        return lightsail.wait_for_snapshot_state(client, snapshot_name, deadline, done=lambda item: item.get("state") == "available",
                                                 failed=lambda item: item.get("state") == "error", new=new)[0]
    except WaitFailed as failure:
        raise snapshot_failure(f"Lightsail snapshot {snapshot_name} failed: {describe_state(snapshot_name, failure.failed[0])}",
                               snapshot=failure.failed[0]) from None
    except IndexError:
        raise snapshot_failure(f"Lightsail snapshot {snapshot_name} disappeared while waiting for it") from None


def check_source(snapshot, instance_name):
    """A snapshot of the same name from another instance is not ours: refuse it clearly."""
    source = snapshot.get("fromInstanceName")
    if instance_name and source != instance_name:
        raise snapshot_failure(
            f"Lightsail snapshot {snapshot['name']} already exists, taken from instance {source} and not from {instance_name}: "
            "snapshot names are unique per region, so choose another snapshot_name.",
            snapshot=snapshot,
        )


def missing_tags(snapshot, tags):
    current = lightsail.tag_dict(snapshot.get("tags"))
    return {key: str(value) for key, value in (tags or {}).items() if current.get(key) != str(value)}


def ensure_existing(module, client, snapshot, result, deadline):
    """The snapshot exists: check its source, update tags, wait for it if asked, fail if it failed."""
    params = module.params
    check_source(snapshot, params["instance_name"])
    if snapshot.get("state") == "error":
        raise snapshot_failure(f"Lightsail snapshot {snapshot['name']} exists and its state is error. Delete it with "
                               "state=absent, or choose another snapshot_name", snapshot=snapshot)
    new_tags = missing_tags(snapshot, params["tags"])
    if new_tags:
        result["changed"] = True
        after = dict(snapshot, tags=lightsail.tag_list(dict(lightsail.tag_dict(snapshot.get("tags")), **new_tags)))
        result["diff"] = {"before": diff_view(snapshot), "after": diff_view(after)}
        if module.check_mode:
            return after
        lightsail.tag_resource(client, snapshot["name"], new_tags)
        snapshot = lightsail.get_instance_snapshot(client, snapshot["name"]) or after
    if params["wait"] and not module.check_mode and snapshot.get("state") == "pending":
        snapshot = wait_for_snapshot(client, snapshot["name"], deadline)
    return snapshot


def ensure_present(module, client, result, deadline):
    params = module.params
    name = params["snapshot_name"]
    existing = lightsail.get_instance_snapshot(client, name)
    if existing:
        return ensure_existing(module, client, existing, result, deadline)
    instance = lightsail.get_instance(client, params["instance_name"])
    if instance is None:
        raise snapshot_failure(f"Lightsail instance {params['instance_name']} was not found in region {module.region}; "
                               "check instance_name and region")
    future = predicted(instance, name, params["tags"])
    result["changed"] = True
    result["diff"] = {"before": {}, "after": diff_view(future)}
    if module.check_mode:
        return future
    try:
        operations = create_once(client, params, deadline)
    except AnsibleAWSError as error:
        if not lightsail.name_taken(error):
            raise
        # Taken by a snapshot Lightsail did not list a moment ago (eventual consistency): nothing was made.
        result["changed"] = False
        result.pop("diff", None)
        taken = lightsail.first_sight(lambda: lightsail.get_instance_snapshot(client, name),
                                      lightsail.VISIBILITY_GRACE_SECONDS, name=f"snapshot {name}")
        if taken:
            check_source(taken, params["instance_name"])
        raise snapshot_failure(f"Lightsail snapshot name {name} is already in use in region {module.region}, by a snapshot "
                               "that cannot be read: choose another snapshot_name.") from None
    if not params["wait"]:
        # Lightsail can leave a snapshot it has just accepted out of its answers for a few seconds (eventual
        # consistency): the task still returns what Lightsail says of the snapshot (pending), not a guess.
        return lightsail.first_sight(lambda: lightsail.get_instance_snapshot(client, name), deadline,
                                     name=f"snapshot {name}") or future
    # The snapshot itself is polled, not its operation as well: its state says when it is done or failed, and only
    # a failure needs the operation's error details (one GetOperation then).
    try:
        return wait_for_snapshot(client, name, deadline, new=True)
    except ModuleFailure as failure:
        operation = next((op for op in operations if op.get("resourceType") == "InstanceSnapshot"), None)
        details = operation_details(client, operation)
        if not details:
            raise
        raise ModuleFailure(str(failure) + details, **failure.result) from None


def ensure_absent(module, client, result, deadline):
    params = module.params
    name = params["snapshot_name"]
    snapshot = lightsail.get_instance_snapshot(client, name)
    if not snapshot:
        return {}
    check_source(snapshot, params["instance_name"])
    result["changed"] = True
    result["diff"] = {"before": diff_view(snapshot), "after": {}}
    if module.check_mode:
        return snapshot
    if snapshot.get("state") == "pending":
        # Lightsail refuses to delete a pending snapshot.
        settled = lightsail.wait_for_snapshot_state(client, name, deadline, done=lambda item: item.get("state") != "pending")
        if not settled:
            return snapshot
    lightsail.delete_instance_snapshot(client, name)
    lightsail.wait_for_snapshot_state(client, name, deadline, done=lambda item: False)
    return snapshot


def last_known(client, snapshot_name):
    """The snapshot as it is now, for the result of a task that gave up waiting on it."""
    try:
        return lightsail.get_instance_snapshot(client, snapshot_name)
    except AnsibleAWSError:
        return None


def run(module):
    params = module.params
    result = dict(changed=False, snapshot={})

    def work(client):
        validate(params)
        deadline = Deadline(params["wait_timeout"])
        ensure = ensure_present if params["state"] == "present" else ensure_absent
        try:
            result["snapshot"] = formatted(ensure(module, client, result, deadline))
        except WaitError as error:
            raise snapshot_failure(f"Gave up waiting after wait_timeout={params['wait_timeout']} seconds: {error}",
                                   snapshot=last_known(client, params["snapshot_name"])) from None

    run_module(module, result, lambda: work(lightsail.lightsail_client(module)))


def main():
    module = SnapkitAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    run(module)


if __name__ == "__main__":
    main()
