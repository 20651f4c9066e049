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
