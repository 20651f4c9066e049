# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cinder's FakeLoggingVolumeDriver, able to make a volume from an image without qemu-img, and refusing to delete a
snapshot that volumes were made from, as Ceph's RBD driver does.

The image path of the generic driver converts the image with ``qemu-img`` through privsep; here the clone path says
the image was cloned, so the volume manager marks the volume bootable and copies the image's metadata into
``volume_image_metadata`` as it does after any clone.

RBD clones a volume from a snapshot (copy on write) and cannot delete a snapshot with clones unless
``rbd_flatten_volume_from_snapshot`` is set: its ``delete_snapshot`` raises ``SnapshotIsBusy`` (cinder/volume/drivers/rbd.py),
and Cinder's volume manager puts the snapshot back to ``available`` with a user message. The fake driver copies
nothing, so it keeps the same rule with the database: a snapshot is busy while a volume made from it exists.
"""

from cinder import context as cinder_context
from cinder import exception
from cinder import objects
from cinder.tests import fake_driver


class SnapkitFakeVolumeDriver(fake_driver.FakeLoggingVolumeDriver):
    """FakeLoggingVolumeDriver whose clone_image always succeeds and whose snapshots with clones are busy."""

    def clone_image(self, context, volume, image_location, image_meta, image_service):
        return {"provider_location": None}, True

    def delete_snapshot(self, snapshot):
        clones = objects.VolumeList.get_all(cinder_context.get_admin_context(), filters={"snapshot_id": snapshot.id})
        if clones.objects:
            raise exception.SnapshotIsBusy(snapshot_name=snapshot.name or snapshot.id)
        return super().delete_snapshot(snapshot)
