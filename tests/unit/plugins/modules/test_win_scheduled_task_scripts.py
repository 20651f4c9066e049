# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The scripts our Windows modules hand to a SYSTEM scheduled task, read from the modules' syntax trees.

The module builds the script from pieces and passes its arguments as strings on powershell.exe's command line; a
name that differs between the two, or a param() block that is not first, breaks only on Windows, after the module
has already reported success. These tests compare both sides.
"""

from __future__ import annotations

import pytest

from ansible_collections.snapkit.cloud.tests.unit.plugins import powershell_tree as pst

MODULES = pst.COLLECTION_ROOT / "plugins" / "modules"
UTILS = pst.COLLECTION_ROOT / "plugins" / "module_utils"
# module -> (variable holding the param() piece, variable holding the argument list, the expression listing the pieces)
TASK_SCRIPTS = {
    "win_reset_static_ip": ("deferredParam", "arguments", "script"),
    "win_ec2launch_sysprep": ("sysprepParam", "arguments", None),
}


def source_of(module):
    return (MODULES / (module + ".ps1")).read_text(encoding="utf-8")


def here_string_value(source, variable):
    text = pst.assignment_value(source, variable).text.decode()
    return text[text.index("\n") + 1:text.rindex("\n")]


def passed_argument_names(source, variable):
    """The '-Name' strings of the argument list given to Start-SnapkitSystemTask, lower-cased and in order."""
    node = pst.assignment_value(source, variable)
    names = []
    for string in pst.nodes_of_type_in(node, "verbatim_string_characters"):
        text = string.text.decode()[1:-1]
        if text.startswith("-"):
            names.append(text[1:].lower())
    return names


def script_pieces(source, module):
    """The variables/commands that make up the task script, in order (the -Script argument or $script)."""
    variable = TASK_SCRIPTS[module][2]
    if variable:
        node = pst.assignment_value(source, variable)
    else:
        call = next(c for c in pst.nodes_of_type(source, "command") if c.named_children[0].text.decode() == "Start-SnapkitSystemTask")
        elements = call.named_children[1].named_children
        position = next(i for i, e in enumerate(elements) if e.type == "command_parameter" and e.text.decode() == "-Script")
        node = next(e for e in elements[position + 1:] if e.type not in ("command_argument_sep",))
    inner = next(n for n in pst.nodes_of_type_in(node, "array_literal_expression") if len(n.named_children) > 1)
    return [child.text.decode() for child in inner.named_children]


@pytest.mark.parametrize("module", sorted(TASK_SCRIPTS))
def test_arguments_passed_are_the_parameters_the_task_script_declares(module):
    source = source_of(module)
    param_variable, arguments_variable = TASK_SCRIPTS[module][:2]
    declared = pst.script_parameters(here_string_value(source, param_variable))
    passed = passed_argument_names(source, arguments_variable)
    assert "taskname" in declared  # the cleanup lines unregister $TaskName
    assert sorted(passed) == sorted(declared)


@pytest.mark.parametrize("module", sorted(TASK_SCRIPTS))
def test_param_block_comes_first(module):
    source = source_of(module)
    assert script_pieces(source, module)[0] == "$" + TASK_SCRIPTS[module][0]


def test_the_deferred_switch_includes_the_shared_cleanup():
    assert "(Get-SnapkitTaskCleanupScript)" in script_pieces(source_of("win_reset_static_ip"), "win_reset_static_ip")


def test_the_sysprep_task_unregisters_itself_only_when_sysprep_did_not_start():
    # Issue 17 item 4: the cleanup no longer runs before the agent's command (a failure then left nothing behind to
    # report); the body is wrapped, and only a failed run unregisters its task (a good one is shutting Windows down).
    body = here_string_value(source_of("win_ec2launch_sysprep"), "sysprepBody")
    finally_block = body[body.rindex("finally {"):]
    assert "if ($failed)" in finally_block
    assert "Unregister-ScheduledTask -TaskName $TaskName" in finally_block
    assert body.index("$failed = $true") < body.index("try {") < body.index("$failed = $false")


def test_the_deferred_switch_calls_the_rules_with_the_module_options():
    source = source_of("win_reset_static_ip")
    body = here_string_value(source, "deferredBody")
    (call,) = [c for c in pst.command_calls(body) if c[0] == "invoke-snapkitdhcpswitch"]
    assert sorted(call[1]) == ["interfaceindex", "removedefaultgateway", "renew", "resetdns"]
    assert "(Get-SnapkitNetAdapterRulesScript)" in script_pieces(source, "win_reset_static_ip")


def test_the_sysprep_task_runs_each_agents_own_command():
    body = here_string_value(source_of("win_ec2launch_sysprep"), "sysprepBody")
    # EC2Launch v2 with --block (issue 17 item 3); v1's two scripts each in their own powershell.exe so that an
    # exception in InitializeInstance.ps1 is an exit code, not a silent stop (item 4); EC2Config's -sysprep.
    assert "@('sysprep', '--shutdown', '--block')" in body
    assert "$initialize, '-Schedule')" in body and "'SysprepInstance.ps1'" in body
    assert body.index("'InitializeInstance.ps1'") < body.index("'SysprepInstance.ps1'")
    assert "-FilePath $Marker -ArgumentList @('-sysprep')" in body
    assert pst.syntax_errors(body) == []


def test_a_mismatch_between_arguments_and_param_block_is_seen():
    source = ("$p = @'\nparam([string]$TaskName, [int]$Delay)\n'@\n"
              "$arguments = @('-TaskName', $name, '-DelaySeconds', [string]$d)\n")
    assert pst.script_parameters(here_string_value(source, "p")) == ["taskname", "delay"]
    assert passed_argument_names(source, "arguments") == ["taskname", "delayseconds"]


def rules_script():
    """What Get-SnapkitNetAdapterRulesScript returns: every function of the rules util, re-declared by name."""
    source = (UTILS / "_SnapkitNetAdapter.psm1").read_text(encoding="utf-8")
    definitions = []
    for statement in pst.nodes_of_type(source, "function_statement"):
        name = statement.named_children[0].text.decode()
        block = next(c for c in statement.named_children if c.type == "script_block")
        definitions.append("Function %s {\n%s\n}\n" % (name, block.text.decode()))
    return "\n".join(definitions)


def cleanup_script():
    source = (UTILS / "_SnapkitScheduledTask.psm1").read_text(encoding="utf-8")
    return _function_here_string(source, "Get-SnapkitTaskCleanupScript")


def _function_here_string(source, function):
    statement = next(s for s in pst.nodes_of_type(source, "function_statement") if s.named_children[0].text.decode() == function)
    (node,) = pst.nodes_of_type_in(statement, "verbatim_here_string_characters")
    text = node.text.decode()
    return text[text.index("\n") + 1:text.rindex("\n")]


def composed_script(module):
    """The task script as the module writes it: its pieces joined by line breaks (Start-SnapkitSystemTask)."""
    source = source_of(module)
    known = {"(Get-SnapkitTaskCleanupScript)": cleanup_script(), "(Get-SnapkitNetAdapterRulesScript)": rules_script()}
    return "\r\n".join(known[piece] if piece in known else here_string_value(source, piece[1:]) for piece in script_pieces(source, module))


@pytest.mark.parametrize("module", sorted(TASK_SCRIPTS))
def test_the_composed_task_script_parses_and_is_self_contained(module):
    script = composed_script(module)
    assert pst.syntax_errors(script) == []
    assert pst.script_parameters(script)[0] == "taskname"
    defined = pst.function_parameters(script)
    called = {name for name, _parameters, _line in pst.command_calls(script) if "-snapkit" in name}
    assert called <= set(defined), "the task script calls functions it does not contain: %s" % sorted(called - set(defined))
    assert pst.unknown_parameters(script, defined) == []
    # The task removes itself: unregister its task and delete its file.
    commands = [name for name, _parameters, _line in pst.command_calls(script)]
    assert "unregister-scheduledtask" in commands and "remove-item" in commands
