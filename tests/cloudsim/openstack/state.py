# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The simulated OpenStack cloud: resources and their lifecycles on the simulated clock.

Every resource keeps a small schedule of future changes (``at`` simulated time, attributes to
set). :meth:`OpenStackCloud.settle` applies the due ones before each request is served, so state
follows the clock without a background thread and a frozen clock (speed 0) makes tests exact.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import itertools

from cloudsim.openstack.settings import OpenStackSettings
from cloudsim.openstack.wire import new_id

# The settings' old name here.
Settings = OpenStackSettings
REGION = "RegionOne"
DOMAIN_ID = "default"
DOMAIN_NAME = "Default"
# DevStack's demo user on its project: a member (the new default policies' project member), and reader with it.
MEMBER_ROLES = ("member", "reader")


@dataclasses.dataclass
class Timed:
    """A resource whose attributes change at scheduled simulated times."""

    schedule: list = dataclasses.field(default_factory=list, repr=False)

    def later(self, at: float, **changes) -> None:
        self.schedule.append((at, changes))
        self.schedule.sort(key=lambda item: item[0])

    def settle(self, now: float) -> None:
        while self.schedule and self.schedule[0][0] <= now:
            changes = self.schedule.pop(0)[1]
            for key, value in changes.items():
                setattr(self, key, value)

    def seconds_left(self, now: float) -> float:
        return max(0.0, self.schedule[-1][0] - now) if self.schedule else 0.0


@dataclasses.dataclass
class Flavor:
    flavor_id: str
    name: str
    vcpus: int
    ram: int
    disk: int


@dataclasses.dataclass
class Image(Timed):
    image_id: str = ""
    name: str = ""
    status: str = "queued"
    size: int | None = None
    disk_format: str | None = None
    container_format: str | None = None
    min_disk: int = 0
    created: float = 0.0
    updated: float = 0.0
    owner: str = ""
    visibility: str = "private"
    properties: dict = dataclasses.field(default_factory=dict)
    # The emulated guest on the disk: {"windows": bool, "nic": {...}}; copies inherit it.
    guest: dict = dataclasses.field(default_factory=dict)
    # Set by the schedule when Nova deletes the image of a failed snapshot; settle() then drops it.
    removed: bool = False


@dataclasses.dataclass
class Attachment:
    attachment_id: str
    server_id: str
    volume_id: str
    device: str
    attached_at: float
    delete_on_termination: bool = False


@dataclasses.dataclass
class Volume(Timed):
    volume_id: str = ""
    name: str = ""
    size: int = 1
    status: str = "available"
    bootable: bool = False
    volume_type: str = "lvmdriver-1"
    description: str | None = None
    snapshot_id: str | None = None
    image_id: str | None = None
    metadata: dict = dataclasses.field(default_factory=dict)
    attachments: list = dataclasses.field(default_factory=list)
    availability_zone: str = "nova"
    created: float = 0.0
    updated: float = 0.0
    guest: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Snapshot(Timed):
    snapshot_id: str = ""
    volume_id: str = ""
    name: str | None = None
    description: str | None = None
    size: int = 1
    status: str = "creating"
    progress: str = "0%"
    metadata: dict = dataclasses.field(default_factory=dict)
    created: float = 0.0
    updated: float = 0.0
    project_id: str = ""
    guest: dict = dataclasses.field(default_factory=dict)
    # Cinder keeps a snapshot in its volume's zone: a volume made from it is created there.
    availability_zone: str = "nova"


@dataclasses.dataclass
class Network:
    network_id: str
    name: str
    project_id: str
    external: bool = False
    subnet_ids: list = dataclasses.field(default_factory=list)
    # Neutron's ``shared``: every project may use it (Nova lets a non-admin boot on an external network only if shared).
    shared: bool = False


@dataclasses.dataclass
class Subnet:
    subnet_id: str
    name: str
    network_id: str
    cidr: str
    gateway_ip: str
    enable_dhcp: bool
    project_id: str
    next_host: int = 10


@dataclasses.dataclass
class Port:
    port_id: str
    network_id: str
    mac_address: str
    fixed_ips: list
    project_id: str
    device_id: str = ""
    device_owner: str = ""
    name: str = ""
    status: str = "DOWN"


@dataclasses.dataclass
class Server(Timed):
    server_id: str = ""
    name: str = ""
    status: str = "BUILD"
    task_state: str | None = None
    power_state: int = 0
    flavor_id: str = ""
    image_id: str = ""
    port_ids: list = dataclasses.field(default_factory=list)
    metadata: dict = dataclasses.field(default_factory=dict)
    key_name: str | None = None
    created: float = 0.0
    updated: float = 0.0
    launched_at: float | None = None
    root_device_name: str = "/dev/vda"
    config_drive: str = ""
    user_data: str | None = None
    availability_zone: str = "nova"
    scheduler_hints: dict = dataclasses.field(default_factory=dict)
    # Booted from an image whose block device mapping has a root volume (a volume-backed server's snapshot): the
    # server shows that image, but its root disk is a volume (Nova's is_volume_backed_instance).
    root_on_volume: bool = False
    # The instance fault of a server in ERROR (Nova's ``fault.message``).
    fault_message: str = "Build of instance failed"
    # The emulated guest: Windows or not, and its NIC setup ({"mode": "static", "ip": ...} or {"mode": "dhcp"}).
    windows: bool = False
    guest_nic: dict = dataclasses.field(default_factory=dict)

    @property
    def vm_state(self) -> str:
        return {"ACTIVE": "active", "BUILD": "building", "SHUTOFF": "stopped", "ERROR": "error"}.get(self.status, self.status.lower())

    def is_volume_backed(self) -> bool:
        return not self.image_id or self.root_on_volume

    def guest(self) -> dict:
        """What a snapshot of this server's root disk carries about its guest."""
        return {"windows": self.windows, "nic": dict(self.guest_nic)}


@dataclasses.dataclass
class Identity:
    """The one project/user pair (DevStack's ``demo``) and an application credential.

    ``roles`` are the user's roles on the project, carried by every token issued (Keystone's ``token.roles``); the
    services read the caller's roles from the token (``POST /openstack/identity`` changes them for new tokens).
    """

    domain_id: str = DOMAIN_ID
    domain_name: str = DOMAIN_NAME
    project_id: str = dataclasses.field(default_factory=lambda: new_id().replace("-", ""))
    project_name: str = "demo"
    user_id: str = dataclasses.field(default_factory=lambda: new_id().replace("-", ""))
    user_name: str = "demo"
    password: str = "cloudsim-password"
    app_credential_id: str = dataclasses.field(default_factory=lambda: new_id().replace("-", ""))
    app_credential_name: str = "cloudsim"
    app_credential_secret: str = "cloudsim-app-credential-secret"
    roles: tuple = MEMBER_ROLES


@dataclasses.dataclass
class SnapshotFailure:
    """The next Cinder snapshot of ``volume_id`` (or of any volume of ``server_id``) ends in ``error``.

    With ``server_id`` only, the next createImage of that image-backed server fails too: the upload stops
    half way and Nova deletes the image (api-ref "Troubleshooting"), putting the server's task state back.
    """

    volume_id: str | None
    server_id: str | None

    def as_dict(self) -> dict:
        return {"volume_id": self.volume_id, "server_id": self.server_id}


class OpenStackCloud:
    """All resources of the simulated cloud (one project, one region)."""

    def __init__(self) -> None:
        self.identity = Identity()
        self.settings = OpenStackSettings()
        self.tokens: dict[str, dict] = {}
        self.flavors: dict[str, Flavor] = {}
        self.images: dict[str, Image] = {}
        self.volumes: dict[str, Volume] = {}
        self.snapshots: dict[str, Snapshot] = {}
        self.servers: dict[str, Server] = {}
        self.networks: dict[str, Network] = {}
        self.subnets: dict[str, Subnet] = {}
        self.ports: dict[str, Port] = {}
        self.snapshot_failures: list[SnapshotFailure] = []
        # Nova's and Cinder's availability zones are separate lists (DevStack names both "nova"); a server is placed in
        # the first Nova zone unless asked, a volume in the first Cinder zone (Cinder's default_availability_zone).
        self.compute_zones: list[str] = ["nova"]
        self.volume_zones: list[str] = ["nova"]
        self._macs = itertools.count(1)

    def settle(self, now: float) -> None:
        for collection in (self.images, self.volumes, self.snapshots, self.servers):
            for resource in collection.values():
                resource.settle(now)
        for image_id in [image.image_id for image in self.images.values() if image.removed]:
            del self.images[image_id]

    # Neutron helpers ---------------------------------------------------------------------------

    def new_mac(self) -> str:
        number = next(self._macs)
        return "fa:16:3e:" + ":".join(f"{(number >> shift) & 0xFF:02x}" for shift in (16, 8, 0))

    def ip_in_use(self, network_id: str, address: str) -> bool:
        return any(fixed["ip_address"] == address for port in self.ports.values() if port.network_id == network_id
                   for fixed in port.fixed_ips)

    def allocate_ip(self, subnet: Subnet) -> str:
        """The next free host address of the subnet (Neutron's IPAM hands them out in order too)."""
        network = ipaddress.ip_network(subnet.cidr)
        while subnet.next_host < network.num_addresses - 1:
            address = str(network.network_address + subnet.next_host)
            subnet.next_host += 1
            if address != subnet.gateway_ip and not self.ip_in_use(subnet.network_id, address):
                return address
        raise ValueError(f"no free IP address left in subnet {subnet.subnet_id}")

    def subnet_for(self, network_id: str, address: str | None = None) -> Subnet:
        for subnet_id in self.networks[network_id].subnet_ids:
            subnet = self.subnets[subnet_id]
            if address is None or ipaddress.ip_address(address) in ipaddress.ip_network(subnet.cidr):
                return subnet
        raise ValueError(f"no subnet of network {network_id} holds {address}")

    def find_network(self, name_or_id: str) -> Network:
        for network in self.networks.values():
            if name_or_id in (network.network_id, network.name):
                return network
        raise KeyError(f"network {name_or_id!r} not found")

    def find_flavor(self, name_or_id: str) -> Flavor:
        for flavor in self.flavors.values():
            if name_or_id in (flavor.flavor_id, flavor.name):
                return flavor
        raise KeyError(f"flavor {name_or_id!r} not found")

    def find_image(self, name_or_id: str) -> Image:
        for image in self.images.values():
            if name_or_id in (image.image_id, image.name):
                return image
        raise KeyError(f"image {name_or_id!r} not found")

    def guest_on_volume(self, volume: Volume) -> dict:
        """The guest state on a volume: a root volume holds its running server's current guest state."""
        for attachment in volume.attachments:
            server = self.servers.get(attachment.server_id)
            if server is not None and attachment.device == server.root_device_name:
                return server.guest()
        return dict(volume.guest)

    def server_reachable(self, server: Server) -> bool:
        """A Windows guest with a static IP that is not its port's (a copy) has no network (port security)."""
        if not server.windows or server.guest_nic.get("mode") != "static":
            return True
        addresses = {fixed["ip_address"] for port_id in server.port_ids if port_id in self.ports for fixed in self.ports[port_id].fixed_ips}
        return server.guest_nic.get("ip") in addresses

    def attachment_of(self, server_id: str, volume_id: str) -> Attachment:
        return next(item for item in self.volumes[volume_id].attachments if item.server_id == server_id)

    def server_volume_ids(self, server_id: str) -> list[str]:
        """Volumes attached to a server, in device order (the root volume first)."""
        attached = sorted((attachment.device, volume.volume_id) for volume in self.volumes.values()
                          for attachment in volume.attachments if attachment.server_id == server_id)
        return [pair[1] for pair in attached]
