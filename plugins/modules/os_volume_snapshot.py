#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: os_volume_snapshot
short_description: Create or delete a Cinder snapshot of a volume or of a server's root volume
version_added: 0.1.0
description:
  - Creates a Cinder volume snapshot and waits until it is C(available), or deletes one and waits until it is gone.
  - The volume is given directly (O(volume)) or as the root volume of a server (O(server)). The root volume is found from
    the server's attachments and the volumes' bootable flag (and Nova's root device name when the policy shows it), never by
    assuming C(/dev/vda).
  - Idempotent per volume and snapshot name. Snapshots are looked up among the snapshots B(of that volume) only, so a snapshot
    with the same name on another volume is never taken for this one (openstack.cloud's C(volume_snapshot) matches names
    across the whole project).
  - An attached (C(in-use)) volume is snapshotted without the user passing O(force). The module sends C(force=true) where
    Cinder needs it (microversions below 3.66) and never sends C(force=false), which Cinder rejects from 3.66 on.
  - Transient API answers (409, 429, 502, 503, 504) are retried until O(timeout), never sooner than the C(Retry-After) of
    a 429 asks; a retried create looks for the snapshot again first, so it never makes a duplicate. Over-quota answers
    (403, 413) and snapshots ending in C(error) fail with a message naming the volume, the snapshot and its status.
author:
  - snapkit.cloud maintainers (@snapkit)
options:
  state:
    description:
      - V(present) creates the snapshot unless this volume already has one named O(name).
      - V(absent) deletes it (waiting first while it is still being created). With O(wait), a delete that Cinder accepted
        but its driver gave up (the snapshot C(available) again, as Ceph RBD does for a snapshot that volumes were made
        from, or C(error_deleting)) fails at once, naming the volumes made from the snapshot.
    type: str
    choices: [present, absent]
    default: present
  volume:
    description:
      - The volume to snapshot, by name or id.
      - Exactly one of O(volume) and O(server) is required.
    type: str
  server:
    description:
      - A server (name or id) whose root volume is snapshotted. The server must boot from a volume.
    type: str
  name:
    description:
      - The name of the snapshot; with the volume, it identifies the snapshot.
      - 1 to 255 characters.
    type: str
    required: true
  description:
    description:
      - The description of a new snapshot. An existing snapshot is not changed.
      - At most 255 characters.
    type: str
  metadata:
    description:
      - Metadata (string keys and values) of a new snapshot. An existing snapshot is not changed.
      - Keys of 1 to 255 characters, values of at most 255; numbers and booleans are sent as strings, nested values are refused.
    type: dict
  force:
    description:
      - Unset (the default) sends what the volume's status and the API microversion need.
      - V(true) always sends C(force=true) (silently ignored by Cinder from microversion 3.66 on).
      - V(false) refuses to snapshot an attached volume; the module then fails before any change.
    type: bool
  wait:
    description:
      - Wait until the snapshot is C(available), or gone with O(state=absent).
    type: bool
    default: true
notes:
  - Snapshots of an attached volume are crash-consistent. Stop the server first for a consistent copy.
seealso:
  - module: openstack.cloud.volume_snapshot
    description: openstack.cloud's module; finds snapshots by name across the project and sends C(force=false) by default.
  - module: snapkit.cloud.os_instance_snapshot
  - module: snapkit.cloud.os_volume_snapshot_info
extends_documentation_fragment:
  - snapkit.cloud._openstack
  - snapkit.cloud._attributes
attributes:
  check_mode:
    support: full
    details:
      - Makes no change; RV(volume_snapshot) shows the snapshot as it would be (unknown values null).
  diff_mode:
    support: none
  idempotent:
    support: full
"""

EXAMPLES = r"""
- name: Snapshot the root volume of a boot-from-volume server; it is attached, force is sent as needed
  snapkit.cloud.os_volume_snapshot:
    cloud: devstack
    server: db-1
    name: db-1-root-before-upgrade

- name: Snapshot a data volume by name, with metadata
  snapkit.cloud.os_volume_snapshot:
    cloud: devstack
    volume: db-1-data
    name: db-1-data-nightly
    metadata:
      purpose: nightly

- name: Delete that snapshot
  snapkit.cloud.os_volume_snapshot:
    cloud: devstack
    volume: db-1-data
    name: db-1-data-nightly
    state: absent
"""

RETURN = r"""
volume_snapshots:
  description:
    - The snapshots the wait was for, as last seen, when it ended in C(error) or ran out of O(timeout); each with the keys
      of RV(volume_snapshot).
  returned: when the wait for the snapshot failed
  type: list
  elements: dict
  sample: []
volume_snapshot:
  description:
    - The snapshot, as it is after the wait (with O(state=absent), as it was before deletion).
    - Null when O(state=absent) and there is no such snapshot.
  returned: always
  type: dict
  contains:
    id:
      description: The snapshot id (null in check mode before creation).
      type: str
      sample: 6c1f6a2e-9a8b-4d6e-8e0c-1b2a3c4d5e6f
    name:
      description: The snapshot name.
      type: str
      sample: db-1-root-before-upgrade
    description:
      description: The snapshot description.
      type: str
      sample: null
    volume_id:
      description: The volume the snapshot was taken from.
      type: str
      sample: 0b7d4e2a-1c3f-4e5d-9a8b-7c6d5e4f3a2b
    size:
      description: Size in GiB.
      type: int
      sample: 20
    status:
      description: C(creating), C(available), C(error), C(deleting)...
      type: str
      sample: available
    metadata:
      description: The snapshot metadata.
      type: dict
      sample: {"purpose": "nightly"}
    created_at:
      description: When Cinder created the snapshot.
      type: str
      sample: "2026-11-22T10:15:00.000000"
    updated_at:
      description: When Cinder last changed the snapshot.
      type: str
      sample: "2026-11-22T10:15:40.000000"
volume:
  description: The volume that was (or would be) snapshotted.
  returned: always
  type: dict
  contains:
    id:
      description: The volume id.
      type: str
      sample: 0b7d4e2a-1c3f-4e5d-9a8b-7c6d5e4f3a2b
    name:
      description: The volume name.
      type: str
      sample: db-1-root
    status:
      description: The volume status when the module looked (C(available), C(in-use)...).
      type: str
      sample: in-use
    size:
      description: Size in GiB.
      type: int
      sample: 20
    bootable:
      description: Whether Cinder marks the volume bootable.
      type: bool
      sample: true
force_sent:
  description:
    - The C(force) value sent with the create request; null when it was left out (or nothing was created).
  returned: always
  type: bool
  sample: true
"""

from ansible_collections.snapkit.cloud.plugins.module_utils import _os_snapshot as snapshots
from ansible_collections.snapkit.cloud.plugins.module_utils._module import ModuleFailure
from ansible_collections.snapkit.cloud.plugins.module_utils._openstack import SnapkitOpenStackModule


class VolumeSnapshotModule(SnapkitOpenStackModule):
    argument_spec = dict(
        state=dict(type="str", choices=["present", "absent"], default="present"),
        volume=dict(type="str"),
        server=dict(type="str"),
        name=dict(type="str", required=True),
        description=dict(type="str"),
        metadata=dict(type="dict"),
        force=dict(type="bool"),
    )
    module_kwargs = dict(
        mutually_exclusive=[("volume", "server")],
        required_one_of=[("volume", "server")],
        supports_check_mode=True,
    )
    result = None

    def failure_context(self):
        given = self.params["volume"] or self.params["server"]
        what = f"volume {given!r}" if self.params["volume"] else f"the root volume of server {given!r}"
        volume = (self.result or {}).get("volume")
        state = f" ({volume['id']}, {volume['status']})" if volume else ""
        return f"Snapshot {self.params['name']!r} of {what}{state}", given

    def partial_result(self):
        return dict(self.result or {})

    def check_arguments(self):
        snapshots.check_text("name", self.params["name"], required=True)
        snapshots.check_text("description", self.params["description"])
        for field in ("volume", "server"):
            snapshots.check_text(field, self.params[field])
        self.metadata = snapshots.string_metadata(self.params["metadata"])

    def run(self):
        metadata = self.metadata
        volume = self._volume()
        self.result = dict(volume=volume_view(volume))
        existing = snapshots.existing_volume_snapshot(self.api, volume.id, self.params["name"])
        if self.params["state"] == "absent":
            return self._absent(volume, existing)
        return self._present(volume, existing, metadata)

    def _volume(self):
        if self.params["volume"]:
            return snapshots.find_volume(self.api, self.params["volume"])
        server = snapshots.find_server(self.api, self.params["server"])
        volumes = snapshots.server_volumes(self.api, server)
        if not snapshots.is_volume_backed((server.image or {}).get("id"), volumes, getattr(server, "root_device_name", None)):
            raise ModuleFailure(f"Server {server.name} ({server.id}) boots from image {(server.image or {}).get('id')}: its root disk "
                                f"is not a Cinder volume. Use snapkit.cloud.os_instance_snapshot to snapshot it.")
        return snapshots.root_volume_of(self.api, server, volumes)["volume"]

    def _present(self, volume, existing, metadata):
        self.result = result = dict(changed=False, volume=volume_view(volume), force_sent=None)
        if existing is None:
            volume = snapshots.settled_volume(self.api, volume) if not self.check_mode else volume
            try:
                force = snapshots.snapshot_force(volume.id, volume.status, self.params["force"],
                                                 snapshots.parse_microversion(self.api.snapshot_microversion()))
            except ValueError as error:
                raise ModuleFailure(f"Cannot snapshot volume {volume.name or volume.id}: {error}", **result) from error
            result.update(changed=True, force_sent=force)
            if self.check_mode:
                result["volume_snapshot"] = planned_snapshot(volume, self.params["name"], self.params["description"], metadata)
                return result
            existing = snapshots.create_volume_snapshot(self.api, volume, self.params["name"], self.params["description"], metadata, force)
        result["volume_snapshot"] = snapshots.snapshot_view(existing)
        if self.params["wait"] and existing.status != "available":
            waited = snapshots.wait_snapshots(self.api, [existing.id], f"Snapshot {self.params['name']!r} of volume {volume.id}")
            result["volume_snapshot"] = snapshots.snapshot_view(waited[0])
        elif existing.status in snapshots.SNAPSHOT_FAILED_STATUS:
            raise ModuleFailure(f"Snapshot {existing.name!r} ({existing.id}) of volume {volume.id} is {existing.status!r}; "
                                f"delete it (state=absent) and try again", **result)
        return result

    def _absent(self, volume, existing):
        self.result = result = dict(changed=existing is not None, volume=volume_view(volume), force_sent=None,
                                    volume_snapshot=snapshots.snapshot_view(existing) if existing else None)
        if existing is None or self.check_mode:
            return result
        if existing.status not in ("available",) + snapshots.SNAPSHOT_FAILED_STATUS:
            # Cinder refuses to delete a snapshot that is still being created.
            snapshots.wait_snapshots(self.api, [existing.id], f"Snapshot {existing.name!r} of volume {volume.id} (before deletion)")
        snapshots.delete_snapshots(self.api, [existing], self.params["wait"])
        return result


def volume_view(volume):
    return {"id": volume.id, "name": volume.name, "status": volume.status, "size": volume.size,
            "bootable": str(volume.is_bootable).lower() in ("true", "1")}


def planned_snapshot(volume, name, description, metadata):
    return {"id": None, "name": name, "description": description, "volume_id": volume.id, "size": volume.size, "status": None,
            "metadata": metadata, "created_at": None, "updated_at": None}


def main():
    module = VolumeSnapshotModule()
    module()


if __name__ == "__main__":
    main()
