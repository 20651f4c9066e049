# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A nova virt driver for a machine without a hypervisor: nova's FakeDriver, with three gaps closed.

- ``snapshot()`` uploads a small payload the way the libvirt driver uploads a disk, so a createImage image turns
  ``active`` (FakeDriver uploads nothing and leaves it ``queued``);
- the node keeps one identity across restarts (``FakeDriverWithoutFakeNodes``: ``compute_id`` under ``state_path``);
- guests survive a nova-compute restart: ``init_host`` re-adopts the instances the database places on this host;
- disks are named as the libvirt driver names them on a KVM guest (virtio bus): the root ``/dev/vda``, then
  ``/dev/vdb``...; FakeDriver names none and nova's fallback gives ``/dev/sda``.

nova-compute loads ``nova.virt.<compute_driver>``; tests/openstack_real/run_nova_compute.py aliases this module
as ``nova.virt.snapkit_fake`` before nova starts.
"""

import io

from nova import context as nova_context
from nova import objects
from nova.compute import power_state
from nova.compute import task_states
from nova.image import glance
from nova.virt import fake

PAYLOAD = b"snapkit-osreal fake disk\n" + bytes(4096)


class SnapkitFakeDriver(fake.FakeDriverWithoutFakeNodes):
    """FakeDriver that snapshots with a payload, keeps its node and re-adopts its guests."""

    def init_host(self, host):
        super().init_host(host)
        context = nova_context.get_admin_context()
        for instance in objects.InstanceList.get_by_host(context, host):
            if instance.deleted or instance.vm_state in ("deleted", "error", "building"):
                continue
            state = instance.power_state if instance.power_state is not None else power_state.RUNNING
            self.instances[instance.uuid] = fake.FakeInstance(instance.name, state, instance.uuid)
            flavor = instance.flavor
            self.resources.claim(vcpus=flavor.vcpus, mem=flavor.memory_mb, disk=flavor.root_gb)

    def default_root_device_name(self, instance, image_meta, root_bdm):
        # nova then names the other disks after the root's prefix (compute_utils.get_next_device_name): /dev/vdb...
        return "/dev/vda"

    def snapshot(self, context, instance, image_id, update_task_state):
        if instance.uuid not in self.instances:
            raise fake.exception.InstanceNotRunning(instance_id=instance.uuid)
        image_api = glance.API()
        image_api.get(context, image_id)
        update_task_state(task_state=task_states.IMAGE_PENDING_UPLOAD)
        update_task_state(task_state=task_states.IMAGE_UPLOADING, expected_state=task_states.IMAGE_PENDING_UPLOAD)
        container = instance.image_meta.container_format if instance.image_meta.obj_attr_is_set("container_format") else "bare"
        metadata = {"disk_format": "raw", "container_format": container or "bare"}
        # purge_props=False: keep what nova's API put on the image (instance_uuid, image_type, the base image's properties).
        image_api.update(context, image_id, metadata, data=io.BytesIO(PAYLOAD), purge_props=False)
