# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pytest fixtures for the EC2 simulator's own tests; import them into a test module."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def consistent_ec2(fresh):
    """New EC2 resources visible at once: for tests of behaviours other than the visibility delay (on by default)."""
    fresh.ec2_config(visibility_delay_max_seconds=0)
    return fresh


def past_visibility_delay(cloud) -> None:
    """Move simulated time past the longest delay before EC2 shows a new resource (eventual consistency)."""
    cloud.advance(cloud.ec2_config()["visibility_delay_max_seconds"] + 1)
