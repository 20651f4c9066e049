# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""How the power guard reads the mark a cut-off run leaves on the instance it stopped (no API call involved)."""

from __future__ import annotations

import pytest

from ansible_collections.snapkit.cloud.plugins.module_utils._ec2_power import PowerGuard
from ansible_collections.snapkit.cloud.plugins.module_utils._stop_mark import STOP_MARK_KEY as STOPPED_FOR_SET_TAG


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
