#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: lightsail_instance_state
short_description: Stop or start an Amazon Lightsail instance, wait for it, and report the state it was in
version_added: 0.1.0
description:
  - Brings an existing Lightsail instance to C(running) or C(stopped) and waits until it is there, returning the
    state it was in before (RV(previous_state)), so that a procedure can put it back.
  - An instance in transition is first waited for (C(stopping) before a start, C(pending) before a stop), instead of
    failing as C(StartInstance) and C(StopInstance) do.
  - Waiting for C(running) also waits for a public IP address, which Lightsail can assign after the state turns
    C(running).
  - Right after its own C(StartInstance) the module reads C(stopped) as "not started yet" for 30 seconds (Lightsail can
    answer the start before the state it reports has moved); a C(stopped) instance after that, or while waiting
    without having started it, fails the task.
  - With O(wait_only=true) the module makes no call that changes anything and waits for the instance to get there by
    itself, for example while Sysprep shuts the Windows guest down.
author:
  - snapkit.cloud maintainers (@snapkit)
options:
  instance_name:
    description: The Lightsail instance.
    type: str
    required: true
  state:
    description: The power state the instance must be in.
    type: str
    choices: [running, stopped]
    required: true
  wait:
    description:
      - Wait until the instance is in O(state). Without waiting, the module returns once the call is made; an instance
        in transition is still waited for first, because Lightsail refuses to stop or start it.
    type: bool
    default: true
  wait_only:
    description:
      - Do not stop or start the instance; wait until it reaches O(state) by itself and fail after O(wait_timeout).
      - C(changed) is then always false.
    type: bool
    default: false
  wait_timeout:
    description: How long to wait, in seconds, for every step together; bounds the whole task.
    type: int
    default: 900
  stop_mark:
    description:
      - A name for this stop (a procedure uses its snapshot name). With O(state=stopped), a running instance is tagged
        C(snapkit:stopped-for-snapshot=<stop_mark>) just before C(StopInstance); with O(state=running), that tag is
        removed once the instance runs, if it holds this name.
      - The tag tells a later run that the instance was running before a run that was cut off (controller killed, job
        cancelled) stopped it; RV(stop_mark_found) reports it, so that a procedure can start the instance again.
      - Writing or removing the tag is best effort; refused, the module warns and goes on.
      - Every call with this option reports the tag it found; a stopped instance whose tag holds another name is
        reported with a warning (another procedure stopped it).
    type: str
    version_added: 0.1.0
notes:
  - Stopping an instance without a static IP releases its public IP address; the next start assigns a new one.
  - Throttling and server errors are retried with jittered backoff.
  - "IAM permissions: C(lightsail:GetInstance), C(lightsail:StopInstance), C(lightsail:StartInstance); with O(stop_mark),
    C(lightsail:TagResource) and C(lightsail:UntagResource)."
seealso:
  - module: community.aws.lightsail
    description: Creates and deletes instances too; its C(state=stopped) and C(state=running) do not report the previous state.
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
      - Reports whether the instance would be stopped or started; calls nothing that changes it.
  diff_mode:
    support: full
  idempotent:
    support: full
"""

EXAMPLES = r"""
- name: Stop web-1 and remember how it was
  snapkit.cloud.lightsail_instance_state:
    instance_name: web-1
    state: stopped
  register: web_1_power

- name: Start it again only if it was running
  snapkit.cloud.lightsail_instance_state:
    instance_name: web-1
    state: running
  when: web_1_power.previous_state in ['running', 'pending']

- name: Stop web-1 for a snapshot, marked so that a rerun after a cut-off run knows it was running
  snapkit.cloud.lightsail_instance_state:
    instance_name: web-1
    state: stopped
    stop_mark: web-1-nightly
  register: web_1_stopped

- name: Start it again at the end (the mark is removed)
  snapkit.cloud.lightsail_instance_state:
    instance_name: web-1
    state: running
    stop_mark: web-1-nightly
  when: web_1_stopped.previous_state in ['running', 'pending'] or web_1_stopped.stop_mark_found == 'web-1-nightly'

- name: Wait, without calling StopInstance, until Sysprep has shut the guest down
  snapkit.cloud.lightsail_instance_state:
    instance_name: win-1
    state: stopped
    wait_only: true
    wait_timeout: 3600
"""

RETURN = r"""
previous_state:
  description: The instance's state when the module started (C(pending), C(running), C(stopping) or C(stopped)).
  returned: always
  type: str
  sample: running
state:
  description: The instance's state when the module returned.
  returned: always
  type: str
  sample: stopped
stop_mark_found:
  description:
    - The value of the instance's C(snapkit:stopped-for-snapshot) tag when the module started (null when it had none),
      that is the stop mark of the run that stopped it.
    - Equal to O(stop_mark) on a stopped instance, it means a run of the same procedure stopped the instance and was cut
      off before it could start it again.
  returned: when O(stop_mark) is given
  type: str
  sample: web-1-nightly
  version_added: 0.1.0
instance:
  description: The instance as it is when the module returns (before the change in check mode).
  returned: always
  type: dict
  contains:
    name:
      description: The instance name.
      type: str
      sample: web-1
    arn:
      description: The instance ARN.
      type: str
      sample: arn:aws:lightsail:eu-west-1:123456789012:Instance/4a1f1f0e-1c1e-4a2b-8a77-2d7c9a2e9b10
    state:
      description: The state name.
      type: str
      sample: running
    blueprint_id:
      description: The blueprint (operating system image) the instance was created from.
      type: str
      sample: windows_server_2022
    blueprint_name:
      description: The blueprint's display name.
      type: str
      sample: Windows Server 2022
    bundle_id:
      description: The bundle (size) of the instance.
      type: str
      sample: small_win_3_0
    is_windows:
      description: Whether the blueprint is a Windows one.
      type: bool
      sample: true
    public_ip_address:
      description: The public IPv4 address; null while the instance is stopped without a static IP.
      type: str
      sample: 203.0.113.10
    private_ip_address:
      description: The private IPv4 address.
      type: str
      sample: 172.26.0.12
    is_static_ip:
      description: Whether a static IP is attached.
      type: bool
      sample: false
    username:
      description: The default user name (C(Administrator) on Windows).
      type: str
      sample: Administrator
    ssh_key_name:
      description: The key pair of the instance.
      type: str
      sample: LightsailDefaultKeyPair
    location:
      description: C(availability_zone) and C(region_name).
      type: dict
      sample: {"availability_zone": "eu-west-1a", "region_name": "eu-west-1"}
    created_at:
      description: When the instance was created (ISO 8601).
      type: str
      sample: "2026-11-22T10:15:00+00:00"
    tags:
      description: The tags of the instance, as a dictionary.
      type: dict
      sample: {}
"""

from ansible_collections.snapkit.cloud.plugins.module_utils import _lightsail as lightsail
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import SnapkitAWSModule
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import best_effort
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import check_pattern
from ansible_collections.snapkit.cloud.plugins.module_utils._module import InputError
from ansible_collections.snapkit.cloud.plugins.module_utils._module import run_module
from ansible_collections.snapkit.cloud.plugins.module_utils._stop_mark import STOP_MARK_KEY
from ansible_collections.snapkit.cloud.plugins.module_utils._stop_mark import foreign_mark_warning
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import Deadline

# For each target: the state that must be waited out before the call, and the call that gets there.
BLOCKING = {"running": "stopping", "stopped": "pending"}
ON_THE_WAY = {"running": ("running", "pending"), "stopped": ("stopped", "stopping")}


def argument_spec():
    return dict(
        instance_name=dict(type="str", required=True),
        state=dict(type="str", choices=["running", "stopped"], required=True),
        wait=dict(type="bool", default=True),
        wait_only=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=900),
        stop_mark=dict(type="str"),
    )


def validate(params):
    check_pattern("instance_name", params["instance_name"], lightsail.RESOURCE_NAME_PATTERN, lightsail.RESOURCE_NAME_RULE)
    if params["wait_timeout"] <= 0:
        raise InputError(f"wait_timeout: must be a positive number of seconds, got {params['wait_timeout']}")
    if params["stop_mark"] is not None and not 1 <= len(params["stop_mark"]) <= 256:
        raise InputError("stop_mark: 1 to 256 characters (a Lightsail tag value)")


def state_of(instance):
    return (instance.get("state") or {}).get("name")


def change_power(client, name, target, current, deadline):
    """Wait out a transition that Lightsail would refuse to interrupt, then stop or start."""
    if current == BLOCKING[target]:
        lightsail.wait_for_instance_state(client, name, "stopped" if target == "running" else "running", deadline)
    if target == "running":
        lightsail.start_instance(client, name)
    else:
        lightsail.stop_instance(client, name)


def warn_if_refused(module, what, call):
    """The stop mark is a step the procedure can do without: refused, a warning that names it, and the module goes on."""
    warnings = []
    best_effort(warnings, call, lambda code: f"{what} was refused ({code}); a run cut off while the instance is stopped would leave it stopped")
    for warning in warnings:
        module.warn(warning)


def read_stop_mark(module, instance, result):
    """The stop mark found on the instance, reported; a stopped instance marked by another procedure is warned about."""
    found = lightsail.tag_dict(instance.get("tags")).get(STOP_MARK_KEY)
    result["stop_mark_found"] = found
    if found not in (None, module.params["stop_mark"]) and state_of(instance) in ON_THE_WAY["stopped"]:
        module.warn(foreign_mark_warning(f"Lightsail instance {instance['name']}", state_of(instance), found, "procedure"))
    return found


def ensure(module, client, result, deadline):
    params = module.params
    name, target, stop_mark = params["instance_name"], params["state"], params["stop_mark"]
    instance = lightsail.get_instance(client, name)
    if instance is None:
        raise InputError(f"Lightsail instance {name} was not found in region {module.region}; check instance_name and region")
    current = state_of(instance)
    found = read_stop_mark(module, instance, result) if stop_mark else None
    result["previous_state"] = result["state"] = current
    result["instance"] = lightsail.formatted_instance(instance)
    change = not params["wait_only"] and current not in ON_THE_WAY[target]
    result["changed"] = change
    result["diff"] = {"before": {"state": current}, "after": {"state": target if change else current}}
    if module.check_mode:
        return
    if change and stop_mark and target == "stopped":
        warn_if_refused(module, f"Marking Lightsail instance {name} with {STOP_MARK_KEY}={stop_mark}",
                        lambda: lightsail.tag_resource(client, name, {STOP_MARK_KEY: stop_mark}))
    if change:
        change_power(client, name, target, current, deadline)
    if params["wait"] or params["wait_only"]:
        instance = lightsail.wait_for_instance_state(client, name, target, deadline, need_public_ip=target == "running",
                                                     just_started=change and target == "running", just_changed=change,
                                                     known=None if change else instance)
    else:
        instance = lightsail.get_instance(client, name) or instance
    if stop_mark and target == "running" and found == stop_mark:
        warn_if_refused(module, f"Removing the stop mark {STOP_MARK_KEY}={stop_mark} of Lightsail instance {name}",
                        lambda: lightsail.untag_resource(client, name, [STOP_MARK_KEY]))
        instance = dict(instance, tags=[tag for tag in instance.get("tags") or [] if tag.get("key") != STOP_MARK_KEY])
    result["state"] = state_of(instance)
    result["instance"] = lightsail.formatted_instance(instance)


def run(module):
    params = module.params
    result = dict(changed=False, previous_state=None, state=None, instance={})

    def work(client):
        validate(params)
        ensure(module, client, result, Deadline(params["wait_timeout"]))

    run_module(module, result, lambda: work(lightsail.lightsail_client(module)))


def main():
    module = SnapkitAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    run(module)


if __name__ == "__main__":
    main()
