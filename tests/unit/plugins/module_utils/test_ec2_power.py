# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""How the power guard reads the mark a cut-off run leaves on the instance it stopped (no API call involved)."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from ansible_collections.snapkit.cloud.plugins.module_utils._ec2_power import PowerGuard
from ansible_collections.snapkit.cloud.plugins.module_utils._stop_mark import STOP_MARK_KEY as STOPPED_FOR_SET_TAG
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import Deadline


def instance(state, mark=None):
    tags = [{"Key": "Name", "Value": "db"}] + ([{"Key": STOPPED_FOR_SET_TAG, "Value": mark}] if mark else [])
    return {"InstanceId": "i-0123456789abcdef0", "State": {"Name": state}, "Tags": tags}


@pytest.mark.parametrize("state, mark, cut_off", [
    ("stopped", "nightly", True),
    ("stopping", "nightly", True),
    ("stopped", None, False),         # stopped by its owner: left as found
    ("stopped", "weekly", False),     # stopped for another set: that set's rerun starts it
    ("running", "nightly", False),    # cut off after the restart: only the mark is left to remove
])
def test_only_a_stopped_instance_marked_for_this_set_was_left_down_by_a_cut_off_run(state, mark, cut_off):
    guard = PowerGuard(client=None, instance=instance(state, mark), set_name="nightly", timeout=60)
    assert guard.left_down_by_a_cut_off_run is cut_off
    assert guard.stopped is False and guard.restarted is False


def test_an_instance_stopped_for_another_set_is_named_in_a_warning():
    guard = PowerGuard(client=None, instance=instance("stopped", "weekly"), set_name="nightly", timeout=60)
    assert len(guard.warnings) == 1
    assert "weekly" in guard.warnings[0] and "i-0123456789abcdef0" in guard.warnings[0] and "left stopped" in guard.warnings[0]


def test_a_running_instance_with_another_sets_mark_gets_no_warning():
    assert PowerGuard(client=None, instance=instance("running", "weekly"), set_name="nightly", timeout=60).warnings == []


def test_a_start_made_after_the_deadline_ran_out_is_reported_as_started_not_left_stopped():
    """The task's one deadline can run out before the guard's restart (a stop wait that used it all): EC2 takes the
    StartInstances, the wait that follows gets no time. The guard reports the instance started and on its way, with a
    warning, and still removes its mark, instead of calling it left stopped."""
    client = boto3.client("ec2", region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="example")
    instance_id = "i-0123456789abcdef0"
    with Stubber(client) as ec2:
        ec2.add_response("start_instances", {"StartingInstances": [
            {"InstanceId": instance_id, "CurrentState": {"Code": 0, "Name": "pending"}, "PreviousState": {"Code": 80, "Name": "stopped"}}
        ]}, {"InstanceIds": [instance_id]})
        ec2.add_response("describe_instances", {"Reservations": [{"Instances": [
            {"InstanceId": instance_id, "State": {"Code": 0, "Name": "pending"}}
        ]}]})
        ec2.add_response("delete_tags", {})
        guard = PowerGuard(client=client, instance=instance("running"), set_name="nightly", timeout=Deadline(0))
        guard.stopped, guard.mark = True, "nightly"  # this run stopped and marked it

        guard.restore()

        ec2.assert_no_pending_responses()
    assert guard.restarted is True and guard.mark is None
    assert len(guard.warnings) == 1 and "was started again" in guard.warnings[0] and instance_id in guard.warnings[0]
