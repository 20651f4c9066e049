#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: lightsail_instance_from_snapshot
short_description: Create an Amazon Lightsail instance from an instance snapshot, or delete one made that way
version_added: 0.1.0
description:
  - Creates one instance from an C(available) instance snapshot and waits until it is C(running) with a public IP, for
    example to verify a snapshot before trusting it; or deletes such an instance and waits until it is gone.
  - The instance is tagged C(snapkit:from-snapshot) with the snapshot's name. A re-run finds it by name and that tag;
    an instance of that name without the tag is an error, never a silent success.
  - O(state=absent) deletes only instances that carry the tag, so a wrong O(instance_name) can never delete an
    instance this module did not make.
author:
  - snapkit.cloud maintainers (@snapkit)
options:
  instance_name:
    description:
      - The name of the new instance, unique in the region among instances, snapshots and static IPs.
      - "2 to 255 characters: letters, digits, C(.), C(-) and C(_); the first and the last must be a letter or a digit."
    type: str
    required: true
  snapshot_name:
    description:
      - The instance snapshot to create the instance from; it must be C(available). Required with O(state=present).
      - With O(state=absent), when given, the instance is only deleted if it was made from this snapshot.
    type: str
  bundle_id:
    description: The bundle (size) of the new instance. Defaults to the bundle of the instance the snapshot was taken from.
    type: str
  availability_zone:
    description:
      - The availability zone of the new instance, for example V(us-east-1b).
      - Defaults to the zone of the snapshot's source instance when it still exists, else to the first available zone of
        the region (C(GetRegions)). A snapshot is a regional resource, its own zone reads V(all), which no instance can use.
    type: str
  tags:
    description: More tags for the new instance (keys starting with C(aws:) or C(snapkit:) are reserved).
    type: dict
  state:
    description: V(present) creates the instance, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description:
      - Wait until the new instance is C(running) with a public IP. Deleting always waits until it is gone.
      - With V(false), the task returns the new instance as Lightsail first shows it (C(pending)); Lightsail can leave
        an instance it has just accepted out of its answers for a few seconds (eventual consistency).
    type: bool
    default: true
  wait_timeout:
    description: How long to wait, in seconds; bounds the whole task (every wait of it together).
    type: int
    default: 900
notes:
  - Instances cost money from the moment they exist; delete a verification instance in an C(always) section.
  - A Windows instance made from a snapshot taken before Sysprep has the Administrator password of the original, which
    Lightsail cannot give (M(snapkit.cloud.lightsail_instance_password) says so); keep the original's password.
  - "IAM permissions: C(lightsail:GetInstance), C(lightsail:GetInstanceSnapshot), C(lightsail:CreateInstancesFromSnapshot),
    C(lightsail:GetRegions) (without O(availability_zone), when the source instance is gone),
    C(lightsail:DeleteInstance)."
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - snapkit.cloud._aws
  - snapkit.cloud._attributes
  - snapkit.cloud._attributes.ACTIONGROUP_AWS
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
"""

EXAMPLES = r"""
- name: Verify a snapshot on a temporary instance
  block:
    - name: Create the instance and wait until it runs
      snapkit.cloud.lightsail_instance_from_snapshot:
        instance_name: win-1-verify
        snapshot_name: win-1-sysprep-20261122
      register: verify

    - name: Wait until RDP answers
      ansible.builtin.wait_for:
        host: "{{ verify.instance.public_ip_address }}"
        port: 3389
        timeout: 900
  always:
    - name: Delete the temporary instance
      snapkit.cloud.lightsail_instance_from_snapshot:
        instance_name: win-1-verify
        state: absent
"""

RETURN = r"""
instance:
  description:
    - The instance (with O(state=absent), as it was before deletion; empty if there was none).
    - In check mode, when the instance would be created, only C(name), C(bundle_id), C(location) and C(tags) are known.
    - The keys of RV(snapkit.cloud.lightsail_instance_state#module:instance) of M(snapkit.cloud.lightsail_instance_state).
  returned: always
  type: dict
  sample: {"name": "win-1-verify", "state": "running", "public_ip_address": "203.0.113.20", "is_windows": true,
           "tags": {"snapkit:from-snapshot": "win-1-sysprep-20261122"}}
"""

from ansible_collections.snapkit.cloud.plugins.module_utils import _lightsail as lightsail
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import SnapkitAWSModule
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import check_pattern
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import check_user_tags
from ansible_collections.snapkit.cloud.plugins.module_utils._module import ModuleFailure
from ansible_collections.snapkit.cloud.plugins.module_utils._module import InputError
from ansible_collections.snapkit.cloud.plugins.module_utils._module import run_module
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import Deadline

SOURCE_TAG = lightsail.FROM_SNAPSHOT_TAG


def argument_spec():
    return dict(
        instance_name=dict(type="str", required=True),
        snapshot_name=dict(type="str"),
        bundle_id=dict(type="str"),
        availability_zone=dict(type="str"),
        tags=dict(type="dict"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=900),
    )


def validate(params):
    if params["state"] == "present" and not params["snapshot_name"]:
        raise InputError("snapshot_name: required with state=present")
    for field in ("instance_name", "snapshot_name"):
        check_pattern(field, params[field], lightsail.RESOURCE_NAME_PATTERN, lightsail.RESOURCE_NAME_RULE)
    if params["wait_timeout"] <= 0:
        raise InputError(f"wait_timeout: must be a positive number of seconds, got {params['wait_timeout']}")
    check_user_tags("tags", params["tags"], 1)
    if params["availability_zone"] == "all":
        raise InputError('availability_zone: must be one zone such as us-east-1a; "all" is the zone of regional resources')


def check_ours(instance, snapshot_name):
    """Only an instance this module made (tagged with its source snapshot) may be kept or deleted."""
    source = lightsail.tag_dict(instance.get("tags")).get(SOURCE_TAG)
    if source is None:
        raise ModuleFailure(f"Lightsail instance {instance['name']} exists but was not made by this module (it has no "
                            f"{SOURCE_TAG} tag): choose another instance_name; it is left alone")
    if snapshot_name and source != snapshot_name:
        raise ModuleFailure(f"Lightsail instance {instance['name']} was made from snapshot {source}, not from {snapshot_name}: "
                            "choose another instance_name")


def source_snapshot(client, name):
    snapshot = lightsail.get_instance_snapshot(client, name)
    if snapshot is None:
        raise ModuleFailure(f"Lightsail snapshot {name} was not found; check snapshot_name and region")
    if snapshot.get("state") != "available":
        raise ModuleFailure(f"Lightsail snapshot {name} is {snapshot.get('state')}; an instance can be made only from an "
                            "available snapshot")
    return snapshot


def default_zone(client, snapshot):
    """The source instance's zone if it still exists, else the first available zone of the snapshot's region.

    A snapshot's own location reads availabilityZone "all" (it is regional); CreateInstancesFromSnapshot needs a zone.
    """
    source = lightsail.get_instance(client, snapshot.get("fromInstanceName")) if snapshot.get("fromInstanceName") else None
    if source:
        return source["location"]["availabilityZone"]
    region = snapshot["location"]["regionName"]
    for entry in lightsail.get_regions(client):
        zones = [zone["zoneName"] for zone in entry.get("availabilityZones") or [] if zone.get("state") == "available"]
        if entry.get("name") == region and zones:
            return zones[0]
    raise ModuleFailure(f"Lightsail lists no available zone in the region {region}: set availability_zone")


def ensure_present(module, client, result, deadline):
    params = module.params
    name = params["instance_name"]
    existing = lightsail.get_instance(client, name)
    if existing:
        check_ours(existing, params["snapshot_name"])
        if params["wait"] and not module.check_mode:
            existing = lightsail.wait_for_instance_state(client, name, "running", deadline, need_public_ip=True)
        return existing
    snapshot = source_snapshot(client, params["snapshot_name"])
    zone = params["availability_zone"] or default_zone(client, snapshot)
    bundle = params["bundle_id"] or snapshot.get("fromBundleId")
    tags = dict(params["tags"] or {}, **{SOURCE_TAG: params["snapshot_name"]})
    future = {"name": name, "bundleId": bundle, "location": {"availabilityZone": zone, "regionName": zone[:-1]},
              "tags": lightsail.tag_list(tags), "blueprintId": snapshot.get("fromBlueprintId")}
    result["changed"] = True
    result["diff"] = {"before": {}, "after": {"name": name, "snapshot_name": params["snapshot_name"]}}
    if module.check_mode:
        return future
    # A retried create that finds the name held by an instance made from this snapshot (its tag says so) found the
    # first create carried out with its answer lost: that instance is this run's.
    lightsail.create_or_adopt(
        lambda: lightsail.create_instance_from_snapshot(client, name, params["snapshot_name"], zone, bundle, tags),
        lambda: lightsail.get_instance(client, name),
        lambda instance: bool(instance) and lightsail.tag_dict(instance.get("tags")).get(SOURCE_TAG) == params["snapshot_name"],
    )
    if not params["wait"]:
        # Lightsail can leave the instance it has just accepted out of its answers for a few seconds (eventual
        # consistency): the task still returns what Lightsail says of it (pending), not a guess.
        return lightsail.first_sight(lambda: lightsail.get_instance(client, name), deadline, name=f"instance {name}") or future
    return lightsail.wait_for_instance_state(client, name, "running", deadline, need_public_ip=True, new=True)


def ensure_absent(module, client, result, deadline):
    params = module.params
    instance = lightsail.get_instance(client, params["instance_name"])
    if not instance:
        return {}
    check_ours(instance, params["snapshot_name"])
    result["changed"] = True
    result["diff"] = {"before": {"name": instance["name"]}, "after": {}}
    if not module.check_mode:
        lightsail.delete_instance(client, instance["name"])
        lightsail.wait_for_instance_gone(client, instance["name"], deadline)
    return instance


def run(module):
    params = module.params
    result = dict(changed=False, instance={})

    def work(client):
        validate(params)
        ensure = ensure_present if params["state"] == "present" else ensure_absent
        result["instance"] = lightsail.formatted_instance(ensure(module, client, result, Deadline(params["wait_timeout"])))

    source = f" from snapshot {params['snapshot_name']}" if params["snapshot_name"] else ""
    module.subject = f"Lightsail instance {params['instance_name']}{source}"
    run_module(module, result, lambda: work(lightsail.lightsail_client(module)))


def main():
    module = SnapkitAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    run(module)


if __name__ == "__main__":
    main()
