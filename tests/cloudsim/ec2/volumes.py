# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EBS volumes, attachments and snapshot copies on the simulated clock.

moto creates volumes ``available`` at once, attaches and detaches them instantly, gives a volume
made from an encrypted snapshot the region's default key instead of the snapshot's, and completes
snapshot copies at once. Here, as on EC2 (CreateVolume, AttachVolume, DetachVolume and
CopySnapshot API reference; "Amazon EBS encryption" and "Copy an Amazon EBS snapshot" user guide):

* a new volume is ``creating`` for a while, then ``available``;
* an attachment is ``attaching`` (volume ``in-use``) for a while, then ``attached``; a detach is
  ``detaching`` (volume still ``in-use``, the device still taken) until the volume is ``available``;
* a volume from an encrypted snapshot is encrypted with the snapshot's KMS key unless a KmsKeyId
  is given; an encrypted copy in another region uses the KmsKeyId or the destination's default key
  (KMS keys are regional);
* a copy is ``pending`` with rising progress and has the arbitrary volume id ``vol-ffffffff``.
"""

from __future__ import annotations

from moto.ec2.models.elastic_block_store import Volume, VolumeAttachment

from cloudsim.clock import SimClock
from cloudsim.ec2.snapshots import SimulatedSnapshot, SnapshotTiming

# EC2's documented placeholder volume id of snapshots made by CopySnapshot.
COPY_VOLUME_ID = "vol-ffffffff"


class SimulatedAttachment(VolumeAttachment):
    """``attaching`` until ``attached_at``, then ``attached``; ``detaching`` after a DetachVolume."""

    def __init__(self, volume, instance, device: str, clock: SimClock, attached_at: float) -> None:
        self._clock = clock
        self._attached_at = attached_at
        self._detached_at: float | None = None
        super().__init__(volume, instance, device, "attaching")

    @property
    def status(self) -> str:
        moment = self._clock.time()
        if self._detached_at is not None:
            return "detaching" if moment < self._detached_at else "detached"
        return "attaching" if moment < self._attached_at else "attached"

    @status.setter
    def status(self, _ignored: str) -> None:
        # moto writes "attached"/"detached" at once; the clock decides here.
        return

    def begin_detach(self, detached_at: float) -> None:
        self._detached_at = detached_at

    def detach_done(self) -> bool:
        return self._detached_at is not None and self._clock.time() >= self._detached_at


class SimulatedVolume(Volume):
    """A moto volume that is ``creating`` until ``ready_at`` and keeps a detaching attachment visible."""

    # Eventual consistency: CreateVolume sets when EC2 starts to see the volume (see cloudsim.ec2.visibility).
    visible_at = 0.0

    def __init__(self, ec2_backend, volume_id: str, clock: SimClock, ready_at: float, **fields) -> None:
        self._clock = clock
        self._ready_at = ready_at
        self._detaching: SimulatedAttachment | None = None
        super().__init__(ec2_backend, volume_id, **fields)

    @property
    def attachment(self):
        current = self.__dict__.get("_attachment")
        if current is not None:
            return current
        if self._detaching is not None and not self._detaching.detach_done():
            return self._detaching
        return None

    @attachment.setter
    def attachment(self, value) -> None:
        self.__dict__["_attachment"] = value

    def begin_detach(self, attachment: SimulatedAttachment) -> None:
        self._detaching = attachment

    @property
    def status(self) -> str:
        if self._clock.time() < self._ready_at:
            return "creating"
        return "in-use" if self.attachment else "available"


class CopiedSnapshot(SimulatedSnapshot):
    """A snapshot made by CopySnapshot: its own timing, encryption and the placeholder volume id."""

    def __init__(self, ec2_backend, snapshot_id: str, source, description: str, clock: SimClock,
                 timing: SnapshotTiming, kms_key_id: str | None) -> None:
        super().__init__(ec2_backend, snapshot_id, source.volume, description, clock, timing)
        self.encrypted = kms_key_id is not None
        self.kms_key_id = kms_key_id
        self.size_at_start = source.volume_size

    @property
    def volume_id(self) -> str:
        return COPY_VOLUME_ID

    def get_filter_value(self, filter_name: str, method_name: str | None = None):
        if filter_name == "volume-id":
            return COPY_VOLUME_ID
        return super().get_filter_value(filter_name, method_name)


def attachment_at(backend, instance_id: str, device: str):
    """The attachment (attaching, attached or still detaching) holding ``device`` on the instance."""
    for volume in backend.volumes.values():
        attachment = volume.attachment
        if attachment is not None and attachment.instance.id == instance_id and attachment.device == device:
            return attachment
    return None


def adopt_seeded(volume, clock: SimClock) -> SimulatedVolume:
    """Turn a volume moto made (a seeded one, already attached) into a simulated, settled one."""
    attachment = volume.__dict__.pop("attachment", None)
    volume.__class__ = SimulatedVolume
    volume._clock = clock  # pylint: disable=protected-access
    volume._ready_at = clock.time()  # pylint: disable=protected-access
    volume._detaching = None  # pylint: disable=protected-access
    if attachment is not None:
        attachment = SimulatedAttachment(volume, attachment.instance, attachment.device, clock, clock.time())
    volume.attachment = attachment
    return volume
