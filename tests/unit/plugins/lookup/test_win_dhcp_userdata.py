# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""win_dhcp_userdata: the cloudbase-init script is the rules file plus an invocation, parses, and quotes its input."""

from __future__ import annotations

import base64

import pytest
from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import lookup_loader

from ansible_collections.snapkit.cloud.plugins.lookup import win_dhcp_userdata as plugin
from ansible_collections.snapkit.cloud.tests.unit.plugins import powershell_tree as pst

RULES = (pst.COLLECTION_ROOT / "plugins/module_utils/_SnapkitNetAdapter.psm1").read_text(encoding="utf-8")


def run(**options):
    lookup = lookup_loader.get("snapkit.cloud.win_dhcp_userdata")
    return lookup.run([], variables={}, **options)


def test_returns_one_ps1_sysnative_script_with_the_rules_file_verbatim():
    result = run()
    assert isinstance(result, list) and len(result) == 1
    script = result[0]
    assert script.splitlines()[0] == "#ps1_sysnative"
    assert RULES.replace("\r\n", "\n").replace("\n", "\r\n") in script
    assert "\n" not in script.replace("\r\n", "")


def test_default_switches_every_static_adapter_with_all_steps():
    script = run()[0]
    assert "$snapkitSelectors = @(\r\n    )\r\n" in script and "Find-SnapkitAdapter -Selector $snapkitSelectors" in script
    assert "-ResetDns $true" in script and "-RemoveDefaultGateway $true" in script and "-Renew $true" in script


def test_options_reach_the_invocation():
    script = run(adapters=["Ethernet 2", " 12 ", "fa:16:3e:00:00:01"], reset_dns=False, renew=False)[0]
    assert "@(\r\n        'Ethernet 2'\r\n        '12'\r\n        'fa:16:3e:00:00:01'\r\n    )" in script
    assert "-ResetDns $false" in script and "-Renew $false" in script and "-RemoveDefaultGateway $true" in script


def test_quotes_in_adapter_names_cannot_escape_the_string():
    script = run(adapters=["it's'; Remove-Item C:\\ -Recurse; '"])[0]
    assert "        'it''s''; Remove-Item C:\\ -Recurse; '''\r\n" in script
    # The whole selector is one string literal: no Remove-Item command appears in the invocation.
    invocation = script[script.index("$snapkitFailed = $false"):]
    assert "remove-item" not in {n.text.decode().lower() for n in pst.nodes_of_type(invocation, "command_name")}


@pytest.mark.parametrize("options", [{}, {"adapters": ["a'b", "00-15-5D-01-02-03"], "reset_dns": False, "remove_default_gateway": False}])
def test_the_script_parses_and_calls_only_functions_of_the_rules(options):
    script = run(**options)[0]
    assert pst.syntax_errors(script) == []
    defined = {n.text.decode().lower() for n in pst.nodes_of_type(script, "function_name")}
    called = {n.text.decode().lower() for n in pst.nodes_of_type(script, "command_name")}
    assert {"find-snapkitadapter", "invoke-snapkitdhcpswitch"} <= called
    assert {name for name in called if "-snapkit" in name} <= defined


def test_failure_exits_1002_so_cloudbase_init_runs_it_again():
    script = run()[0]
    assert "exit 1002" in script and script.rstrip().endswith("exit 0")


def test_fits_openstack_user_data_limit():
    script = run(adapters=["Ethernet %d" % i for i in range(20)])[0]
    assert len(base64.b64encode(script.encode("utf-8"))) < 65535


def test_terms_are_refused():
    with pytest.raises(AnsibleLookupError, match="takes no terms"):
        lookup_loader.get("snapkit.cloud.win_dhcp_userdata").run(["Ethernet"], variables={})


@pytest.mark.parametrize("bad", ["", "   ", "Eth\n0"])
def test_bad_adapter_selectors_are_refused(bad):
    with pytest.raises(AnsibleLookupError, match="adapters must"):
        run(adapters=[bad])


def test_missing_rules_file_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(plugin, "RULES_FILE", str(tmp_path / "absent.psm1"))
    with pytest.raises(AnsibleLookupError, match="cannot read the rules file"):
        plugin.build_userdata()


def selectors_of(script):
    """The selector lines of the array: one string literal or concatenation each."""
    block = script[script.index("$snapkitSelectors = @("):script.index("$found = Find-SnapkitAdapter")]
    return [line.strip() for line in block.splitlines()[1:] if line.strip() not in ("", ")")]


@pytest.mark.parametrize("name", ["Ethernet \u00e9t\u00e9", "\u4ee5\u592a\u7f51 2", "a\u2019; Remove-Item C:\\; \u2018'", "x\U0001F600"])
def test_non_ascii_names_are_written_as_char_escapes_in_an_ascii_script(name):
    # No BOM can follow #ps1_sysnative, so Windows PowerShell reads the file in the ANSI code page: only ASCII survives.
    script = run(adapters=[name])[0]
    assert script.isascii()
    assert pst.syntax_errors(script) == []
    (literal,) = selectors_of(script)
    # Curly quotes end a PowerShell single-quoted string too: they appear only as [char] escapes, outside the quotes.
    for quote in ("\u2018", "\u2019"):
        if quote in name:
            assert "[char]0x%04X" % ord(quote) in literal
    invocation = script[script.index("$snapkitFailed = $false"):]
    assert "remove-item" not in {n.text.decode().lower() for n in pst.nodes_of_type(invocation, "command_name")}
    assert plugin_selector_value(literal) == name


def plugin_selector_value(literal):
    """Evaluates a selector literal the way PowerShell does: quoted parts (quotes doubled) joined to [char] codes (UTF-16)."""
    import re  # pylint: disable=import-outside-toplevel
    pieces = re.findall(r"'((?:[^']|'')*)'|\[char\]0x([0-9A-F]{4})", literal)
    text = "".join(chr(int(code, 16)) if code else quoted.replace("''", "'") for quoted, code in pieces)
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le")


def test_a_terminating_error_is_caught_and_exits_1002_not_1():
    # Exit code 1 (an uncaught terminating error) tells cloudbase-init the plugin is done: it would never run again.
    script = run()[0]
    invocation = script[script.index("$snapkitFailed = $false"):]
    tries = pst.nodes_of_type(invocation, "try_statement")
    assert tries, "no try statement"
    outer = tries[0].text.decode()
    for call in ("Find-SnapkitAdapter", "Assert-SnapkitDhcpClient", "Invoke-SnapkitDhcpSwitch"):
        assert call in outer, call
    assert outer.rstrip().endswith("$snapkitFailed = $true\r\n}") and invocation.index("exit 1002") > invocation.index(outer)
