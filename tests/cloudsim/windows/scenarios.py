# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one statement of what win_ec2launch_sysprep and win_reset_static_ip must do: a table of scenarios.

Each row gives the inputs (module, parameters, check mode), the guest state (in the vocabulary of
:func:`cloudsim.windows.guest.seed_state`: agents and their configuration, run-once state, busy agent, pending
reboot, task folder, files, DHCP Client service, listeners, adapters), and the expected result: failed and message
parts, changed, result fields, diff, warnings. ``then`` states what is true :data:`ADVANCE` seconds later (the
scheduled task has run), ``rerun`` a second run after that.

The same rows run against the emulated guest (tests/cloudsim/tests/test_cloudsim_windows_scenarios.py, in
``make test``) and, where a row says how to arrange it on a real host (``real``), against a real Windows host
(tests/integration/test_win_modules_real_host.py, with SNAPKIT_WINDOWS_HOST). :func:`problems` is the one
comparison both use, so the emulation and a real host can only disagree loudly.

Placeholders in parameters and messages: ``{adapter}`` (the name of the second adapter: ``Ethernet 2`` in the
emulation, SNAPKIT_WINDOWS_TEST_ADAPTER on a real host), ``{mac}`` (its MAC address, 12 hex digits, no separator).
In expected values, :data:`ANY` matches anything present.
"""

from __future__ import annotations

import dataclasses

ANY = "<any>"
ADVANCE = 120
SYSPREP = "snapkit.cloud.win_ec2launch_sysprep"
RESET = "snapkit.cloud.win_reset_static_ip"
USER_SID = "S-1-5-21-1004336348-1177238915-682003330-1001"
V2_PATH = r"C:\ProgramData\Amazon\EC2Launch\config\agent-config.yml"

# Real-host setups (PowerShell run with ansible.windows.win_shell before the row, teardown after it).
_REAL_FOLDER = "$d = Join-Path $env:ProgramData 'snapkit.cloud'; "
REAL_INHERITED_FOLDER = (_REAL_FOLDER + "Remove-Item -LiteralPath $d -Recurse -Force -ErrorAction SilentlyContinue; "
                         "New-Item -ItemType Directory -Path $d | Out-Null")
REAL_REMOVE_FOLDER = _REAL_FOLDER + "Remove-Item -LiteralPath $d -Recurse -Force -ErrorAction SilentlyContinue"
REAL_STATIC = ("$i = (Get-NetAdapter -Name '{adapter}').InterfaceIndex; Enable-NetAdapter -Name '{adapter}' -Confirm:$false; "
               "Set-NetIPInterface -InterfaceIndex $i -Dhcp Disabled; "
               "Get-NetIPAddress -InterfaceIndex $i -AddressFamily IPv4 -ErrorAction SilentlyContinue | Remove-NetIPAddress -Confirm:$false; "
               "Get-NetRoute -InterfaceIndex $i -DestinationPrefix '0.0.0.0/0' -ErrorAction SilentlyContinue | Remove-NetRoute -Confirm:$false; "
               "New-NetIPAddress -InterfaceIndex $i -IPAddress 192.0.2.10 -PrefixLength 24 -DefaultGateway 192.0.2.1 | Out-Null; "
               "Set-DnsClientServerAddress -InterfaceIndex $i -ServerAddresses 192.0.2.53, fd00::53")
REAL_DISABLE = REAL_STATIC + "; Disable-NetAdapter -Name '{adapter}' -Confirm:$false"
REAL_ENABLE = "Enable-NetAdapter -Name '{adapter}' -Confirm:$false"
# What the second adapter looks like in the emulation when REAL_STATIC made it static on a real host.
SECOND_STATIC = {"name": "{adapter}", "static": {"ip": "192.0.2.10", "prefix": 24, "gateway": "192.0.2.1", "dns": ["192.0.2.53"]},
                 "dns_v6": ["fd00::53"]}
SECOND_STATIC_BEFORE = {"dhcp_enabled": False, "ipv4_addresses": [{"ip_address": "192.0.2.10", "prefix_length": 24, "prefix_origin": "Manual"}],
                        "default_gateways": ["192.0.2.1"], "dns_servers": ["192.0.2.53"]}
PRIMARY_DHCP = {}
PRIMARY_STATIC = {"static": {"ip": "instance", "gateway": "172.26.0.1", "dns": ["172.26.0.2"]}}


@dataclasses.dataclass(frozen=True)
class Real:
    """How to arrange a row on a real host: needs ``agent`` (an EC2 launch agent) or ``adapter`` (the test adapter)."""

    requires: str
    setup: str = ""
    teardown: str = ""


@dataclasses.dataclass(frozen=True)
class Scenario:
    id: str
    module: str
    params: dict
    guest: dict
    check_mode: bool = False
    failed: bool = False
    msg: tuple = ()
    msg_excludes: tuple = ()
    changed: bool | None = None
    result: dict = dataclasses.field(default_factory=dict)
    diff: dict | None = None
    warnings: tuple = ()
    then: dict = dataclasses.field(default_factory=dict)
    rerun: dict | None = None
    real: Real | None = None


def _v2(option="random", **extra):
    return {"agents": {"ec2launch_v2": dict(password_option=option, **extra)}}


SCENARIOS = (
    # win_ec2launch_sysprep ------------------------------------------------------------------------------------
    Scenario("v2-sysprep-new-password", SYSPREP, {}, _v2("doNothing"), changed=True,
             result={"agent": "ec2launch_v2", "password_option": {"before": "doNothing", "after": "random"}, "sysprep_scheduled": True,
                     "task_name": "snapkit.cloud-sysprep", "new_password_at_next_boot": True,
                     "sysprep_command": '"C:\\Program Files\\Amazon\\EC2Launch\\EC2Launch.exe" sysprep --shutdown --block'},
             diff={"before": {"password": "doNothing"}, "after": {"password": "random"}},
             then={"shutdown": True, "next_boot_password": True, "phase": "running"}),
    Scenario("v2-check-mode-changes-nothing", SYSPREP, {}, _v2("doNothing"), check_mode=True, changed=True,
             result={"sysprep_scheduled": True, "task_name": "snapkit.cloud-sysprep"},
             then={"shutdown": False, "agent_setting": "doNothing", "scheduled": 0},
             real=Real("agent")),
    Scenario("v2-busy-agent-sysprep-waits-for-it", SYSPREP, {}, _v2(busy="booting", busy_seconds=60), changed=True,
             then={"shutdown": True, "next_boot_password": True, "log": "still running its boot stages"}),
    Scenario("v2-stuck-agent-is-logged-and-a-rerun-refused", SYSPREP, {}, _v2(busy="stuck"), changed=True,
             then={"shutdown": False, "phase": "running", "log": "still running its boot stages"},
             rerun={"params": {}, "failed": True, "msg": ("still under way", "phase running")}),
    Scenario("v2-start-false-run-once-done-no-password-at-next-boot", SYSPREP, {"start_sysprep": False},
             _v2("static", settings={"password_data": "Secr3t!pass"}), changed=True,
             result={"password_option": {"before": "static", "after": "random"}, "sysprep_scheduled": False, "task_name": None,
                     "new_password_at_next_boot": False},
             warnings=("runs setAdminAccount once per instance",), then={"shutdown": False, "agent_setting": "random"}),
    Scenario("v2-start-false-before-run-once", SYSPREP, {"start_sysprep": False}, _v2(run_once_done=False), changed=False,
             result={"new_password_at_next_boot": True, "password_option": {"before": "random", "after": "random"}}),
    Scenario("v2-broken-config-failure-hides-the-password", SYSPREP, {"start_sysprep": False},
             _v2("static", config_broken=True, settings={"password_data": "Secr3t!pass"}), failed=True,
             msg=("get-agent-config --format json failed", V2_PATH), msg_excludes=("Secr3t!pass",)),
    Scenario("v1-random-with-an-admin-password-diffs-it", SYSPREP, {"start_sysprep": False},
             {"agents": {"ec2launch_v1": {"password_option": "Random", "settings": {"adminPassword": "Old-Pa55"}}}},
             check_mode=True, changed=True,
             result={"password_option": {"before": "Random", "after": "Random"}},
             diff={"before": {"password": "Random", "admin_password_set": True}, "after": {"password": "Random", "admin_password_set": False}},
             msg_excludes=("Old-Pa55",), warnings=("InitializeInstance.ps1 -Schedule",)),
    Scenario("v1-start-false-not-scheduled-no-password-at-next-boot", SYSPREP, {"start_sysprep": False},
             {"agents": {"ec2launch_v1": {}}}, changed=True,
             result={"password_option": {"before": "DoNothing", "after": "Random"}, "new_password_at_next_boot": False},
             warnings=("InitializeInstance.ps1 -Schedule",)),
    Scenario("v1-initialize-failure-is-logged-and-reported-next-run", SYSPREP, {}, {"agents": {"ec2launch_v1": {"initialize_fails": True}}},
             changed=True, result={"sysprep_scheduled": True},
             then={"shutdown": False, "phase": "failed", "log": "FAILED: InitializeInstance.ps1 -Schedule"},
             rerun={"params": {"start_sysprep": False}, "warnings": ("The Sysprep started by an earlier run failed",),
                    "result": {"previous_sysprep": {"phase": "failed"}}}),
    Scenario("ec2config-set-password-after-sysprep-diffs-its-value", SYSPREP, {"start_sysprep": False},
             {"agents": {"ec2config": {"password_option": "Enabled", "settings": {"SetPasswordAfterSysprep": "No"}}}},
             check_mode=True, changed=True, result={"new_password_at_next_boot": True},
             diff={"before": {"password": "Enabled", "set_password_after_sysprep": "No"},
                   "after": {"password": "Enabled", "set_password_after_sysprep": "Yes"}}),
    Scenario("explicit-agent-accepted-beside-another", SYSPREP, {"agent": "ec2launch_v1", "start_sysprep": False},
             {"agents": {"ec2launch_v2": {}, "ec2launch_v1": {"password_option": "Random"}}}, changed=False,
             result={"agent": "ec2launch_v1"}, warnings=("InitializeInstance.ps1 -Schedule",)),
    Scenario("explicit-agent-not-installed", SYSPREP, {"agent": "ec2config"}, _v2(), failed=True,
             msg=("agent=ec2config: not installed", "Ec2Config.exe")),
    Scenario("no-agent", SYSPREP, {}, {"agents": {}}, failed=True, msg=("No EC2 launch agent found", "EC2Launch.exe", "InitializeInstance.ps1")),
    Scenario("pending-reboot-cbs-refused", SYSPREP, {}, dict(_v2("doNothing"), pending_reboot=["cbs"]), failed=True,
             msg=("a reboot is pending", "Component Based Servicing\\RebootPending"),
             then={"shutdown": False, "agent_setting": "doNothing"}),
    Scenario("pending-reboot-windows-update-refused", SYSPREP, {}, dict(_v2(), pending_reboot=["windows_update"]), failed=True,
             msg=("a reboot is pending", "WindowsUpdate\\Auto Update\\RebootRequired")),
    Scenario("pending-file-renames-refused", SYSPREP, {}, dict(_v2(), pending_reboot=["file_rename"]), check_mode=True, failed=True,
             msg=("a reboot is pending", "PendingFileRenameOperations"),
             real=Real("agent", setup=("New-ItemProperty -Path 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Session Manager' "
                                       "-Name PendingFileRenameOperations -PropertyType MultiString -Force "
                                       "-Value @('\\??\\C:\\Windows\\Temp\\snapkit-test.tmp', '') | Out-Null"),
                       teardown=("Remove-ItemProperty -Path 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Session Manager' "
                                 "-Name PendingFileRenameOperations -ErrorAction SilentlyContinue"))),
    Scenario("generalization-pending-refused", SYSPREP, {}, dict(_v2(), generalization_state=3), failed=True,
             msg=("GeneralizationState 3",)),
    Scenario("task-folder-owned-by-a-user-refused", SYSPREP, {},
             dict(_v2("doNothing"), task_folder={"owner": USER_SID, "protected": False, "others": [USER_SID]}), failed=True,
             msg=("Refusing to run a SYSTEM task", f"owned by {USER_SID}"), then={"agent_setting": "doNothing", "scheduled": 0}),
    Scenario("task-folder-inherited-acl-refused", SYSPREP, {}, dict(_v2(), task_folder={"owner": "S-1-5-32-544", "protected": False}),
             check_mode=True, failed=True, msg=("Refusing to run a SYSTEM task", "inherits permissions"),
             real=Real("agent", setup=REAL_INHERITED_FOLDER, teardown=REAL_REMOVE_FOLDER)),
    Scenario("task-folder-junction-refused", SYSPREP, {}, dict(_v2(), task_folder={"owner": "S-1-5-32-544", "protected": True, "reparse": True}),
             failed=True, msg=("junction",)),
    Scenario("task-folder-extra-rule-refused", SYSPREP, {},
             dict(_v2(), task_folder={"owner": "S-1-5-32-544", "protected": True, "others": ["S-1-5-32-545"]}), failed=True,
             msg=("grants access to S-1-5-32-545",)),
    Scenario("earlier-failure-reported-and-sysprep-retried", SYSPREP, {},
             dict(_v2(), files={"sysprep.json": {"phase": "failed", "agent": "ec2launch_v2", "started_ago": 3600,
                                                 "error": "the agent's Sysprep command exited with code 1", "exit_code": 1}}), changed=True,
             result={"sysprep_scheduled": True, "previous_sysprep": {"phase": "failed", "exit_code": 1}},
             warnings=("The Sysprep started by an earlier run failed: the agent's Sysprep command exited with code 1",),
             then={"shutdown": True}),
    Scenario("earlier-sysprep-under-way-refused", SYSPREP, {},
             dict(_v2(), files={"sysprep.json": {"phase": "running", "agent": "ec2launch_v2", "started_ago": 0, "error": None,
                                                 "exit_code": None}}), failed=True,
             msg=("still under way", "phase running")),

    # win_reset_static_ip --------------------------------------------------------------------------------------
    Scenario("session-adapter-deferred-then-leased", RESET, {"adapters": ["Ethernet"]}, {"adapters": [PRIMARY_STATIC]}, changed=True,
             result={"adapters": [{"name": "Ethernet", "deferred": True, "changed": True, "task_name": "snapkit.cloud-win_reset_static_ip-6",
                                   "after": {"dhcp_enabled": True, "ipv4_addresses": [], "default_gateways": [], "dns_servers": []}}]},
             then={"nic": [{"dhcp_enabled": True, "ipv4_addresses": [{"prefix_origin": "Dhcp"}], "default_gateways": [], "dns_servers": []}]},
             rerun={"params": {"adapters": ["Ethernet"]}, "changed": False, "result": {"deferred_results": [{"failed": False}]}}),
    Scenario("session-adapter-check-mode-changes-nothing", RESET, {}, {"adapters": [PRIMARY_STATIC]}, check_mode=True, changed=True,
             result={"adapters": [{"deferred": True, "task_name": None}]},
             then={"nic": [{"dhcp_enabled": False}], "scheduled": 0}),
    Scenario("session-adapter-without-lease-restored", RESET, {}, {"adapters": [dict(PRIMARY_STATIC, dhcp_blocked=True)]}, changed=True,
             result={"adapters": [{"deferred": True}]},
             then={"nic": [{"dhcp_enabled": False, "ipv4_addresses": [{"prefix_origin": "Manual"}], "default_gateways": ["172.26.0.1"],
                            "dns_servers": ["172.26.0.2"]}]},
             rerun={"params": {}, "check_mode": True, "warnings": ("no DHCP lease within 60 seconds; the static configuration was restored",),
                    "result": {"deferred_results": [{"failed": True, "restored": True}]}}),
    Scenario("session-on-a-compatibility-listener-deferred", RESET, {},
             {"adapters": [PRIMARY_STATIC], "session_port": 80, "listener_ports": [5985, 5986, 80]}, check_mode=True, changed=True,
             result={"adapters": [{"deferred": True}]}),
    Scenario("other-adapter-switched-now-with-lease", RESET, {"adapters": ["{adapter}"]},
             {"adapters": [PRIMARY_DHCP, dict(SECOND_STATIC, dhcp_server="192.0.2.77")]}, changed=True,
             result={"adapters": [{"name": "{adapter}", "deferred": False, "before": SECOND_STATIC_BEFORE,
                                   "after": {"dhcp_enabled": True, "default_gateways": [], "dns_servers": [],
                                             "ipv4_addresses": [{"ip_address": "192.0.2.77", "prefix_origin": "Dhcp"}]}}]},
             then={"dns_v6": ["fd00::53"]}),
    Scenario("other-adapter-without-dhcp-server-warns", RESET, {"adapters": ["{adapter}"]}, {"adapters": [PRIMARY_DHCP, SECOND_STATIC]},
             changed=True,
             # The APIPA address may come a few seconds late on a real host: the addresses are not compared.
             result={"adapters": [{"deferred": False, "before": SECOND_STATIC_BEFORE,
                                   "after": {"dhcp_enabled": True, "default_gateways": [], "dns_servers": []}}]},
             warnings=("is on DHCP but got no lease within 15 seconds",),
             rerun={"params": {"adapters": ["{adapter}"]}, "changed": False},
             real=Real("adapter", setup=REAL_STATIC)),
    Scenario("other-adapter-check-mode", RESET, {"adapters": ["{adapter}"]}, {"adapters": [PRIMARY_DHCP, SECOND_STATIC]}, check_mode=True,
             changed=True, result={"adapters": [{"deferred": False, "before": SECOND_STATIC_BEFORE,
                                                 "after": {"dhcp_enabled": True, "ipv4_addresses": [], "default_gateways": [], "dns_servers": []}}]},
             rerun={"params": {"adapters": ["{adapter}"]}, "check_mode": True, "changed": True, "result": {"adapters": [{"before": SECOND_STATIC_BEFORE}]}},
             real=Real("adapter", setup=REAL_STATIC)),
    Scenario("renew-false-still-leases", RESET, {"adapters": ["{adapter}"], "renew": False},
             {"adapters": [PRIMARY_DHCP, dict(SECOND_STATIC, dhcp_server="192.0.2.77")]}, changed=True,
             result={"adapters": [{"after": {"dhcp_enabled": True, "ipv4_addresses": []}}]},
             rerun={"params": {"adapters": ["{adapter}"]}, "changed": False,
                    "result": {"adapters": [{"before": {"ipv4_addresses": [{"ip_address": "192.0.2.77", "prefix_origin": "Dhcp"}]}}]}}),
    Scenario("dhcp-given-route-to-the-same-gateway-kept", RESET, {"adapters": ["{adapter}"]},
             {"adapters": [PRIMARY_DHCP, dict(SECOND_STATIC, dhcp_server="192.0.2.77", gateway="192.0.2.1")]}, changed=True,
             then={"dhcp_gateways": ["192.0.2.1"]}),
    Scenario("disabled-adapter-named-refused", RESET, {"adapters": ["{adapter}"]},
             {"adapters": [PRIMARY_DHCP, dict(SECOND_STATIC, enabled=False)]}, failed=True,
             msg=("is disabled", "no active IPv4 interface", "Enable it first"),
             real=Real("adapter", setup=REAL_DISABLE, teardown=REAL_ENABLE)),
    Scenario("disabled-static-adapter-left-out-with-a-warning", RESET, {},
             {"adapters": [PRIMARY_DHCP, dict(SECOND_STATIC, enabled=False)]}, changed=False, result={"adapters": []},
             warnings=("is disabled", "It is left out")),
    Scenario("dhcp-client-stopped-refused-before-any-change", RESET, {},
             {"adapters": [PRIMARY_STATIC], "dhcp_client": {"status": "Stopped", "start_type": "Manual"}}, failed=True,
             msg=("The DHCP Client service (Dhcp) is Stopped with start type Manual", "nothing was changed"),
             then={"nic": [{"dhcp_enabled": False}], "scheduled": 0}),
    Scenario("mac-without-separators-is-a-mac", RESET, {"adapters": ["{mac}"]}, {"adapters": [PRIMARY_DHCP, SECOND_STATIC]},
             check_mode=True, changed=True, result={"adapters": [{"name": "{adapter}"}]},
             real=Real("adapter", setup=REAL_STATIC)),
    Scenario("long-number-selector-fails-cleanly", RESET, {"adapters": ["99999999999999999999"]}, {"adapters": [PRIMARY_DHCP]}, failed=True,
             msg=("no network adapter matches '99999999999999999999'", "Adapters found"), msg_excludes=("nhandled",),
             real=Real("adapter")),
    Scenario("unknown-name-fails-listing-adapters", RESET, {"adapters": ["nope"]}, {"adapters": [PRIMARY_DHCP]}, failed=True,
             msg=("no network adapter matches 'nope'", "Ethernet (index 6")),
    Scenario("task-folder-refused-for-the-session-adapter", RESET, {},
             {"adapters": [PRIMARY_STATIC], "task_folder": {"owner": USER_SID, "protected": True}}, failed=True,
             msg=("(the session's) cannot be scheduled", f"owned by {USER_SID}"), then={"nic": [{"dhcp_enabled": False}]}),
)


def fill(value, names: dict):
    """The value with the placeholders replaced (strings, in dicts and lists)."""
    if isinstance(value, str):
        for key, replacement in names.items():
            value = value.replace("{" + key + "}", replacement)
        return value
    if isinstance(value, dict):
        return {fill(key, names): fill(item, names) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(fill(item, names) for item in value)
    return value


def subset_problems(expected, actual, path="result") -> list[str]:
    """Where ``actual`` differs from ``expected``: dicts by the expected keys, lists item by item (same length)."""
    if expected == ANY:
        return [] if actual is not None else [f"{path}: missing"]
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected a dict, got {actual!r}"]
        found = []
        for key, value in expected.items():
            if key not in actual:
                found.append(f"{path}.{key}: missing")
            else:
                found += subset_problems(value, actual[key], f"{path}.{key}")
        return found
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: expected {len(expected)} items, got {actual!r}"]
        return [problem for number, (item, got) in enumerate(zip(expected, actual)) for problem in subset_problems(item, got, f"{path}[{number}]")]
    return [] if expected == actual else [f"{path}: expected {expected!r}, got {actual!r}"]


def result_problems(expect: dict, result: dict) -> list[str]:
    """The expected outcome (``failed``, ``msg``, ``msg_excludes``, ``changed``, ``result``, ``diff``, ``warnings``) against a result."""
    found = []
    failed = bool(result.get("failed"))
    if failed != bool(expect.get("failed")):
        found.append(f"failed: expected {bool(expect.get('failed'))}, got {failed} ({result.get('msg')})")
    message = str(result.get("msg", ""))
    found += [f"msg lacks {part!r}: {message}" for part in expect.get("msg", ()) if part not in message]
    found += [f"msg or result shows {part!r}" for part in expect.get("msg_excludes", ()) if part in str(result)]
    if expect.get("changed") is not None and not failed and result.get("changed") is not expect["changed"]:
        found.append(f"changed: expected {expect['changed']}, got {result.get('changed')}")
    if "unhandled exception" in message.lower():
        found.append(f"an unhandled exception instead of a clean failure: {message}")
    found += subset_problems(expect.get("result", {}), result)
    if expect.get("diff") is not None:
        found += subset_problems(expect["diff"], result.get("diff"), "diff")
    warnings = result.get("warnings") or []
    wanted = expect.get("warnings", ())
    found += [f"no warning with {part!r}: {warnings}" for part in wanted if not any(part in warning for warning in warnings)]
    if not wanted and warnings and not failed:
        found.append(f"unexpected warnings: {warnings}")
    return found


def problems(scenario: Scenario, result: dict, names: dict) -> list[str]:
    """How a first run's result differs from the row (placeholders filled with ``names``)."""
    expect = fill({key: getattr(scenario, key) for key in ("failed", "msg", "msg_excludes", "changed", "result", "diff", "warnings")}, names)
    return result_problems(expect, result)


def rerun_problems(scenario: Scenario, result: dict, names: dict) -> list[str]:
    expect = fill(dict(scenario.rerun), names)
    expect.pop("params", None)
    expect.pop("check_mode", None)
    return result_problems(expect, result)
