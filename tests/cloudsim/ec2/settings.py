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
