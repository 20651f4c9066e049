#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: ebs_snapshot_set_info
short_description: Find EBS snapshot sets made by snapkit.cloud, and optionally wait for all of them at once
version_added: 0.1.0
description:
  - Finds the snapshot sets that M(snapkit.cloud.ebs_multi_snapshot) made, by instance, set name or tags, and returns
    each set with its snapshots, states, progress, start time and volumes.
  - With O(wait=true), waits until every snapshot of every matched set has finished (C(completed) or C(error)), in one
    shared wait. Each poll is the same query as the search, so a fleet of any size costs one C(DescribeSnapshots)
    call per poll for every 1000 snapshots, instead of one wait per instance.
  - Only snapshots owned by the account and carrying the C(snapkit:set-name) tag are considered.
author:
  - snapkit.cloud maintainers (@snapkit)
options:
  instance_ids:
    description:
      - Only sets of these instances.
    type: list
    elements: str
    default: []
  set_name:
    description:
      - Only sets with this name.
    type: str
  tags:
    description:
      - Only sets whose snapshots carry all of these tags.
    type: dict
    default: {}
  wait:
    description:
      - Wait until no snapshot of a matched set is C(pending) any more.
      - A set that fails is not an error of this module; it is returned with RV(sets[].state=error).
    type: bool
    default: false
  wait_timeout:
    description:
      - How long to wait, in seconds, with O(wait=true); bounds the whole task.
    type: int
    default: 3600
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - snapkit.cloud._aws
  - snapkit.cloud._attributes
  - snapkit.cloud._attributes.ACTIONGROUP_AWS
  - snapkit.cloud._attributes.INFO_MODULE
notes:
  - "IAM permissions: C(ec2:DescribeSnapshots)."
seealso:
  - module: snapkit.cloud.ebs_multi_snapshot
"""

EXAMPLES = r"""
- name: Every set of two instances
  snapkit.cloud.ebs_snapshot_set_info:
    instance_ids:
      - i-0123456789abcdef0
      - i-0fedcba9876543210
  register: found

- name: Start one set per host without waiting, then wait for the whole fleet in one task
  hosts: fleet
  gather_facts: false
  tasks:
    - name: Create this host's set
      snapkit.cloud.ebs_multi_snapshot:
        instance_id: "{{ instance_id }}"
        set_name: nightly-2026-11-22
        wait: false
      delegate_to: localhost

    - name: Wait for every set of the fleet with one poll loop
      snapkit.cloud.ebs_snapshot_set_info:
        set_name: nightly-2026-11-22
        instance_ids: "{{ ansible_play_hosts | map('extract', hostvars, 'instance_id') | list }}"
        wait: true
        wait_timeout: 14400
      delegate_to: localhost
      run_once: true
      register: fleet

    - name: Fail the hosts whose set failed
      ansible.builtin.assert:
        that: fleet.sets | selectattr('instance_id', 'equalto', instance_id) | map(attribute='state') | first == 'completed'
"""

RETURN = r"""
sets:
  description: The matched sets, newest first.
  returned: always
  type: list
  elements: dict
  contains:
    set_name:
      description: The name of the set.
      type: str
      sample: nightly-2026-11-22
    instance_id:
      description: The instance the set was made of.
      type: str
      sample: i-0123456789abcdef0
    state:
      description: C(error) if any snapshot failed, else C(pending) if any is pending, else C(completed).
      type: str
      sample: completed
    progress:
      description: The lowest progress of the set's snapshots, in percent.
      type: float
      sample: 100.0
    start_time:
      description: When the set was taken (ISO 8601); the earliest start time of its snapshots.
      type: str
      sample: "2026-11-22T10:15:00+00:00"
    snapshot_count:
      description: How many snapshots the set has.
      type: int
      sample: 4
    volume_ids:
      description: The volumes of the set, sorted.
      type: list
      elements: str
      sample: [vol-0123456789abcdef0]
    snapshots:
      description: The snapshots, with the same keys as RV(snapkit.cloud.ebs_multi_snapshot#module:snapshots).
      type: list
      elements: dict
      sample: []
"""

from ansible_collections.snapkit.cloud.plugins.module_utils import _ebs_snapshot_set as sets
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import INSTANCE_ID_PATTERN
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import SnapkitAWSModule
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import check_pattern
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import describe_snapshots_by_filters
from ansible_collections.snapkit.cloud.plugins.module_utils._module import InputError
from ansible_collections.snapkit.cloud.plugins.module_utils._module import ModuleFailure
from ansible_collections.snapkit.cloud.plugins.module_utils._module import run_module
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import Deadline
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import WaitError
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import wait_until


def argument_spec():
    return dict(
        instance_ids=dict(type="list", elements="str", default=[]),
        set_name=dict(type="str"),
        tags=dict(type="dict", default={}),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=3600),
    )


def validate(params):
    for instance_id in params["instance_ids"]:
        check_pattern("instance_ids", instance_id, INSTANCE_ID_PATTERN, "an EC2 instance id looks like i-0123456789abcdef0")
    if params["wait_timeout"] <= 0:
        raise InputError(f"wait_timeout: must be a positive number of seconds, got {params['wait_timeout']}")


def find_snapshots(client, params):
    snapshots = []
    for filters in sets.set_queries(params["set_name"], params["instance_ids"], params["tags"]):
        snapshots.extend(describe_snapshots_by_filters(client, filters))
    return snapshots


def wait_for_sets(client, params, deadline):
    """The snapshots once none is ``pending`` (one DescribeSnapshots per round for every set); running out of time
    fails with the sets as they were last seen."""
    try:
        return wait_until(
            lambda: find_snapshots(client, params),
            done=lambda s: s.get("State") != "pending",
            failed=lambda s: False,
            timeout=deadline,
            describe=lambda items: sets.describe_sets(sets.group_sets(items)),
            key=lambda s: s["SnapshotId"],
            progress=sets.progress_percent,
        )
    except WaitError as error:
        raise ModuleFailure(f"Sets still pending after wait_timeout={params['wait_timeout']} seconds: {error}",
                            sets=sets.group_sets(error.items)) from None


def run(module):
    params = module.params
    result = dict(changed=False, sets=[])

    def work():
        validate(params)  # before the client: bad input is reported as such, whatever else is missing
        deadline = Deadline(params["wait_timeout"])
        client = module.client("ec2")
        snapshots = find_snapshots(client, params)
        if params["wait"] and snapshots:
            snapshots = wait_for_sets(client, params, deadline)
        result["sets"] = sets.group_sets(snapshots)

    run_module(module, result, work)


def main():
    module = SnapkitAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    run(module)


if __name__ == "__main__":
    main()
