#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: lightsail_instance_password
short_description: Get the Administrator password of an Amazon Lightsail Windows instance
version_added: 0.1.0
description:
  - Reads the Administrator password of a running Lightsail Windows instance with C(GetInstanceAccessDetails), waiting
    until Lightsail has it (a new instance, or the first boot after Sysprep, can take several minutes).
  - "The returned RV(password) is a B(secret). Always run this module with C(no_log: true) and keep the registered result out of
    output; the module cannot hide its own return value."
  - Lightsail knows the password only for instances created with its default key pair (C(LightsailDefaultKeyPair));
    for others it returns only the encrypted form, and the module fails saying so.
author:
  - snapkit.cloud maintainers (@snapkit)
options:
  instance_name:
    description: The Lightsail Windows instance; it must be running.
    type: str
    required: true
  wait:
    description: Wait until the password is available instead of failing at once.
    type: bool
    default: true
  wait_timeout:
    description: How long to wait, in seconds; bounds the whole task.
    type: int
    default: 900
notes:
  - If the password was changed inside Windows, Lightsail still returns the one it set.
  - An instance made from a snapshot taken B(before) Sysprep keeps the original instance's Administrator password, which
    Lightsail does not know, so it never returns one. For a copy made by M(snapkit.cloud.lightsail_instance_from_snapshot)
    from the backup snapshot of the role C(snapkit.cloud.lightsail_instance_snapshot) (tagged
    C(snapkit-purpose=backup-before-sysprep)), the module fails at once saying to use the saved original password;
    for other such copies the wait times out with that hint.
  - "IAM permissions: C(lightsail:GetInstance), C(lightsail:GetInstanceAccessDetails), C(lightsail:GetInstanceSnapshot)."
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - snapkit.cloud._aws
  - snapkit.cloud._attributes
  - snapkit.cloud._attributes.INFO_MODULE
  - snapkit.cloud._attributes.ACTIONGROUP_AWS
"""

EXAMPLES = r"""
- name: Get the Administrator password (never printed)
  snapkit.cloud.lightsail_instance_password:
    instance_name: win-1
  register: win_1_access
  no_log: true

- name: Save it for a rainy day, readable by the owner only
  ansible.builtin.copy:
    content: "{{ win_1_access.password }}"
    dest: "{{ lookup('ansible.builtin.env', 'HOME') }}/.win-1-administrator-password"
    mode: "0600"
  no_log: true
"""

RETURN = r"""
password:
  description:
    - "The Administrator password. B(Secret:) register the result only in a task with C(no_log: true)."
  returned: success
  type: str
  sample: "********"
username:
  description: The user the password belongs to.
  returned: success
  type: str
  sample: Administrator
key_pair_name:
  description: The key pair the password is encrypted with.
  returned: success
  type: str
  sample: LightsailDefaultKeyPair
"""

from ansible_collections.snapkit.cloud.plugins.module_utils import _lightsail as lightsail
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import SnapkitAWSModule
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import check_pattern
from ansible_collections.snapkit.cloud.plugins.module_utils._module import ModuleFailure
from ansible_collections.snapkit.cloud.plugins.module_utils._module import InputError
from ansible_collections.snapkit.cloud.plugins.module_utils._module import run_module
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import Backoff
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import Deadline
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import wait_until

DEFAULT_KEY_PAIR = "LightsailDefaultKeyPair"


def argument_spec():
    return dict(
        instance_name=dict(type="str", required=True),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=900),
    )


def validate(params):
    check_pattern("instance_name", params["instance_name"], lightsail.RESOURCE_NAME_PATTERN, lightsail.RESOURCE_NAME_RULE)
    if params["wait_timeout"] <= 0:
        raise InputError(f"wait_timeout: must be a positive number of seconds, got {params['wait_timeout']}")


def check_instance(instance, name, region):
    if instance is None:
        raise InputError(f"Lightsail instance {name} was not found in region {region}; check instance_name and region")
    if not lightsail.is_windows_blueprint(instance.get("blueprintId")):
        raise ModuleFailure(f"Lightsail instance {name} runs {instance.get('blueprintId')}, not Windows: it has no Administrator password")
    if (instance.get("state") or {}).get("name") != "running":
        raise ModuleFailure(f"Lightsail instance {name} is {(instance.get('state') or {}).get('name')}; Lightsail gives the password "
                            "of running instances only (start it with snapkit.cloud.lightsail_instance_state)")


NO_PASSWORD_FROM_BACKUP = ("an instance made from a snapshot taken before Sysprep never gets one from Lightsail: it keeps the "
                           "Administrator password of the original instance; use the one you saved")


def has_password(details):
    return bool(details.get("password")) or details.get("passwordData", {}).get("keyPairName", DEFAULT_KEY_PAIR) != DEFAULT_KEY_PAIR


def check_not_pre_sysprep_copy(client, instance):
    """Fail at once for a copy of a snapshot taken before Sysprep: Lightsail has no password for it, and never will.

    Its disk keeps the original instance's Administrator password, which Lightsail never learns (AWS's guide to
    Windows snapshots: the browser RDP client cannot connect). It is recognised by its snapkit:from-snapshot tag
    (lightsail_instance_from_snapshot) naming a snapshot the lightsail_instance_snapshot role tagged as its backup.
    """
    source = lightsail.tag_dict(instance.get("tags")).get(lightsail.FROM_SNAPSHOT_TAG)
    snapshot = lightsail.get_instance_snapshot(client, source) if source else None
    key, value = lightsail.PRE_SYSPREP_TAG
    if snapshot and lightsail.tag_dict(snapshot.get("tags")).get(key) == value:
        raise ModuleFailure(f"Lightsail has no Administrator password for instance {instance['name']}: it was made from snapshot "
                            f"{source} of {snapshot.get('fromInstanceName')}, taken before Sysprep (tagged {key}={value}); "
                            f"{NO_PASSWORD_FROM_BACKUP}")


def read_password(client, instance, wait, deadline):
    """Access details once the password is there (it is an empty string until Windows has set it)."""
    name = instance["name"]
    details = lightsail.get_instance_access_details(client, name, "rdp")
    if has_password(details):
        return details
    check_not_pre_sysprep_copy(client, instance)
    if not wait:
        return details
    return wait_until(
        poll=lambda: [lightsail.get_instance_access_details(client, name, "rdp")], done=has_password, failed=lambda details: False,
        timeout=deadline, backoff=Backoff(initial=2.0, factor=1.5, cap=15.0),
        describe=lambda items: f"Lightsail has no Administrator password for instance {name} yet ({NO_PASSWORD_FROM_BACKUP})",
    )[0]


def run(module):
    params = module.params
    name = params["instance_name"]
    result = dict(changed=False)

    def work(client):
        validate(params)
        deadline = Deadline(params["wait_timeout"])
        instance = lightsail.get_instance(client, name)
        check_instance(instance, name, module.region)
        details = read_password(client, instance, params["wait"], deadline)
        key_pair = details.get("passwordData", {}).get("keyPairName") or DEFAULT_KEY_PAIR
        if not details.get("password"):
            raise ModuleFailure(
                f"Lightsail returns only the encrypted password of instance {name}: it uses key pair {key_pair}; decrypt "
                "passwordData with that key's private key" if key_pair != DEFAULT_KEY_PAIR
                else f"Lightsail has no Administrator password for instance {name} yet; run again with wait=true")
        result.update(password=details["password"], username=details.get("username") or "Administrator", key_pair_name=key_pair)

    run_module(module, result, lambda: work(lightsail.lightsail_client(module)))


def main():
    module = SnapkitAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    run(module)


if __name__ == "__main__":
    main()
