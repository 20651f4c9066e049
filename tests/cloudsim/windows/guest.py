# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state of one emulated Windows guest: adapters, launch agent and its password setting, scheduled work.

The cloud simulators own what the cloud knows (power state, the instance's Administrator password on
Lightsail, the NIC mode of an OpenStack server's disk); a :class:`Guest` holds the rest, and what the
emulated modules scheduled (Sysprep, a deferred adapter switch) with the simulated time it runs at.
"""

from __future__ import annotations

import dataclasses
import secrets
import string

from cloudsim.windows.tls import TlsIdentity, self_signed

AGENTS = ("ec2launch_v2", "ec2launch_v1", "ec2config", "none")
# The password setting each agent writes for "random at the next boot", and where it lives.
AGENT_RANDOM = {"ec2launch_v2": "random", "ec2launch_v1": "Random", "ec2config": "Enabled"}
AGENT_SETTINGS = {"ec2launch_v2": ("random", "static", "doNothing", None), "ec2launch_v1": ("Random", "Specify", "DoNothing"),
                  "ec2config": ("Enabled", "Disabled")}
AGENT_CONFIG_PATHS = {
    "ec2launch_v2": r"C:\ProgramData\Amazon\EC2Launch\config\agent-config.yml",
    "ec2launch_v1": r"C:\ProgramData\Amazon\EC2-Windows\Launch\Config\LaunchConfig.json",
    "ec2config": r"C:\Program Files\Amazon\Ec2ConfigService\Settings\Config.xml",
}
AGENT_PROBES = {
    "ec2launch_v2": r"C:\Program Files\Amazon\EC2Launch\EC2Launch.exe",
    "ec2launch_v1": r"C:\ProgramData\Amazon\EC2-Windows\Launch\Scripts\InitializeInstance.ps1",
    "ec2config": r"C:\Program Files\Amazon\Ec2ConfigService\Ec2Config.exe",
}
# What an AWS image has after its first boot: v2 keeps "random"; EC2Config disables Ec2SetPassword after the first launch.
AGENT_DEFAULT_SETTING = {"ec2launch_v2": "random", "ec2launch_v1": "DoNothing", "ec2config": "Disabled", "none": None}


@dataclasses.dataclass
class Adapter:
    """One network adapter's IPv4 configuration, as win_reset_static_ip reports it."""

    name: str = "Ethernet"
    interface_index: int = 6
    mac_address: str = "0A-1B-2C-3D-4E-5F"
    dhcp_enabled: bool = True
    addresses: list = dataclasses.field(default_factory=list)
    default_gateways: list = dataclasses.field(default_factory=list)
    dns_servers: list = dataclasses.field(default_factory=list)

    def config(self) -> dict:
        return {"dhcp_enabled": self.dhcp_enabled,
                "ipv4_addresses": sorted((dict(address) for address in self.addresses), key=lambda item: item["ip_address"]),
                "default_gateways": list(self.default_gateways), "dns_servers": list(self.dns_servers)}

    @property
    def is_static(self) -> bool:
        return not self.dhcp_enabled or any(address["prefix_origin"] == "Manual" for address in self.addresses)

    def set_static(self, ip: str, prefix: int, gateway: str | None, dns: list) -> None:
        self.dhcp_enabled = False
        self.addresses = [{"ip_address": ip, "prefix_length": prefix, "prefix_origin": "Manual"}]
        self.default_gateways = [gateway] if gateway else []
        self.dns_servers = list(dns)

    def lease(self, ip: str | None, prefix: int) -> None:
        """DHCP on: the manual addresses are gone and the lease (if any) is the only address."""
        self.dhcp_enabled = True
        self.addresses = [{"ip_address": ip, "prefix_length": prefix, "prefix_origin": "Dhcp"}] if ip else []


@dataclasses.dataclass
class ScheduledWork:
    """A one-shot SYSTEM scheduled task an emulated module registered: it runs ``at`` (simulated epoch)."""

    task_name: str
    at: float
    kind: str
    detail: dict = dataclasses.field(default_factory=dict)

    def view(self) -> dict:
        return {"task_name": self.task_name, "at_epoch": self.at, "kind": self.kind, **self.detail}


@dataclasses.dataclass
class Guest:
    """One Windows guest; ``key`` is ``lightsail/<region>/<instance arn>`` or ``openstack/<server id>``."""

    key: str
    service: str
    instance: str
    region: str
    computer_name: str
    password: str = ""
    username: str = "Administrator"
    agent: str = "none"
    password_option: str | None = None
    adapters: list = dataclasses.field(default_factory=list)
    scheduled: list = dataclasses.field(default_factory=list)
    # Sysprep ran: Windows is generalising and shutting down until the disk boots again.
    sysprep_running: bool = False
    # WinRM: a stock image listens on HTTP only (5985 on the instance; ``port`` is its loopback port here). An HTTPS
    # listener (5986) exists once set up with a certificate (``https``); ``https_port`` is its loopback port.
    port: int = 0
    https: TlsIdentity | None = None
    https_port: int = 0
    # OpenStack guests: cloudbase-init installed, what its UserData plugin did, its exit code (0: done for this instance).
    cloudbase_init: dict = dataclasses.field(default_factory=dict)

    def set_agent(self, agent: str, password_option: str | None = "default") -> None:
        if agent not in AGENTS:
            raise ValueError(f"agent must be one of {AGENTS}, got {agent!r}")
        setting = AGENT_DEFAULT_SETTING[agent] if password_option == "default" else password_option
        if agent != "none" and setting not in AGENT_SETTINGS[agent]:
            raise ValueError(f"password_option for {agent} must be one of {AGENT_SETTINGS[agent]}, got {setting!r}")
        self.agent, self.password_option = agent, None if agent == "none" else setting

    def set_https_listener(self, wanted: bool, address: str) -> None:
        """Create the HTTPS listener with a new self-signed certificate (as an administrator would), or remove it."""
        if wanted and self.https is None:
            self.https = self_signed(self.computer_name, address)
        elif not wanted:
            self.https = None

    def listeners(self, listening: bool) -> dict:
        """The WinRM listeners by port on the instance, as ``winrm enumerate winrm/config/listener`` lists them, with
        the loopback port each is reached on here (None while the guest does not listen)."""
        found = {"5985": {"transport": "HTTP", "port": self.port or None if listening else None}}
        if self.https is not None:
            found["5986"] = {"transport": "HTTPS", "port": self.https_port or None if listening else None,
                             "certificate": self.https.certificate_pem}
        return found

    def pending(self, kind: str) -> ScheduledWork | None:
        return next((work for work in self.scheduled if work.kind == kind), None)

    def due(self, now: float) -> list[ScheduledWork]:
        ready = [work for work in self.scheduled if work.at <= now]
        self.scheduled = [work for work in self.scheduled if work.at > now]
        return ready

    def find_adapters(self, selector: str) -> list[Adapter]:
        """An adapter by name (case-insensitive), interface index or MAC (any of the usual spellings)."""
        wanted = selector.strip()
        if wanted.isdigit():
            return [adapter for adapter in self.adapters if adapter.interface_index == int(wanted)]
        mac = wanted.replace("-", "").replace(":", "").replace(".", "").upper()
        return [adapter for adapter in self.adapters if adapter.name.lower() == wanted.lower() or adapter.mac_address.replace("-", "").upper() == mac]


def new_password() -> str:
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _count in range(20)) + secrets.choice("!@#%*-_=+")
        if any(char.isupper() for char in candidate) and any(char.islower() for char in candidate) and any(char.isdigit() for char in candidate):
            return candidate


def computer_name(instance: str) -> str:
    """Windows names a fresh machine WIN-<11 random characters>; the instance name seeds it here so it is stable."""
    letters = "".join(char for char in instance.upper() if char.isalnum())
    return ("WIN-" + (letters + "0123456789A")[:11])[:15]
