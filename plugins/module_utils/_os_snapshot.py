# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""OpenStack snapshot logic shared by os_volume_snapshot, os_volume_snapshot_info and os_instance_snapshot.

The pure rules come first (which volume is a server's root, whether to send ``force``, what a
volume-backed image refers to), then the operations on a live cloud through ``_openstack.OpenStackApi``.
"""

from __future__ import annotations

import json
import re

from ansible_collections.snapkit.cloud.plugins.module_utils._module import InputError
from ansible_collections.snapkit.cloud.plugins.module_utils._module import ModuleFailure
from ansible_collections.snapkit.cloud.plugins.module_utils._wait import WaitError

# Cinder >= 3.66 snapshots in-use volumes without force and rejects an explicit force=false.
FORCE_OPTIONAL_MICROVERSION = (3, 66)
SNAPSHOTTABLE_VOLUME_STATUS = ("available", "in-use")
# A volume in one of these states settles by itself; wait for it instead of failing.
TRANSITIONAL_VOLUME_STATUS = ("creating", "attaching", "detaching", "backing-up", "restoring-backup", "downloading", "uploading",
                              "extending", "reserved")
SNAPSHOT_FAILED_STATUS = ("error", "error_deleting")
# A snapshot whose delete was accepted (deleting) that shows one of these again was not deleted by the driver.
DELETE_GIVEN_UP_STATUS = ("available", "error_deleting")
# Glance has no error status: a failed upload ends killed, or Nova deletes the image.
IMAGE_FAILED_STATUS = ("killed", "deleted", "pending_delete", "deactivated")
# Nova accepts createImage in these states (PAUSED only for image-backed servers).
SNAPSHOTTABLE_SERVER_STATUS = ("ACTIVE", "SHUTOFF", "SUSPENDED", "PAUSED")
SERVER_METADATA_KEY = "snapkit_server_id"
DEVICE_PATTERN = re.compile(r"^/dev/(?:x?vd|sd|hd)([a-z]+)$")


# Pure rules ------------------------------------------------------------------------------------

def parse_microversion(text):
    """``"3.65"`` -> ``(3, 65)``; None for anything else."""
    match = re.match(r"^(\d+)\.(\d+)$", str(text or ""))
    return (int(match.group(1)), int(match.group(2))) if match else None


def snapshot_force(volume_id, status, requested, microversion):
    """The ``force`` value to send for a snapshot of a volume in ``status`` (None: leave it out).

    * in-use volumes need force=True below 3.66; from 3.66 on Cinder needs nothing and ignores force=True;
    * an explicit force=false is a 400 from 3.66 on, so false is never sent (leaving it out means the same below 3.66);
    * ``requested`` False on an in-use volume is the user's "only while detached": refused before any change.
    """
    if status not in SNAPSHOTTABLE_VOLUME_STATUS:
        raise ValueError(f"volume {volume_id} is {status!r}; Cinder snapshots only available or in-use volumes")
    if requested is False:
        if status == "in-use":
            raise ValueError(f"volume {volume_id} is in-use (attached) and force=false was given: detach it first, "
                             f"or leave force unset so the module sends what Cinder needs")
        return None
    if requested is True:
        return True
    if status == "in-use" and (microversion is None or microversion < FORCE_OPTIONAL_MICROVERSION):
        return True
    return None


def device_index(device):
    """The disk letter index of ``/dev/vda``, ``/dev/sdb``, ``/dev/xvdc``, ``/dev/hda``; None if not a disk name."""
    match = DEVICE_PATTERN.match(device or "")
    if not match:
        return None
    index = 0
    for letter in match.group(1):
        index = index * 26 + (ord(letter) - ord("a") + 1)
    return index - 1


def find_root_volume(server_id, volumes, root_device_name=None):
    """The root volume among ``volumes`` (dicts with ``id``, ``bootable``, ``device``) attached to a server.

    1. When Nova shows ``root_device_name`` (admin-only by default), the volume attached there.
    2. Else the bootable volume on the first disk: a volume created from an image is bootable too, so
       several bootable volumes are ordered by disk letter (``vda`` before ``vdb``, ``sda`` before ``sdb``,
       whatever the bus); two on the same letter are ambiguous.
    Never assumes ``/dev/vda``: Windows and SCSI guests boot from ``/dev/sda`` or ``/dev/hda``.
    """
    if not volumes:
        raise ModuleFailure(f"server {server_id} has no attached volumes")
    if root_device_name:
        at_root = [volume for volume in volumes if volume.get("device") == root_device_name]
        if len(at_root) == 1:
            return at_root[0]
    bootable = [volume for volume in volumes if volume.get("bootable")]
    if not bootable:
        raise ModuleFailure(f"none of the volumes attached to server {server_id} is bootable "
                            f"({', '.join(volume['id'] for volume in volumes)}); give the volume instead of the server")
    if len(bootable) == 1:
        return bootable[0]
    ranked = sorted(bootable, key=lambda volume: (device_index(volume.get("device")) is None, device_index(volume.get("device")) or 0))
    first, second = ranked[0], ranked[1]
    if device_index(first.get("device")) is None or device_index(first.get("device")) == device_index(second.get("device")):
        raise ModuleFailure(f"server {server_id} has several bootable volumes and their devices do not tell which is the root: "
                            + ", ".join(f"{volume['id']} at {volume.get('device')}" for volume in bootable)
                            + "; give the volume instead of the server")
    return first


def is_volume_backed(server_image_id, volumes, root_device_name=None):
    """Nova shows an empty ``image`` for a server booted from a volume; a root volume at ``root_device_name`` counts too."""
    if not server_image_id:
        return True
    return bool(root_device_name) and any(volume.get("device") == root_device_name for volume in volumes)


def block_device_mapping(properties):
    """The entries of a volume-backed image's ``block_device_mapping`` property (a JSON string in Glance)."""
    value = (properties or {}).get("block_device_mapping")
    if not value:
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return [entry for entry in value if isinstance(entry, dict)]


def bdm_snapshot_ids(mappings):
    return [entry["snapshot_id"] for entry in mappings if entry.get("source_type") == "snapshot" and entry.get("snapshot_id")]


def root_mapping(mappings):
    """The boot entry (boot_index 0) of a block device mapping, else the first snapshot entry."""
    for entry in mappings:
        if str(entry.get("boot_index")) == "0":
            return entry
    return next((entry for entry in mappings if entry.get("snapshot_id")), None)


def is_windows(*metadata):
    """Windows when any of the metadata dicts says so: ``os_type: windows`` (Glance, Nova) or ``windows: true``."""
    for item in metadata:
        item = item or {}
        if str(item.get("os_type", "")).lower() == "windows":
            return True
        if str(item.get("windows", "")).lower() in ("true", "yes", "1"):
            return True
    return False


# Cinder (snapshot name, description, metadata keys and values) and Glance (image name, property keys) take at most
# 255 characters (Block Storage API v3 and Image API v2 references).
MAX_LENGTH = 255


def check_text(field, value, required=False):
    """Refuse, before any API call, a ``field`` the services would refuse: empty when required, or too long."""
    if value is None and not required:
        return
    if not str(value or "").strip():
        raise InputError(f"{field}: must not be empty")
    if len(value) > MAX_LENGTH:
        raise InputError(f"{field}: {len(value)} characters, at most {MAX_LENGTH} are allowed")


def string_metadata(metadata):
    """Cinder and Glance keep metadata as strings: numbers and booleans are converted, nested values refused, keys of
    1 to 255 characters and values of at most 255."""
    metadata = metadata or {}
    bad_keys = [str(key) for key, value in metadata.items() if not isinstance(value, (str, int, float, bool))]
    if bad_keys:
        raise InputError(f"metadata: values must be strings, numbers or booleans; the values of {', '.join(bad_keys)} are not")
    converted = {str(key): str(value) for key, value in metadata.items()}
    for key, value in converted.items():
        check_text("metadata key", key, required=True)
        if len(value) > MAX_LENGTH:
            raise InputError(f"metadata: the value of {key} has {len(value)} characters, at most {MAX_LENGTH} are allowed")
    return converted


# Nova's JSON schema for metadata keys (nova/api/validation/parameter_types.py): server create, createImage and the
# server metadata API refuse any other key with a 400.
NOVA_METADATA_KEY = re.compile(r"^[a-zA-Z0-9-_:. ]{1,255}$")


def check_nova_metadata_keys(field, metadata):
    """Refuse, before any API call, metadata keys that Nova refuses (Cinder's and Glance's own are free-form)."""
    bad = [key for key in (metadata or {}) if not NOVA_METADATA_KEY.fullmatch(str(key))]
    if bad:
        raise InputError(f"{field}: Nova accepts metadata keys of 1 to 255 letters, digits, spaces and '-_:.' only "
                         f"(^[a-zA-Z0-9-_:. ]{{1,255}}$); not {', '.join(repr(key) for key in bad)}")


# Views -----------------------------------------------------------------------------------------

def snapshot_view(snapshot):
    return {
        "id": snapshot.id, "name": snapshot.name, "description": snapshot.description, "volume_id": snapshot.volume_id,
        "size": snapshot.size, "status": snapshot.status, "metadata": dict(snapshot.metadata or {}),
        "created_at": snapshot.created_at, "updated_at": snapshot.updated_at,
    }


def image_view(image):
    properties = dict(image.properties or {})
    view = {
        "id": image.id, "name": image.name, "status": image.status, "size": image.size, "min_disk": image.min_disk,
        "disk_format": image.disk_format, "container_format": image.container_format, "visibility": image.visibility,
        "created_at": image.created_at, "updated_at": image.updated_at, "instance_uuid": _image_property(image, "instance_uuid"),
        "image_type": _image_property(image, "image_type"), "properties": properties,
    }
    mappings = block_device_mapping({"block_device_mapping": _image_property(image, "block_device_mapping")})
    if mappings:
        view["block_device_mapping"] = mappings
    return view


def image_server_ids(image):
    """The server an image was made from, as Nova (``instance_uuid``, image-backed servers only) and this collection
    (``snapkit_server_id``, also on the image of a volume-backed server) record it."""
    return {value for value in (_image_property(image, "instance_uuid"), _image_property(image, SERVER_METADATA_KEY)) if value}


def _image_property(image, key):
    value = getattr(image, key, None)
    if value is None:
        value = (image.properties or {}).get(key)
    return value


# Operations on the cloud -----------------------------------------------------------------------

def find_server(api, name_or_id):
    server = api.find_server(name_or_id)
    if server is None:
        raise ModuleFailure(f"Server {name_or_id!r} not found (looked up by id and by name)")
    return server


def server_volumes(api, server, attachments=None):
    """The volumes attached to ``server``: dicts with ``id``, ``bootable``, ``device``, ``size``, ``status`` and ``volume``."""
    attachments = api.volume_attachments(server.id) if attachments is None else attachments
    volumes = []
    for attachment in attachments:
        volume = api.get_volume(attachment.volume_id)
        volumes.append({"id": volume.id, "bootable": _truthy(volume.is_bootable), "device": attachment.device, "size": volume.size,
                        "status": volume.status, "volume": volume})
    return volumes


def boot_volumes(api, server):
    """``(volume_backed, volumes)`` of a server as few reads as its detail allows.

    Nova's detail shows the boot image (empty for a server booted from a volume) and the ids of the attached volumes
    (``os-extended-volumes:volumes_attached``). A server with an image whose root device is unknown (the admin-only
    ``root_device_name``) or that has no volume attached boots from its image: no attachment or volume is read and
    ``volumes`` is None. With a root device name and volumes, the attachments' devices decide, and the volumes are read
    only for a server that boots from one of them.
    """
    root_device_name = getattr(server, "root_device_name", None)
    attached = getattr(server, "attached_volumes", None)
    image_id = (server.image or {}).get("id")
    if image_id and (not root_device_name or attached == []):
        return False, None
    attachments = api.volume_attachments(server.id) if image_id else None
    if attachments is not None and not any(attachment.device == root_device_name for attachment in attachments):
        return False, None
    volumes = server_volumes(api, server, attachments)
    return is_volume_backed(image_id, volumes, root_device_name), volumes


def _truthy(value):
    return str(value).lower() in ("true", "1", "yes")


def root_volume_of(api, server, volumes=None):
    volumes = server_volumes(api, server) if volumes is None else volumes
    try:
        return find_root_volume(server.id, volumes, getattr(server, "root_device_name", None))
    except ModuleFailure as error:  # find_root_volume's own: it names the server's id only
        raise ModuleFailure(f"Cannot find the root volume of server {server.name} ({server.id}): {error}") from error


def find_volume(api, name_or_id):
    volume = api.find_volume(name_or_id)
    if volume is None:
        raise ModuleFailure(f"Volume {name_or_id!r} not found (looked up by id and by name)")
    return volume


def existing_volume_snapshot(api, volume_id, name):
    """The one snapshot named ``name`` of this volume, or None; several is an error naming them."""
    found = api.volume_snapshots(volume_id, name)
    if len(found) > 1:
        raise ModuleFailure(f"Volume {volume_id} has {len(found)} snapshots named {name!r} ({', '.join(item.id for item in found)}); "
                            f"delete the extra ones so that the name identifies one snapshot")
    return found[0] if found else None


def settled_volume(api, volume):
    """Wait while a volume is in a transitional state (attaching, backing-up...); fail on error states."""
    if volume.status in SNAPSHOTTABLE_VOLUME_STATUS:
        return volume
    if volume.status not in TRANSITIONAL_VOLUME_STATUS:
        raise ModuleFailure(f"Volume {volume.name or volume.id} ({volume.id}) is {volume.status!r}; Cinder snapshots only "
                            f"available or in-use volumes. Repair the volume (or reset its state) first.")
    return api.wait(lambda: [api.get_volume(volume.id)], lambda item: item.status in SNAPSHOTTABLE_VOLUME_STATUS,
                    lambda item: item.status not in SNAPSHOTTABLE_VOLUME_STATUS + TRANSITIONAL_VOLUME_STATUS,
                    lambda items: ", ".join(f"volume {item.id} {item.status}" for item in items))[0]


def create_volume_snapshot(api, volume, name, description, metadata, force):
    """Create the snapshot unless it exists; a retried attempt looks again first, so 503s make no duplicates."""
    return api.call(f"Creating snapshot {name!r} of volume {volume.name or volume.id} ({volume.id}, {volume.status})",
                    create_unless_found(lambda: existing_volume_snapshot(api, volume.id, name),
                                        lambda: api.create_snapshot(volume.id, name, description, metadata, force)))


def create_unless_found(find, create):
    """An attempt for ``OpenStackApi.call``: the first creates; a retry (after a 503, say) looks first, as the
    failed attempt may have created the resource before the answer was lost."""
    attempts = []

    def attempt():
        if attempts:
            found = find()
            if found is not None:
                return found
        attempts.append(True)
        return create()
    return attempt


def wait_snapshots(api, snapshot_ids, context, result=None):
    """Wait until every snapshot is available; an error state fails naming each snapshot and its volume.

    The failure carries ``result`` (what the caller made so far) with the snapshots' last states.
    """
    if not snapshot_ids:
        return []

    def poll():
        return [api.get_snapshot(snapshot_id) for snapshot_id in snapshot_ids]

    def describe(items):
        return "; ".join(f"snapshot {item.id} of volume {item.volume_id} is {item.status}" for item in items)

    try:
        return api.wait(poll, lambda item: item.status == "available", lambda item: item.status in SNAPSHOT_FAILED_STATUS, describe)
    except WaitError as error:
        raise ModuleFailure(f"{context}: {error}", **dict(result or {}, volume_snapshots=[snapshot_view(item) for item in error.items])) from error


def delete_snapshots(api, snapshots, wait):
    """Delete snapshots (available or error ones); with ``wait``, until Cinder no longer lists them.

    Cinder accepts a delete (202, status ``deleting``) before its driver runs it. A driver that cannot delete the
    snapshot puts it back: ``available`` when the snapshot is busy (Ceph's RBD driver, for a snapshot that volumes were
    made from: cinder/volume/manager.py), ``error_deleting`` for other failures. Either is a failure at once, naming the
    volumes made from the snapshot, instead of a wait until the timeout.
    """
    for snapshot in snapshots:
        api.delete_snapshot(snapshot.id)
    if not wait or not snapshots:
        return

    def poll():
        return [item for item in (api.find_snapshot_by_id(snapshot.id) for snapshot in snapshots) if item is not None]

    try:
        api.wait(poll, lambda item: False, lambda item: item.status in DELETE_GIVEN_UP_STATUS,
                 lambda items: ", ".join(f"snapshot {item.id} {item.status}" for item in items) or "all deleted")
    except WaitError as error:
        given_up = [item for item in error.items if item.status in DELETE_GIVEN_UP_STATUS]
        if not given_up:
            raise
        raise ModuleFailure(delete_given_up_message(api, given_up)) from error


def delete_given_up_message(api, snapshots):
    """Why Cinder kept each snapshot: the volumes made from it, when there are any."""
    dependents = {}
    for volume in api.project_volumes():
        if volume.snapshot_id in {snapshot.id for snapshot in snapshots}:
            dependents.setdefault(volume.snapshot_id, []).append(volume.id)
    parts = []
    for snapshot in snapshots:
        volumes = dependents.get(snapshot.id)
        if volumes:
            parts.append(f"snapshot {snapshot.id} is {snapshot.status} again: Cinder's driver refused to delete it because "
                         f"volumes were made from it ({', '.join(volumes)}); delete those volumes (or flatten them) first")
        else:
            parts.append(f"snapshot {snapshot.id} is {snapshot.status}: Cinder's driver failed to delete it; see the "
                         f"volume service's messages (openstack volume message list), then reset or retry")
    return "Cinder accepted the deletion but did not delete: " + "; ".join(parts)
