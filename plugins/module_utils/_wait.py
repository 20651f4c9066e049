# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one wait engine every snapkit.cloud module uses.

A wait is a loop around a single batched read (``poll``) that returns the current state of every
resource being waited on. The engine decides nothing about clouds; the caller says which items are
done, which have failed, and (optionally) how far along an item is. What the engine guarantees:

* one ``poll`` call per round, whatever the number of resources;
* the deadline is honoured exactly: no sleep runs past it, and the last poll happens at it;
* the interval starts short and backs off to a cap, but never sleeps past the moment the items'
  progress says they will be done (so completion is seen soon after it happens);
* a terminal error state fails at once, with every item in the exception;
* the items returned or carried by an exception come from the last poll, so they are current.
"""

from __future__ import annotations

import concurrent.futures
import random
import threading
import time


class WaitError(Exception):
    """Base class: carries the items of the last poll so callers can report every state."""

    def __init__(self, message, items):
        super().__init__(message)
        self.items = items


class WaitFailed(WaitError):
    """At least one item reached a terminal error state."""

    def __init__(self, message, items, failed):
        super().__init__(message, items)
        self.failed = failed


class WaitTimeout(WaitError):
    """The deadline passed before every item was done."""

    def __init__(self, message, items, pending):
        super().__init__(message, items)
        self.pending = pending


class Deadline:
    """The one time budget of a task: made once per module run from its ``wait_timeout`` / ``timeout`` and passed to
    every wait and every deadline-bounded retry of the run, so that the task as a whole, not each step, ends in time."""

    def __init__(self, seconds, monotonic=time.monotonic):
        self.seconds = seconds
        self.monotonic = monotonic
        self.end = monotonic() + seconds

    def remaining(self):
        return max(0.0, self.end - self.monotonic())


def _end_and_seconds(budget, monotonic):
    """``(end on the monotonic clock, seconds to name in messages)`` of a Deadline or of seconds from now."""
    if isinstance(budget, Deadline):
        return budget.end, budget.seconds
    return monotonic() + budget, budget


class Backoff:
    """Poll intervals: ``initial`` seconds, multiplied by ``factor`` each round, never above ``cap``.

    With ``jitter``, each delay is drawn uniformly between ``floor`` and the computed delay
    ("full jitter"), so that many clients retrying the same throttled API spread out.
    """

    def __init__(self, initial=1.0, factor=1.5, cap=15.0, floor=0.2, jitter=False):
        if initial <= 0 or factor < 1 or cap < initial:
            raise ValueError("Backoff needs initial > 0, factor >= 1 and cap >= initial")
        self.initial = initial
        self.factor = factor
        self.cap = cap
        self.floor = min(floor, initial)
        self.jitter = jitter
        self._next = initial

    def next_delay(self):
        delay = self._next
        self._next = min(self._next * self.factor, self.cap)
        if self.jitter:
            return random.uniform(self.floor, delay)  # nosec B311 - spreading retries, not cryptography
        return delay


class ProgressEstimator:
    """Predicts when an item will reach 100 % from two progress readings.

    Items whose progress does not move (or is unknown) get no estimate; the backoff alone
    applies to them.
    """

    def __init__(self):
        self._first = {}

    def estimate(self, key, percent, now):
        """Seconds from ``now`` until ``key`` should reach 100 %, or None when unknown."""
        if percent is None:
            return None
        if key not in self._first:
            self._first[key] = (percent, now)
            return None
        first_percent, first_time = self._first[key]
        if percent <= first_percent or now <= first_time:
            return None
        rate = (percent - first_percent) / (now - first_time)
        return max(0.0, (100.0 - percent) / rate)


def wait_until(poll, done, failed, timeout, describe, key=None, progress=None, backoff=None,
               sleep=time.sleep, monotonic=time.monotonic, known=None):
    """Poll until every item is done; return the items of the last poll.

    :param poll: callable returning the current list of items (one batched API call).
    :param done: callable(item) -> bool, the item reached its target state.
    :param failed: callable(item) -> bool, the item reached a terminal error state.
    :param timeout: the task's Deadline, or seconds from now; the last poll happens at the deadline.
    :param describe: callable(items) -> str, a one-line summary of every item for messages.
    :param key: callable(item) -> hashable identity, needed with ``progress``.
    :param progress: callable(item) -> float percent or None, to predict completion.
    :param known: the items as already known (what a create just answered): the first round takes them instead of a
        poll, so that a wait begun right after a create does not read back at once the state the create gave.
    """
    backoff = backoff or Backoff()
    estimator = ProgressEstimator()
    deadline, seconds = _end_and_seconds(timeout, monotonic)
    while True:
        items, known = (poll() if known is None else known), None
        now = monotonic()
        failures = [item for item in items if failed(item)]
        if failures:
            raise WaitFailed(f"{len(failures)} of {len(items)} failed: {describe(items)}", items, failures)
        pending = [item for item in items if not done(item)]
        if not pending:
            return items
        remaining = deadline - now
        if remaining <= 0:
            raise WaitTimeout(
                f"{len(pending)} of {len(items)} still not done after {round(seconds)} seconds: {describe(items)}",
                items, pending,
            )
        delay = backoff.next_delay()
        if progress is not None and key is not None:
            etas = [estimator.estimate(key(item), progress(item), now) for item in pending]
            forecasts = [eta for eta in etas if eta is not None]
            if len(forecasts) == len(pending):
                # Every pending item has a forecast: wake up just after the last one is due
                # instead of sleeping a long backoff past the completion.
                delay = min(delay, max(backoff.floor, max(forecasts) + backoff.floor))
        sleep(min(delay, remaining))


def deadline_retry(attempt, should_retry, timeout, backoff=None, sleep=time.sleep, monotonic=time.monotonic, asked_wait=None):
    """Call ``attempt()`` until it succeeds, retrying errors accepted by ``should_retry`` until the deadline.

    Unlike a fixed retry count, the budget is a time (``timeout``: the task's Deadline, or seconds from now): errors such
    as a limit on pending snapshots clear when other work finishes, which can take minutes.
    The last error is raised when the deadline passes.

    ``asked_wait(error)`` gives the seconds the service asked the client to wait (a ``Retry-After``
    header), or None: the next attempt never comes sooner than that, since an earlier one would only
    be refused again; the backoff still spreads clients that were all told the same.
    """
    backoff = backoff or Backoff(initial=2.0, factor=2.0, cap=60.0, jitter=True)
    deadline = _end_and_seconds(timeout, monotonic)[0]
    while True:
        try:
            return attempt()
        except Exception as error:  # pylint: disable=broad-exception-caught
            remaining = deadline - monotonic()
            if not should_retry(error) or remaining <= 0:
                raise
            delay = max(backoff.next_delay(), (asked_wait(error) if asked_wait else None) or 0)
            sleep(min(delay, remaining))


class TokenBucket:
    """A client-side token bucket, as EC2 applies to each account's requests: ``capacity`` tokens, refilled at ``rate``
    per second. ``take()`` blocks until a token is free, so that calls sent from many threads stay within a request rate
    instead of being throttled (what is still throttled gets the wrappers' jittered backoff). Thread-safe."""

    def __init__(self, rate, capacity, sleep=time.sleep, monotonic=time.monotonic):
        if rate <= 0 or capacity < 1:
            raise ValueError("TokenBucket needs rate > 0 and capacity >= 1")
        self.rate = float(rate)
        self.capacity = float(capacity)
        self._tokens = float(capacity)
        self._sleep = sleep
        self._monotonic = monotonic
        self._last = monotonic()
        self._lock = threading.Lock()

    def take(self):
        while True:
            with self._lock:
                now = self._monotonic()
                self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                short = (1 - self._tokens) / self.rate
            self._sleep(short)


def run_bounded(work, items, max_workers):
    """``work(item)`` for every item on at most ``max_workers`` threads; the results in the items' order.

    ``work`` must not raise: each item's failure is part of its result, so that one item never stops the others.
    """
    items = list(items)
    if not items:
        return []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(items)))) as pool:
        return list(pool.map(work, items))
