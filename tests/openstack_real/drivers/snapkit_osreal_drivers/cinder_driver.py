# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cinder's FakeLoggingVolumeDriver, able to make a volume from an image without qemu-img.

The image path of the generic driver converts the image with ``qemu-img`` through privsep; here the clone path says
the image was cloned, so the volume manager marks the volume bootable and copies the image's metadata into
``volume_image_metadata`` as it does after any clone.
"""

from cinder.tests import fake_driver


class SnapkitFakeVolumeDriver(fake_driver.FakeLoggingVolumeDriver):
    """FakeLoggingVolumeDriver whose clone_image always succeeds."""

    def clone_image(self, context, volume, image_location, image_meta, image_service):
        return {"provider_location": None}, True
