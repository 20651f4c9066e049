# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the services do to the simulated cloud, shared by the API handlers and the control routes.

The rules follow the OpenStack sources and api-ref as summarised in
``shared/reference/openstack.md``: task states block concurrent actions (409), createImage on a
volume-backed server force-snapshots every attached volume and makes a zero-size image that is
active at once, Cinder's ``force`` rules change at microversion 3.66.
"""

from __future__ import annotations

import json

from cloudsim.openstack.state import Attachment, Image, OpenStackCloud, Port, Server, Snapshot, Volume
from cloudsim.openstack.wire import ApiError, Microversion, new_id, not_found

# Nova accepts createImage in these states (PAUSED and SUSPENDED too; we do not model them).
SNAPSHOTTABLE_SERVER_STATES = ("ACTIVE", "SHUTOFF")
CINDER_FORCE_OPTIONAL = Microversion(3, 66)
# Cinder's SNAPSHOT_IN_USE_FLAG_MSG (cinder/api/v3/snapshots.py).
SNAPSHOT_IN_USE_FLAG_MSG = ("Since microversion 3.66 the 'force' flag is invalid for this request. For backward compatibility, "
                            "however, when the 'force' flag is passed with a value evaluating to True, it is silently ignored.")


class Operations:
    """Mutations of an :class:`OpenStackCloud` at simulated time ``now`` (callers hold the lock)."""

    def __init__(self, cloud: OpenStackCloud, now: float) -> None:
        self.cloud = cloud
        self.now = now
        self.settings = cloud.settings

    # Lookups -----------------------------------------------------------------------------------

    def server(self, server_id: str) -> Server:
        if server_id not in self.cloud.servers:
            raise ApiError(404, f"Instance {server_id} could not be found.")
        return self.cloud.servers[server_id]

    def volume(self, volume_id: str) -> Volume:
        if volume_id not in self.cloud.volumes:
            raise ApiError(404, f"Volume {volume_id} could not be found.")
        return self.cloud.volumes[volume_id]

    def snapshot(self, snapshot_id: str) -> Snapshot:
        if snapshot_id not in self.cloud.snapshots:
            raise ApiError(404, f"Snapshot {snapshot_id} could not be found.")
        return self.cloud.snapshots[snapshot_id]

    def image(self, image_id: str) -> Image:
        if image_id not in self.cloud.images:
            raise not_found("Image", image_id)
        return self.cloud.images[image_id]

    # Neutron -----------------------------------------------------------------------------------

    def create_port(self, network_id: str, fixed_ip: str | None = None, device_id: str = "", device_owner: str = "") -> Port:
        if network_id not in self.cloud.networks:
            raise ApiError(404, f"Network {network_id} could not be found.", "NetworkNotFound")
        subnet = self.cloud.subnet_for(network_id, fixed_ip) if fixed_ip else self.cloud.subnet_for(network_id)
        if fixed_ip and self.cloud.ip_in_use(network_id, fixed_ip):
            raise ApiError(409, f"IP address {fixed_ip} already allocated in subnet {subnet.subnet_id}", "IpAddressAlreadyAllocated")
        address = fixed_ip or self.cloud.allocate_ip(subnet)
        port = Port(port_id=new_id(), network_id=network_id, mac_address=self.cloud.new_mac(),
                    fixed_ips=[{"subnet_id": subnet.subnet_id, "ip_address": address}],
                    project_id=self.cloud.identity.project_id, device_id=device_id, device_owner=device_owner)
        self.cloud.ports[port.port_id] = port
        return port

    # Cinder ------------------------------------------------------------------------------------

    def volume_zone(self, requested: str | None, source: Snapshot | None) -> str:
        """Cinder's zone rules (cinder/volume/flows/api/create_volume.py, _extract_availability_zones): no zone asked ->
        the snapshot's, else the default (first) zone; a zone Cinder does not have -> 400 (allow_availability_zone_fallback
        is off by default); a volume from a snapshot stays in the snapshot's zone (cloned_volume_same_az, on by default)."""
        zone = requested or (source.availability_zone if source is not None else None) or self.cloud.volume_zones[0]
        if zone not in self.cloud.volume_zones:
            raise ApiError(400, f"Availability zone '{zone}' is invalid.")
        if source is not None and source.availability_zone != zone:
            raise ApiError(400, "Invalid input received: Volume must be in the same availability zone as the snapshot")
        return zone

    def create_volume(self, size: int, name: str = "", snapshot_id: str | None = None, bootable: bool = False,
                      available_now: bool = False, availability_zone: str | None = None, **extra) -> Volume:
        source = self.snapshot(snapshot_id) if snapshot_id else None
        extra["availability_zone"] = self.volume_zone(availability_zone, source)
        if source is not None:
            if source.status != "available":
                raise ApiError(400, "Invalid snapshot: Originating snapshot status must be one of 'available' values")
            if size < source.size:
                raise ApiError(400, f"Invalid input received: Volume size '{size}'GB cannot be smaller than the snapshot size "
                                    f"{source.size}GB. They must be >= original snapshot size.")
            bootable = self.cloud.volumes[source.volume_id].bootable if source.volume_id in self.cloud.volumes else bootable
            extra.setdefault("guest", dict(source.guest))
        volume = Volume(volume_id=new_id(), name=name or "", size=int(size), snapshot_id=snapshot_id, bootable=bool(bootable),
                        created=self.now, updated=self.now, **extra)
        if available_now:
            volume.status = "available"
        else:
            volume.status = "creating"
            duration = self.settings.volume_seconds_base + self.settings.volume_seconds_per_gib * volume.size
            volume.later(self.now + duration, status="available", updated=self.now + duration)
        self.cloud.volumes[volume.volume_id] = volume
        return volume

    def attach_volume(self, server: Server, volume: Volume, device: str, delete_on_termination: bool = False) -> Attachment:
        attachment = Attachment(attachment_id=new_id(), server_id=server.server_id, volume_id=volume.volume_id,
                                device=device, attached_at=self.now, delete_on_termination=bool(delete_on_termination))
        volume.attachments.append(attachment)
        volume.status = "in-use"
        return attachment

    def create_snapshot(self, volume_id: str, force, microversion: Microversion, name: str | None = None,
                        description: str | None = None, metadata: dict | None = None) -> Snapshot:
        """Cinder's create rules; ``force`` is None when the request did not carry it."""
        volume = self.volume(volume_id)
        check_snapshot_force(volume, force, microversion)
        snapshot = Snapshot(snapshot_id=new_id(), volume_id=volume_id, name=name, description=description, size=volume.size,
                            metadata=dict(metadata or {}), created=self.now, updated=self.now,
                            project_id=self.cloud.identity.project_id, guest=self.cloud.guest_on_volume(volume),
                            availability_zone=volume.availability_zone)
        self._schedule_snapshot(snapshot, self._take_failure(volume))
        self.cloud.snapshots[snapshot.snapshot_id] = snapshot
        return snapshot

    def _schedule_snapshot(self, snapshot: Snapshot, fails: bool) -> None:
        duration = self.settings.snapshot_seconds_base + self.settings.snapshot_seconds_per_gib * snapshot.size
        if fails:
            # A failed backend call: the snapshot goes to error half way through.
            snapshot.later(self.now + duration / 2, status="error", updated=self.now + duration / 2)
            return
        snapshot.later(self.now + duration / 2, progress="50%")
        snapshot.later(self.now + duration, status="available", progress="100%", updated=self.now + duration)

    def _take_failure(self, volume: Volume) -> bool:
        server_ids = {attachment.server_id for attachment in volume.attachments}
        for plan in self.cloud.snapshot_failures:
            if plan.volume_id == volume.volume_id or (plan.server_id and plan.server_id in server_ids):
                self.cloud.snapshot_failures.remove(plan)
                return True
        return False

    def _take_upload_failure(self, server: Server) -> bool:
        for plan in self.cloud.snapshot_failures:
            if plan.server_id == server.server_id and not plan.volume_id:
                self.cloud.snapshot_failures.remove(plan)
                return True
        return False

    def delete_snapshot(self, snapshot_id: str) -> None:
        snapshot = self.snapshot(snapshot_id)
        if snapshot.status not in ("available", "error", "error_deleting"):
            raise ApiError(400, "Invalid snapshot: Volume Snapshot status must be available or error or error_restoring "
                                "or error_extending or error_managing and must not be part of a group.")
        if any(volume.snapshot_id == snapshot_id for volume in self.cloud.volumes.values() if volume.status != "deleting"):
            # The API accepts (202) and sets "deleting"; the backend (Ceph's RBD driver) raises SnapshotIsBusy for a
            # snapshot with dependent volumes and the volume manager puts it back to "available"
            # (cinder/volume/manager.py, delete_snapshot). Other drivers' failures end in "error_deleting".
            back = self.now + self.settings.snapshot_delete_seconds
            snapshot.status, snapshot.updated = "deleting", self.now
            snapshot.schedule.clear()
            snapshot.later(back, status="available", updated=back)
            return
        del self.cloud.snapshots[snapshot_id]

    def delete_volume(self, volume_id: str) -> None:
        volume = self.volume(volume_id)
        if volume.attachments or volume.status not in ("available", "error"):
            raise ApiError(400, "Invalid volume: Volume status must be available or error or error_restoring or error_extending "
                                "or error_managing and must not be migrating, attached, belong to a group, have snapshots, "
                                "awaiting a transfer, or be disassociated from snapshots after volume transfer.")
        if any(snapshot.volume_id == volume_id for snapshot in self.cloud.snapshots.values()):
            raise ApiError(400, "Invalid volume: Volume still has 1 dependent snapshots.")
        del self.cloud.volumes[volume_id]

    # Nova --------------------------------------------------------------------------------------

    def require_no_task(self, server: Server, action: str) -> None:
        if server.task_state is not None or server.status == "BUILD":
            raise ApiError(409, f"Cannot '{action}' instance {server.server_id} while it is in task_state {server.task_state or 'spawning'}")

    def require_status(self, server: Server, action: str, allowed: tuple) -> None:
        if server.status not in allowed:
            raise ApiError(409, f"Cannot '{action}' instance {server.server_id} while it is in vm_state {server.vm_state}")

    def stop_server(self, server: Server) -> None:
        self.require_no_task(server, "stop")
        self.require_status(server, "stop", ("ACTIVE", "ERROR"))
        end = self.now + self.settings.server_transition_seconds
        server.task_state = "powering-off"
        server.later(end, status="SHUTOFF", task_state=None, power_state=4, updated=end)

    def start_server(self, server: Server) -> None:
        self.require_no_task(server, "start")
        self.require_status(server, "start", ("SHUTOFF",))
        end = self.now + self.settings.server_transition_seconds
        server.task_state = "powering-on"
        server.later(end, status="ACTIVE", task_state=None, power_state=1, updated=end)

    def create_server_image(self, server: Server, name: str, metadata: dict) -> Image:
        self.require_status(server, "createImage", SNAPSHOTTABLE_SERVER_STATES)
        self.require_no_task(server, "createImage")
        properties = {str(key): str(value) for key, value in (metadata or {}).items()}
        if server.is_volume_backed():
            # snapshot_volume_backed sets no instance_uuid, user_id or image_type (nova/compute/api.py: only
            # compute_utils.create_image, the image-backed path, adds them).
            return self._snapshot_volume_backed(server, name, properties)
        # compute_utils.create_image: the request's metadata over Nova's own properties.
        properties = {"instance_uuid": server.server_id, "user_id": self.cloud.identity.user_id, "image_type": "snapshot", **properties}
        return self._snapshot_image_backed(server, name, properties)

    def _snapshot_image_backed(self, server: Server, name: str, properties: dict) -> Image:
        """The virt driver uploads the disk: the image is queued, then saving, then active."""
        base = self.cloud.images.get(server.image_id)
        flavor = self.cloud.flavors.get(server.flavor_id)
        size_gib = flavor.disk if flavor else 1
        if base is not None:
            properties["base_image_ref"] = base.image_id
        image = Image(image_id=new_id(), name=name, status="queued", disk_format=base.disk_format if base else "qcow2",
                      container_format="bare", min_disk=size_gib, created=self.now, updated=self.now,
                      owner=self.cloud.identity.project_id, properties=properties, guest=server.guest())
        saving_at = self.now + self.settings.image_queued_seconds
        active_at = saving_at + self.settings.image_seconds_base + self.settings.image_seconds_per_gib * size_gib
        image.later(saving_at, status="saving", updated=saving_at)
        server.task_state = "image_snapshot"
        server.later(saving_at, task_state="image_uploading")
        if self._take_upload_failure(server):
            failed_at = saving_at + (active_at - saving_at) / 2
            image.later(failed_at, removed=True)
            server.later(failed_at, task_state=None)
        else:
            image.later(active_at, status="active", size=size_gib * 1024 ** 3 // 8, updated=active_at)
            server.later(active_at, task_state=None)
        self.cloud.images[image.image_id] = image
        return image

    def _snapshot_volume_backed(self, server: Server, name: str, properties: dict) -> Image:
        """Nova's snapshot_volume_backed: forced Cinder snapshots, then a zero-size image made active at once."""
        mappings = []
        for volume_id in self.cloud.server_volume_ids(server.server_id):
            volume = self.cloud.volumes[volume_id]
            attachment = next(item for item in volume.attachments if item.server_id == server.server_id)
            snapshot = Snapshot(snapshot_id=new_id(), volume_id=volume_id, name=f"snapshot for {name}",
                                description=f"snapshot for {name}", size=volume.size, created=self.now, updated=self.now,
                                project_id=self.cloud.identity.project_id, guest=self.cloud.guest_on_volume(volume),
                                availability_zone=volume.availability_zone)
            self._schedule_snapshot(snapshot, self._take_failure(volume))
            self.cloud.snapshots[snapshot.snapshot_id] = snapshot
            is_root = attachment.device == server.root_device_name
            mappings.append({
                "source_type": "snapshot", "destination_type": "volume", "snapshot_id": snapshot.snapshot_id,
                "volume_size": volume.size, "device_name": attachment.device, "boot_index": 0 if is_root else None,
                "delete_on_termination": attachment.delete_on_termination, "disk_bus": "virtio", "device_type": "disk", "volume_id": None,
                "image_id": None, "no_device": None, "tag": None, "volume_type": None, "guest_format": None,
            })
        properties.update({"block_device_mapping": json.dumps(mappings), "bdm_v2": "True", "root_device_name": server.root_device_name})
        image = Image(image_id=new_id(), name=name, status="active", size=0, created=self.now, updated=self.now,
                      owner=self.cloud.identity.project_id, properties=properties, guest=server.guest())
        self.cloud.images[image.image_id] = image
        return image


def check_snapshot_force(volume: Volume, force, microversion: Microversion) -> None:
    """Cinder's rules for the ``force`` flag of a snapshot create (cinder/api/v3/snapshots.py, volume/api.py)."""
    if force is not None and not isinstance(force, bool):
        if str(force).lower() not in ("true", "false", "1", "0", "yes", "no", "on", "off", "t", "f", "y", "n"):
            raise ApiError(400, f"Invalid value '{force}' for force.")
        force = str(force).lower() in ("true", "1", "yes", "on", "t", "y")
    if microversion >= CINDER_FORCE_OPTIONAL:
        if force is False:
            raise ApiError(400, SNAPSHOT_IN_USE_FLAG_MSG)
        allowed = ("available", "in-use")
    else:
        allowed = ("available", "in-use") if force else ("available",)
    if volume.status not in allowed:
        expected = "available" if allowed == ("available",) else "available or in-use"
        raise ApiError(400, f"Invalid volume: Volume {volume.volume_id} status must be {expected}, but current status is: {volume.status}.")
