# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PowerShell modules the collection runs, emulated step by step on the modelled Windows state.

No PowerShell runs here. Each emulated module takes the steps of its ``.ps1`` in the same order (what it reads,
what it refuses, what it changes) on the Windows state of :mod:`cloudsim.windows.guest`, and answers with the
module's messages. What the modules must do is stated once, in the scenario table
(:mod:`cloudsim.windows.scenarios`), which also runs against a real host: where this emulation and the real
code differ, one of the two runs fails.

Each emulated module validates its options as ``Ansible.Basic`` does (unknown options, types, choices,
defaults), honours check mode and diff, changes the guest (and, through :class:`GuestEffects`, the
cloud) only outside check mode, and answers the JSON ``Ansible.Basic`` writes (``invocation``,
``changed``, ``diff`` in diff mode; ``failed``/``msg`` and exit code 1 on failure). Any other module
fails, naming itself, so a role that starts using a module the emulation lacks is noticed at once.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable

from cloudsim.windows.guest import (ADMINISTRATORS_SID, AGENT_CONFIG_PATHS, AGENT_ORDER, AGENT_PROBES, PENDING_REBOOT, SYSTEM_SID,
                                    TASK_DIRECTORY, Adapter, Guest)
from cloudsim.windows.payload import Invocation

SYSPREP_TASK = "snapkit.cloud-sysprep"
TRUSTED_SIDS = (SYSTEM_SID, ADMINISTRATORS_SID)
SYSPREP_COMMANDS = {
    "ec2launch_v2": '"C:\\Program Files\\Amazon\\EC2Launch\\EC2Launch.exe" sysprep --shutdown --block',
    "ec2launch_v1": ('"C:\\ProgramData\\Amazon\\EC2-Windows\\Launch\\Scripts\\InitializeInstance.ps1" -Schedule; '
                     '"C:\\ProgramData\\Amazon\\EC2-Windows\\Launch\\Scripts\\SysprepInstance.ps1"'),
    "ec2config": '"C:\\Program Files\\Amazon\\Ec2ConfigService\\Ec2Config.exe" -sysprep',
}


class ModuleFailure(Exception):
    """``$module.FailJson(msg)``: the result is ``failed`` with this message."""


class GuestEffects:
    """What an emulated module may do beyond the guest state; the simulator implements it per cloud."""

    now: float = 0.0

    def schedule_sysprep(self, guest: Guest, delay_seconds: float) -> None:
        raise NotImplementedError

    def schedule_adapter_switch(self, guest: Guest, adapter: Adapter, delay_seconds: float, detail: dict) -> None:
        raise NotImplementedError


@dataclasses.dataclass
class Option:
    type: str = "str"
    default: object = None
    choices: tuple = ()
    elements: str = "str"


@dataclasses.dataclass
class ModuleRun:
    """One module invocation: validated params, the result being built, and the modes."""

    name: str
    params: dict
    check_mode: bool
    diff_mode: bool
    result: dict = dataclasses.field(default_factory=lambda: {"changed": False})
    diff: dict = dataclasses.field(default_factory=dict)
    warnings: list = dataclasses.field(default_factory=list)


def _convert(name: str, value, option: Option):
    if value is None:
        return None
    try:
        if option.type == "bool":
            return _to_bool(value)
        if option.type == "int":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(value)
            return int(value)
        if option.type == "list":
            items = value if isinstance(value, list) else [item.strip() for item in str(value).split(",")]
            return [str(item) for item in items]
        return value if isinstance(value, str) else json.dumps(value) if isinstance(value, (dict, list)) else str(value)
    except (TypeError, ValueError) as error:
        raise ModuleFailure(f"argument for {name} is of type {type(value).__name__} and we were unable to convert to {option.type}: {error}") from error


def _to_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("yes", "on", "1", "true", "y", "t"):
        return True
    if text in ("no", "off", "0", "false", "n", "f"):
        return False
    raise ValueError(f"the value '{value}' is not a valid boolean")


def validate(module: str, spec: dict[str, Option], args: dict) -> dict:
    """Ansible.Basic's checks, in its order: unsupported options, then types, choices and defaults."""
    given = {key: value for key, value in args.items() if not key.startswith("_ansible_")}
    unknown = sorted(set(given) - set(spec))
    if unknown:
        raise ModuleFailure(f"Unsupported parameters for ({module}) module: {', '.join(unknown)}. "
                            f"Supported parameters include: {', '.join(sorted(spec))}")
    params = {}
    for name, option in spec.items():
        value = _convert(name, given.get(name, option.default), option)
        if option.choices and value is not None and value not in option.choices:
            raise ModuleFailure(f"value of {name} must be one of: {', '.join(option.choices)}. Got no match for: {value}")
        params[name] = value
    return params


# win_ping ------------------------------------------------------------------------------------------

def win_ping(run: ModuleRun, _guest: Guest, _effects: GuestEffects) -> None:
    if run.params["data"] == "crash":
        # win_ping throws on purpose; the exec wrapper reports the exception.
        raise ModuleFailure("Unhandled exception while executing module: boom")
    run.result["ping"] = run.params["data"]


# win_ec2launch_sysprep -------------------------------------------------------------------------------
# Each step below is a step of win_ec2launch_sysprep.ps1, in its order, run on the modelled Windows state; the messages
# are the module's.

def win_ec2launch_sysprep(run: ModuleRun, guest: Guest, effects: GuestEffects) -> None:
    params = run.params
    if not 0 <= params["delay_seconds"] <= 3600:
        raise ModuleFailure(f"delay_seconds must be between 0 and 3600 seconds, got {params['delay_seconds']}.")
    agent_name = _find_agent(guest, params["agent"])
    agent = guest.agents[agent_name]
    config_path = AGENT_CONFIG_PATHS[agent_name]
    run.result.update({"agent": agent_name, "config_path": config_path, "sysprep_command": SYSPREP_COMMANDS[agent_name],
                       "sysprep_scheduled": False, "task_name": None})
    previous = _previous_sysprep(guest)
    run.result["previous_sysprep"] = previous
    if params["start_sysprep"]:
        if guest.generalization_state != 7:
            raise ModuleFailure(f"Sysprep cannot start: Windows reports GeneralizationState {guest.generalization_state} (7 = ready). "
                                "Sysprep already ran or is pending; reboot and check C:\\Windows\\System32\\Sysprep\\Panther\\setupact.log.")
        task = guest.task(SYSPREP_TASK)
        under_way = previous is not None and previous["phase"] in ("waiting", "running") and previous["started_epoch"] >= guest.boot_time
        if (task is not None and task.state == "Running") or under_way:
            phase = previous["phase"] if previous else "running"
            raise ModuleFailure(f"The Sysprep of an earlier run is still under way (task '{SYSPREP_TASK}', phase {phase}); "
                                f"the instance is about to shut down. See {TASK_DIRECTORY}\\sysprep.log.")
        pending = [PENDING_REBOOT[name] for name in ("cbs", "windows_update", "file_rename") if name in guest.pending_reboot]
        if pending:
            raise ModuleFailure(f"Sysprep cannot start: a reboot is pending ({'; '.join(pending)}). Sysprep fails on a machine "
                                "waiting for a reboot: reboot it, then run again.")
        problem = task_folder_problem(guest)
        if problem:
            raise ModuleFailure(f"Sysprep cannot be scheduled: {refusal(problem)}")
    if previous is not None and previous["phase"] == "failed":
        run.warnings.append(f"The Sysprep started by an earlier run failed: {previous['error']} (see {TASK_DIRECTORY}\\sysprep.log).")
    if not agent.config_present:
        raise ModuleFailure(f"{agent_name} is installed but its configuration {config_path} is missing; repair the agent.")

    try:
        before, after, extra = _set_password(agent, run.check_mode)
    except ModuleFailure as failure:
        raise ModuleFailure(f"Setting the random password option of {agent_name} in {config_path} failed: {failure}") from failure
    run.result["password_option"] = {"before": before, "after": after}
    run.result["changed"] = before != after or any(pair[0] != pair[1] for pair in extra.values())
    run.diff = {"before": {"agent": agent_name, "config_path": config_path, "password": before},
                "after": {"agent": agent_name, "config_path": config_path, "password": after}}
    for name, (was, will) in extra.items():
        run.diff["before"][name], run.diff["after"][name] = was, will

    if not params["start_sysprep"]:
        # What the next boot does with the setting: v2 runs setAdminAccount once per instance (its .run-once state),
        # v1 runs InitializeInstance.ps1 only when scheduled, EC2Config's Ec2SetPassword runs at every boot until done.
        if agent_name == "ec2launch_v2":
            ready = not agent.run_once_done
        elif agent_name == "ec2launch_v1":
            ready = agent.initialize_scheduled
        else:
            ready = True
        run.result["new_password_at_next_boot"] = ready
        if not ready:
            run.warnings.append(NOT_AT_NEXT_BOOT[agent_name])
        return
    run.result["new_password_at_next_boot"] = True
    run.result.update({"task_name": SYSPREP_TASK, "sysprep_scheduled": True, "changed": True})
    if run.check_mode:
        return
    create_task_folder(guest)
    guest.files["sysprep.json"] = {"phase": "waiting", "agent": agent_name, "started_epoch": effects.now, "error": None, "exit_code": None}
    guest.files.setdefault("sysprep.log", [])
    effects.schedule_sysprep(guest, params["delay_seconds"])


NOT_AT_NEXT_BOOT = {
    "ec2launch_v2": ("EC2Launch v2 runs setAdminAccount once per instance and has run it: the setting takes effect after "
                     "'EC2Launch.exe reset' or Sysprep, not at the next boot."),
    "ec2launch_v1": ("EC2Launch v1 sets the password only when InitializeInstance.ps1 is scheduled: the setting takes effect after "
                     "'InitializeInstance.ps1 -Schedule' or Sysprep, not at the next boot."),
}


def _previous_sysprep(guest: Guest) -> dict | None:
    state = guest.files.get("sysprep.json")
    return dict(state) if state else None


def _set_password(agent, check_mode: bool) -> tuple:
    """(before, after, {extra diff key: (before, after)}) of the agent's password settings; written unless check mode."""
    settings = agent.settings
    if agent.name == "ec2launch_v2":
        if agent.config_broken:
            # EC2Launch.exe get-agent-config fails; the module keeps only its error lines, password data masked.
            raise ModuleFailure("EC2Launch.exe get-agent-config --format json failed with exit code 1: "
                                "failed to parse agent-config.yml: yaml: line 12: mapping values are not allowed in this context "
                                "(near 'data: ********')")
        before = settings.get("password_type")
        if before != "random" and not check_mode:
            settings.update(password_type="random", password_data=None)
        return before, "random", {}
    if agent.name == "ec2launch_v1":
        before = settings.get("adminPasswordType")
        had_password = bool(settings.get("adminPassword"))
        if (before != "Random" or had_password) and not check_mode:
            settings.update(adminPasswordType="Random", adminPassword="")
        return before, "Random", {"admin_password_set": (had_password, False)}
    before = settings.get("Ec2SetPassword")
    bundle_before = settings.get("SetPasswordAfterSysprep")
    if (before != "Enabled" or bundle_before != "Yes") and not check_mode:
        settings.update(Ec2SetPassword="Enabled", SetPasswordAfterSysprep="Yes")
    return before, "Enabled", {"set_password_after_sysprep": (bundle_before, "Yes")}


def _find_agent(guest: Guest, wanted: str) -> str:
    candidates = list(AGENT_ORDER) if wanted == "auto" else [wanted]
    for name in candidates:
        if name in guest.agents:
            return name
    looked = ", ".join(f"{name} ({AGENT_PROBES[name]})" for name in candidates)
    if wanted == "auto":
        raise ModuleFailure(f"No EC2 launch agent found; looked for {looked}. Install EC2Launch v2, or generalise the host another way.")
    raise ModuleFailure(f"agent={wanted}: not installed; looked for {looked}.")


# The task folder (_SnapkitScheduledTask.psm1) ------------------------------------------------------------------------

def task_folder_problem(guest: Guest) -> str | None:
    """Get-SnapkitTaskDirectoryProblem on the modelled folder."""
    folder = guest.task_folder
    if folder is None:
        return None
    if folder.get("reparse"):
        return f"{TASK_DIRECTORY} is a junction or symbolic link"
    if folder.get("owner") not in TRUSTED_SIDS:
        return f"{TASK_DIRECTORY} is owned by {folder.get('owner')}, not by SYSTEM or Administrators"
    if not folder.get("protected"):
        return f"{TASK_DIRECTORY} inherits permissions from C:\\ProgramData"
    others = sorted({sid for sid in folder.get("others", []) if sid not in TRUSTED_SIDS})
    if others:
        return f"{TASK_DIRECTORY} grants access to {', '.join(others)} besides SYSTEM and Administrators"
    return None


def refusal(problem: str) -> str:
    return (f"Refusing to run a SYSTEM task from it: {problem}. Another user may have created it to swap the script "
            "SYSTEM runs; delete the folder (or give it owner Administrators and a protected ACL with SYSTEM and "
            "Administrators only) and run again.")


def create_task_folder(guest: Guest) -> None:
    if guest.task_folder is None:
        guest.task_folder = {"owner": ADMINISTRATORS_SID, "protected": True, "others": [], "reparse": False}
    problem = task_folder_problem(guest)
    if problem:
        raise ModuleFailure(refusal(problem))


# win_reset_static_ip ----------------------------------------------------------------------------------
# The steps of win_reset_static_ip.ps1 and _SnapkitNetAdapter.psm1, in their order, on the modelled adapters.

LEASE_WAIT_SECONDS = 15
DEFERRED_LEASE_SECONDS = 60


def win_reset_static_ip(run: ModuleRun, guest: Guest, effects: GuestEffects) -> None:
    params = run.params
    if not 0 <= params["session_adapter_delay_seconds"] <= 3600:
        raise ModuleFailure(f"session_adapter_delay_seconds must be between 0 and 3600 seconds, got {params['session_adapter_delay_seconds']}.")
    selected, skipped = select_adapters(guest, params["adapters"] or [])
    for adapter in skipped:
        run.warnings.append(disabled_message(adapter) + " It is left out.")
    options = {"reset_dns": params["reset_dns"], "remove_default_gateway": params["remove_default_gateway"]}
    before_states = {adapter.interface_index: adapter.config() for adapter in selected}
    needing = [adapter for adapter in selected if switch_needed(before_states[adapter.interface_index], **options)]
    if needing:
        service = guest.dhcp_client
        if service.get("status") != "Running" or service.get("start_type") != "Automatic":
            raise ModuleFailure(dhcp_client_message(service))
    sessions = session_indexes(guest)
    deferring = [adapter for adapter in needing if adapter.interface_index in sessions]
    if deferring:
        problem = task_folder_problem(guest)
        if problem:
            raise ModuleFailure(f"The switch of adapter '{deferring[0].name}' (the session's) cannot be scheduled: {refusal(problem)}")
    run.result["deferred_results"] = _previous_deferred(guest, run, [adapter.interface_index for adapter in selected])
    ordered = [adapter for adapter in selected if adapter.interface_index not in sessions] + \
        [adapter for adapter in selected if adapter.interface_index in sessions]
    reports = []
    for adapter in ordered:
        before = before_states[adapter.interface_index]
        report = {"name": adapter.name, "interface_index": adapter.interface_index, "mac_address": adapter.mac_address,
                  "deferred": False, "changed": False, "before": before, "after": before, "task_name": None}
        reports.append(report)
        if adapter not in needing:
            continue
        report["changed"] = True
        deferred = adapter.interface_index in sessions
        report["deferred"] = deferred
        if run.check_mode or deferred:
            report["after"] = expected_config(adapter, params)
            if deferred and not run.check_mode:
                task_name = f"snapkit.cloud-win_reset_static_ip-{adapter.interface_index}"
                report["task_name"] = task_name
                if guest.task(task_name) is not None:
                    run.warnings.append(f"The switch of adapter '{adapter.name}' scheduled by an earlier run is still pending; not scheduled again.")
                else:
                    create_task_folder(guest)
                    guest.files.pop(f"win_reset_static_ip-{adapter.interface_index}.json", None)
                    effects.schedule_adapter_switch(guest, adapter, params["session_adapter_delay_seconds"],
                                                    {"before": before, "renew": params["renew"], **options})
            continue
        try:
            outcome = dhcp_switch(adapter, renew=params["renew"], **options)
        except ModuleFailure as failure:
            run.result["adapters"] = reports
            raise ModuleFailure(f"Switching adapter '{adapter.name}' to DHCP failed: {failure}") from failure
        run.warnings.extend(outcome["warnings"])
        report["after"] = outcome["after"]
    reports.sort(key=lambda report: report["interface_index"])
    run.result["adapters"] = reports
    run.result["changed"] = any(report["changed"] for report in reports)
    changed = [report for report in reports if report["changed"]]
    run.diff = {"before": {report["name"]: report["before"] for report in changed},
                "after": {report["name"]: report["after"] for report in changed}}


def dhcp_client_message(service: dict) -> str:
    return (f"The DHCP Client service (Dhcp) is {service.get('status')} with start type {service.get('start_type')}: without it "
            "an adapter switched to DHCP never gets a lease. Start it and set it to Automatic, then run again; nothing was changed.")


def disabled_message(adapter: Adapter) -> str:
    return (f"Adapter '{adapter.name}' (interface index {adapter.interface_index}) is disabled: it has no active IPv4 interface, and "
            "Set-NetIPInterface -Dhcp changes only the active one.")


def session_indexes(guest: Guest) -> set:
    """Get-SessionInterfaceIndex: the adapter holding the address of the connection, when its port is a listener port it knows."""
    if not guest.adapters or guest.session_port not in guest.listener_ports:
        return set()
    return {guest.adapters[0].interface_index}


def _previous_deferred(guest: Guest, run: ModuleRun, indexes: list) -> list:
    """The result files of earlier deferred switches (read once, then removed), with a warning for a failed one."""
    found = []
    for index in sorted(indexes):
        name = f"win_reset_static_ip-{index}.json"
        result = guest.files.get(name) if run.check_mode else guest.files.pop(name, None)
        if result is None:
            continue
        found.append(dict(result, interface_index=index))
        if result.get("failed"):
            run.warnings.append(f"The deferred switch of interface {index} by an earlier run failed: {result.get('msg')}")
    return found


def parse_selector(selector: str):
    """Test-SnapkitAdapterMatch's reading of a selector: ('mac', hex), ('index', n) or ('name', text)."""
    text = selector.strip()
    mac = text.replace("-", "").replace(":", "").replace(".", "").upper()
    if len(mac) == 12 and all(char in "0123456789ABCDEF" for char in mac):
        return "mac", mac
    if text.isdigit():
        # [long]::TryParse, then the interface index range: a number too big matches nothing.
        value = int(text)
        return ("index", value) if value < 2 ** 63 else ("name", text)
    return "name", text


def adapter_matches(adapter: Adapter, selector: str) -> bool:
    kind, value = parse_selector(selector)
    if kind == "mac":
        return adapter.mac_address.replace("-", "").upper() == value
    if kind == "index":
        return adapter.interface_index == value
    return adapter.name.lower() == value.lower()


def select_adapters(guest: Guest, selectors: list[str]) -> tuple[list[Adapter], list[Adapter]]:
    """(adapters to switch, disabled static adapters left out). Explicit selectors naming a disabled adapter fail."""
    ordered = sorted(guest.adapters, key=lambda item: item.interface_index)
    selectors = [item for item in selectors if item]
    if not selectors:
        static = [adapter for adapter in ordered if adapter.is_static]
        return [adapter for adapter in static if adapter.enabled], [adapter for adapter in static if not adapter.enabled]
    unmatched = [f"'{selector}'" for selector in selectors if not any(adapter_matches(adapter, selector) for adapter in ordered)]
    if unmatched:
        found = "; ".join(f"{item.name} (index {item.interface_index}, MAC {item.mac_address})" for item in ordered)
        raise ModuleFailure(f"adapters: no network adapter matches {', '.join(unmatched)} (by name, interface index or MAC address). "
                            f"Adapters found: {found}.")
    chosen = [adapter for adapter in ordered if any(adapter_matches(adapter, selector) for selector in selectors)]
    for adapter in chosen:
        if not adapter.enabled:
            raise ModuleFailure(f"adapters: {disabled_message(adapter)} Enable it first, or leave it out of adapters.")
    return chosen, []


def switch_needed(state: dict, reset_dns: bool = True, remove_default_gateway: bool = True) -> bool:
    static = not state["dhcp_enabled"] or any(address["prefix_origin"] == "Manual" for address in state["ipv4_addresses"])
    return static or (remove_default_gateway and bool(state["default_gateways"])) or (reset_dns and bool(state["dns_servers"]))


def expected_config(adapter: Adapter, params: dict) -> dict:
    """The configuration after the switch, without the lease (Get-SnapkitExpectedIPv4State)."""
    config = adapter.config()
    config["dhcp_enabled"] = True
    config["ipv4_addresses"] = [address for address in config["ipv4_addresses"] if address["prefix_origin"] != "Manual"]
    if params["remove_default_gateway"]:
        config["default_gateways"] = []
    if params["reset_dns"]:
        config["dns_servers"] = []
    return config


def dhcp_switch(adapter: Adapter, reset_dns: bool = True, remove_default_gateway: bool = True, renew: bool = True) -> dict:
    """Invoke-SnapkitDhcpSwitch on the modelled adapter: DHCP on first, then the manual rows, IPv4 DNS, renew, re-read."""
    before = adapter.config()
    warnings = []
    if not switch_needed(before, reset_dns, remove_default_gateway):
        return {"before": before, "after": before, "changed": False, "warnings": warnings}
    # Set-NetIPInterface -Dhcp Enabled: the DHCP client starts asking at once (the answer comes a moment later).
    adapter.dhcp_enabled = True
    adapter.lease_pending = adapter.connected
    if remove_default_gateway:
        adapter.default_gateways = []
    adapter.addresses = [address for address in adapter.addresses if address["prefix_origin"] != "Manual"]
    if reset_dns:
        adapter.dns_servers = []  # IPv4 only: IPv6 servers stay
    if renew:
        if not adapter.connected:
            warnings.append(f"Adapter '{adapter.name}' has no link: DHCP is enabled, it gets a lease when it connects.")
        else:
            adapter.answer_dhcp()
            leased = [address for address in adapter.addresses if address["prefix_origin"] == "Dhcp"]
            if not leased:
                apipa = [address["ip_address"] for address in adapter.addresses if address["ip_address"].startswith("169.254.")]
                got = f"only the APIPA address {', '.join(apipa)}" if apipa else "no address"
                warnings.append(f"Adapter '{adapter.name}' is on DHCP but got no lease within {LEASE_WAIT_SECONDS} seconds ({got}); "
                                "Windows keeps asking.")
    after = adapter.config()
    if not after["dhcp_enabled"]:
        raise ModuleFailure(f"Adapter '{adapter.name}': DHCP is still off after Set-NetIPInterface -Dhcp Enabled.")
    return {"before": before, "after": after, "changed": True, "warnings": warnings}


def restore_static(adapter: Adapter, saved: dict) -> None:
    """Restore-SnapkitIPv4State: DHCP off, the saved manual addresses, static gateways and IPv4 DNS servers back."""
    adapter.dhcp_enabled = False
    adapter.lease_pending = False
    adapter.drop_lease()
    adapter.addresses = [dict(address) for address in saved["ipv4_addresses"] if address["prefix_origin"] == "Manual"]
    adapter.default_gateways = list(saved["default_gateways"])
    adapter.dns_servers = list(saved["dns_servers"])


EMULATED: dict[str, tuple[dict[str, Option], Callable]] = {
    "ansible.windows.win_ping": ({"data": Option(default="pong")}, win_ping),
    "snapkit.cloud.win_ec2launch_sysprep": ({
        "agent": Option(default="auto", choices=("auto", "ec2launch_v2", "ec2launch_v1", "ec2config")),
        "start_sysprep": Option(type="bool", default=True),
        "delay_seconds": Option(type="int", default=10),
    }, win_ec2launch_sysprep),
    "snapkit.cloud.win_reset_static_ip": ({
        "adapters": Option(type="list"),
        "reset_dns": Option(type="bool", default=True),
        "remove_default_gateway": Option(type="bool", default=True),
        "renew": Option(type="bool", default=True),
        "session_adapter_delay_seconds": Option(type="int", default=5),
    }, win_reset_static_ip),
}
# Builtin short names Ansible may resolve to (wait_for_connection pings with ansible.legacy.win_ping).
ALIASES = {"win_ping": "ansible.windows.win_ping", "ansible.builtin.win_ping": "ansible.windows.win_ping"}


def run_module(invocation: Invocation, guest: Guest, effects: GuestEffects) -> tuple[int, dict]:
    """(exit code, result) of one module invocation, as Ansible.Basic would write them."""
    name = ALIASES.get(invocation.module, invocation.module)
    if invocation.wrappers and any(wrapper in invocation.wrappers for wrapper in ("become_wrapper.ps1", "async_wrapper.ps1")):
        return 1, {"failed": True, "changed": False,
                   "msg": f"cloudsim Windows guest: {', '.join(invocation.wrappers)} (become/async) is not emulated"}
    if name not in EMULATED:
        return 1, {"failed": True, "changed": False,
                   "msg": f"cloudsim Windows guest: module {name} is not emulated (emulated: {', '.join(sorted(EMULATED))})"}
    spec, handler = EMULATED[name]
    short = name.rsplit(".", 1)[-1]
    try:
        run = ModuleRun(name=name, params=validate(short, spec, invocation.args), check_mode=invocation.check_mode, diff_mode=invocation.diff_mode)
    except ModuleFailure as failure:
        return 1, {"failed": True, "changed": False, "msg": str(failure), "invocation": {"module_args": _visible_args(invocation.args)}}
    try:
        handler(run, guest, effects)
    except ModuleFailure as failure:
        result = dict(run.result, failed=True, msg=str(failure))
        result["invocation"] = {"module_args": copy.deepcopy(run.params)}
        return 1, result
    result = dict(run.result)
    if run.diff_mode and run.diff:
        result["diff"] = run.diff
    if run.warnings:
        result["warnings"] = run.warnings
    result["invocation"] = {"module_args": copy.deepcopy(run.params)}
    return 0, result


def _visible_args(args: dict) -> dict:
    return {key: value for key, value in args.items() if not key.startswith("_ansible_")}
