# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The shared wait engine, driven by a fake clock so every sleep and poll is observable."""

from __future__ import annotations

import pytest

from ansible_collections.snapkit.cloud.plugins.module_utils._wait import Backoff
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import WaitFailed
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import WaitTimeout
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import deadline_retry
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import wait_until


class FakeClock:
    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


class Snapshots:
    """Items that complete at given times, optionally with linear progress, counting polls."""

    def __init__(self, clock, finish_at, fail_at=None, linear=False):
        self.clock = clock
        self.start = clock.now
        self.finish_at = finish_at
        self.fail_at = fail_at or {}
        self.linear = linear
        self.polls = 0

    def poll(self):
        self.polls += 1
        items = []
        for key, finish in self.finish_at.items():
            elapsed = self.clock.now - self.start
            if key in self.fail_at and elapsed >= self.fail_at[key]:
                state, progress = "error", None
            elif elapsed >= finish:
                state, progress = "completed", 100.0
            else:
                state, progress = "pending", (100.0 * elapsed / finish if self.linear else None)
            items.append({"id": key, "state": state, "progress": progress})
        return items


def run_wait(clock, snapshots, timeout, **kwargs):
    return wait_until(
        snapshots.poll,
        done=lambda i: i["state"] == "completed",
        failed=lambda i: i["state"] == "error",
        timeout=timeout,
        describe=lambda items: ", ".join(f"{i['id']}={i['state']}" for i in items),
        sleep=clock.sleep,
        monotonic=clock.monotonic,
        **kwargs,
    )


def test_returns_the_items_of_the_last_poll_once_all_are_done():
    clock = FakeClock()
    snapshots = Snapshots(clock, {"a": 5, "b": 12})
    items = run_wait(clock, snapshots, timeout=100)
    assert [i["state"] for i in items] == ["completed", "completed"]
    assert clock.now - 1000.0 >= 12


def test_interval_backs_off_to_the_cap():
    clock = FakeClock()
    snapshots = Snapshots(clock, {"a": 200})
    run_wait(clock, snapshots, timeout=1000, backoff=Backoff(initial=1, factor=2, cap=16))
    assert clock.sleeps[:6] == [1, 2, 4, 8, 16, 16]
    assert max(clock.sleeps) == 16


def test_one_poll_per_round_whatever_the_number_of_items():
    clock = FakeClock()
    snapshots = Snapshots(clock, {f"s{n}": 30 for n in range(40)})
    run_wait(clock, snapshots, timeout=1000)
    assert snapshots.polls == len(clock.sleeps) + 1


def test_deadline_is_honoured_exactly_with_a_last_poll_at_the_deadline():
    clock = FakeClock()
    snapshots = Snapshots(clock, {"a": 10_000})
    with pytest.raises(WaitTimeout) as caught:
        run_wait(clock, snapshots, timeout=100, backoff=Backoff(initial=7, factor=1, cap=7))
    assert clock.now == pytest.approx(1100.0)
    assert caught.value.pending[0]["id"] == "a"
    assert "a=pending" in str(caught.value)


def test_terminal_error_fails_at_once_with_every_item():
    clock = FakeClock()
    snapshots = Snapshots(clock, {"a": 500, "b": 500}, fail_at={"b": 3})
    with pytest.raises(WaitFailed) as caught:
        run_wait(clock, snapshots, timeout=1000)
    assert clock.now - 1000.0 < 10
    assert [i["id"] for i in caught.value.failed] == ["b"]
    assert {i["id"] for i in caught.value.items} == {"a", "b"}
    assert "b=error" in str(caught.value) and "a=pending" in str(caught.value)


def test_progress_forecast_keeps_detection_latency_low_with_a_long_cap():
    clock = FakeClock()
    snapshots = Snapshots(clock, {"a": 100}, linear=True)
    run_wait(clock, snapshots, timeout=1000, backoff=Backoff(initial=1, factor=3, cap=300),
             key=lambda i: i["id"], progress=lambda i: i["progress"])
    # Backoff alone would sleep 1, 3, 9, 27, 81 and see completion at 121 s; the forecast wakes up near 100 s.
    assert 100 <= clock.now - 1000.0 < 102


def test_deadline_retry_retries_until_success():
    clock = FakeClock()
    calls = []

    def attempt():
        calls.append(clock.now)
        if len(calls) < 4:
            raise RuntimeError("limit")
        return "made"

    assert deadline_retry(attempt, lambda e: True, timeout=100, sleep=clock.sleep, monotonic=clock.monotonic) == "made"
    assert len(calls) == 4


def test_deadline_retry_gives_up_at_the_deadline_and_raises_the_last_error():
    clock = FakeClock()

    def attempt():
        raise RuntimeError(f"limit at {clock.now}")

    with pytest.raises(RuntimeError):
        deadline_retry(attempt, lambda e: True, timeout=50, sleep=clock.sleep, monotonic=clock.monotonic)
    assert clock.now == pytest.approx(1050.0)


def test_deadline_retry_does_not_retry_other_errors():
    clock = FakeClock()
    calls = []

    def attempt():
        calls.append(1)
        raise KeyError("not retried")

    with pytest.raises(KeyError):
        deadline_retry(attempt, lambda e: isinstance(e, RuntimeError), timeout=50, sleep=clock.sleep, monotonic=clock.monotonic)
    assert calls == [1]


def test_jittered_delays_stay_between_floor_and_the_backoff():
    backoff = Backoff(initial=2, factor=2, cap=8, floor=0.5, jitter=True)
    delays = [backoff.next_delay() for _round in range(6)]
    bounds = [2, 4, 8, 8, 8, 8]
    assert all(0.5 <= d <= b for d, b in zip(delays, bounds))


def test_backoff_rejects_nonsense():
    with pytest.raises(ValueError):
        Backoff(initial=0)


def test_deadline_retry_never_comes_back_sooner_than_the_service_asked():
    clock = FakeClock()
    script = [RuntimeError("throttled, retry after 30"), RuntimeError("throttled, no hint"), None]

    def attempt():
        error = script.pop(0)
        if error:
            raise error
        return "made"

    def asked_wait(error):
        return 30.0 if "after 30" in str(error) else None

    backoff = Backoff(initial=2.0, factor=2.0, cap=60.0)
    assert deadline_retry(attempt, lambda e: True, timeout=100, backoff=backoff, sleep=clock.sleep, monotonic=clock.monotonic,
                          asked_wait=asked_wait) == "made"
    # The hint wins over the shorter backoff; without one the backoff goes on where it was.
    assert clock.sleeps == [30.0, 4.0]


def test_deadline_retry_does_not_sleep_past_the_deadline_for_a_long_hint():
    clock = FakeClock()

    def attempt():
        raise RuntimeError("throttled")

    with pytest.raises(RuntimeError):
        deadline_retry(attempt, lambda e: True, timeout=50, sleep=clock.sleep, monotonic=clock.monotonic, asked_wait=lambda e: 600.0)
    assert clock.sleeps == [50.0]
