# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Stopping and starting an EC2 instance and waiting for it, through the shared wait engine."""

from __future__ import annotations

from ansible_collections.snapkit.cloud.plugins.module_utils._aws import TAG_PREFIX
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import best_effort
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import create_tags
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import delete_tags
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import describe_instance
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import start_instances
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import stop_instances
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import Backoff
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import wait_until

# Instances stop and start in tens of seconds: poll briskly, up to 5 s apart.
POWER_BACKOFF = dict(initial=1.0, factor=1.5, cap=5.0)
# States from which the instance will not reach the target on its own.
DEAD_STATES = ("shutting-down", "terminated")
DOWN_STATES = ("stopped", "stopping")
# Written on the instance just before we stop it, removed once it runs again. A run cut off in between (the
# controller killed, the job cancelled) leaves it behind, so the next run of the same set knows the instance was
# running and starts it again instead of taking it for one its owner stopped.
STOPPED_FOR_SET_TAG = TAG_PREFIX + "stopped-for-set"


def instance_state(instance):
    return (instance or {}).get("State", {}).get("Name", "unknown")


def wait_for_state(client, instance_id, target, timeout):
    """Wait until the instance is in ``target`` state, within ``timeout`` (the task's Deadline); fail at once if it is
    terminated."""

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


def tag_value(resource, key):
    for tag in (resource or {}).get("Tags", []):
        if tag.get("Key") == key:
            return tag.get("Value")
    return None


class PowerGuard:
    """Stops the instance when asked and makes sure it is started again if we stopped it, also across a cut-off run.

    ``warnings`` collects what the caller should tell the user: marking the instance is best effort, a failure
    only means that a run cut off while the instance is down would not know to start it. ``timeout`` is the task's
    Deadline: every stop and start wait of the guard takes from the same budget.
    """

    def __init__(self, client, instance, set_name, timeout):
        self.client = client
        self.instance_id = instance["InstanceId"]
        self.initial_state = instance_state(instance)
        self.set_name = set_name
        self.timeout = timeout
        self.mark = tag_value(instance, STOPPED_FOR_SET_TAG)
        self.stopped = False
        self.restarted = False
        self.warnings = []
        if self.mark and self.mark != set_name and self.initial_state in DOWN_STATES:
            self.warnings.append(
                f"Instance {self.instance_id} was stopped by a run for snapshot set {self.mark} that was cut off before it "
                f"could start it again (tag {STOPPED_FOR_SET_TAG}). It is treated as found stopped and left stopped: run set "
                f"{self.mark} again to start it, or start it yourself"
            )

    @property
    def left_down_by_a_cut_off_run(self):
        """An earlier run of this very set stopped the instance and did not live to start it."""
        return self.mark == self.set_name and self.initial_state in DOWN_STATES

    def stop(self):
        if self.left_down_by_a_cut_off_run:
            self._take_over_the_stop()
            return
        if self.initial_state in DOWN_STATES:
            # Already (going) down: snapshot it stopped and leave it stopped, as we found it.
            wait_for_state(self.client, self.instance_id, "stopped", self.timeout)
            return
        if self.initial_state == "pending":
            wait_for_state(self.client, self.instance_id, "running", self.timeout)
        self._mark()
        self.stopped = True
        stop_and_wait(self.client, self.instance_id, self.timeout)

    def resume_cut_off_run(self):
        """The set exists already: start the instance if the run that made it was cut off while it was down."""
        if self.left_down_by_a_cut_off_run:
            self._take_over_the_stop()
        self.restore()

    def restore(self):
        """Start the instance if we stopped it (raises if EC2 refuses: the mark then stays for the next run)."""
        if self.stopped and not self.restarted:
            start_and_wait(self.client, self.instance_id, self.timeout)
            self.restarted = True
        if self.mark == self.set_name:
            self._unmark()

    def _take_over_the_stop(self):
        wait_for_state(self.client, self.instance_id, "stopped", self.timeout)
        self.stopped = True
        self.warnings.append(
            f"Instance {self.instance_id} was left stopped by an earlier run for snapshot set {self.set_name} that was cut "
            f"off (tag {STOPPED_FOR_SET_TAG}); it is started again"
        )

    def _mark(self):
        tagged = best_effort(self.warnings, lambda: create_tags(self.client, self.instance_id, {STOPPED_FOR_SET_TAG: self.set_name}), lambda code: (
            f"Could not tag instance {self.instance_id} with {STOPPED_FOR_SET_TAG} before stopping it "
            f"({code}): if this run is cut off while the instance is stopped, a re-run will not know to start it"
        ))
        if tagged:
            self.mark = self.set_name

    def _unmark(self):
        untagged = best_effort(self.warnings, lambda: delete_tags(self.client, self.instance_id, {STOPPED_FOR_SET_TAG: self.set_name}), lambda code: (
            f"Could not remove the tag {STOPPED_FOR_SET_TAG} from instance {self.instance_id} ({code}): "
            f"remove it by hand, or a later run of set {self.set_name} that finds the instance stopped will start it"
        ))
        if untagged:
            self.mark = None
