# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures: one real cloudsim subprocess per test session, reset before every test."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config

from cloudsim.client import CloudSim
from cloudsim.lightsail.testing import lightsail, lightsail_cloud, lightsail_frozen  # noqa: F401  pylint: disable=unused-import
from cloudsim.testing import cloud  # noqa: F401  pylint: disable=unused-import
from cloudsim.testing import fresh  # noqa: F401  pylint: disable=unused-import
from cloudsim.windows.testing import windows_cloud, windows_frozen  # noqa: F401  pylint: disable=unused-import


@pytest.fixture
def frozen(fresh):
    """cloudsim wiped with simulated time frozen: only ``advance()`` moves it."""
    fresh.set_speed(0)
    return fresh


def make_ec2_client(cloud: CloudSim, total_attempts: int | None = None):
    """boto3 EC2 client for cloudsim; ``total_attempts`` includes the first try (1 = no retries)."""
    config = Config(retries={"total_max_attempts": total_attempts, "mode": "standard"}) if total_attempts else None
    return boto3.client("ec2", config=config, **cloud.aws_client_kwargs())


@pytest.fixture
def ec2(fresh):
    return make_ec2_client(fresh)


@pytest.fixture
def ec2_client_factory(fresh):
    """``factory(total_attempts)`` -> a boto3 EC2 client with that retry budget."""
    return lambda total_attempts=None: make_ec2_client(fresh, total_attempts)
