# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pytest fixtures for any test suite that runs against cloudsim; import them into a conftest.py.

``cloud`` is one real cloudsim subprocess per pytest worker for the whole session; ``fresh`` is
that cloud wiped (no resources, faults or journal) and running at ``FAST_SPEED``.
"""

from __future__ import annotations

import pytest

from cloudsim.client import CloudSim

# A 2-hour simulated snapshot takes 12 s of real time.
FAST_SPEED = 600


@pytest.fixture(scope="session")
def cloud():
    with CloudSim.start(speed=FAST_SPEED) as running:
        yield running


@pytest.fixture
def fresh(cloud):  # pylint: disable=redefined-outer-name
    """cloudsim wiped, running fast; tests that need exact timings freeze the clock (speed 0)."""
    cloud.reset(speed=FAST_SPEED)
    return cloud
