# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PeriodicSampler: start once, sample until the with block ends, and not after."""

from __future__ import annotations

import threading

import pytest

from cloudsim.sampler import PeriodicSampler


class Counting(PeriodicSampler):
    def __init__(self, enough):
        super().__init__(interval=0.001)
        self.started = 0
        self.samples = 0
        self.enough = enough

    def start(self):
        self.started += 1

    def sample(self):
        self.samples += 1
        if self.samples == 3:
            self.enough.set()


def test_samples_between_enter_and_exit_only():
    enough = threading.Event()
    with Counting(enough) as sampler:
        assert enough.wait(30), "the sampler never sampled three times"
    seen = sampler.samples
    assert sampler.started == 1
    assert seen >= 3
    assert not sampler._thread.is_alive()  # pylint: disable=protected-access
    assert sampler.samples == seen  # nothing after the with block


def test_sample_is_abstract():
    with pytest.raises(NotImplementedError):
        PeriodicSampler(interval=1).sample()
