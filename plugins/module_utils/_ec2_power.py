# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Stopping and starting an EC2 instance and waiting for it, through the shared wait engine."""

from __future__ import annotations

from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import describe_instance
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import start_instances
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import stop_instances
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import Backoff
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import wait_until

# Instances stop and start in tens of seconds: poll briskly, up to 5 s apart.
POWER_BACKOFF = dict(initial=1.0, factor=1.5, cap=5.0)
# States from which the instance will not reach the target on its own.
DEAD_STATES = ("shutting-down", "terminated")


def instance_state(instance):
    return (instance or {}).get("State", {}).get("Name", "unknown")


def wait_for_state(client, instance_id, target, timeout):
    """Wait until the instance is in ``target`` state; fail at once if it is terminated."""

    def poll():
        instance = describe_instance(client, instance_id)
        return [instance or {"InstanceId": instance_id, "State": {"Name": "terminated"}}]

    items = wait_until(
        poll,
        done=lambda i: instance_state(i) == target,
        failed=lambda i: instance_state(i) in DEAD_STATES,
        timeout=timeout,
        describe=lambda items: f"instance {instance_id} is {instance_state(items[0])} (waiting for {target})",
        backoff=Backoff(**POWER_BACKOFF),
    )
    return items[0]


def stop_and_wait(client, instance_id, timeout):
    """Stop the instance and wait until it is stopped."""
    stop_instances(client, [instance_id])
    return wait_for_state(client, instance_id, "stopped", timeout)


def start_and_wait(client, instance_id, timeout):
    """Start the instance and wait until it is running."""
    start_instances(client, [instance_id])
    return wait_for_state(client, instance_id, "running", timeout)
