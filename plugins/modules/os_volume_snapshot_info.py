#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: os_volume_snapshot_info
short_description: List the Cinder snapshots of a volume, of a server's volumes, or of the project
version_added: 0.1.0
description:
  - Lists Cinder volume snapshots, filtered by volume (O(volume)) or by the volumes attached to a server (O(server)), and
    optionally by name and status.
  - The volume filter is applied by Cinder and checked again here, so a snapshot of another volume with the same name is
    never listed for this one.
  - A volume or server that does not exist gives an empty list, not a failure.
author:
  - snapkit.cloud maintainers (@snapkit)
options:
  volume:
    description:
      - Only snapshots of this volume (name or id).
    type: str
  server:
    description:
      - Only snapshots of the volumes attached to this server (name or id). Each result says whether its volume is the
        server's root volume (RV(volume_snapshots[].root_volume)).
    type: str
  name:
    description:
      - Only snapshots with this exact name.
    type: str
  status:
    description:
      - Only snapshots in this status (the statuses of the Block Storage API v3 reference).
    type: str
    choices: [creating, available, backing-up, deleting, error, deleted, unmanaging, restoring, error_deleting]
extends_documentation_fragment:
  - snapkit.cloud._openstack
  - snapkit.cloud._attributes
  - snapkit.cloud._attributes.INFO_MODULE
"""

EXAMPLES = r"""
- name: The snapshots of a server's volumes
  snapkit.cloud.os_volume_snapshot_info:
    cloud: devstack
    server: db-1
  register: found

- name: The available snapshots named nightly of one volume
  snapkit.cloud.os_volume_snapshot_info:
    cloud: devstack
    volume: db-1-data
    name: nightly
    status: available
"""

RETURN = r"""
volume_snapshots:
  description: The snapshots found, newest first.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The snapshot id.
      type: str
      sample: 6c1f6a2e-9a8b-4d6e-8e0c-1b2a3c4d5e6f
    name:
      description: The snapshot name.
      type: str
      sample: db-1-root-nightly
    description:
      description: The snapshot description.
      type: str
      sample: null
    volume_id:
      description: The volume it was taken from.
      type: str
      sample: 0b7d4e2a-1c3f-4e5d-9a8b-7c6d5e4f3a2b
    size:
      description: Size in GiB.
      type: int
      sample: 20
    status:
      description: The Cinder status.
      type: str
      sample: available
    metadata:
      description: The snapshot metadata.
      type: dict
      sample: {"snapkit_server_id": "4f3c2b1a-0000-4000-8000-000000000001"}
    created_at:
      description: When Cinder created the snapshot.
      type: str
      sample: "2026-11-22T10:15:00.000000"
    updated_at:
      description: When Cinder last changed the snapshot.
      type: str
      sample: "2026-11-22T10:15:40.000000"
    root_volume:
      description: With O(server), whether the snapshot is of the server's root volume.
      returned: when O(server) is given
      type: bool
      sample: true
"""

from ansible_collections.snapkit.cloud.plugins.module_utils import _os_snapshot as snapshots
from ansible_collections.snapkit.cloud.plugins.module_utils._module import ModuleFailure
from ansible_collections.snapkit.cloud.plugins.module_utils._openstack import SnapkitOpenStackModule


class VolumeSnapshotInfoModule(SnapkitOpenStackModule):
    argument_spec = dict(
        volume=dict(type="str"),
        server=dict(type="str"),
        name=dict(type="str"),
        status=dict(type="str", choices=["creating", "available", "backing-up", "deleting", "error", "deleted", "unmanaging",
                                         "restoring", "error_deleting"]),
    )
    module_kwargs = dict(mutually_exclusive=[("volume", "server")], supports_check_mode=True)

    def check_arguments(self):
        for field in ("volume", "server", "name"):
            snapshots.check_text(field, self.params[field])

    def run(self):
        found = []
        if self.params["server"]:
            found = self._server_snapshots()
        elif self.params["volume"]:
            volume = self.api.find_volume(self.params["volume"])
            found = [snapshots.snapshot_view(item) for item in self._snapshots(volume.id)] if volume else []
        else:
            found = [snapshots.snapshot_view(item) for item in self._snapshots(None)]
        if self.params["status"]:
            found = [item for item in found if item["status"] == self.params["status"]]
        found.sort(key=lambda item: item["created_at"] or "", reverse=True)
        return dict(changed=False, volume_snapshots=found)

    def _snapshots(self, volume_id):
        if volume_id is not None:
            return self.api.volume_snapshots(volume_id, self.params["name"])
        return [item for item in self.api.project_snapshots() if self.params["name"] in (None, item.name)]

    def _server_snapshots(self):
        server = self.api.find_server(self.params["server"])
        if server is None:
            return []
        volumes = snapshots.server_volumes(self.api, server)
        try:
            root_id = snapshots.root_volume_of(self.api, server, volumes)["id"] if volumes else None
        except ModuleFailure:
            root_id = None  # no bootable volume: an image-booted server with data volumes
        if (server.image or {}).get("id") and not snapshots.is_volume_backed(server.image["id"], volumes, server.root_device_name):
            root_id = None
        found = []
        for volume in volumes:
            for item in self._snapshots(volume["id"]):
                found.append(dict(snapshots.snapshot_view(item), root_volume=volume["id"] == root_id))
        return found


def main():
    module = VolumeSnapshotInfoModule()
    module()


if __name__ == "__main__":
    main()
