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
* a copy is ``pending`` with rising progress and has the arbitrary volume id ``vol-ffffffff``;
* an ``io1``/``io2`` volume made with ``MultiAttachEnabled`` can be attached to several instances of
  its zone at once (up to 16, "Attach a volume to multiple instances with Amazon EBS Multi-Attach");
* ``ModifyVolume`` changes the volume at once and records a modification that is ``modifying``, then
  ``optimizing`` with rising progress, then ``completed``, with every original and target field
  ("Monitor the progress of volume modifications"); one modification at a time per volume.
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
    def shared_attachments(self) -> list:
        """Multi-Attach: the attachments to further instances, beside ``attachment`` (the first)."""
        return self.__dict__.setdefault("_shared_attachments", [])

    def all_attachments(self) -> list:
        """Every attachment EC2 shows (attaching, attached or still detaching)."""
        shared = [attachment for attachment in self.shared_attachments if not attachment.detach_done()]
        return ([self.attachment] if self.attachment is not None else []) + shared

    @property
    def modifications(self) -> list:
        """The VolumeModification records of ModifyVolume, oldest first."""
        return self.__dict__.setdefault("_modifications", [])

    @modifications.setter
    def modifications(self, _ignored) -> None:
        # moto's __init__ assigns an empty list; the records live in __dict__ above.
        return

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
        return "in-use" if self.all_attachments() else "available"


class VolumeModificationRecord:
    """One ModifyVolume: the volume's fields before and after, and its state on the clock."""

    FIELDS = (("Size", "size"), ("Iops", "iops"), ("VolumeType", "volume_type"), ("Throughput", "throughput"),
              ("MultiAttachEnabled", "multi_attach_enabled"))

    def __init__(self, volume, original: dict, clock: SimClock, modifying_seconds: float, optimizing_seconds: float) -> None:
        self.volume_id = volume.id
        self.original = original
        self.target = {name: getattr(volume, attribute) for name, attribute in self.FIELDS}
        self._clock = clock
        self.start = clock.time()
        self.optimizing_at = self.start + modifying_seconds
        self.end = self.optimizing_at + optimizing_seconds

    def state(self) -> str:
        moment = self._clock.time()
        if moment >= self.end:
            return "completed"
        return "optimizing" if moment >= self.optimizing_at else "modifying"

    def progress(self) -> int:
        if self.end <= self.start:
            return 100
        return min(100, int((self._clock.time() - self.start) * 100 // (self.end - self.start)))

    def described(self, moto_datetime) -> dict:
        fields = {"VolumeId": self.volume_id, "ModificationState": self.state(), "Progress": self.progress(),
                  "StartTime": moto_datetime(self.start)}
        for name, _attribute in self.FIELDS:
            for prefix, values in (("Original", self.original), ("Target", self.target)):
                value = values.get(name)
                if value is not None:
                    fields[prefix + name] = bool(value) if name == "MultiAttachEnabled" else value
        if self.state() == "completed":
            fields["EndTime"] = moto_datetime(self.end)
        return fields


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
