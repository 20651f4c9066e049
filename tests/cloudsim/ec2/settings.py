# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The EC2 simulator's settings: simulated durations and limits (``GET/POST /ec2/config``)."""

from __future__ import annotations

import dataclasses

from cloudsim.simulator import SimSettings


@dataclasses.dataclass
class Ec2Settings(SimSettings):
    """Simulated durations, in simulated seconds; changed through ``POST /ec2/config``."""

    snapshot_seconds_base: float = 60.0
    snapshot_seconds_per_gib: float = 30.0
    instance_transition_seconds: float = 30.0
    volume_create_seconds: float = 10.0
    volume_attach_seconds: float = 5.0
    volume_detach_seconds: float = 5.0
    # ModifyVolume: "modifying", then "optimizing", then "completed".
    volume_modify_seconds: float = 10.0
    volume_optimize_seconds: float = 60.0
    # ModifyVolume's rate limit (botocore's ec2 model): a volume is modified at most this many times in a rolling window
    # of this many seconds, each once the previous one is completed. Older EC2 documentation describes a fixed 6-hour
    # wait after each modification instead: volume_modifications_per_window=1, volume_modification_window_seconds=21600.
    volume_modifications_per_window: int = 4
    volume_modification_window_seconds: float = 24 * 3600.0
    copy_seconds_base: float = 60.0
    copy_seconds_per_gib: float = 10.0
    # EC2 Service Quotas: concurrent snapshot copies to one destination Region.
    copy_concurrent_limit: int = 20
    # Eventual consistency ("Eventual consistency in the Amazon EC2 API"): a new snapshot, copy or volume is missing
    # from Describe* and answers Invalid*.NotFound (by id, to CreateTags) for a while. Each new resource draws its
    # delay uniformly between the two bounds from a random seeded with visibility_seed, so a run replays.
    visibility_delay_min_seconds: float = 0.0
    visibility_delay_max_seconds: float = 10.0
    visibility_seed: int = 0
    # Real seconds (not simulated) CreateSnapshots takes to answer, after the journal entry: lets a test see how many
    # calls a client keeps in flight at once (0: answer at once).
    create_snapshots_answer_seconds: float = 0.0

    def visibility_delay(self, book) -> float:
        return book.visibility_delay(self.visibility_seed, self.visibility_delay_min_seconds, self.visibility_delay_max_seconds)

    def snapshot_duration(self, size_gib: int) -> float:
        return self.snapshot_seconds_base + self.snapshot_seconds_per_gib * float(size_gib)

    def copy_duration(self, size_gib: int) -> float:
        return self.copy_seconds_base + self.copy_seconds_per_gib * float(size_gib)
