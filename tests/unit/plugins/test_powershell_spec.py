# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Each PowerShell module's $spec (read from the tree-sitter tree) against the DOCUMENTATION of its .py.

validate-modules does this by asking pwsh for the spec; without pwsh this test is the check.
"""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.snapkit.cloud.tests.unit.plugins import powershell_tree as pst

MODULES = sorted(path[:-4] for path in pst.powershell_files() if path.startswith("plugins/modules/") and path.endswith(".ps1"))
# What Ansible.Basic assumes when the spec says nothing, as the documentation would say it.
SPEC_DEFAULTS = {"type": "str", "required": False, "default": None, "choices": None, "no_log": False, "elements": None}
COMPARED = tuple(SPEC_DEFAULTS)


def documentation(path):
    namespace = {}
    exec(compile((pst.COLLECTION_ROOT / (path + ".py")).read_text(encoding="utf-8"), path + ".py", "exec"), namespace)  # pylint: disable=exec-used
    return yaml.safe_load(namespace["DOCUMENTATION"])


def spec_of(path):
    return pst.assigned_literal((pst.COLLECTION_ROOT / (path + ".ps1")).read_text(encoding="utf-8"), "spec")


def normalised(option):
    values = dict(SPEC_DEFAULTS)
    values.update({key: option[key] for key in COMPARED if key in option})
    values["aliases"] = sorted(option.get("aliases") or [])
    return values


def option_mismatches(spec_options, doc_options, prefix=""):
    """Differences between the options of a $spec (or of one option's options) and their documentation."""
    problems = []
    for name in sorted(set(spec_options) - set(doc_options)):
        problems.append("option %s%s is in $spec but not documented" % (prefix, name))
    for name in sorted(set(doc_options) - set(spec_options)):
        problems.append("option %s%s is documented but not in $spec" % (prefix, name))
    for name in sorted(set(spec_options) & set(doc_options)):
        in_spec, in_doc = normalised(spec_options[name]), normalised(doc_options[name])
        for key in COMPARED + ("aliases",):
            if in_spec[key] != in_doc[key]:
                problems.append("option %s%s: %s is %r in $spec but %r in the documentation" % (prefix, name, key, in_spec[key], in_doc[key]))
        problems += option_mismatches(spec_options[name].get("options") or {}, doc_options[name].get("suboptions") or {}, prefix + name + ".")
    return problems


def mismatches(spec, doc):
    """Every difference between a $spec and a DOCUMENTATION, as sentences naming the option and the key."""
    problems = option_mismatches(spec.get("options", {}), doc.get("options") or {})
    check_mode = (doc.get("attributes", {}).get("check_mode") or {}).get("support", "none")
    if bool(spec.get("supports_check_mode")) != (check_mode in ("full", "partial")):
        problems.append("supports_check_mode is %r in $spec but check_mode support is %r in the documentation"
                        % (spec.get("supports_check_mode"), check_mode))
    return problems


def test_there_are_powershell_modules():
    assert "plugins/modules/win_reset_static_ip" in MODULES and "plugins/modules/win_ec2launch_sysprep" in MODULES


@pytest.mark.parametrize("path", MODULES)
def test_spec_matches_documentation(path):
    assert mismatches(spec_of(path), documentation(path)) == []


def test_the_spec_is_read_from_the_tree():
    spec = spec_of("plugins/modules/win_ec2launch_sysprep")
    assert spec["options"]["agent"] == {"type": "str", "default": "auto", "choices": ["auto", "ec2launch_v2", "ec2launch_v1", "ec2config"]}
    assert spec["options"]["delay_seconds"] == {"type": "int", "default": 10}
    assert spec["supports_check_mode"] is True


MISMATCHING_PS1 = r"""#!powershell
#AnsibleRequires -CSharpUtil Ansible.Basic
$spec = @{
    options = @{
        name = @{ type = 'str'; required = $true }
        mode = @{ type = 'str'; default = 'fast'; choices = 'fast', 'slow' }
        secret = @{ type = 'str' }
        items = @{ type = 'list'; elements = 'int'; aliases = @('entries') }
        undocumented = @{ type = 'bool'; default = $false }
        route = @{ type = 'dict'; options = @{ metric = @{ type = 'int' }; gateway = @{ type = 'str' } } }
    }
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
"""
MISMATCHING_DOC = """
options:
  name: {type: str}
  mode: {type: str, default: slow, choices: [fast, slow, medium]}
  secret: {type: str, no_log: true}
  items: {type: list, elements: str}
  ghost: {type: int}
  route: {type: dict, suboptions: {metric: {type: str}, interface: {type: str}}}
attributes:
  check_mode: {support: full}
"""


def test_every_kind_of_mismatch_is_reported():
    problems = mismatches(pst.assigned_literal(MISMATCHING_PS1, "spec"), yaml.safe_load(MISMATCHING_DOC))
    assert problems == [
        "option undocumented is in $spec but not documented",
        "option ghost is documented but not in $spec",
        "option items: elements is 'int' in $spec but 'str' in the documentation",
        "option items: aliases is ['entries'] in $spec but [] in the documentation",
        "option mode: default is 'fast' in $spec but 'slow' in the documentation",
        "option mode: choices is ['fast', 'slow'] in $spec but ['fast', 'slow', 'medium'] in the documentation",
        "option name: required is True in $spec but False in the documentation",
        "option route.gateway is in $spec but not documented",
        "option route.interface is documented but not in $spec",
        "option route.metric: type is 'int' in $spec but 'str' in the documentation",
        "option secret: no_log is False in $spec but True in the documentation",
        "supports_check_mode is None in $spec but check_mode support is 'full' in the documentation",
    ]


def test_a_spec_built_from_variables_is_refused_not_guessed():
    with pytest.raises(pst.LiteralError):
        pst.assigned_literal("$spec = @{ options = @{ a = @{ type = $type } } }", "spec")
