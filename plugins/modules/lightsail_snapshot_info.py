#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: lightsail_snapshot_info
short_description: List Amazon Lightsail instance snapshots by name, source instance and state
version_added: 0.1.0
description:
  - Lists the instance snapshots of a region, optionally only those with the given names, taken from one instance,
    or in the given states.
  - Each snapshot has the same keys as RV(snapkit.cloud.lightsail_snapshot#module:snapshot) of M(snapkit.cloud.lightsail_snapshot).
author:
  - snapkit.cloud maintainers (@snapkit)
options:
  snapshot_names:
    description:
      - Only these snapshots. Names that do not exist are left out of RV(snapshots) and listed in RV(missing).
      - One name is read with C(GetInstanceSnapshot); otherwise every page of C(GetInstanceSnapshots) is read once.
    type: list
    elements: str
    default: []
  instance_name:
    description: Only snapshots taken from this instance (it may have been deleted since).
    type: str
  states:
    description: Only snapshots in one of these states.
    type: list
    elements: str
    choices: [pending, available, error]
    default: []
notes:
  - "IAM permissions: C(lightsail:GetInstanceSnapshot) and C(lightsail:GetInstanceSnapshots)."
seealso:
  - module: snapkit.cloud.lightsail_snapshot
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - snapkit.cloud._aws
  - snapkit.cloud._attributes
  - snapkit.cloud._attributes.INFO_MODULE
  - snapkit.cloud._attributes.ACTIONGROUP_AWS
"""

EXAMPLES = r"""
- name: Every available snapshot of web-1
  snapkit.cloud.lightsail_snapshot_info:
    instance_name: web-1
    states: [available]
  register: web_1_snapshots

- name: Refuse to go on unless the backup snapshot is available
  snapkit.cloud.lightsail_snapshot_info:
    snapshot_names: [win-1-backup]
    instance_name: win-1
    states: [available]
  register: backup
  failed_when: backup.snapshots | length != 1
"""

RETURN = r"""
snapshots:
  description:
    - The matching snapshots, sorted by creation time, oldest first.
    - Each has the keys of RV(snapkit.cloud.lightsail_snapshot#module:snapshot) (C(name), C(arn), C(state), C(progress),
      C(created_at), C(from_instance_name), C(from_instance_arn), C(from_blueprint_id), C(from_bundle_id),
      C(is_from_auto_snapshot), C(size_in_gb), C(location), C(resource_type), C(support_code), C(tags)).
  returned: always
  type: list
  elements: dict
  sample:
    - name: web-1-nightly
      state: available
      from_instance_name: web-1
      size_in_gb: 40
      tags: {}
missing:
  description: The names in O(snapshot_names) that Lightsail does not know.
  returned: always
  type: list
  elements: str
  sample: [web-1-old]
"""

from ansible_collections.snapkit.cloud.plugins.module_utils import _lightsail as lightsail
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import SnapkitAWSModule
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import check_pattern
from ansible_collections.snapkit.cloud.plugins.module_utils._module import run_module


def argument_spec():
    return dict(
        snapshot_names=dict(type="list", elements="str", default=[]),
        instance_name=dict(type="str"),
        states=dict(type="list", elements="str", choices=["pending", "available", "error"], default=[]),
    )


def validate(params):
    for name in params["snapshot_names"]:
        check_pattern("snapshot_names", name, lightsail.RESOURCE_NAME_PATTERN, lightsail.RESOURCE_NAME_RULE)
    check_pattern("instance_name", params["instance_name"], lightsail.RESOURCE_NAME_PATTERN, lightsail.RESOURCE_NAME_RULE)


def candidates(client, names):
    """The snapshots to filter: one GetInstanceSnapshot for one name, else every page of the region's list."""
    if len(names) == 1:
        return [snapshot for snapshot in [lightsail.get_instance_snapshot(client, names[0])] if snapshot]
    return lightsail.get_instance_snapshots(client) or []


def matching(snapshots, params):
    names = set(params["snapshot_names"])
    return [
        snapshot for snapshot in snapshots
        if (not names or snapshot.get("name") in names)
        and (not params["instance_name"] or snapshot.get("fromInstanceName") == params["instance_name"])
        and (not params["states"] or snapshot.get("state") in params["states"])
    ]


def run(module):
    params = module.params
    result = dict(changed=False, snapshots=[], missing=[])

    def work(client):
        validate(params)
        found = candidates(client, params["snapshot_names"])
        known = {snapshot.get("name") for snapshot in found}
        selected = sorted(matching(found, params), key=lambda snapshot: str(snapshot.get("createdAt")))
        result["snapshots"] = [lightsail.formatted_snapshot(snapshot) for snapshot in selected]
        result["missing"] = [name for name in params["snapshot_names"] if name not in known]

    names = f" {', '.join(params['snapshot_names'])}" if params["snapshot_names"] else ""
    of_instance = f" of instance {params['instance_name']}" if params["instance_name"] else ""
    module.subject = f"Looking up Lightsail instance snapshots{names}{of_instance}"
    run_module(module, result, lambda: work(lightsail.lightsail_client(module)))


def main():
    module = SnapkitAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    run(module)


if __name__ == "__main__":
    main()
