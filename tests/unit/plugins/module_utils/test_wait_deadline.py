# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One Deadline per task: every wait and every deadline-bounded retry of a run takes from the same budget."""

from __future__ import annotations

import pytest

from ansible_collections.snapkit.cloud.plugins.module_utils._wait import Backoff
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import Deadline
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import WaitTimeout
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import deadline_retry
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import wait_until


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        assert seconds >= 0
        self.now += seconds


def never_done_wait(clock, budget, what="x"):
    return wait_until(lambda: [{"id": what}], done=lambda item: False, failed=lambda item: False, timeout=budget,
                      describe=lambda items: f"{what} pending", backoff=Backoff(initial=1, factor=1, cap=1),
                      sleep=clock.sleep, monotonic=clock.monotonic)


def test_remaining_counts_down_and_stops_at_zero():
    clock = FakeClock()
    deadline = Deadline(60, monotonic=clock.monotonic)
    clock.sleep(45)
    assert deadline.remaining() == pytest.approx(15)
    clock.sleep(30)
    assert deadline.remaining() == 0.0
    assert deadline.seconds == 60


def test_a_retry_and_a_wait_share_one_budget():
    """A retry that takes 40 of the task's 100 seconds leaves the wait after it 60, not a fresh 100."""
    clock = FakeClock()
    deadline = Deadline(100, monotonic=clock.monotonic)
    calls = []

    def attempt():
        calls.append(clock.now)
        if clock.now < 1040:
            raise RuntimeError("busy")
        return "made"

    assert deadline_retry(attempt, lambda error: True, deadline, backoff=Backoff(initial=10, factor=1, cap=10),
                          sleep=clock.sleep, monotonic=clock.monotonic) == "made"
    assert clock.now == pytest.approx(1040)
    with pytest.raises(WaitTimeout) as caught:
        never_done_wait(clock, deadline)
    assert clock.now == pytest.approx(1100)
    # The message names the task's budget.
    assert "after 100 seconds" in str(caught.value)


def test_steps_after_the_deadline_poll_once_and_give_up_at_once():
    clock = FakeClock()
    deadline = Deadline(10, monotonic=clock.monotonic)
    with pytest.raises(WaitTimeout):
        never_done_wait(clock, deadline, "first")
    assert clock.now == pytest.approx(1010)
    with pytest.raises(WaitTimeout):
        never_done_wait(clock, deadline, "second")
    assert clock.now == pytest.approx(1010)

    attempts = []

    def attempt():
        attempts.append(clock.now)
        raise RuntimeError("busy")

    with pytest.raises(RuntimeError):
        deadline_retry(attempt, lambda error: True, deadline, sleep=clock.sleep, monotonic=clock.monotonic)
    assert attempts == [1010]


def test_seconds_still_mean_seconds_from_now():
    clock = FakeClock()
    clock.sleep(500)
    with pytest.raises(WaitTimeout):
        never_done_wait(clock, 20)
    assert clock.now == pytest.approx(1520)


def test_known_items_stand_for_the_first_poll():
    """A wait begun right after a create takes the create's answer for its first round: the first read comes after the
    first interval, not at once."""
    clock = FakeClock()
    polls = []

    def poll():
        polls.append(clock.now)
        return [{"id": "s", "state": "available" if clock.now >= 1002 else "pending"}]

    items = wait_until(poll, done=lambda item: item["state"] == "available", failed=lambda item: False, timeout=60,
                       describe=str, backoff=Backoff(initial=1, factor=2, cap=8), sleep=clock.sleep, monotonic=clock.monotonic,
                       known=[{"id": "s", "state": "pending"}])
    assert items == [{"id": "s", "state": "available"}]
    assert polls == [1001, 1003]
