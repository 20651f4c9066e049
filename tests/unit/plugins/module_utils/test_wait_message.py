# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A wait that times out says so in whole seconds, whatever fraction of a second the deadline had left."""

from __future__ import annotations

import pytest

from ansible_collections.snapkit.cloud.plugins.module_utils._wait import WaitTimeout
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import wait_until


def test_a_timeout_is_printed_in_whole_seconds():
    now = [1000.0]

    def sleep(seconds):
        now[0] += seconds

    # What a module hands over: the seconds its deadline has left, a moment after it started.
    remaining = 1799.9873126
    with pytest.raises(WaitTimeout) as raised:
        wait_until(lambda: [{"state": "pending"}], done=lambda item: False, failed=lambda item: False, timeout=remaining,
                   describe=lambda items: "snap-1 is pending", sleep=sleep, monotonic=lambda: now[0])
    assert "still not done after 1800 seconds: snap-1 is pending" in str(raised.value)
    assert "1799.98" not in str(raised.value)
