# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lightsail resources of the simulator: instances, instance snapshots, static IPs, operations.

Nothing runs in the background: each resource stores when its current transition ends, and
:meth:`LightsailBook.settle` applies every transition whose time has come before a request reads or
changes anything. With the clock frozen (speed 0) tests can therefore step through states exactly.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import itertools
import secrets
import string
import uuid

# Re-exported: the settings' old home.
from cloudsim.lightsail.settings import LightsailSettings  # noqa: F401  pylint: disable=unused-import

STATE_CODES = {"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80}
DEFAULT_KEY_PAIR = "LightsailDefaultKeyPair"
WINDOWS_BLUEPRINTS = {"windows_server_2022": "Windows Server 2022", "windows_server_2019": "Windows Server 2019",
                      "windows_server_2016": "Windows Server 2016"}
LINUX_BLUEPRINTS = {"amazon_linux_2023": "Amazon Linux 2023", "ubuntu_22_04": "Ubuntu", "debian_12": "Debian"}
# bundle id -> (cpus, ram GiB, disk GiB, monthly transfer GB); Windows bundles end in _win_3_0.
BUNDLES = {"nano_3_0": (2, 0.5, 20, 1024), "micro_3_0": (2, 1.0, 40, 2048), "small_3_0": (2, 2.0, 60, 3072),
           "medium_3_0": (2, 4.0, 80, 4096), "large_3_0": (2, 8.0, 160, 5120)}
BUNDLES.update({f"{name[:-4]}_win_3_0": spec for name, spec in BUNDLES.items()})
# Regional resources (instance snapshots, static IPs) and their operations report this "zone" (Lightsail API Reference,
# ResourceLocation; the AWS CLI's get-instance-snapshots and get-static-ips examples show it).
REGIONAL_ZONE = "all"
# Lightsail's regions (botocore's RegionName enum) -> (continent, display name, availability zone letters). The zone
# letters are what GetRegions lists in the Lightsail console's regions; where unknown, a, b and c.
REGIONS = {
    "us-east-1": ("NA", "Virginia", "abcdef"), "us-east-2": ("NA", "Ohio", "abc"), "us-west-1": ("NA", "California", "ab"),
    "us-west-2": ("NA", "Oregon", "abcd"), "ca-central-1": ("NA", "Montreal", "abd"), "eu-west-1": ("EU", "Ireland", "abc"),
    "eu-west-2": ("EU", "London", "abc"), "eu-west-3": ("EU", "Paris", "abc"), "eu-central-1": ("EU", "Frankfurt", "abc"),
    "eu-north-1": ("EU", "Stockholm", "abc"), "eu-south-2": ("EU", "Spain", "abc"), "ap-east-1": ("AP", "Hong Kong", "abc"),
    "ap-south-1": ("AP", "Mumbai", "abc"), "ap-southeast-1": ("AP", "Singapore", "abc"), "ap-southeast-2": ("AP", "Sydney", "abc"),
    "ap-northeast-1": ("AP", "Tokyo", "acd"), "ap-northeast-2": ("AP", "Seoul", "abcd"), "ap-southeast-3": ("AP", "Jakarta", "abc"),
    "ap-southeast-5": ("AP", "Malaysia", "abc"), "sa-east-1": ("SA", "Sao Paulo", "abc"),
}


def region_zones(region: str) -> list:
    """The availability zones of a region (a, b, c for a region the table does not know)."""
    return [f"{region}{letter}" for letter in REGIONS.get(region, ("", "", "abc"))[2]]


@dataclasses.dataclass
class PortRule:
    from_port: int
    to_port: int
    protocol: str
    cidrs: list
    ipv6_cidrs: list
    cidr_list_aliases: list

    @property
    def key(self) -> tuple:
        return (self.from_port, self.to_port, self.protocol)


@dataclasses.dataclass
class Instance:
    name: str
    arn: str
    created_at: float
    zone: str
    blueprint_id: str
    bundle_id: str
    key_pair_name: str
    disk_size_gb: int
    private_ip: str
    public_ip: str | None
    ports: list
    tags: dict
    state: str = "running"
    target_state: str | None = None
    transition_ends: float | None = None
    static_ip_name: str | None = None
    password: str = ""
    password_ready_at: float = 0.0
    auto_snapshot_until: float = 0.0
    # Before this moment the API does not show the instance (eventual consistency after its create).
    visible_at: float = 0.0
    # A transition that follows the current one: (state, target, duration), e.g. a start's pending -> running.
    then: tuple | None = None
    # A shutdown the guest OS started itself (Sysprep, ``shutdown /s``): (when, stopping duration, generalize).
    guest_shutdown: tuple | None = None
    # Sysprep generalized the disk: its next boot (or a copy's, from a snapshot taken now) picks a new password.
    generalized: bool = False
    # Lightsail knows the Administrator password (it set it, or EC2Launch posted it after Sysprep). Not for a copy of a
    # snapshot taken before Sysprep: the disk keeps the original's password, which the service never learns.
    password_known: bool = True

    @property
    def is_windows(self) -> bool:
        return self.blueprint_id.startswith("windows")

    def begin(self, state: str, target: str, ends_at: float) -> None:
        self.state, self.target_state, self.transition_ends = state, target, ends_at


@dataclasses.dataclass
class InstanceSnapshot:
    name: str
    arn: str
    created_at: float
    zone: str
    instance: Instance
    tags: dict
    ready_at: float
    fails: bool = False
    # What the disk held when the snapshot was taken: copies boot with it, whatever the instance does later.
    password: str = ""
    generalized: bool = False
    visible_at: float = 0.0

    def state(self, now: float) -> str:
        if now < self.ready_at:
            return "pending"
        return "error" if self.fails else "available"


@dataclasses.dataclass
class StaticIp:
    name: str
    arn: str
    created_at: float
    zone: str
    ip_address: str
    attached_to: str | None = None
    visible_at: float = 0.0


@dataclasses.dataclass
class Operation:
    """One entry of the operations log; it ends when ``ends_at`` is reached, failed if ``error_code``."""

    op_id: str
    resource_name: str
    resource_type: str
    operation_type: str
    created_at: float
    zone: str
    region: str
    ends_at: float
    details: str = ""
    error_code: str | None = None
    error_details: str | None = None

    def status(self, now: float) -> str:
        if now < self.ends_at:
            return "Started"
        return "Failed" if self.error_code else "Succeeded"


class LightsailBook:
    """All resources of one region, plus the planned snapshot failures."""

    def __init__(self, region: str, account_id: str) -> None:
        self.region = region
        self.account_id = account_id
        self.instances: dict[str, Instance] = {}
        self.snapshots: dict[str, InstanceSnapshot] = {}
        self.static_ips: dict[str, StaticIp] = {}
        self.operations: list[Operation] = []
        self.failing_instances: list[str] = []
        self._public_ips = itertools.count(1)
        self._private_ips = itertools.count(10)

    def arn(self, resource_type: str) -> str:
        return f"arn:aws:lightsail:{self.region}:{self.account_id}:{resource_type}/{uuid.uuid4()}"

    def new_public_ip(self) -> str:
        # 203.0.113.0/24 and 198.51.100.0/24 are documentation ranges: never real hosts.
        number = next(self._public_ips)
        return str(ipaddress.ip_address("198.51.100.0") + number) if number > 250 else f"203.0.113.{number}"

    def new_private_ip(self) -> str:
        number = next(self._private_ips)
        return f"172.26.{number // 250}.{number % 250 + 2}"

    def names_in_use(self) -> set:
        return set(self.instances) | set(self.snapshots) | set(self.static_ips)

    def settle(self, now: float) -> None:
        """Apply every guest shutdown that is due, then every instance transition that has ended by ``now``."""
        for instance in self.instances.values():
            if instance.guest_shutdown and now >= instance.guest_shutdown[0]:
                begin_guest_shutdown(instance)
            while instance.target_state and now >= instance.transition_ends:
                finish_transition(self, instance)

    def take_failure(self, instance_name: str) -> bool:
        if instance_name in self.failing_instances:
            self.failing_instances.remove(instance_name)
            return True
        return False


def begin_guest_shutdown(instance: Instance) -> None:
    """The guest's own shutdown reaches the hypervisor: ``stopping`` from the moment it was due, as if polled then."""
    at, duration, generalize = instance.guest_shutdown
    instance.guest_shutdown = None
    # Only a running guest can shut itself down; an API stop or a delete that came first wins.
    if instance.state != "running" or instance.target_state:
        return
    instance.generalized = instance.generalized or generalize
    instance.begin("stopping", "stopped", at + duration)


def finish_transition(book: LightsailBook, instance: Instance) -> None:
    ended_at = instance.transition_ends
    instance.state, instance.target_state, instance.transition_ends = instance.target_state, None, None
    if instance.then:
        (state, target, duration), instance.then = instance.then, None
        instance.begin(state, target, ended_at + duration)
    if instance.state == "stopped" and not instance.static_ip_name:
        # The public IP is released on stop; the next start gets a new one.
        instance.public_ip = None
    if instance.state in ("pending", "running") and instance.public_ip is None:
        instance.public_ip = book.new_public_ip()


def new_password() -> str:
    alphabet = string.ascii_letters + string.digits + "!@#$%&*()-_=+"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _count in range(32))
        # Windows complexity rules: upper, lower, digit and symbol.
        if all(any(char in group for char in candidate) for group in (string.ascii_uppercase, string.ascii_lowercase, string.digits, "!@#$%&*()-_=+")):
            return candidate


def default_ports(windows: bool) -> list:
    ports = [(22, "tcp"), (3389, "tcp")] if windows else [(22, "tcp"), (80, "tcp")]
    return [PortRule(port, port, protocol, ["0.0.0.0/0"], ["::/0"], []) for port, protocol in ports]
