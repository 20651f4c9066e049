# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The results of the PowerShell modules the collection runs, computed on the guest state instead of run.

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

from cloudsim.windows.guest import AGENT_CONFIG_PATHS, AGENT_PROBES, AGENT_RANDOM, Adapter, Guest
from cloudsim.windows.payload import Invocation

SYSPREP_TASK = "snapkit.cloud-sysprep"
SYSPREP_COMMANDS = {
    "ec2launch_v2": '"C:\\Program Files\\Amazon\\EC2Launch\\EC2Launch.exe" sysprep --shutdown=true',
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

    def schedule_adapter_switch(self, guest: Guest, adapter: Adapter, delay_seconds: float, new_config: dict) -> None:
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

def win_ec2launch_sysprep(run: ModuleRun, guest: Guest, effects: GuestEffects) -> None:
    params = run.params
    if not 0 <= params["delay_seconds"] <= 3600:
        raise ModuleFailure(f"delay_seconds must be between 0 and 3600 seconds, got {params['delay_seconds']}.")
    agent = _detect_agent(guest, params["agent"])
    run.result.update({"agent": agent, "config_path": AGENT_CONFIG_PATHS[agent], "sysprep_command": SYSPREP_COMMANDS[agent],
                       "sysprep_scheduled": False, "task_name": None})
    if params["start_sysprep"] and (guest.pending("sysprep") is not None or guest.sysprep_running):
        raise ModuleFailure(f"The Sysprep task '{SYSPREP_TASK}' of an earlier run is still running; the instance is about to shut down.")
    before, after = guest.password_option, AGENT_RANDOM[agent]
    run.result["password_option"] = {"before": before, "after": after}
    run.result["changed"] = before != after
    run.diff = {"before": {"agent": agent, "config_path": AGENT_CONFIG_PATHS[agent], "password": before},
                "after": {"agent": agent, "config_path": AGENT_CONFIG_PATHS[agent], "password": after}}
    if agent == "ec2config":
        # EC2Config also needs SetPasswordAfterSysprep=Yes in BundleConfig.xml (its default; the emulation keeps it).
        run.diff["before"]["set_password_after_sysprep"] = run.diff["after"]["set_password_after_sysprep"] = "Yes"
    if params["start_sysprep"]:
        run.result.update({"task_name": SYSPREP_TASK, "sysprep_scheduled": True, "changed": True})
    if run.check_mode:
        return
    guest.password_option = after
    if params["start_sysprep"]:
        effects.schedule_sysprep(guest, params["delay_seconds"])


def _detect_agent(guest: Guest, wanted: str) -> str:
    if wanted == "auto":
        if guest.agent == "none":
            looked = ", ".join(f"{name} ({path})" for name, path in AGENT_PROBES.items())
            raise ModuleFailure(f"No EC2 launch agent found; looked for {looked}. Install EC2Launch v2, or generalise the host another way.")
        return guest.agent
    if guest.agent != wanted:
        raise ModuleFailure(f"agent={wanted}: not installed; looked for {wanted} ({AGENT_PROBES[wanted]}).")
    return wanted


# win_reset_static_ip ----------------------------------------------------------------------------------

def win_reset_static_ip(run: ModuleRun, guest: Guest, effects: GuestEffects) -> None:
    params = run.params
    if not 0 <= params["session_adapter_delay_seconds"] <= 3600:
        raise ModuleFailure(f"session_adapter_delay_seconds must be between 0 and 3600 seconds, got {params['session_adapter_delay_seconds']}.")
    selected = select_adapters(guest, params["adapters"] or [])
    reports = []
    for adapter in selected:
        before = adapter.config()
        expected = expected_config(adapter, params)
        changed = expected != before
        # Every emulated guest has one adapter, and it carries the WinRM session: a change is deferred.
        task_name = f"snapkit.cloud-win_reset_static_ip-{adapter.interface_index}"
        report = {"name": adapter.name, "interface_index": adapter.interface_index, "mac_address": adapter.mac_address,
                  "deferred": changed, "changed": changed, "before": before, "after": expected if changed else before, "task_name": None}
        if changed and not run.check_mode:
            report["task_name"] = task_name
            if any(work.task_name == task_name for work in guest.scheduled):
                run.warnings.append(f"The switch of adapter '{adapter.name}' scheduled by an earlier run is still pending; not scheduled again.")
            else:
                effects.schedule_adapter_switch(guest, adapter, params["session_adapter_delay_seconds"], expected)
        reports.append(report)
    run.result["adapters"] = reports
    run.result["changed"] = any(report["changed"] for report in reports)
    changed_reports = [report for report in reports if report["changed"]]
    run.diff = {"before": {report["name"]: report["before"] for report in changed_reports},
                "after": {report["name"]: report["after"] for report in changed_reports}}


def select_adapters(guest: Guest, selectors: list[str]) -> list[Adapter]:
    if not selectors:
        return sorted((adapter for adapter in guest.adapters if adapter.is_static), key=lambda item: item.interface_index)
    chosen, unmatched = {}, []
    for selector in selectors:
        matches = guest.find_adapters(selector)
        if not matches:
            unmatched.append(f"'{selector}'")
        for adapter in matches:
            chosen[adapter.interface_index] = adapter
    if unmatched:
        found = "; ".join(f"{item.name} (index {item.interface_index}, MAC {item.mac_address})" for item in guest.adapters)
        raise ModuleFailure(f"adapters: no network adapter matches {', '.join(unmatched)} (by name, interface index or MAC address). "
                            f"Adapters found: {found}.")
    return [chosen[index] for index in sorted(chosen)]


def expected_config(adapter: Adapter, params: dict) -> dict:
    """The configuration after the switch, without the lease (the module reports the lease only once it has it)."""
    config = adapter.config()
    config["dhcp_enabled"] = True
    config["ipv4_addresses"] = [address for address in config["ipv4_addresses"] if address["prefix_origin"] != "Manual"]
    if params["remove_default_gateway"]:
        config["default_gateways"] = []
    if params["reset_dns"]:
        config["dns_servers"] = []
    return config


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
