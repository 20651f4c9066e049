#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ebs_snapshot_set_retention
short_description: Keep the newest EBS snapshot sets of each instance and delete the rest, set by set
version_added: 0.1.0
description:
  - Applies a retention rule to the snapshot sets that M(snapkit.cloud.ebs_multi_snapshot) made, per instance, and
    deletes every snapshot of each set the rule does not keep.
  - Only snapshots owned by the account that carry the C(snapkit:set-name) tag are ever considered; nothing else is
    touched.
  - A set that still has a C(pending) snapshot is never deleted, and does not count towards O(keep_count).
  - Ages are measured against EC2's clock (the C(Date) of its answer), not the controller's, so a controller
    with a wrong clock cannot delete young sets.
author:
  - snapkit.cloud maintainers (@snapkit)
options:
  instance_ids:
    description:
      - Apply the rule to the sets of these instances only. Default is every instance that has sets.
    type: list
    elements: str
    default: []
  set_name_prefix:
    description:
      - Only sets whose name starts with this prefix are considered (for example V(nightly-)), so that sets made for
        another purpose (V(before-upgrade)) are neither counted nor deleted.
    type: str
  tags:
    description:
      - Only sets whose snapshots carry all of these tags are considered.
    type: dict
    default: {}
  keep_count:
    description:
      - Keep the newest this many finished sets of each instance.
      - With O(keep_newer_than) as well, a set is deleted only if both rules let it go.
    type: int
  keep_newer_than:
    description:
      - Keep every set younger than this age, a number followed by V(s), V(m), V(h), V(d) or V(w) (for example V(30d)).
    type: str
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
      - Lists in RV(deleted_sets) what would be deleted, and deletes nothing.
  diff_mode:
    support: full
  idempotent:
    support: full
notes:
  - "IAM permissions: C(ec2:DescribeSnapshots), C(ec2:DeleteSnapshot)."
seealso:
  - module: snapkit.cloud.ebs_multi_snapshot
  - module: snapkit.cloud.ebs_snapshot_set_info
"""

EXAMPLES = r"""
- name: Keep the seven newest nightly sets of every instance
  snapkit.cloud.ebs_snapshot_set_retention:
    set_name_prefix: nightly-
    keep_count: 7

- name: Keep a month of sets of two instances, but never fewer than three
  snapkit.cloud.ebs_snapshot_set_retention:
    instance_ids:
      - i-0123456789abcdef0
      - i-0fedcba9876543210
    keep_newer_than: 30d
    keep_count: 3
  check_mode: true
  register: would_delete
"""

RETURN = r"""
deleted_sets:
  description: The sets deleted (in check mode, the sets that would be deleted), oldest first.
  returned: always
  type: list
  elements: dict
  contains:
    instance_id:
      description: The instance of the set.
      type: str
      sample: i-0123456789abcdef0
    set_name:
      description: The set's name.
      type: str
      sample: nightly-2026-10-01
    start_time:
      description: When the set was taken (ISO 8601).
      type: str
      sample: "2026-10-01T02:00:00+00:00"
    state:
      description: The set's state (C(completed) or C(error)).
      type: str
      sample: completed
    snapshot_ids:
      description: Its snapshots.
      type: list
      elements: str
      sample: [snap-0123456789abcdef0]
kept_sets:
  description: The sets kept, with the same keys as RV(deleted_sets), newest first.
  returned: always
  type: list
  elements: dict
pending_sets:
  description: Sets left alone because a snapshot is still pending, with the same keys as RV(deleted_sets).
  returned: always
  type: list
  elements: dict
"""

import datetime
import re

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.snapkit.cloud.plugins.module_utils import _ebs_snapshot_set as sets
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import INSTANCE_ID_PATTERN
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import SnapkitAWSModule
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import check_pattern
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import delete_snapshot
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import describe_snapshots_with_server_time
from ansible_collections.snapkit.cloud.plugins.module_utils._module import InputError
from ansible_collections.snapkit.cloud.plugins.module_utils._module import ModuleFailure
from ansible_collections.snapkit.cloud.plugins.module_utils._module import run_module

AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def argument_spec():
    return dict(
        instance_ids=dict(type="list", elements="str", default=[]),
        set_name_prefix=dict(type="str"),
        tags=dict(type="dict", default={}),
        keep_count=dict(type="int"),
        keep_newer_than=dict(type="str"),
    )


def parse_age(text):
    """Seconds in an age such as '30d'."""
    found = re.fullmatch(r"\s*(\d+)\s*([smhdw])\s*", text or "")
    if not found:
        raise InputError(f"keep_newer_than: {text!r} is not an age; use a number and a unit s, m, h, d or w, such as 30d")
    return int(found.group(1)) * AGE_UNITS[found.group(2)]


def validate(params):
    for instance_id in params["instance_ids"]:
        check_pattern("instance_ids", instance_id, INSTANCE_ID_PATTERN, "an EC2 instance id looks like i-0123456789abcdef0")
    if params["keep_count"] is None and params["keep_newer_than"] is None:
        raise InputError("keep_count or keep_newer_than: at least one is required, or every set would be deleted")
    if params["keep_count"] is not None and params["keep_count"] < 1:
        raise InputError(f"keep_count: must be at least 1, got {params['keep_count']}; delete a set with ebs_multi_snapshot state=absent")
    if params["keep_newer_than"] is not None:
        parse_age(params["keep_newer_than"])


def find_sets(client, params):
    """Our sets matching the criteria, and EC2's current time."""
    snapshots, server_time = [], None
    for filters in sets.set_queries(None, params["instance_ids"], params["tags"]):
        found, answered_at = describe_snapshots_with_server_time(client, filters)
        snapshots.extend(found)
        server_time = server_time or answered_at
    matched = [s for s in sets.group_sets(snapshots) if s["set_name"].startswith(params["set_name_prefix"] or "")]
    return matched, server_time or datetime.datetime.now(datetime.timezone.utc)


def age_seconds(found_set, now):
    return (now - datetime.datetime.fromisoformat(found_set["start_time"])).total_seconds()


def decide(found_sets, now, keep_count, keep_newer_than):
    """Split sets into (deleted, kept, pending), per instance, by the retention rule."""
    max_age = parse_age(keep_newer_than) if keep_newer_than is not None else None
    deleted, kept, pending = [], [], []
    by_instance = {}
    for found_set in found_sets:
        by_instance.setdefault(found_set["instance_id"], []).append(found_set)
    for instance_sets in by_instance.values():
        finished = []
        for found_set in instance_sets:
            (pending if found_set["state"] == "pending" else finished).append(found_set)
        finished.sort(key=lambda s: s["start_time"], reverse=True)
        for rank, found_set in enumerate(finished):
            kept_by_count = keep_count is not None and rank < keep_count
            kept_by_age = max_age is not None and age_seconds(found_set, now) < max_age
            (kept if kept_by_count or kept_by_age else deleted).append(found_set)
    return deleted, kept, pending


def summary(found_set):
    return {
        "instance_id": found_set["instance_id"],
        "set_name": found_set["set_name"],
        "start_time": found_set["start_time"],
        "state": found_set["state"],
        "snapshot_ids": sorted(s["snapshot_id"] for s in found_set["snapshots"]),
    }


def delete_sets(client, deleted):
    """Delete set by set, oldest first; a refused DeleteSnapshot names its set and what is left of it."""
    for found_set in deleted:
        snapshot_ids = summary(found_set)["snapshot_ids"]
        for number, snapshot_id in enumerate(snapshot_ids):
            try:
                delete_snapshot(client, snapshot_id)
            except AnsibleAWSError as error:
                raise ModuleFailure(
                    f"Deleting set {found_set['set_name']} of instance {found_set['instance_id']} stopped at snapshot {snapshot_id}: "
                    f"{error.message}: {error.exception}. Deleted of this set: {', '.join(snapshot_ids[:number]) or 'none'}; left: "
                    f"{', '.join(snapshot_ids[number:])}. Sets before it in deleted_sets are deleted; a re-run deletes the rest"
                ) from None


def apply_rule(module, client, result):
    """Find the sets, split them by the rule into ``result``, and delete the ones to go (not in check mode)."""
    params = module.params
    found_sets, now = find_sets(client, params)
    deleted, kept, pending = decide(found_sets, now, params["keep_count"], params["keep_newer_than"])
    deleted.sort(key=lambda s: s["start_time"])
    kept.sort(key=lambda s: s["start_time"], reverse=True)
    result.update(changed=bool(deleted), deleted_sets=[summary(s) for s in deleted],
                  kept_sets=[summary(s) for s in kept], pending_sets=[summary(s) for s in pending])
    if module._diff:  # pylint: disable=protected-access
        names = sorted(f"{s['instance_id']}/{s['set_name']}" for s in deleted + kept)
        gone = {f"{s['instance_id']}/{s['set_name']}" for s in deleted}
        result["diff"] = {"before": {"sets": names}, "after": {"sets": [n for n in names if n not in gone]}}
    if not module.check_mode:
        delete_sets(client, deleted)


def run(module):
    result = dict(changed=False, deleted_sets=[], kept_sets=[], pending_sets=[])

    def work():
        validate(module.params)  # before the client: bad input is reported as such, whatever else is missing
        apply_rule(module, module.client("ec2"), result)

    run_module(module, result, work)


def main():
    module = SnapkitAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    run(module)


if __name__ == "__main__":
    main()
