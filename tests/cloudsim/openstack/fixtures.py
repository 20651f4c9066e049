# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The initial cloud (DevStack-like), seeding servers, server creation, the state view and clouds.yaml."""

from __future__ import annotations

import dataclasses
import ipaddress
import json

from cloudsim.openstack.operations import Operations
from cloudsim.openstack.state import MEMBER_ROLES, REGION, Flavor, Identity, Image, Network, OpenStackCloud, Server, SnapshotFailure, Subnet
from cloudsim.openstack.wire import ApiError, check_metadata_keys, new_id

DEVICE_LETTERS = "abcdefghijklmnopqrstuvwxyz"
ACTIVE_POWER_STATE = 1
SHUTDOWN_POWER_STATE = 4


def new_cloud(now: float, identity: Identity | None = None) -> OpenStackCloud:
    """DevStack's shape: flavors m1.*, a cirros and a Windows image, a private (DHCP) and a public network.

    The identity (project and user ids) survives resets: clients keep their clouds.yaml and catalog; its roles go
    back to the member's.
    """
    cloud = OpenStackCloud()
    if identity is not None:
        cloud.identity = dataclasses.replace(identity, roles=MEMBER_ROLES)
    for flavor_id, name, vcpus, ram, disk in (("1", "m1.tiny", 1, 512, 1), ("2", "m1.small", 1, 2048, 20),
                                              ("3", "m1.medium", 2, 4096, 40), ("4", "m1.large", 4, 8192, 80)):
        cloud.flavors[flavor_id] = Flavor(flavor_id, name, vcpus, ram, disk)
    for name, disk_format, size in (("cirros-0.6.3-x86_64-disk", "qcow2", 21430272), ("windows-server-2022", "qcow2", 9663676416)):
        image = Image(image_id=new_id(), name=name, status="active", size=size, disk_format=disk_format, container_format="bare",
                      created=now, updated=now, owner=cloud.identity.project_id, visibility="public")
        if name.startswith("windows"):
            # A fresh Windows from the base image takes its address by DHCP.
            image.properties["os_type"] = "windows"
            image.guest = {"windows": True, "nic": {"mode": "dhcp"}}
        cloud.images[image.image_id] = image
    _add_network(cloud, "private", "private-subnet", "10.0.0.0/24", "10.0.0.1", external=False)
    _add_network(cloud, "public", "public-subnet", "172.24.4.0/24", "172.24.4.1", external=True)
    return cloud


def _add_network(cloud: OpenStackCloud, name: str, subnet_name: str, cidr: str, gateway: str, external: bool,
                 shared: bool = False) -> Network:
    network = Network(network_id=new_id(), name=name, project_id=cloud.identity.project_id, external=external, shared=shared)
    subnet = Subnet(subnet_id=new_id(), name=subnet_name, network_id=network.network_id, cidr=cidr, gateway_ip=gateway,
                    enable_dhcp=True, project_id=cloud.identity.project_id)
    network.subnet_ids.append(subnet.subnet_id)
    cloud.networks[network.network_id] = network
    cloud.subnets[subnet.subnet_id] = subnet
    return network


def seed_network(cloud: OpenStackCloud, body: dict) -> dict:
    """``POST /openstack/networks``: a network with one subnet, as an admin makes it (``name``, ``cidr``, ``external``
    for ``router:external``, ``shared``); not journaled."""
    name, cidr = body.get("name"), body.get("cidr")
    if not isinstance(name, str) or not name or not isinstance(cidr, str):
        raise ValueError('give "name" and "cidr"')
    gateway = str(next(ipaddress.ip_network(cidr).hosts()))
    network = _add_network(cloud, name, f"{name}-subnet", cidr, gateway, bool(body.get("external")), bool(body.get("shared")))
    return {"network_id": network.network_id, "subnet_id": network.subnet_ids[0], "external": network.external,
            "shared": network.shared}


def set_roles(cloud: OpenStackCloud, body: dict) -> dict:
    """``POST /openstack/identity``: the user's ``roles`` on the project, carried by the tokens issued from now on."""
    roles = body.get("roles")
    if not isinstance(roles, list) or not all(isinstance(role, str) and role for role in roles):
        raise ValueError('"roles" must be a list of role names')
    cloud.identity.roles = tuple(roles)
    return {"roles": list(cloud.identity.roles)}


def device_name(index: int) -> str:
    return f"/dev/vd{DEVICE_LETTERS[index]}"


# Seeding ---------------------------------------------------------------------------------------

def seed_server(ops: Operations, body: dict) -> dict:
    """``POST /openstack/servers``: a server that already exists, with its volumes and port; not journaled.

    Keys: ``name``, ``boot`` (``image`` or ``volume``), ``image`` (name or id), ``flavor``, ``root_size``,
    ``volumes`` ([{"size", "name"}]), ``network`` (name or id), ``fixed_ip``, ``state`` (ACTIVE/SHUTOFF),
    ``windows`` and ``guest_nic`` (``static`` or ``dhcp``), ``metadata``.
    """
    cloud = ops.cloud
    boot = body.get("boot", "image")
    if boot not in ("image", "volume"):
        raise ValueError('"boot" must be "image" or "volume"')
    windows = bool(body.get("windows", False))
    image = cloud.find_image(body.get("image") or ("windows-server-2022" if windows else "cirros-0.6.3-x86_64-disk"))
    flavor = cloud.find_flavor(str(body.get("flavor", "m1.small")))
    state = body.get("state", "ACTIVE")
    if state not in ("ACTIVE", "SHUTOFF"):
        raise ValueError('"state" must be ACTIVE or SHUTOFF')
    server = Server(server_id=new_id(), name=body.get("name") or f"server-{len(cloud.servers) + 1}", status=state,
                    power_state=ACTIVE_POWER_STATE if state == "ACTIVE" else SHUTDOWN_POWER_STATE, flavor_id=flavor.flavor_id,
                    image_id=image.image_id if boot == "image" else "", metadata=dict(body.get("metadata") or {}),
                    created=ops.now, updated=ops.now, launched_at=ops.now, windows=windows, availability_zone=cloud.compute_zones[0])
    cloud.servers[server.server_id] = server
    port = ops.create_port(cloud.find_network(body.get("network", "private")).network_id, body.get("fixed_ip"),
                           device_id=server.server_id, device_owner="compute:nova")
    port.status = "ACTIVE"
    server.port_ids.append(port.port_id)
    if windows:
        server.guest_nic = _guest_nic(body.get("guest_nic", "static"), port.fixed_ips[0]["ip_address"])
    volumes = _seed_volumes(ops, server, body, image, flavor)
    return {"server_id": server.server_id, "name": server.name, "boot": boot, "image_id": server.image_id,
            "flavor_id": flavor.flavor_id, "network_id": port.network_id, "port_id": port.port_id,
            "fixed_ip": port.fixed_ips[0]["ip_address"], "volumes": volumes, "windows": windows, "guest_nic": server.guest_nic}


def _guest_nic(mode: str, address: str) -> dict:
    if mode == "static":
        return {"mode": "static", "ip": address}
    if mode == "dhcp":
        return {"mode": "dhcp"}
    raise ValueError('"guest_nic" must be "static" or "dhcp"')


def _seed_volumes(ops: Operations, server: Server, body: dict, image: Image, flavor: Flavor) -> list[dict]:
    specs = list(body.get("volumes") or [])
    if server.is_volume_backed():
        specs.insert(0, {"size": body.get("root_size", flavor.disk), "name": f"{server.name}-root", "bootable": True,
                         "image_id": image.image_id})
    seeded = []
    first_device = 0 if server.is_volume_backed() else 1
    for index, spec in enumerate(specs):
        volume = ops.create_volume(int(spec.get("size", 1)), name=spec.get("name") or "", bootable=bool(spec.get("bootable")),
                                   available_now=True, image_id=spec.get("image_id"), guest=server.guest() if spec.get("bootable") else {})
        device = device_name(first_device + index)
        ops.attach_volume(server, volume, device)
        seeded.append({"volume_id": volume.volume_id, "device": device, "size": volume.size, "bootable": volume.bootable})
    return seeded


def plan_snapshot_failure(cloud: OpenStackCloud, body: dict) -> dict:
    plan = SnapshotFailure(volume_id=body.get("volume_id"), server_id=body.get("server_id"))
    cloud.snapshot_failures.append(plan)
    return plan.as_dict()


# Nova server create ----------------------------------------------------------------------------

def set_zones(cloud: OpenStackCloud, body: dict) -> dict:
    """``POST /openstack/zones``: Nova's (``compute``) and Cinder's (``volume``) availability zone names; the first of
    each is where servers and volumes go when no zone is asked for."""
    for key in ("compute", "volume"):
        zones = body.get(key)
        if zones is None:
            continue
        if not isinstance(zones, list) or not zones or not all(isinstance(zone, str) and zone for zone in zones):
            raise ValueError(f'"{key}" must be a non-empty list of zone names')
        setattr(cloud, f"{key}_zones", list(zones))
    return {"compute": list(cloud.compute_zones), "volume": list(cloud.volume_zones)}


def create_server_from_request(ops: Operations, request: dict, scheduler_hints: dict | None = None,
                               roles: tuple = MEMBER_ROLES) -> Server:
    """``POST /servers``: imageRef and/or block_device_mapping_v2, networks by uuid (+ fixed_ip) or port.

    An image with a ``block_device_mapping`` property (the createImage image of a volume-backed server) brings its
    mappings along, merged under the request's by device name (nova/compute/api.py, _check_and_transform_bdm): Nova
    creates a volume from each snapshot it names, in the snapshot's Cinder zone (cross_az_attach is on by default,
    so Nova asks for no zone).
    """
    cloud = ops.cloud
    if not request.get("name"):
        raise ApiError(400, "Invalid input for field/attribute name. Value: None. None is not of type 'string'")
    try:
        flavor = cloud.find_flavor(str(request.get("flavorRef", "")).rstrip("/").rsplit("/", 1)[-1])
    except KeyError as error:
        raise ApiError(400, f"Flavor {request.get('flavorRef')} could not be found.") from error
    mappings = sorted(request.get("block_device_mapping_v2") or [], key=_boot_order)
    image_id = str(request.get("imageRef") or "").rstrip("/").rsplit("/", 1)[-1]
    if image_id and image_id not in cloud.images:
        raise ApiError(400, f"Image {image_id} could not be found.")
    if not image_id and not mappings:
        raise ApiError(400, "Block Device Mapping is Invalid: You specified more local devices than the limit allows")
    if image_id:
        mappings = _merged_with_image_mappings(cloud.images[image_id], mappings)
    zone = request.get("availability_zone") or cloud.compute_zones[0]
    if zone not in cloud.compute_zones:
        raise ApiError(400, "The requested availability zone is not available")
    check_metadata_keys(request.get("metadata") or {}, "metadata")
    root_is_volume = bool(mappings) and _boot_order(mappings[0]) == 0 and mappings[0].get("destination_type") == "volume"
    # Booted from an image whose mappings hold the root volume: Nova keeps the image as the server's, the root is a volume.
    shown_image = image_id if image_id and _image_has_root_mapping(cloud.images[image_id]) else ("" if root_is_volume else image_id)
    server = Server(server_id=new_id(), name=request["name"], status="BUILD", task_state="spawning", flavor_id=flavor.flavor_id,
                    image_id=shown_image, metadata=dict(request.get("metadata") or {}),
                    key_name=request.get("key_name"), created=ops.now, updated=ops.now,
                    config_drive="True" if request.get("config_drive") else "", user_data=request.get("user_data"),
                    availability_zone=zone, scheduler_hints=dict(scheduler_hints or {}), root_on_volume=root_is_volume)
    volume_mappings = [mapping for mapping in mappings if mapping.get("destination_type") == "volume"]
    forbidden = None if "admin" in roles else _external_network(cloud, request.get("networks"))
    if forbidden is not None:
        return _abort_build(ops, server, volume_mappings)
    volumes = [_volume_for_mapping(ops, mapping, flavor) for mapping in volume_mappings]
    ports = _ports_for_networks(ops, request.get("networks"), server)
    cloud.servers[server.server_id] = server
    for index, (volume, mapping) in enumerate(zip(volumes, volume_mappings)):
        ops.attach_volume(server, volume, device_name(index if root_is_volume else index + 1),
                          str(mapping.get("delete_on_termination", False)).lower() == "true")
    server.port_ids = [port.port_id for port in ports]
    _inherit_guest(server, volumes[0] if root_is_volume else cloud.images.get(image_id))
    ready = ops.now + ops.settings.server_build_seconds
    server.later(ready, status="ACTIVE", task_state=None, power_state=ACTIVE_POWER_STATE, launched_at=ready, updated=ready)
    for port in ports:
        port.status = "ACTIVE"
    return server


def _external_network(cloud: OpenStackCloud, networks) -> str | None:
    """The first requested network a non-admin may not attach to: ``router:external`` and not ``shared``
    (nova/network/neutron.py, _check_external_network_attach, policy ``network:attach_external_network``: admin only)."""
    if networks in (None, "auto", "none"):
        return None
    for entry in networks:
        port = cloud.ports.get(entry.get("port") or "")
        network = cloud.networks.get(port.network_id if port is not None else entry.get("uuid", ""))
        if network is not None and network.external and not network.shared:
            return network.network_id
    return None


def _abort_build(ops: Operations, server: Server, volume_mappings: list[dict]) -> Server:
    """A build the compute service aborts while allocating the network, before any port or volume is made: the API
    answered 202, the server goes to ERROR with the fault of BuildAbortException (nova/compute/manager.py,
    _build_and_run_instance; ExternalNetworkAttachForbidden's "It is not allowed to create an interface on external
    network <id>" is only logged). A volume the request named stays reserved to the server, as Nova's API attached it."""
    server.fault_message = f"Build of instance {server.server_id} aborted: Failed to allocate the network(s), not rescheduling."
    ops.cloud.servers[server.server_id] = server
    for index, mapping in enumerate(item for item in volume_mappings if item.get("source_type") == "volume"):
        volume = _volume_for_mapping(ops, mapping, None)
        ops.attach_volume(server, volume, device_name(index), str(mapping.get("delete_on_termination", False)).lower() == "true")
        volume.status = "reserved"
    failed = ops.now + ops.settings.server_transition_seconds
    server.later(failed, status="ERROR", task_state=None, power_state=0, updated=failed)
    return server


def _image_mappings(image: Image) -> list[dict]:
    value = image.properties.get("block_device_mapping")
    try:
        mappings = json.loads(value) if isinstance(value, str) else list(value or [])
    except ValueError:
        return []
    return [dict(mapping, uuid=mapping.get("snapshot_id") or mapping.get("volume_id") or mapping.get("image_id"))
            for mapping in mappings if isinstance(mapping, dict)]


def _image_has_root_mapping(image: Image) -> bool:
    return any(_boot_order(mapping) == 0 for mapping in _image_mappings(image))


def _merged_with_image_mappings(image: Image, requested: list[dict]) -> list[dict]:
    """The image's mappings, replaced by the request's where both name a device; the request's image-to-root entry is
    dropped when the image brings a root (Nova's not_image_and_root_bdm)."""
    from_image = _image_mappings(image)
    if not from_image:
        return requested
    if any(_boot_order(mapping) == 0 for mapping in from_image):
        requested = [item for item in requested if not (_boot_order(item) == 0 and item.get("source_type") == "image")]
    devices = {item.get("device_name") for item in requested if item.get("device_name")}
    merged = [mapping for mapping in from_image if mapping.get("device_name") not in devices] + requested
    return sorted(merged, key=_boot_order)


def _inherit_guest(server: Server, source) -> None:
    """A server runs what its root disk holds: a copy of a Windows server keeps the original's NIC setup (its static IP)."""
    guest = getattr(source, "guest", None) or {}
    server.windows = bool(guest.get("windows"))
    server.guest_nic = dict(guest.get("nic") or {})


def set_guest_nic(cloud: OpenStackCloud, body: dict) -> dict:
    """``POST /openstack/guest-nic``: the emulated guest switched its NIC (``dhcp``, or ``static`` with ``ip``)."""
    server = cloud.servers.get(body.get("server_id", ""))
    if server is None:
        raise KeyError(f"server {body.get('server_id')!r} not found")
    mode = body.get("mode")
    if mode == "dhcp":
        server.guest_nic = {"mode": "dhcp"}
    elif mode == "static" and body.get("ip"):
        server.guest_nic = {"mode": "static", "ip": body["ip"]}
    else:
        raise ValueError('give "mode": "dhcp", or "mode": "static" with "ip"')
    return {"server_id": server.server_id, "guest_nic": server.guest_nic, "reachable": cloud.server_reachable(server)}


def _boot_order(mapping: dict) -> int:
    index = mapping.get("boot_index")
    return 10 ** 6 if index in (None, -1, "-1", "none") else int(index)


def _volume_for_mapping(ops: Operations, mapping: dict, flavor: Flavor):
    source = mapping.get("source_type")
    if source == "volume":
        volume = ops.volume(mapping.get("uuid", ""))
        if volume.status != "available":
            raise ApiError(400, f"Invalid volume: volume '{volume.volume_id}' status must be 'available'. Currently in '{volume.status}'")
        return volume
    if source == "snapshot":
        snapshot = ops.snapshot(mapping.get("uuid", ""))
        return ops.create_volume(int(mapping.get("volume_size") or snapshot.size), snapshot_id=snapshot.snapshot_id, available_now=True)
    if source == "image":
        image = ops.image(mapping.get("uuid", ""))
        return ops.create_volume(int(mapping.get("volume_size") or flavor.disk), bootable=True, available_now=True, image_id=image.image_id,
                                 guest=dict(image.guest))
    return ops.create_volume(int(mapping.get("volume_size") or 1), available_now=True)


def _ports_for_networks(ops: Operations, networks, server: Server) -> list:
    cloud = ops.cloud
    if networks in (None, "auto"):
        networks = [{"uuid": cloud.find_network("private").network_id}]
    if networks == "none":
        return []
    ports = []
    for entry in networks:
        if entry.get("port"):
            port = cloud.ports.get(entry["port"])
            if port is None:
                raise ApiError(404, f"Port id {entry['port']} could not be found.")
            if port.device_id:
                raise ApiError(409, f"Port {port.port_id} is still in use.")
        else:
            port = ops.create_port(entry.get("uuid", ""), entry.get("fixed_ip"), device_owner="compute:nova")
        port.device_id, port.device_owner = server.server_id, port.device_owner or "compute:nova"
        ports.append(port)
    return ports


# Views for the control API ---------------------------------------------------------------------

def state_view(cloud: OpenStackCloud, now: float) -> dict:
    """``GET /openstack/state``: everything, with seconds left in each running transition."""
    return {
        "servers": [{"id": server.server_id, "name": server.name, "status": server.status, "task_state": server.task_state,
                     "availability_zone": server.availability_zone,
                     "image_id": server.image_id, "volumes": cloud.server_volume_ids(server.server_id),
                     "ports": list(server.port_ids), "windows": server.windows, "guest_nic": server.guest_nic,
                     "reachable": cloud.server_reachable(server), "config_drive": bool(server.config_drive), "user_data": server.user_data,
                     "metadata": dict(server.metadata), "seconds_left": server.seconds_left(now)} for server in cloud.servers.values()],
        "volumes": [{"id": volume.volume_id, "name": volume.name, "size": volume.size, "status": volume.status,
                     "bootable": volume.bootable, "snapshot_id": volume.snapshot_id, "availability_zone": volume.availability_zone,
                     "attachments": [{"server_id": item.server_id, "device": item.device} for item in volume.attachments]}
                    for volume in cloud.volumes.values()],
        "snapshots": [{"id": snapshot.snapshot_id, "name": snapshot.name, "volume_id": snapshot.volume_id, "size": snapshot.size,
                       "status": snapshot.status, "seconds_left": snapshot.seconds_left(now)} for snapshot in cloud.snapshots.values()],
        "images": [{"id": image.image_id, "name": image.name, "status": image.status, "size": image.size,
                    "properties": dict(image.properties), "seconds_left": image.seconds_left(now)} for image in cloud.images.values()],
        "networks": [{"id": network.network_id, "name": network.name, "subnets": list(network.subnet_ids)}
                     for network in cloud.networks.values()],
        "ports": [{"id": port.port_id, "network_id": port.network_id, "device_id": port.device_id, "fixed_ips": port.fixed_ips}
                  for port in cloud.ports.values()],
        "snapshot_failures": [plan.as_dict() for plan in cloud.snapshot_failures],
        "zones": {"compute": list(cloud.compute_zones), "volume": list(cloud.volume_zones)},
        "identity": {"project_id": cloud.identity.project_id, "user_id": cloud.identity.user_id},
    }


def clouds_yaml(cloud: OpenStackCloud, auth_url: str, cloud_name: str, auth_type: str = "password") -> dict:
    """A clouds.yaml document (as a dict) that points openstacksdk/openstackclient at the simulator."""
    identity = cloud.identity
    if auth_type == "v3applicationcredential":
        auth = {"auth_url": auth_url, "application_credential_id": identity.app_credential_id,
                "application_credential_secret": identity.app_credential_secret}
    elif auth_type == "password":
        auth = {"auth_url": auth_url, "username": identity.user_name, "password": identity.password,
                "project_name": identity.project_name, "user_domain_name": identity.domain_name,
                "project_domain_name": identity.domain_name}
    else:
        raise ValueError('"auth_type" must be "password" or "v3applicationcredential"')
    return {"clouds": {cloud_name: {"auth_type": auth_type, "auth": auth, "region_name": REGION, "interface": "public",
                                    "identity_api_version": 3, "volume_api_version": 3}}}
