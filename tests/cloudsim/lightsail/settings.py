# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Lightsail simulator's settings: simulated durations and page size (``GET/POST /lightsail/config``)."""

from __future__ import annotations

import dataclasses
import random

from cloudsim.simulator import SimSettings


@dataclasses.dataclass
class LightsailSettings(SimSettings):
    """Simulated durations in simulated seconds; changed through ``POST /lightsail/config``."""

    instance_transition_seconds: float = 30.0
    snapshot_seconds_base: float = 60.0
    snapshot_seconds_per_gib: float = 5.0
    reboot_seconds: float = 20.0
    windows_password_seconds: float = 240.0
    # After StartInstance the state still reads "stopped" this long before "pending" (the service is eventually
    # consistent; its start answers before the state it reports has moved).
    start_lag_seconds: float = 2.0
    # Eventual consistency: a new instance, instance snapshot or static IP answers NotFoundException (and is left out of
    # listings) for a seeded random delay between these two bounds after its create; its name is taken from the start.
    visibility_delay_min_seconds: float = 0.0
    visibility_delay_seconds: float = 4.0
    visibility_seed: int = 0
    auto_snapshot_seconds: float = 900.0
    page_size: int = 25

    def check(self, key: str, value: float) -> None:
        if key == "page_size" and value < 1:
            raise ValueError(f"page_size must be >= 1, got {value}")

    def snapshot_duration(self, size_gib: int) -> float:
        return self.snapshot_seconds_base + self.snapshot_seconds_per_gib * size_gib

    def visibility_delay(self, region: str, name: str) -> float:
        """The delay before a new resource shows, the same for the same seed, region and name (simulated seconds)."""
        low = self.visibility_delay_min_seconds
        return random.Random(f"{self.visibility_seed}/{region}/{name}").uniform(low, max(low, self.visibility_delay_seconds))
