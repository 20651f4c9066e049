# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The real services as a test backend with the simulator's test-facing shape (``seed_server``, ``clouds_yaml``,
``openstack_state``, ``reset``), so one test body runs on both.

Servers, volumes and images are seeded through the admin cloud entry (the admin user, admin role on the member's
project) with openstacksdk; the modules under test run as the member user (cloud ``devstack``). The real services keep
no journal: ``journaled`` is False, and tests check calls only where it is True.
"""

from __future__ import annotations

import json
import os
import pathlib
import time

from openstack.exceptions import NotFoundException

from openstack_real import launcher

CLOUDS_ENV = "SNAPKIT_OPENSTACK_REAL_CLOUDS"
BASE_IMAGES = {name for name, _properties in launcher.IMAGES}
WAIT = 300
SETTLING_VOLUME = ("creating", "downloading", "attaching", "detaching", "reserved", "deleting", "backing-up", "restoring-backup")


def enabled() -> bool:
    """The real backend takes part when the stage started it and named its clouds.yaml."""
    return bool(os.environ.get(CLOUDS_ENV))


def backend_params() -> list:
    """pytest params of a test that runs on both backends: ``sim`` always, ``real`` (marked ``openstack_real``) only when
    the stage started the services. Without them the param is not made at all, so nothing is skipped."""
    import pytest  # pylint: disable=import-outside-toplevel
    return [pytest.param("sim", id="sim")] + (
        [pytest.param("real", id="real", marks=pytest.mark.openstack_real)] if enabled() else [])


def pytest_configure(config):
    """``-p openstack_real.testing`` (the stage's pytest runs) registers the marker in every test directory."""
    config.addinivalue_line("markers", "openstack_real: runs against the real OpenStack services (the integration-real stage)")


class RealCloud:
    """One connection pair to the running services: ``admin`` for setup and checks, the member's clouds.yaml for the tests."""

    journaled = False  # no journal of the calls
    guests_reachable = False  # no guest runs: nothing answers SSH or WinRM on a server's address
    backend = "real"

    def __init__(self, clouds_yaml: str):
        import openstack  # pylint: disable=import-outside-toplevel
        self.clouds_file = pathlib.Path(clouds_yaml)
        self.document = json.loads(self.clouds_file.read_text())
        self.admin = openstack.connect(load_yaml_config=False, load_envvars=False, **self.document["clouds"][launcher.ADMIN_CLOUD])
        self.project_id = self.admin.current_project_id
        self.clouds_yaml_path = None

    def close(self):
        self.admin.close()

    def clouds_yaml(self, cloud_name: str = launcher.CLOUD, auth_type: str = "password") -> dict:
        if auth_type != "password":
            raise ValueError("the real backend's member user has a password only")
        return {"clouds": {cloud_name: dict(self.document["clouds"][launcher.CLOUD])}}

    def member_password(self) -> str:
        return self.document["clouds"][launcher.CLOUD]["auth"]["password"]

    # Setup ----------------------------------------------------------------------------------

    def reset(self, **_ignored) -> None:
        """Delete what earlier tests made in the member's project: servers, Cinder snapshots, volumes, snapshot images.

        Volumes made from a snapshot go before the snapshots: the volume driver refuses to delete a snapshot with clones."""
        compute, storage, image = self.admin.compute, self.admin.block_storage, self.admin.image
        servers = list(compute.servers(project_id=self.project_id, all_projects=True))
        for server in servers:
            compute.delete_server(server, ignore_missing=True)
        for server in servers:
            compute.wait_for_delete(server, interval=1, wait=WAIT)
        self._delete_volumes(volume for volume in storage.volumes(details=True, project_id=self.project_id, all_projects=True)
                             if volume.snapshot_id)
        snapshots = list(storage.snapshots(details=True, project_id=self.project_id, all_projects=True))
        for snapshot in snapshots:
            storage.delete_snapshot(snapshot, ignore_missing=True, force=snapshot.status not in ("available", "error"))
        for snapshot in snapshots:
            storage.wait_for_delete(snapshot, interval=1, wait=WAIT)
        self._delete_volumes(storage.volumes(details=True, project_id=self.project_id, all_projects=True))
        for item in list(image.images()):
            if item.name not in BASE_IMAGES or item.owner_id == self.project_id and item.visibility != "public":
                image.delete_image(item, ignore_missing=True)

    def _delete_volumes(self, volumes) -> None:
        storage = self.admin.block_storage
        volumes = list(volumes)
        for volume in volumes:
            try:
                if volume.status not in ("available", "error", "deleting"):
                    storage.reset_volume_status(volume, status="available", attach_status="detached", migration_status=None)
                storage.delete_volume(volume, ignore_missing=True, cascade=True)
            except NotFoundException:
                continue  # gone with its server (delete_on_termination) meanwhile
        for volume in volumes:
            storage.wait_for_delete(volume, interval=1, wait=WAIT)

    def seed_server(self, boot: str = "image", volumes: list | None = None, name: str | None = None, image: str | None = None,
                    flavor: str = "m1.small", root_size: int | None = None, network: str = "private", fixed_ip: str | None = None,
                    state: str = "ACTIVE", windows: bool = False, metadata: dict | None = None, **unsupported) -> dict:
        """A server made the way a user would make it, in the member's project; the simulator's seed_server answer."""
        if unsupported:
            raise ValueError(f"the real backend cannot seed {sorted(unsupported)}")
        compute, storage = self.admin.compute, self.admin.block_storage
        base = self.admin.image.find_image(image or ("windows-server-2022" if windows else "cirros-0.6.3-x86_64-disk"), ignore_missing=False)
        flavor_found = compute.find_flavor(str(flavor), ignore_missing=False)
        net = self.admin.network.find_network(network, ignore_missing=False)
        name = name or f"server-{int(time.time() * 1000) % 100000}"
        nic = {"uuid": net.id}
        if fixed_ip:
            nic["fixed_ip"] = fixed_ip
        request = {"name": name, "flavor_id": flavor_found.id, "networks": [nic], "metadata": dict(metadata or {})}
        seeded_volumes = []
        if boot == "volume":
            root = storage.create_volume(size=root_size or flavor_found.disk, name=f"{name}-root", image_id=base.id)
            storage.wait_for_status(root, "available", interval=1, wait=WAIT)
            request["block_device_mapping"] = [{"boot_index": 0, "uuid": root.id, "source_type": "volume", "destination_type": "volume",
                                                "delete_on_termination": False}]
        elif boot == "image":
            request["image_id"] = base.id
        else:
            raise ValueError('"boot" must be "image" or "volume"')
        server = compute.create_server(**request)
        server = compute.wait_for_server(server, interval=1, wait=WAIT)
        if boot == "volume":
            seeded_volumes.append({"volume_id": root.id, "device": "/dev/vda", "size": root.size, "bootable": True})
        for index, spec in enumerate(volumes or []):
            volume = storage.create_volume(size=int(spec.get("size", 1)), name=spec.get("name") or "")
            storage.wait_for_status(volume, "available", interval=1, wait=WAIT)
            compute.create_volume_attachment(server, volume_id=volume.id)
            storage.wait_for_status(volume, "in-use", interval=1, wait=WAIT)
            device = storage.get_volume(volume.id).attachments[0]["device"]
            seeded_volumes.append({"volume_id": volume.id, "device": device, "size": volume.size, "bootable": False, "index": index})
        if state == "SHUTOFF":
            compute.stop_server(server)
            compute.wait_for_server(server, status="SHUTOFF", interval=1, wait=WAIT)
        [port] = list(self.admin.network.ports(device_id=server.id))
        for item in seeded_volumes:
            item.pop("index", None)
        return {"server_id": server.id, "name": name, "boot": boot, "image_id": base.id if boot == "image" else "",
                "flavor_id": flavor_found.id, "network_id": net.id, "port_id": port.id, "fixed_ip": port.fixed_ips[0]["ip_address"],
                "volumes": seeded_volumes, "windows": windows, "guest_nic": None}

    def settle(self, timeout: float = WAIT) -> None:
        """Wait until nothing in the member's project is on its way: what the simulator's ``advance()`` does by jumping."""
        compute, storage = self.admin.compute, self.admin.block_storage
        deadline = time.monotonic() + timeout
        while True:
            busy = [f"server {item.name} {item.status}/{item.task_state}"
                    for item in compute.servers(project_id=self.project_id, all_projects=True)
                    if item.status == "BUILD" or item.task_state]
            busy += [f"volume {item.name or item.id} {item.status}"
                     for item in storage.volumes(details=True, project_id=self.project_id, all_projects=True)
                     if item.status in SETTLING_VOLUME]
            busy += [f"snapshot {item.name or item.id} {item.status}"
                     for item in storage.snapshots(details=True, project_id=self.project_id, all_projects=True)
                     if item.status in ("creating", "deleting")]
            busy += [f"image {item.name} {item.status}" for item in self.admin.image.images(owner=self.project_id)
                     if item.status in ("queued", "saving", "importing", "uploading")]
            if not busy:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"still on its way after {timeout:.0f}s: {', '.join(busy)}")
            time.sleep(1)

    # Checks ---------------------------------------------------------------------------------

    def openstack_state(self) -> dict:
        """The member project's servers, volumes, snapshots, images and ports in the simulator's state shape."""
        compute, storage = self.admin.compute, self.admin.block_storage
        servers = []
        for server in compute.servers(project_id=self.project_id, all_projects=True):
            image_id = (server.image or {}).get("id") or ""
            servers.append({"id": server.id, "name": server.name, "status": server.status, "image_id": image_id,
                            "volumes": [item["id"] for item in server.attached_volumes or []],
                            "ports": [port.id for port in self.admin.network.ports(device_id=server.id)],
                            "config_drive": server.has_config_drive in (True, "True", "true"), "user_data": server.user_data,
                            "metadata": dict(server.metadata or {})})
        volumes = [{"id": volume.id, "name": volume.name, "status": volume.status, "size": volume.size, "bootable": volume.is_bootable,
                    "snapshot_id": volume.snapshot_id,
                    "attachments": [{"server_id": item["server_id"], "device": item["device"]} for item in volume.attachments or []]}
                   for volume in storage.volumes(details=True, project_id=self.project_id, all_projects=True)]
        snapshots = [{"id": item.id, "name": item.name, "status": item.status, "volume_id": item.volume_id, "size": item.size,
                      "metadata": dict(item.metadata or {})}
                     for item in storage.snapshots(details=True, project_id=self.project_id, all_projects=True)]
        images = [{"id": item.id, "name": item.name, "status": item.status, "size": item.size, "owner": item.owner_id,
                   "properties": dict(item.properties or {}, **{key: getattr(item, attr) for key, attr in
                                                                (("instance_uuid", "instance_uuid"),) if getattr(item, attr, None)})}
                  for item in self.admin.image.images()]
        ports = [{"id": port.id, "network_id": port.network_id, "device_id": port.device_id}
                 for port in self.admin.network.ports(project_id=self.project_id)]
        return {"servers": servers, "volumes": volumes, "snapshots": snapshots, "images": images, "ports": ports}


def real_cloud_fixture():
    """A session fixture of the running services (import it into a test module as ``real_cloud``)."""
    import pytest  # pylint: disable=import-outside-toplevel

    @pytest.fixture(scope="session")
    def real_cloud():
        cloud = RealCloud(os.environ[CLOUDS_ENV])
        yield cloud
        cloud.close()

    return real_cloud
