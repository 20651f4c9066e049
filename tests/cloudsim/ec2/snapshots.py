# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EBS snapshot lifecycle on the simulated clock.

moto creates snapshots already ``completed``. Here every snapshot gets a :class:`SnapshotTiming`
fixed at creation: it is ``pending`` with rising progress for a duration proportional to the
volume size, then ``completed`` - or ``error`` at an injected progress. State is computed lazily
from the clock on every read, so no background thread is needed.

Behaviour taken from the EBS documentation and AWS knowledge-center articles:

* snapshots of one volume are worked on one after the other: a newer snapshot stays pending at 0%
  until the older pending one finishes;
* a volume may have 5 pending snapshots (1 for ``st1``/``sc1``); snapshots deleted while in
  progress keep running and keep counting, and snapshots in ``error`` count until deleted;
* if one snapshot of a multi-volume set (one ``CreateSnapshots`` call) fails, all snapshots of the
  set show ``error``;
* the snapshots of a multi-volume set complete together: a member whose volume is done is held at
  99% ``pending`` until every member is done (its volume is free for the next snapshot meanwhile);
* EC2 is eventually consistent: a new snapshot (or copy) is missing from ``DescribeSnapshots`` and
  answers ``InvalidSnapshot.NotFound`` by id or to ``CreateTags`` until ``visible_at`` (see
  :mod:`cloudsim.ec2.visibility`).
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import random

from moto.ec2.models.elastic_block_store import Snapshot

from cloudsim.clock import SimClock

PENDING = "pending"
COMPLETED = "completed"
ERROR = "error"

# The failure texts are our own: AWS does not document the StateMessage of a failed snapshot.
OWN_FAILURE_MESSAGE = "Snapshot creation failed due to an internal error."
SET_FAILURE_MESSAGE = "Snapshot creation failed because another snapshot of the multi-volume snapshot set failed."

CONCURRENT_LIMIT_MESSAGE = "Maximum allowed in-progress snapshots for a single volume exceeded."
LOW_CONCURRENCY_VOLUME_TYPES = frozenset({"st1", "sc1"})


def concurrent_limit(volume_type: str | None) -> int:
    """How many pending snapshots a volume of this type may have."""
    return 1 if volume_type in LOW_CONCURRENCY_VOLUME_TYPES else 5


def moto_datetime(epoch: float) -> datetime.datetime:
    """Naive UTC datetime (moto's convention) cut to whole milliseconds, as EC2 timestamps are."""
    moment = datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc).replace(tzinfo=None)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def whole_milliseconds(epoch: float) -> float:
    """The POSIX time of :func:`moto_datetime`, so stored and rendered start times agree."""
    return int(epoch * 1000) / 1000.0


class SnapshotSet:
    """The snapshots created by one CreateSnapshots call: they share StartTime and failure."""

    _ids = itertools.count(1)

    def __init__(self, instance_id: str) -> None:
        self.set_id = f"set-{next(self._ids):06d}"
        self.instance_id = instance_id
        self.timings: list[SnapshotTiming] = []

    def failure_time(self) -> float | None:
        """When the first member fails; all members show error from then on."""
        times = [timing.own_failure_time() for timing in self.timings if timing.fail_at_progress is not None]
        return min(times) if times else None

    def completion_time(self) -> float:
        """When the last member's volume is done: every member completes then, together."""
        return max(timing.work_done_time() for timing in self.timings)


@dataclasses.dataclass
class SnapshotTiming:
    """When a snapshot starts, progresses, and ends; fixed when the snapshot is created."""

    snapshot_id: str
    volume_id: str
    start: float
    work_begins: float
    duration: float
    fail_at_progress: float | None = None
    snapshot_set: SnapshotSet | None = None
    deleted: bool = False
    # Eventual consistency: before this moment EC2 does not list the snapshot or find it by id.
    visible_at: float = 0.0

    def work_done_time(self) -> float:
        """When the work on this snapshot's own volume is done."""
        return self.work_begins + self.duration

    def completion_time(self) -> float:
        """When the snapshot shows completed: its own work done, or for a set member, every member's."""
        if self.snapshot_set is not None:
            return self.snapshot_set.completion_time()
        return self.work_done_time()

    def own_failure_time(self) -> float:
        return self.work_begins + self.duration * (self.fail_at_progress or 0) / 100.0

    def error_time(self) -> float | None:
        if self.snapshot_set is not None:
            return self.snapshot_set.failure_time()
        if self.fail_at_progress is not None:
            return self.own_failure_time()
        return None

    def end_time(self) -> float:
        """When work on the volume stops (the next snapshot of the volume starts then)."""
        error_time = self.error_time()
        if error_time is None:
            return self.work_done_time()
        return min(error_time, self.work_done_time())

    def fraction_at(self, moment: float) -> float:
        if self.duration <= 0:
            return 1.0 if moment >= self.work_begins else 0.0
        return min(1.0, max(0.0, (moment - self.work_begins) / self.duration))

    def state_at(self, moment: float) -> str:
        error_time = self.error_time()
        if error_time is not None and moment >= error_time:
            return ERROR
        if moment >= self.completion_time():
            return COMPLETED
        return PENDING

    def percent_at(self, moment: float) -> int:
        state = self.state_at(moment)
        if state == COMPLETED:
            return 100
        if state == ERROR:
            moment = min(self.error_time(), self.completion_time())
        # round() first so 40% of a duration is not shown as 39% through float noise
        percent = int(round(self.fraction_at(moment) * 100, 6))
        return min(percent, 99)  # 100% is for completed snapshots only (a held set member shows 99%)

    def state_message(self, moment: float) -> str | None:
        if self.state_at(moment) != ERROR:
            return None
        if self.fail_at_progress is not None and self.own_failure_time() <= (self.error_time() or 0):
            return OWN_FAILURE_MESSAGE
        return SET_FAILURE_MESSAGE

    def blocks_new_snapshots(self, moment: float) -> bool:
        """Counts against the concurrent limit: pending (even if deleted) or error (until deleted)."""
        state = self.state_at(moment)
        return state == PENDING or (state == ERROR and not self.deleted)


class SimulatedSnapshot(Snapshot):
    """A moto snapshot whose state, progress and StartTime follow the simulated clock.

    It lives in moto's backend like any other snapshot, so moto's own code (filters, tags,
    attributes, DeleteSnapshot) keeps working on it.
    """

    def __init__(self, ec2_backend, snapshot_id: str, volume, description: str, clock: SimClock, timing: SnapshotTiming) -> None:
        kms_key_id = volume.kms_key_id if volume.encrypted else None
        super().__init__(ec2_backend, snapshot_id, volume, description, encrypted=volume.encrypted, kms_key_id=kms_key_id)
        self.clock = clock
        self.timing = timing
        self.start_time = moto_datetime(timing.start)
        # The size at snapshot time; moto would follow later resizes of the volume.
        self.size_at_start = volume.size

    # moto's __init__ assigns status = "completed"; the simulated state wins, so the write is ignored.
    @property
    def status(self) -> str:
        return self.timing.state_at(self.clock.time())

    @status.setter
    def status(self, _ignored: str) -> None:
        return

    @property
    def progress(self) -> str:
        return f"{self.timing.percent_at(self.clock.time())}%"

    @property
    def state_message(self) -> str | None:
        return self.timing.state_message(self.clock.time())

    @property
    def volume_size(self) -> int:
        return self.size_at_start

    @property
    def visible_at(self) -> float:
        return self.timing.visible_at

    def completion_time(self) -> datetime.datetime | None:
        if self.status != COMPLETED:
            return None
        return moto_datetime(self.timing.completion_time())

    def get_filter_value(self, filter_name: str, method_name: str | None = None):
        if filter_name == "progress":
            return self.progress
        if filter_name == "volume-size":
            return self.size_at_start
        return super().get_filter_value(filter_name, method_name)


@dataclasses.dataclass
class FailurePlan:
    """An injected failure for the next snapshot of a volume (or of any volume of an instance)."""

    plan_id: int
    at_progress: float
    volume_id: str | None = None
    instance_id: str | None = None

    def matches(self, volume_id: str, instance_id: str | None) -> bool:
        if self.volume_id:
            return self.volume_id == volume_id
        return bool(instance_id) and self.instance_id == instance_id

    def as_dict(self) -> dict:
        return {"id": self.plan_id, "volume_id": self.volume_id, "instance_id": self.instance_id, "at_progress": self.at_progress}


class SnapshotBook:
    """Timings of all simulated snapshots (including deleted ones still running) and failure plans."""

    def __init__(self) -> None:
        self.timings_by_volume: dict[str, list[SnapshotTiming]] = {}
        self.failure_plans: list[FailurePlan] = []
        self._plan_ids = itertools.count(1)
        # Snapshot copies by destination region (their limit is per region, not per volume).
        self.copies_by_region: dict[str, list[SnapshotTiming]] = {}
        # CreateVolume ClientToken -> volume id, per account and region.
        self.client_tokens: dict[tuple, str] = {}
        # Draws the visibility delay of each new resource; (re)seeded when the seed setting changes.
        self._visibility_random: tuple[int, random.Random] | None = None

    def visibility_delay(self, seed: int, low: float, high: float) -> float:
        """The next new resource's visibility delay: uniform in [low, high], from a random seeded with ``seed``."""
        if self._visibility_random is None or self._visibility_random[0] != seed:
            self._visibility_random = (seed, random.Random(seed))  # nosec B311 - a reproducible test double
        low, high = min(low, high), max(low, high)
        return self._visibility_random[1].uniform(low, high)

    def pending_copies(self, region: str, moment: float) -> int:
        return sum(1 for timing in self.copies_by_region.get(region, []) if timing.state_at(moment) == PENDING)

    def timings(self, volume_id: str) -> list[SnapshotTiming]:
        return self.timings_by_volume.get(volume_id, [])

    def all_timings(self) -> list[SnapshotTiming]:
        return [timing for timings in self.timings_by_volume.values() for timing in timings]

    def blocking_count(self, volume_id: str, moment: float) -> int:
        return sum(1 for timing in self.timings(volume_id) if timing.blocks_new_snapshots(moment))

    def queue_free_at(self, volume_id: str, moment: float) -> float:
        """When the volume has finished its older snapshots, so a new one can make progress."""
        ends = [timing.end_time() for timing in self.timings(volume_id)]
        return max([moment] + ends)

    def add(self, timing: SnapshotTiming) -> None:
        self.timings_by_volume.setdefault(timing.volume_id, []).append(timing)

    def mark_deleted(self, snapshot_id: str) -> None:
        for timing in self.all_timings():
            if timing.snapshot_id == snapshot_id:
                timing.deleted = True

    def plan_failure(self, at_progress: float, volume_id: str | None = None, instance_id: str | None = None) -> FailurePlan:
        if not volume_id and not instance_id:
            raise ValueError('give "volume_id" or "instance_id"')
        if not 0 <= float(at_progress) < 100:
            raise ValueError("at_progress must be in [0, 100)")
        plan = FailurePlan(next(self._plan_ids), float(at_progress), volume_id=volume_id, instance_id=instance_id)
        self.failure_plans.append(plan)
        return plan

    def take_failure(self, volume_id: str, instance_id: str | None) -> FailurePlan | None:
        for plan in self.failure_plans:
            if plan.matches(volume_id, instance_id):
                self.failure_plans.remove(plan)
                return plan
        return None
