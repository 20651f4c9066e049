# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The state of one emulated Windows guest: what Windows and its launch agents hold, not what our modules decide.

The cloud simulators own what the cloud knows (power state, the instance's Administrator password on
Lightsail, the NIC mode of an OpenStack server's disk). A :class:`Guest` holds the rest, as Windows has it:

- the launch agents installed (any number of them: an image can carry leftovers of older ones), each with its
  configuration file, EC2Launch v2's run-once state and whether its service is still busy with its boot stages,
  EC2Launch v1's scheduled initialisation;
- pending-reboot markers (CBS ``RebootPending``, Windows Update ``RebootRequired``, ``PendingFileRenameOperations``)
  and the Sysprep ``GeneralizationState``;
- the folder ``%ProgramData%\\snapkit.cloud`` (owner, protection, rules, reparse point) and the files in it;
- the DHCP Client service, the WinRM listeners, and adapters with their active and persistent stores, routes with
  their origin, IPv4 and IPv6 DNS servers and whether a DHCP server answers on their link;
- the registered one-shot scheduled tasks, with the simulated time their script runs.
"""

from __future__ import annotations

import copy
import dataclasses
import secrets
import string

from cloudsim.windows.tls import TlsIdentity, self_signed

AGENTS = ("ec2launch_v2", "ec2launch_v1", "ec2config", "none")
# Detection order of the module (v2 first: installing it removes the older agents).
AGENT_ORDER = ("ec2launch_v2", "ec2launch_v1", "ec2config")
# The password setting each agent writes for "random at the next boot".
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
PENDING_REBOOT = {
    "cbs": r"HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending",
    "windows_update": r"HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired",
    "file_rename": r"HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager\PendingFileRenameOperations",
}
SYSTEM_SID, ADMINISTRATORS_SID, USERS_SID = "S-1-5-18", "S-1-5-32-544", "S-1-5-32-545"
TASK_DIRECTORY = r"C:\ProgramData\snapkit.cloud"


@dataclasses.dataclass
class Agent:
    """One installed launch agent and its files.

    ``settings``: v2 ``{"password_type", "password_data"}`` (the ``setAdminAccount`` task of ``agent-config.yml``;
    type None = no such task); v1 ``{"adminPasswordType", "adminPassword"}``; EC2Config ``{"Ec2SetPassword",
    "SetPasswordAfterSysprep"}``. ``config_present``: the file exists. ``config_broken``: v2's file does not parse
    (``get-agent-config`` fails and prints what it read). ``run_once_done``: v2's ``.run-once`` marker (once-tasks
    such as ``setAdminAccount`` ran for this instance). ``busy``: v2's service state: ``idle``, ``booting`` (still in
    its boot stages for ``busy_seconds``) or ``stuck``. ``initialize_scheduled``: v1's initialisation task is
    registered for the next boot. ``initialize_fails``: v1's ``InitializeInstance.ps1`` throws.
    """

    name: str
    settings: dict = dataclasses.field(default_factory=dict)
    config_present: bool = True
    config_broken: bool = False
    run_once_done: bool = True
    busy: str = "idle"
    busy_until: float = 0.0
    initialize_scheduled: bool = False
    initialize_fails: bool = False

    @property
    def password_setting(self) -> str | None:
        key = {"ec2launch_v2": "password_type", "ec2launch_v1": "adminPasswordType", "ec2config": "Ec2SetPassword"}[self.name]
        return self.settings.get(key)

    def is_busy(self, now: float) -> bool:
        return self.busy == "stuck" or (self.busy == "booting" and now < self.busy_until)

    def sets_random_password(self) -> bool:
        """Whether the agent's configuration, when its password task runs, gives the Administrator a new random password."""
        if self.name == "ec2launch_v2":
            return self.settings.get("password_type") == "random"
        if self.name == "ec2launch_v1":
            return self.settings.get("adminPasswordType") == "Random"
        return self.settings.get("Ec2SetPassword") == "Enabled" and self.settings.get("SetPasswordAfterSysprep") == "Yes"


def new_agent(name: str, password_option: str | None = "default", **extra) -> Agent:
    setting = AGENT_DEFAULT_SETTING[name] if password_option == "default" else password_option
    if setting not in AGENT_SETTINGS[name]:
        raise ValueError(f"password_option for {name} must be one of {AGENT_SETTINGS[name]}, got {setting!r}")
    settings = {
        "ec2launch_v2": {"password_type": setting, "password_data": None},
        "ec2launch_v1": {"adminPasswordType": setting, "adminPassword": ""},
        "ec2config": {"Ec2SetPassword": setting, "SetPasswordAfterSysprep": "Yes"},
    }[name]
    settings.update(extra.pop("settings", {}) or {})
    return Agent(name=name, settings=settings, **extra)


@dataclasses.dataclass
class Adapter:
    """One network adapter: its IPv4 interface (active store only when ``enabled``), rows and link.

    ``addresses``: ``{"ip_address", "prefix_length", "prefix_origin"}`` (Manual, Dhcp, WellKnown for APIPA).
    ``default_gateways``: next hops of static default routes (protocol NetMgmt); ``dhcp_gateways``: those DHCP gave
    (protocol Dhcp). ``dns_servers``: static IPv4 servers (registry ``NameServer``); ``dns_v6``: static IPv6 ones.
    ``dhcp_server``: the address a DHCP server on the link offers, None when none answers (APIPA then).
    """

    name: str = "Ethernet"
    interface_index: int = 6
    mac_address: str = "0A-1B-2C-3D-4E-5F"
    dhcp_enabled: bool = True
    addresses: list = dataclasses.field(default_factory=list)
    default_gateways: list = dataclasses.field(default_factory=list)
    dhcp_gateways: list = dataclasses.field(default_factory=list)
    dns_servers: list = dataclasses.field(default_factory=list)
    dns_v6: list = dataclasses.field(default_factory=list)
    enabled: bool = True
    connected: bool = True
    dhcp_server: str | None = None
    prefix: int = 24
    gateway: str | None = None
    # A lease asked for (DHCP on, link up) arrives at the next step of the guest, not inside the command that asked.
    lease_pending: bool = False
    # No DHCP server answers on this link, even for the cloud's NIC (a subnet without DHCP).
    dhcp_blocked: bool = False

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
        self.dhcp_gateways = []
        self.dns_servers = list(dns)
        self.lease_pending = False

    def lease(self, ip: str | None, prefix: int) -> None:
        """An adapter wholly on DHCP (as a fresh boot has it): the lease, if any, is its only address."""
        self.dhcp_enabled = True
        self.addresses = [{"ip_address": ip, "prefix_length": prefix, "prefix_origin": "Dhcp"}] if ip else []
        self.lease_pending = False

    def drop_lease(self) -> None:
        self.addresses = [address for address in self.addresses if address["prefix_origin"] not in ("Dhcp", "WellKnown")]
        self.dhcp_gateways = []

    def answer_dhcp(self) -> None:
        """The DHCP client's exchange on this link: the offer, or APIPA 169.254/16 when no server answers."""
        self.lease_pending = False
        if not (self.dhcp_enabled and self.enabled and self.connected):
            return
        self.drop_lease()
        if self.dhcp_server and not self.dhcp_blocked:
            self.addresses.append({"ip_address": self.dhcp_server, "prefix_length": self.prefix, "prefix_origin": "Dhcp"})
            if self.gateway:
                self.dhcp_gateways = [self.gateway]
        else:
            self.addresses.append({"ip_address": f"169.254.{self.interface_index % 250 + 1}.{self.interface_index % 200 + 10}",
                                   "prefix_length": 16, "prefix_origin": "WellKnown"})


@dataclasses.dataclass
class ScheduledWork:
    """A one-shot SYSTEM scheduled task a module registered: its script runs ``at`` (simulated epoch).

    ``state``: ``Running`` while its script runs (sleeping included), as Task Scheduler reports it.
    """

    task_name: str
    at: float
    kind: str
    detail: dict = dataclasses.field(default_factory=dict)
    state: str = "Running"

    def view(self) -> dict:
        return {"task_name": self.task_name, "at_epoch": self.at, "kind": self.kind, "state": self.state, **self.detail}


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
    agents: dict = dataclasses.field(default_factory=dict)
    adapters: list = dataclasses.field(default_factory=list)
    scheduled: list = dataclasses.field(default_factory=list)
    # Sysprep.exe runs: Windows is generalising and shutting down until the disk boots again.
    sysprep_running: bool = False
    # WinRM: a stock image listens on HTTP only (5985 on the instance; ``port`` is its loopback port here). An HTTPS
    # listener (5986) exists once set up with a certificate (``https``); ``https_port`` is its loopback port.
    port: int = 0
    https: TlsIdentity | None = None
    https_port: int = 0
    # Remote Desktop (3389 on the instance): its loopback port here, kept across reboots.
    rdp_port: int = 0
    # OpenStack guests: cloudbase-init installed, what its UserData plugin did, its exit code (0: done for this instance).
    cloudbase_init: dict = dataclasses.field(default_factory=dict)
    generalization_state: int = 7
    pending_reboot: list = dataclasses.field(default_factory=list)
    # %ProgramData%\snapkit.cloud: None (absent) or {"owner", "protected", "others", "reparse"}; files by name.
    task_folder: dict | None = None
    files: dict = dataclasses.field(default_factory=dict)
    dhcp_client: dict = dataclasses.field(default_factory=lambda: {"status": "Running", "start_type": "Automatic"})
    # The ports of the WinRM listeners, compatibility listeners (80, 443) included when enabled.
    listener_ports: list = dataclasses.field(default_factory=lambda: [5985, 5986])
    # The listener port the Ansible connection came in on (80 or 443: a WinRM compatibility listener).
    session_port: int = 5985
    boot_time: float = 0.0
    # The Administrator password the next boot gives (None: unchanged), decided by what ran (Sysprep, agents).
    next_boot_password: bool = False

    @property
    def agent(self) -> str:
        """The agent the module's detection finds (EC2Launch v2 first), or ``none``."""
        return next((name for name in AGENT_ORDER if name in self.agents), "none")

    @property
    def password_option(self) -> str | None:
        return self.agents[self.agent].password_setting if self.agent != "none" else None

    def set_agent(self, agent: str, password_option: str | None = "default", **extra) -> None:
        """Only this agent installed (``none``: no agent)."""
        if agent not in AGENTS:
            raise ValueError(f"agent must be one of {AGENTS}, got {agent!r}")
        self.agents = {} if agent == "none" else {agent: new_agent(agent, password_option, **extra)}

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

    def task(self, name: str) -> ScheduledWork | None:
        return next((work for work in self.scheduled if work.task_name == name), None)

    def due(self, now: float) -> list[ScheduledWork]:
        ready = [work for work in self.scheduled if work.at <= now]
        self.scheduled = [work for work in self.scheduled if work.at > now]
        return ready

    def adapter(self, index: int) -> Adapter:
        return next(adapter for adapter in self.adapters if adapter.interface_index == index)

    def snapshot(self) -> dict:
        return copy.deepcopy(dataclasses.asdict(self))


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


def seed_state(guest: Guest, spec: dict, now: float, primary_ip: str | None) -> None:
    """Put a guest in the Windows state a scenario describes (the vocabulary of :mod:`cloudsim.windows.scenarios`).

    ``agents``: {name: {password_option, settings, config_present, config_broken, run_once_done, busy, busy_seconds,
    initialize_scheduled, initialize_fails}}; ``pending_reboot``: names of :data:`PENDING_REBOOT`;
    ``generalization_state``; ``task_folder`` (None: absent); ``files``; ``dhcp_client``; ``listener_ports``;
    ``session_port``; ``adapters``: the first is the cloud's NIC (the session's): [{name, interface_index, mac_address,
    static: {ip ("instance" = the instance's address), prefix, gateway, dns}, dhcp_server, enabled, connected,
    dhcp_gateways, dns_v6}].
    """
    if "agents" in spec:
        guest.agents = {}
        for name, setup in spec["agents"].items():
            setup = dict(setup)
            busy_seconds = setup.pop("busy_seconds", 0)
            agent = new_agent(name, setup.pop("password_option", "default"), **setup)
            agent.busy_until = now + busy_seconds
            guest.agents[name] = agent
    for key in ("pending_reboot", "generalization_state", "dhcp_client", "listener_ports", "session_port"):
        if key in spec:
            setattr(guest, key, copy.deepcopy(spec[key]))
    if "task_folder" in spec:
        guest.task_folder = copy.deepcopy(spec["task_folder"])
    if "files" in spec:
        guest.files = copy.deepcopy(spec["files"])
        for state in guest.files.values():
            if isinstance(state, dict) and "started_ago" in state:
                state["started_epoch"] = now - state.pop("started_ago")
    if "adapters" in spec:
        primary = guest.adapters[0]
        adapters = []
        for number, setup in enumerate(spec["adapters"]):
            adapter = Adapter(name=setup.get("name", primary.name if number == 0 else f"Ethernet {number + 1}"),
                              interface_index=setup.get("interface_index", primary.interface_index if number == 0 else 10 + number),
                              mac_address=setup.get("mac_address", primary.mac_address if number == 0 else f"52-54-00-12-34-{number:02X}"),
                              enabled=setup.get("enabled", True), connected=setup.get("connected", True),
                              dhcp_server=primary_ip if number == 0 else setup.get("dhcp_server"),
                              prefix=setup.get("prefix", primary.prefix if number == 0 else 24),
                              gateway=setup.get("gateway"), dhcp_blocked=setup.get("dhcp_blocked", False))
            static = setup.get("static")
            if static:
                ip = primary_ip if static.get("ip") == "instance" else static["ip"]
                adapter.set_static(ip, static.get("prefix", adapter.prefix), static.get("gateway"), static.get("dns", []))
            else:
                adapter.lease(adapter.dhcp_server, adapter.prefix)
                if adapter.dhcp_server is None:
                    adapter.answer_dhcp()
            adapter.dhcp_gateways = list(setup.get("dhcp_gateways", adapter.dhcp_gateways))
            adapter.dns_v6 = list(setup.get("dns_v6", []))
            adapters.append(adapter)
        guest.adapters = adapters
