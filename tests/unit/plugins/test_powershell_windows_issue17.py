# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What only the PowerShell text can show (issue 17), read from tree-sitter's syntax tree, not from regexes alone.

The behaviour itself is stated once, in the scenario table of tests/cloudsim/windows/scenarios.py, which runs against
the emulated guest and against a real host; these checks pin the Windows calls the emulation cannot see.
"""

from __future__ import annotations

from ansible_collections.snapkit.cloud.tests.unit.plugins import powershell_tree as pst

ROOT = pst.COLLECTION_ROOT
TASK_UTIL = (ROOT / "plugins/module_utils/_SnapkitScheduledTask.psm1").read_text(encoding="utf-8")
NET_UTIL = (ROOT / "plugins/module_utils/_SnapkitNetAdapter.psm1").read_text(encoding="utf-8")
SYSPREP = (ROOT / "plugins/modules/win_ec2launch_sysprep.ps1").read_text(encoding="utf-8")
RESET = (ROOT / "plugins/modules/win_reset_static_ip.ps1").read_text(encoding="utf-8")


def function(source, name):
    """The text of one function definition (its whole statement)."""
    for statement in pst.nodes_of_type(source, "function_statement"):
        found = next(child for child in statement.named_children if child.type == "function_name").text.decode()
        if found.lower() == name.lower():
            return statement.text.decode("utf-8")
    raise AssertionError("no function %s" % name)


def calls(source):
    """[(command, line)] of every command call, in source order, the embedded scripts' calls included."""
    found = [(name, line) for name, _parameters, line in pst.command_calls(source)]
    return sorted(found, key=lambda item: item[1])


def first_call(source, command):
    lines = [line for name, line in calls(source) if name == command.lower()]
    assert lines, "%s is never called" % command
    return lines[0]


def member_calls(text):
    """The names of the .NET methods a piece of PowerShell invokes (node invokation_expression)."""
    names = set()
    for node in pst.nodes_of_type(text, "invokation_expression"):
        member = next((child for child in node.named_children if child.type == "member_name"), None)
        if member is not None:
            names.add(member.text.decode())
    return names


# 1. The task folder under %ProgramData% --------------------------------------------------------------------------

def test_the_task_folder_is_created_with_a_protected_admin_only_acl():
    body = function(TASK_UTIL, "Get-SnapkitTaskDirectory")
    methods = member_calls(body)
    assert {"SetOwner", "SetAccessRuleProtection", "AddAccessRule", "CreateDirectory"} <= methods, methods
    assert "SetAccessRuleProtection($true, $false)" in body
    # Created or found, it is checked; the check reads owner, protection, rules and reparse points.
    assert "assert-snapkittaskdirectory" in [name for name, _line in calls(body)]
    check = function(TASK_UTIL, "Get-SnapkitTaskDirectoryProblem")
    assert {"GetOwner", "GetAccessRules"} <= member_calls(check)
    assert "AreAccessRulesProtected" in check and "ReparsePoint" in check
    assert "'S-1-5-18', 'S-1-5-32-544'" in TASK_UTIL


def test_an_old_script_file_is_removed_before_the_new_one_is_written():
    body = function(TASK_UTIL, "Start-SnapkitSystemTask")
    assert body.index("Remove-Item -LiteralPath $scriptPath") < body.index("WriteAllText")


def test_both_modules_check_the_folder_before_their_first_change():
    assert first_call(SYSPREP, "Assert-SnapkitTaskDirectory") < first_call(SYSPREP, "Set-Ec2LaunchV2Password")
    assert first_call(RESET, "Assert-SnapkitTaskDirectory") < first_call(RESET, "Get-AdapterResult")


# 2. get-agent-config output in failure messages ------------------------------------------------------------------

def test_a_failing_ec2launch_command_never_puts_its_standard_output_in_the_message():
    body = function(SYSPREP, "Invoke-Ec2LaunchV2")
    throws = [node.text.decode() for node in pst.nodes_of_type(body, "flow_control_statement") if node.text.decode().startswith("throw")]
    assert throws and all("$lines" not in text and "$stdout" not in text for text in throws), throws
    assert all("Hide-PasswordData" in text for text in throws), throws


def here_string(source, variable):
    """The text of the verbatim here-string assigned to $variable (its lines between @' and '@)."""
    for node in pst.nodes_of_type(source, "assignment_expression"):
        if node.named_children[0].text.decode().lower() == "$" + variable.lower():
            text = node.named_children[-1].text.decode("utf-8")
            assert text.startswith("@'") and text.endswith("'@"), text[:40]
            return text[2:-2].strip("\r\n")
    raise AssertionError("no assignment to $" + variable)


# 3-6. Sysprep ------------------------------------------------------------------------------------------------------

def test_ec2launch_v2_sysprep_blocks_until_the_agent_is_done_and_logs_a_stuck_one():
    body = here_string(SYSPREP, "sysprepBody")
    assert "@('sysprep', '--shutdown', '--block')" in body
    assert "WaitForExit(60000)" in body and "still waiting" in body
    assert "sysprep --shutdown --block" in function(SYSPREP, "Get-SysprepCommand")


def test_the_task_body_is_wrapped_logs_exit_codes_and_cleans_up_only_after_a_failure():
    body = here_string(SYSPREP, "sysprepBody")
    (outer,) = [node for node in pst.nodes_of_type(body, "try_statement") if "Start-Sleep" in node.text.decode()]
    text = outer.text.decode()
    assert "catch" in text and "finally" in text
    assert "Set-SysprepPhase -Phase 'failed'" in text.split("catch", 1)[1]
    assert "exit code $code" in text and "SysprepInstance.ps1 was not run" in text
    assert "Unregister-ScheduledTask" in text.split("finally", 1)[1]
    # v1 scripts run in their own powershell.exe: an exception is an exit code, not a silent stop.
    assert "'-File', $initialize, '-Schedule'" in body
    # The task is not removed before the agent runs (it must stay Running for the whole Sysprep).
    assert "Get-SnapkitTaskCleanupScript" not in SYSPREP


def test_a_pending_reboot_is_checked_before_any_change():
    check = function(SYSPREP, "Get-PendingReboot")
    for key in ("Component Based Servicing\\RebootPending", "WindowsUpdate\\Auto Update\\RebootRequired", "PendingFileRenameOperations"):
        assert key in check
    assert first_call(SYSPREP, "Get-PendingReboot") < first_call(SYSPREP, "Set-Ec2LaunchV2Password")


def test_start_sysprep_false_reads_what_the_next_boot_will_do():
    assert "Amazon\\EC2Launch\\state\\.run-once" in SYSPREP
    assert "Amazon Ec2 Launch - Instance Initialization" in SYSPREP
    assert "$module.Result.new_password_at_next_boot" in SYSPREP


def test_a_rerun_is_refused_for_the_whole_sysprep():
    assert "LastBootUpTime" in SYSPREP and "$underWay" in SYSPREP
    assert "@('waiting', 'running') -contains" in SYSPREP


# 7-12, 14. NIC to DHCP ------------------------------------------------------------------------------------------

def test_dhcp_goes_on_before_any_static_row_is_removed_and_is_checked_after():
    body = function(NET_UTIL, "Invoke-SnapkitDhcpSwitch")
    order = [name for name, _line in calls(body)]
    assert order.index("set-netipinterface") < order.index("remove-snapkitnetobject")
    assert "DHCP is still off" in body
    # No write to the persistent store only (it has no effect on DHCP); a disabled adapter is refused instead.
    assert "-PolicyStore PersistentStore" not in body and "Test-SnapkitAdapterEnabled" in body


def test_the_dhcp_client_service_is_checked_before_any_change():
    assert "Get-Service -Name Dhcp" in function(NET_UTIL, "Assert-SnapkitDhcpClient")
    assert first_call(RESET, "Assert-SnapkitDhcpClient") < first_call(RESET, "Get-AdapterResult")


def test_the_deferred_task_restores_the_static_configuration_without_a_lease():
    body = here_string(RESET, "deferredBody")
    assert "Wait-SnapkitDhcpLease" in body and body.count("Restore-SnapkitIPv4State") == 2
    restore = function(NET_UTIL, "Restore-SnapkitIPv4State")
    assert "-Dhcp Disabled" in restore and "New-NetIPAddress" in restore and "New-NetRoute" in restore


def test_static_default_routes_are_found_by_origin_not_next_hop():
    body = function(NET_UTIL, "Get-SnapkitStaticDefaultRoute")
    assert "Protocol -eq 'NetMgmt'" in body and "NextHop" not in body


def test_only_the_ipv4_dns_servers_are_reset():
    assert "resetserveraddresses" not in [parameter for name, parameters, _line in pst.command_calls(NET_UTIL) for parameter in parameters]
    assert "SetDNSServerSearchOrder" in function(NET_UTIL, "Reset-SnapkitIPv4DnsServer")


def test_removal_reads_the_row_again_instead_of_trusting_the_error_category():
    body = function(NET_UTIL, "Remove-SnapkitNetObject")
    assert "ObjectNotFound" not in body and "Get-CimInstance -InputObject $row" in body


def test_a_12_hex_digit_selector_is_a_mac_before_it_is_an_index():
    body = function(NET_UTIL, "Test-SnapkitAdapterMatch")
    assert body.index("'^[0-9A-F]{12}$'") < body.index("'^\\d+$'")
    assert "[long]::TryParse" in body and "[int]$selector" not in body
    # A selector error is a clean FailJson.
    assert "try {\n    $found = Find-SnapkitAdapter" in RESET


def test_winrm_compatibility_listeners_count_as_session_ports():
    body = function(RESET, "Get-SessionInterfaceIndex")
    assert "EnableCompatibilityHttpListener = 80" in body and "EnableCompatibilityHttpsListener = 443" in body
