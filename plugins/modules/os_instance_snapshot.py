#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: os_instance_snapshot
short_description: Snapshot an OpenStack server the way it was booted, and return how to launch a copy
version_added: 0.1.0
description:
  - Snapshots a server and waits until the snapshot can be used, then returns everything needed to launch a copy
    (RV(launch_source)).
  - With O(method=auto) it follows the usual procedure for the server's boot source. A server booted from an image gets an
    instance snapshot (Nova C(createImage)), waited on until the Glance image is C(active). A server booted from a volume
    gets a Cinder snapshot of its root volume, found from its attachments and the volumes' bootable flag, with C(force)
    sent where Cinder needs it.
  - O(method=image) on a volume-backed server makes Nova snapshot every attached volume and create a zero-size image that
    refers to those snapshots. Nova marks that image C(active) before its Cinder snapshots are done, so the module also
    waits for every snapshot named in the image's C(block_device_mapping).
  - Idempotent. A re-run finds the image by name among the images made from this server (C(instance_uuid), which Nova
    sets on the image of an image-backed server only, or C(snapkit_server_id), which the module adds to the image's
    metadata), or the volume snapshot by name among the snapshots of this server's root volume, and creates nothing.
  - Transient API answers (409 while the server is busy, 429, 502, 503, 504) are retried until O(timeout), never sooner
    than the C(Retry-After) of a 429 asks. Images that end C(killed) or disappear, and snapshots that end in C(error),
    fail the task naming them; what was made is returned.
author:
  - snapkit.cloud maintainers (@snapkit)
options:
  state:
    description:
      - V(present) makes the snapshot unless it exists. V(absent) deletes it; for an image of a volume-backed server, the
        Cinder snapshots it refers to are deleted too (Glance does not track them).
    type: str
    choices: [present, absent]
    default: present
  server:
    description:
      - The server, by name or id.
    type: str
    required: true
  name:
    description:
      - The name of the image or of the root volume snapshot.
      - 1 to 255 characters.
    type: str
    required: true
  method:
    description:
      - V(auto) picks V(image) for an image-booted server and V(volume) for a volume-booted one.
      - V(image) always uses Nova C(createImage).
      - V(volume) always snapshots the root volume in Cinder; fails before any change when the server boots from an image.
    type: str
    choices: [auto, image, volume]
    default: auto
  description:
    description:
      - Description of a new volume snapshot (the image path has no description; Glance keeps O(metadata) instead).
      - At most 255 characters.
    type: str
  metadata:
    description:
      - Metadata (string keys and values) of a new image (as image properties) or volume snapshot.
      - Keys of 1 to 255 characters, values of at most 255; numbers and booleans are sent as strings, nested values are refused.
      - For an instance snapshot (Nova createImage) keys must match C(^[a-zA-Z0-9-_:. ]{1,255}$), as Nova requires;
        others are refused before any change.
    type: dict
  wait:
    description:
      - Wait until the image is C(active) and every Cinder snapshot it refers to (or the volume snapshot) is C(available).
      - The launch source is only usable after the wait.
    type: bool
    default: true
notes:
  - On most clouds an instance snapshot of a running server is crash-consistent; stop the server first for a clean copy.
  - Images and volume snapshots carry the metadata key C(snapkit_server_id) with the server id (an image of a
    volume-backed server has no C(instance_uuid)).
seealso:
  - module: snapkit.cloud.os_volume_snapshot
  - module: snapkit.cloud.os_volume_snapshot_info
extends_documentation_fragment:
  - snapkit.cloud._openstack
  - snapkit.cloud._attributes
attributes:
  check_mode:
    support: full
    details:
      - Makes no change; RV(kind) and RV(launch_source) show what would be made, ids unknown before creation are null.
  diff_mode:
    support: none
  idempotent:
    support: full
"""

EXAMPLES = r"""
- name: Snapshot a server the way it was booted
  snapkit.cloud.os_instance_snapshot:
    cloud: devstack
    server: web-1
    name: web-1-before-upgrade
  register: snap

- name: Launch a copy from an image snapshot
  openstack.cloud.server:
    cloud: devstack
    name: web-1-copy
    image: "{{ snap.launch_source.image_id }}"
    flavor: "{{ snap.launch_source.flavor_id }}"
    network: "{{ snap.launch_source.networks[0].network_id }}"
  when: snap.launch_source.type == 'image'

- name: Instance snapshot (createImage) of a volume-backed server; waits for its Cinder snapshots too
  snapkit.cloud.os_instance_snapshot:
    cloud: devstack
    server: db-1
    name: db-1-image
    method: image

- name: Delete the snapshot again
  snapkit.cloud.os_instance_snapshot:
    cloud: devstack
    server: web-1
    name: web-1-before-upgrade
    state: absent
"""

RETURN = r"""
kind:
  description: What was (or would be) made, C(image) (Nova createImage) or C(volume) (Cinder snapshot of the root volume).
  returned: always
  type: str
  sample: image
image:
  description: The Glance image; null for O(method=volume) snapshots.
  returned: always
  type: dict
  contains:
    id:
      description: The image id.
      type: str
      sample: 9a1b2c3d-0000-4000-8000-00000000beef
    name:
      description: The image name.
      type: str
      sample: web-1-before-upgrade
    status:
      description: The Glance status (C(queued), C(saving), C(active)...).
      type: str
      sample: active
    size:
      description: Size in bytes (0 for a volume-backed server's image).
      type: int
      sample: 2684354560
    min_disk:
      description: Minimum disk size in GiB.
      type: int
      sample: 20
    disk_format:
      description: The disk format (null for a volume-backed server's image).
      type: str
      sample: qcow2
    container_format:
      description: The container format.
      type: str
      sample: bare
    visibility:
      description: The image visibility.
      type: str
      sample: private
    created_at:
      description: When the image was created.
      type: str
      sample: "2026-11-22T10:15:00Z"
    updated_at:
      description: When the image last changed.
      type: str
      sample: "2026-11-22T10:16:30Z"
    instance_uuid:
      description: The server the image was made from; null for the image of a volume-backed server (Nova does not set it).
      type: str
      sample: 4f3c2b1a-0000-4000-8000-000000000001
    image_type:
      description: C(snapshot) for images made by createImage.
      type: str
      sample: snapshot
    properties:
      description: The other image properties.
      type: dict
      sample: {"base_image_ref": "1b2c3d4e-0000-4000-8000-000000000002"}
    block_device_mapping:
      description: For a volume-backed server's image, the parsed block device mapping (each with C(snapshot_id), C(boot_index),
        C(volume_size), C(device_name), C(delete_on_termination)...).
      returned: when the image is volume-backed
      type: list
      elements: dict
volume_snapshots:
  description:
    - The Cinder snapshots made, the root volume's snapshot or every snapshot the volume-backed image refers to.
    - Empty for an image-booted server's image.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The snapshot id.
      type: str
    name:
      description: The snapshot name.
      type: str
    volume_id:
      description: The volume it was taken from.
      type: str
    size:
      description: Size in GiB.
      type: int
    status:
      description: The Cinder status (C(available) after the wait).
      type: str
    description:
      description: The snapshot's description (a failed wait returns the full snapshot).
      type: str
    metadata:
      description: The snapshot's metadata (a failed wait returns the full snapshot).
      type: dict
    created_at:
      description: When Cinder created the snapshot (a failed wait returns the full snapshot).
      type: str
    updated_at:
      description: When Cinder last updated the snapshot (a failed wait returns the full snapshot).
      type: str
launch_source:
  description: Everything needed to launch a copy of the server from the snapshot.
  returned: always
  type: dict
  contains:
    type:
      description: C(image) (boot from RV(launch_source.image_id)) or C(volume_snapshot) (create a volume from
        RV(launch_source.snapshot_id), at least RV(launch_source.volume_size) GiB, and boot from it).
      type: str
      sample: volume_snapshot
    image_id:
      description: The image to boot from (type C(image)).
      type: str
    snapshot_id:
      description: The root volume's snapshot (type C(volume_snapshot)); for a volume-backed server's image, the snapshot of
        its boot entry.
      type: str
    volume_size:
      description: The size in GiB of the root volume to create from RV(launch_source.snapshot_id); null for an image-booted
        server.
      type: int
    flavor_id:
      description: The original's flavor id.
      type: str
    flavor_name:
      description: The original's flavor name.
      type: str
    networks:
      description: The original's networks, in port order.
      type: list
      elements: dict
      contains:
        network_id:
          description: The network id.
          type: str
        network_name:
          description: The network name.
          type: str
    security_groups:
      description: The names of the original's security groups.
      type: list
      elements: str
    key_name:
      description: The original's key pair.
      type: str
    availability_zone:
      description: The original's Nova availability zone (for the copy's server; Cinder's zones are another list).
      type: str
    windows:
      description: Whether the guest is Windows (C(os_type=windows) or C(windows=true) in the server's or its image's
        metadata); a Windows copy keeps the original's static IP until its NIC is switched to DHCP.
      type: bool
server:
  description: The server that was snapshotted.
  returned: always
  type: dict
  contains:
    id:
      description: The server id.
      type: str
    name:
      description: The server name.
      type: str
    status:
      description: The server status when the module looked.
      type: str
    volume_backed:
      description: Whether the server boots from a volume.
      type: bool
"""

import types

from ansible_collections.snapkit.cloud.plugins.module_utils import _os_snapshot as snapshots
from ansible_collections.snapkit.cloud.plugins.module_utils._module import ModuleFailure
from ansible_collections.snapkit.cloud.plugins.module_utils._openstack import SnapkitOpenStackModule
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import WaitError


class InstanceSnapshotModule(SnapkitOpenStackModule):
    argument_spec = dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        server=dict(type="str", required=True),
        name=dict(type="str", required=True),
        method=dict(type="str", choices=["auto", "image", "volume"], default="auto"),
        description=dict(type="str"),
        metadata=dict(type="dict"),
    )
    module_kwargs = dict(supports_check_mode=True)
    result = None

    def failure_context(self):
        server = (self.result or {}).get("server")
        state = f" ({server['id']}, {server['status']})" if server else ""
        return f"Snapshot {self.params['name']!r} of server {self.params['server']!r}{state}", self.params["server"]

    def partial_result(self):
        return dict(self.result or {})

    def check_arguments(self):
        for field in ("server", "name"):
            snapshots.check_text(field, self.params[field], required=True)
        snapshots.check_text("description", self.params["description"])
        self.metadata = snapshots.string_metadata(self.params["metadata"])
        if self.params["method"] == "image":
            snapshots.check_nova_metadata_keys("metadata", self.metadata)

    def run(self):
        server = snapshots.find_server(self.api, self.params["server"])
        volume_backed, volumes = snapshots.boot_volumes(self.api, server)
        kind = self._kind(server, volume_backed)
        if kind == "image" and self.params["state"] == "present":
            # Nova's createImage carries the metadata (method=auto found an image-booted server): refused before any change.
            snapshots.check_nova_metadata_keys("metadata", self.metadata)
        root = snapshots.root_volume_of(self.api, server, volumes) if volume_backed else None
        self.result = dict(changed=False, kind=kind, image=None, volume_snapshots=[],
                           server=dict(id=server.id, name=server.name, status=server.status, volume_backed=volume_backed))
        if self.params["state"] == "absent":
            self._absent(server, kind, root)
            self.result["launch_source"] = None
            return self.result
        if kind == "image":
            image, volume_snapshots = self._image_snapshot(server)
        else:
            image, volume_snapshots = None, self._root_volume_snapshot(server, root)
        self.result["launch_source"] = launch_source(self.api, server, kind, image, volume_snapshots, root)
        return self.result

    def _kind(self, server, volume_backed):
        method = self.params["method"]
        if method == "volume" and not volume_backed:
            raise ModuleFailure(f"Server {server.name} ({server.id}) boots from image {(server.image or {}).get('id')}: its root disk "
                                f"is not a Cinder volume, so method=volume cannot snapshot it. Use method=image or auto.")
        if method == "auto":
            return "volume" if volume_backed else "image"
        return method

    # Image (Nova createImage) -------------------------------------------------------------------

    def _image_snapshot(self, server):
        image = self._existing_image(server)
        if image is None:
            if server.status not in snapshots.SNAPSHOTTABLE_SERVER_STATUS:
                raise ModuleFailure(f"Server {server.name} ({server.id}) is {server.status}; Nova takes instance snapshots of "
                                    f"ACTIVE, SHUTOFF, SUSPENDED or PAUSED servers only")
            self.result["changed"] = True
            if self.check_mode:
                return None, []
            # Nova sets instance_uuid on the image of an image-backed server only: the key finds either again.
            metadata = dict(self.metadata, **{snapshots.SERVER_METADATA_KEY: server.id})
            try:
                image = self.api.call(
                    f"createImage {self.params['name']!r} of server {server.name} ({server.id}, {server.status})",
                    snapshots.create_unless_found(lambda: self._existing_image(server),
                                                  lambda: self.api.create_server_image(server.id, self.params["name"], metadata)))
            except ModuleFailure:
                # Nova may have made the image before the call failed (openstacksdk reads the image after the action).
                self.result["image"] = self._image_made_anyway(server)
                raise
        self.result["image"] = snapshots.image_view(image)
        if self.params["wait"]:
            image = self._wait_image(server, image)
            self.result["image"] = snapshots.image_view(image)
        snapshot_ids = snapshots.bdm_snapshot_ids(self.result["image"].get("block_device_mapping") or [])
        if self.params["wait"]:
            # Nova made the image active at once; its Cinder snapshots may still be creating.
            found = snapshots.wait_snapshots(self.api, snapshot_ids,
                                             f"Image {image.name!r} ({image.id}) of server {server.id} is active but its volume snapshots failed",
                                             self.result)
        else:
            found = [self.api.get_snapshot(snapshot_id) for snapshot_id in snapshot_ids]
        self.result["volume_snapshots"] = [snapshot_summary(item) for item in found]
        return image, found

    def _existing_image(self, server):
        found = [image for image in self.api.images_named(self.params["name"]) if server.id in snapshots.image_server_ids(image)]
        if len(found) > 1:
            raise ModuleFailure(f"Server {server.id} has {len(found)} images named {self.params['name']!r} "
                                f"({', '.join(image.id for image in found)}); delete the extra ones so that the name identifies one")
        return found[0] if found else None

    def _image_made_anyway(self, server):
        """The image of this name and server after a failed createImage, or None (also when that cannot be read)."""
        try:
            image = self._existing_image(server)
        except ModuleFailure:
            return None
        return snapshots.image_view(image) if image else None

    def _wait_image(self, server, image):
        def poll():
            current = self.api.find_image_by_id(image.id)
            # Nova deletes the image of a failed snapshot: gone while waiting is a failure.
            return [current or types.SimpleNamespace(id=image.id, name=image.name, status="deleted")]

        try:
            return self.api.wait(poll, lambda item: item.status == "active", lambda item: item.status in snapshots.IMAGE_FAILED_STATUS,
                                 lambda items: ", ".join(f"image {item.name!r} ({item.id}) is {item.status}" for item in items))[0]
        except WaitError as error:
            raise ModuleFailure(f"Instance snapshot of server {server.name} ({server.id}): {error}", **self.result) from error

    # Root volume (Cinder) -----------------------------------------------------------------------

    def _root_volume_snapshot(self, server, root):
        volume = root["volume"]
        snapshot = snapshots.existing_volume_snapshot(self.api, volume.id, self.params["name"])
        if snapshot is None:
            volume = snapshots.settled_volume(self.api, volume) if not self.check_mode else volume
            try:
                force = snapshots.snapshot_force(volume.id, volume.status, None, snapshots.parse_microversion(self.api.snapshot_microversion()))
            except ValueError as error:
                raise ModuleFailure(f"Cannot snapshot the root volume of server {server.name}: {error}", **self.result) from error
            self.result["changed"] = True
            if self.check_mode:
                return []
            metadata = dict(self.metadata, **{snapshots.SERVER_METADATA_KEY: server.id})
            snapshot = snapshots.create_volume_snapshot(self.api, volume, self.params["name"], self.params["description"], metadata, force)
        self.result["volume_snapshots"] = [snapshot_summary(snapshot)]
        if self.params["wait"] and snapshot.status != "available":
            snapshot = snapshots.wait_snapshots(self.api, [snapshot.id], f"Snapshot {self.params['name']!r} of the root volume "
                                                f"{volume.id} of server {server.id}", self.result)[0]
        elif snapshot.status in snapshots.SNAPSHOT_FAILED_STATUS:
            raise ModuleFailure(f"Snapshot {snapshot.name!r} ({snapshot.id}) of volume {volume.id} is {snapshot.status!r}; "
                                f"delete it (state=absent) and try again", **self.result)
        self.result["volume_snapshots"] = [snapshot_summary(snapshot)]
        return [snapshot]

    # Deletion -----------------------------------------------------------------------------------

    def _absent(self, server, kind, root):
        if kind == "image":
            image = self._existing_image(server)
            if image is None:
                return
            self.result.update(changed=True, image=snapshots.image_view(image))
            snapshot_ids = snapshots.bdm_snapshot_ids(self.result["image"].get("block_device_mapping") or [])
            found = [item for item in (self.api.find_snapshot_by_id(snapshot_id) for snapshot_id in snapshot_ids) if item is not None]
            self.result["volume_snapshots"] = [snapshot_summary(item) for item in found]
            if self.check_mode:
                return
            self.api.delete_image(image.id)
        else:
            snapshot = snapshots.existing_volume_snapshot(self.api, root["id"], self.params["name"])
            if snapshot is None:
                return
            found = [snapshot]
            self.result.update(changed=True, volume_snapshots=[snapshot_summary(snapshot)])
            if self.check_mode:
                return
        settling = [item.id for item in found if item.status not in ("available",) + snapshots.SNAPSHOT_FAILED_STATUS]
        if settling:
            # Cinder refuses to delete a snapshot that is still being created.
            snapshots.wait_snapshots(self.api, settling, f"Snapshots of server {server.id} (before deletion)")
        snapshots.delete_snapshots(self.api, found, self.params["wait"])


def snapshot_summary(snapshot):
    return {"id": snapshot.id, "name": snapshot.name, "volume_id": snapshot.volume_id, "size": snapshot.size, "status": snapshot.status}


def launch_source(api, server, kind, image, volume_snapshots, root):
    """What launching a copy needs: the source, the root size, and the original's flavor, networks and placement."""
    source = {"type": "image" if kind == "image" else "volume_snapshot", "image_id": image.id if image else None,
              "snapshot_id": None, "volume_size": None}
    if kind == "volume":
        source["snapshot_id"] = volume_snapshots[0].id if volume_snapshots else None
        source["volume_size"] = root["size"]
    elif image is not None:
        boot = snapshots.root_mapping(snapshots.image_view(image).get("block_device_mapping") or [])
        if boot:
            source["snapshot_id"] = boot.get("snapshot_id")
            source["volume_size"] = boot.get("volume_size")
    flavor_id, flavor_name = server_flavor(api, server)
    source.update(flavor_id=flavor_id, flavor_name=flavor_name, networks=server_networks(api, server),
                  security_groups=sorted({group.get("name") for group in server.security_groups or [] if group.get("name")}),
                  key_name=server.key_name, availability_zone=server.availability_zone,
                  windows=guest_is_windows(api, server, image, root))
    return source


def server_flavor(api, server):
    """From 2.47 Nova embeds a copy of the flavor without its id (``original_name`` only): the id is looked up by name
    in one list of the flavors; before 2.47 the id is embedded and the flavor read by it for its name."""
    flavor = server.flavor or {}
    flavor_name = flavor.get("original_name") or flavor.get("name")
    if flavor_name:
        found = api.flavor_named(flavor_name)
    else:
        found = api.find_flavor(flavor["id"]) if flavor.get("id") else None
    if found is None:
        # Deleted since, or hidden from this project: the name is still good enough to report.
        return None, flavor_name
    return found.id, found.name


def server_networks(api, server):
    """The networks of the server's ports, in port order. Nova's detail lists the addresses under their network's name
    with the port's MAC address: the name comes from there, and a network is read only for a port not shown there."""
    networks = []
    named = {address.get("OS-EXT-IPS-MAC:mac_addr"): name
             for name, addresses in (server.addresses or {}).items() for address in addresses or [] if address.get("OS-EXT-IPS-MAC:mac_addr")}
    for port in api.server_ports(server.id):
        if any(item["network_id"] == port.network_id for item in networks):
            continue
        name = named.get(port.mac_address)
        if name is None:
            name = api.get_network(port.network_id).name
        networks.append({"network_id": port.network_id, "network_name": name})
    return networks


def guest_is_windows(api, server, image, root):
    sources = [server.metadata or {}]
    if image is not None:
        sources.append(snapshots.image_view(image)["properties"])
    base_image_id = (server.image or {}).get("id")
    if "properties" in (server.image or {}):
        # From 2.98 Nova shows the properties it kept of the server's image (os_type among them): no read of that image.
        sources.append(server.image["properties"] or {})
        base_image_id = None
    if root is not None:
        volume_image = getattr(root["volume"], "volume_image_metadata", None) or {}
        sources.append(volume_image)
        base_image_id = base_image_id or volume_image.get("image_id")
    if base_image_id:
        base = api.find_image_by_id(base_image_id)
        if base is not None:
            sources.append(dict(base.properties or {}, os_type=getattr(base, "os_type", None)))
    return snapshots.is_windows(*sources)


def main():
    module = InstanceSnapshotModule()
    module()


if __name__ == "__main__":
    main()
