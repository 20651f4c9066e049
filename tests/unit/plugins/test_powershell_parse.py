# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Every .ps1/.psm1 of the collection parses with tree-sitter-powershell, and calls only functions that exist.

PowerShell cannot run here; this is the syntax check our scripts get before a real Windows host sees them.
"""

from __future__ import annotations

import pytest

from ansible_collections.snapkit.cloud.tests.unit.plugins import powershell_tree as pst

FILES = pst.powershell_files()
MODULE_UTILS = "plugins/module_utils/"


def describe(path, errors):
    return "\n".join("%s:%d:%d: %s" % (path, line, column, what) for line, column, what in errors)


def test_the_collection_has_powershell_files():
    # Guards the glob: an empty list would make every test below pass vacuously.
    assert "plugins/modules/win_reset_static_ip.ps1" in FILES
    assert "plugins/modules/win_ec2launch_sysprep.ps1" in FILES
    assert "plugins/module_utils/_SnapkitNetAdapter.psm1" in FILES


@pytest.mark.parametrize("path", FILES)
def test_parses_without_error_nodes(path):
    errors = pst.syntax_errors((pst.COLLECTION_ROOT / path).read_bytes())
    assert not errors, "tree-sitter-powershell cannot parse:\n" + describe(path, errors)


# Each broken script, and the line the error must be reported on: the check can fail, and names the place.
BROKEN = {
    "missing closing brace": ("$spec = @{\n    options = @{ a = @{ type = 'str' }\n}\nFunction Get-X {\n    if ($true) { 1 }\n", 4),
    "unterminated string": ("$a = 1\n$b = 'never closed\n$c = 3\n", 2),
    "if without its brace": ("$x = 1\nif ($x -eq 1)\n    Write-Output 'one'\n}\n", 2),
    "unclosed parenthesis": ("$a = 1\n$b = (Get-Date\n", 2),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_scripts_are_reported_with_their_line(name):
    source, line = BROKEN[name]
    errors = pst.syntax_errors(source)
    assert errors, name
    assert line in [error[0] for error in errors], describe("<%s>" % name, errors)


def defined_functions(source):
    return {node.text.decode().lower() for node in pst.nodes_of_type(source, "function_name")}


def called_snapkit_commands(source):
    names = {node.text.decode().lower() for node in pst.nodes_of_type(source, "command_name")}
    return {name for name in names if "-snapkit" in name}


def test_the_walkers_see_definitions_and_calls():
    source = "Function Get-SnapkitA { Get-SnapkitB -X 1 }\n$y = Get-SnapkitC | Select-Object -First 1\n"
    assert defined_functions(source) == {"get-snapkita"}
    assert called_snapkit_commands(source) == {"get-snapkitb", "get-snapkitc"}


PLUGIN_FILES = [f for f in FILES if f.startswith("plugins/")]


def required_utils(source):
    prefix = "#AnsibleRequires -PowerShell ansible_collections.snapkit.cloud.plugins.module_utils."
    return [line[len(prefix):].strip() for line in source.splitlines() if line.startswith(prefix)]


def available_functions(source):
    """{name: parameters} of the functions a file can call: its own and those of the utils it requires."""
    functions = pst.function_parameters(source)
    for util in required_utils(source):
        functions.update(pst.function_parameters((pst.COLLECTION_ROOT / MODULE_UTILS / (util + ".psm1")).read_text(encoding="utf-8")))
    return functions


@pytest.mark.parametrize("path", PLUGIN_FILES)
def test_every_snapkit_command_called_is_defined_in_a_required_util(path):
    source = (pst.COLLECTION_ROOT / path).read_text(encoding="utf-8")
    called = set(called_snapkit_commands(source))
    for _line, script in pst.embedded_scripts(source):
        called |= called_snapkit_commands(script)
    missing = called - set(available_functions(source))
    assert not missing, "%s calls %s, defined in neither the file nor its #AnsibleRequires utils" % (path, sorted(missing))


@pytest.mark.parametrize("path", PLUGIN_FILES)
def test_calls_of_our_functions_use_declared_parameters(path):
    # PowerShell reports a wrong parameter name only when that line runs, maybe on a customer's host.
    source = (pst.COLLECTION_ROOT / path).read_text(encoding="utf-8")
    functions = available_functions(source)
    problems = pst.unknown_parameters(source, functions)
    for line, script in pst.embedded_scripts(source):
        problems += ["in the here-string of line %d, %s" % (line, problem) for problem in pst.unknown_parameters(script, functions)]
    assert not problems, path + ":\n" + "\n".join(problems)


def test_a_wrong_parameter_name_is_reported():
    source = "Function Get-SnapkitA {\n    param([int]$InterfaceIndex, [bool]$Renew)\n}\nGet-SnapkitA -InterfaceIndex 1 -Renew:$true -ErrorAction Stop\n" \
        "Get-SnapkitA -Index 2 | ForEach-Object { Get-SnapkitA -Renewal $true }\n"
    assert pst.unknown_parameters(source, pst.function_parameters(source)) == [
        "line 5: get-snapkita has no parameter -index",
        "line 5: get-snapkita has no parameter -renewal",
    ]


def test_the_rules_util_is_self_contained():
    # It is also copied into a scheduled task and into cloudbase-init user data, where nothing else is loaded.
    source = (pst.COLLECTION_ROOT / MODULE_UTILS / "_SnapkitNetAdapter.psm1").read_text(encoding="utf-8")
    directives = [line for line in source.splitlines() if line.lstrip().lower().startswith(("#requires", "#ansiblerequires"))]
    assert directives == []
    commands = {node.text.decode().lower() for node in pst.nodes_of_type(source, "command_name")}
    assert "export-modulemember" not in commands
    assert called_snapkit_commands(source) <= defined_functions(source)
