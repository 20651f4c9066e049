# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pytest fixtures for tests against the Lightsail simulator; import them into a test module or conftest.py.

``lightsail_cloud`` is one cloudsim subprocess running only Lightsail for the whole session (the
shared ``cloud`` fixture runs EC2 only); ``lightsail_frozen`` is it wiped with simulated time frozen and new
resources visible at once.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config

from cloudsim.client import CloudSim


@pytest.fixture(scope="session")
def lightsail_cloud():
    with CloudSim.start(speed=0, services=("lightsail",)) as running:
        yield running


@pytest.fixture
def lightsail_frozen(lightsail_cloud):  # pylint: disable=redefined-outer-name
    """Lightsail wiped (resources, settings, faults, journal) with the clock frozen: only ``advance()`` moves it.

    New resources show at once here (``visibility_delay_seconds`` 0), so that a test steps through the behaviour it is
    about; a test of eventual consistency sets the delay itself. Everywhere else the default delay is on.
    """
    lightsail_cloud.reset(speed=0)
    lightsail_cloud.lightsail_config(visibility_delay_seconds=0)
    return lightsail_cloud


def make_lightsail_client(cloud: CloudSim, total_attempts: int | None = None):
    """boto3 Lightsail client for cloudsim; ``total_attempts`` includes the first try (1 = no retries)."""
    config = Config(retries={"total_max_attempts": total_attempts, "mode": "standard"}) if total_attempts else None
    return boto3.client("lightsail", config=config, **cloud.aws_client_kwargs("lightsail"))


@pytest.fixture
def lightsail(lightsail_frozen):  # pylint: disable=redefined-outer-name
    return make_lightsail_client(lightsail_frozen, total_attempts=1)
