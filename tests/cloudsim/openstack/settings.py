# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OpenStack simulator's settings: simulated durations (``GET/POST /openstack/config``)."""

from __future__ import annotations

import dataclasses

from cloudsim.simulator import SimSettings


@dataclasses.dataclass
class OpenStackSettings(SimSettings):
    """Simulated durations in seconds (changed through ``POST /openstack/config``)."""

    server_build_seconds: float = 30.0
    server_transition_seconds: float = 10.0
    snapshot_seconds_base: float = 30.0
    snapshot_seconds_per_gib: float = 10.0
    image_queued_seconds: float = 10.0
    image_seconds_base: float = 30.0
    image_seconds_per_gib: float = 20.0
    volume_seconds_base: float = 10.0
    volume_seconds_per_gib: float = 1.0
    # A snapshot delete the backend gives up (Ceph's RBD driver: the snapshot has dependent volumes) turns back to
    # available after this long.
    snapshot_delete_seconds: float = 5.0
