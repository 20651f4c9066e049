# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A measurement taken in the background while a playbook runs: ``sample()`` every ``interval`` seconds in a thread.

Subclasses keep what they measure (a peak, a running sum) in their own attributes; the ``with`` block is the run::

    class Peak(PeriodicSampler):
        def sample(self):
            self.peak = max(self.peak, read_something())

    with Peak(interval=1.0) as peak:
        run_the_playbook()
    print(peak.peak)

Used by the load test (peak memory) and the Lightsail demo and benchmark (simulated time not running).
"""

from __future__ import annotations

import threading


class PeriodicSampler:
    """Calls ``sample()`` every ``interval`` seconds from entering the ``with`` block until leaving it."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        """Called once in the thread before the first interval: a baseline reading, if the sampler needs one."""

    def sample(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        self.start()
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_exc_info) -> None:
        self._stop.set()
        self._thread.join()
