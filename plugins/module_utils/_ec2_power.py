# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Stopping and starting an EC2 instance and waiting for it, through the shared wait engine."""

from __future__ import annotations

from ansible_collections.snapkit.cloud.plugins.module_utils._aws import best_effort
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import create_tags
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import delete_tags
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import describe_instance
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import start_instances
from ansible_collections.snapkit.cloud.plugins.module_utils._ec2 import stop_instances
from ansible_collections.snapkit.cloud.plugins.module_utils._stop_mark import STOP_MARK_KEY
from ansible_collections.snapkit.cloud.plugins.module_utils._stop_mark import foreign_mark_warning
from ansible_collections.snapkit.cloud.plugins.module_utils._stop_mark import taken_over_warning
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import Backoff
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import WaitTimeout
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import wait_until

# Instances stop and start in tens of seconds: poll briskly, up to 5 s apart.
POWER_BACKOFF = dict(initial=1.0, factor=1.5, cap=5.0)
# States from which the instance will not reach the target on its own.
DEAD_STATES = ("shutting-down", "terminated")
DOWN_STATES = ("stopped", "stopping")


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


def tag_value(resource, key):
    for tag in (resource or {}).get("Tags", []):
        if tag.get("Key") == key:
            return tag.get("Value")
    return None


class PowerGuard:
    """Stops the instance when asked and makes sure it is started again if we stopped it, also across a cut-off run:
    the stop mark (``_stop_mark``), a tag whose value is the set name.

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
        self.mark = tag_value(instance, STOP_MARK_KEY)
        self.stopped = False
        self.restarted = False
        self.warnings = []
        if self.mark and self.mark != set_name and self.initial_state in DOWN_STATES:
            self.warnings.append(foreign_mark_warning(f"Instance {self.instance_id}", self.initial_state, self.mark, "snapshot set"))

    @property
    def left_down_by_a_cut_off_run(self):
        """An earlier run of this very set stopped the instance and did not live to start it."""
        return self.needs_resume and self.initial_state in DOWN_STATES

    @property
    def needs_resume(self):
        """The instance carries this set's mark: a run of this set was cut off before it started the instance (then it
        is down) or before it removed the mark (then it runs). A rerun that finds the set calls resume_cut_off_run."""
        return self.mark == self.set_name

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
        """The set exists already: start the instance if the run that made it was cut off while it was down, and remove
        the mark that run left. Nothing to do unless ``needs_resume``."""
        if not self.needs_resume:
            return
        if self.left_down_by_a_cut_off_run:
            self._take_over_the_stop()
        self.restore()

    def restore(self):
        """Start the instance if we stopped it (raises if EC2 refuses: the mark then stays for the next run)."""
        if self.stopped and not self.restarted:
            start_instances(self.client, [self.instance_id])
            self.restarted = True
            try:
                wait_for_state(self.client, self.instance_id, "running", self.timeout)
            except WaitTimeout as error:
                # The task's one deadline can run out before the start it had to make: EC2 took the start, so the
                # instance is on its way back; say so rather than call it left stopped.
                self.warnings.append(f"Instance {self.instance_id} was started again (EC2 accepted StartInstances) but "
                                     f"was not running yet when wait_timeout ran out: {error}")
        if self.mark == self.set_name:
            self._unmark()

    def _take_over_the_stop(self):
        wait_for_state(self.client, self.instance_id, "stopped", self.timeout)
        self.stopped = True
        self.warnings.append(taken_over_warning(f"Instance {self.instance_id}", self.set_name, "snapshot set"))

    def _mark(self):
        tagged = best_effort(self.warnings, lambda: create_tags(self.client, self.instance_id, {STOP_MARK_KEY: self.set_name}), lambda code: (
            f"Could not tag instance {self.instance_id} with {STOP_MARK_KEY} before stopping it "
            f"({code}): if this run is cut off while the instance is stopped, a re-run will not know to start it"
        ))
        if tagged:
            self.mark = self.set_name

    def _unmark(self):
        untagged = best_effort(self.warnings, lambda: delete_tags(self.client, self.instance_id, {STOP_MARK_KEY: self.set_name}), lambda code: (
            f"Could not remove the tag {STOP_MARK_KEY} from instance {self.instance_id} ({code}): "
            f"remove it by hand, or a later run of set {self.set_name} that finds the instance stopped will start it"
        ))
        if untagged:
            self.mark = None
