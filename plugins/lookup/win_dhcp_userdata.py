# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: win_dhcp_userdata
short_description: cloudbase-init user data that switches a Windows copy's static adapters to DHCP
version_added: 0.1.0
description:
  - Returns a cloudbase-init C(#ps1_sysnative) user-data script that switches network adapters with a static IPv4
    configuration to DHCP at the first boot of a copy, for a Windows server restored from a snapshot into a network
    where the original's static address does not work and the copy cannot be reached to run
    M(snapkit.cloud.win_reset_static_ip).
  - The script embeds the text of the module util C(_SnapkitNetAdapter.psm1), the same rules
    M(snapkit.cloud.win_reset_static_ip) runs (selection, order of the steps, what counts as static), so the two cannot
    drift apart.
  - The script writes one line per adapter (C(snapkit:) then the adapter's name and its before/after configuration as
    JSON) to its output, which cloudbase-init logs. It exits C(0) when every adapter was switched, and C(1002) when one
    failed, a selector matched nothing, the DHCP Client service is not running, or anything else threw (everything
    runs inside one C(try); an uncaught error would exit C(1), which cloudbase-init takes as done for good), so that
    cloudbase-init runs it again at the next boot.
  - The script is pure ASCII (no byte order mark can follow C(#ps1_sysnative), so Windows PowerShell reads it in the
    ANSI code page). Non-ASCII characters of adapter names are written as C([char]0xNNNN) escapes, the curly quotes
    that also end a PowerShell string included.
  - Give it to the copy with a config drive (cloudbase-init's C(ConfigDriveService) reads it without network), for
    example O(openstack.cloud.server#module:userdata) with O(openstack.cloud.server#module:config_drive=true).
  - Requires cloudbase-init in the image, with the C(UserDataPlugin) enabled. The plugin runs once per instance id, so a
    copy (a new instance id) runs it even when the original already ran user data.
author:
  - snapkit.cloud maintainers (@snapkit)
options:
  adapters:
    description:
      - The adapters to switch, each by name, interface index or MAC address, as O(snapkit.cloud.win_reset_static_ip#module:adapters).
      - Default, when omitted or empty, every adapter whose IPv4 configuration is static.
    type: list
    elements: str
    default: []
  reset_dns:
    description: Reset the DNS servers to those from DHCP.
    type: bool
    default: true
  remove_default_gateway:
    description: Remove the static IPv4 default routes.
    type: bool
    default: true
  renew:
    description: Ask for a lease after the switch and wait up to 15 seconds for it.
    type: bool
    default: true
notes:
  - OpenStack limits user data to 65535 bytes after base64 encoding; the script is about 27 kB of that.
seealso:
  - module: snapkit.cloud.win_reset_static_ip
  - name: cloudbase-init user data
    description: The C(#ps1_sysnative) format and the exit codes.
    link: https://cloudbase-init.readthedocs.io/en/latest/userdata.html
"""

EXAMPLES = r"""
- name: Launch a copy of a Windows server that switches its NIC to DHCP at the first boot
  openstack.cloud.server:
    name: win-copy
    image: "{{ snapshot.image.id }}"
    flavor: m1.large
    network: internal
    config_drive: true
    userdata: "{{ lookup('snapkit.cloud.win_dhcp_userdata') }}"

- name: Only the adapter with this MAC address, keeping its DNS servers
  ansible.builtin.set_fact:
    dhcp_userdata: "{{ lookup('snapkit.cloud.win_dhcp_userdata', adapters=['fa:16:3e:12:34:56'], reset_dns=false) }}"
"""

RETURN = r"""
_raw:
  description: One item, the user-data script; its first line is C(#ps1_sysnative).
  type: list
  elements: str
"""

import os

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

RULES_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "module_utils", "_SnapkitNetAdapter.psm1")

# The part after the rules. {selectors} (one PowerShell literal a line, made by ps_quote) and the {flags}
# (ps_bool) are filled in; doubled braces are literal braces. Everything runs inside one try: a terminating error
# would end the script with exit code 1, which cloudbase-init takes as done and never runs it again.
INVOCATION = """
$snapkitFailed = $false
try {{
    $snapkitSelectors = @(
{selectors}    )
    $found = Find-SnapkitAdapter -Selector $snapkitSelectors
    foreach ($selector in $found.unmatched) {{
        Write-Output "snapkit: no network adapter matches '$selector'"
        $snapkitFailed = $true
    }}
    foreach ($adapter in $found.disabled) {{
        Write-Output ('snapkit: {{0}}: skipped, the adapter is disabled' -f $adapter.Name)
    }}
    Assert-SnapkitDhcpClient
    foreach ($adapter in $found.adapters) {{
        try {{
            $result = Invoke-SnapkitDhcpSwitch -InterfaceIndex $adapter.InterfaceIndex -ResetDns {reset_dns} `
                -RemoveDefaultGateway {remove_default_gateway} -Renew {renew}
            Write-Output ('snapkit: {{0}}: {{1}}' -f $adapter.Name, ($result | ConvertTo-Json -Depth 6 -Compress))
        }}
        catch {{
            Write-Output ('snapkit: {{0}}: failed: {{1}}' -f $adapter.Name, $_.Exception.Message)
            $snapkitFailed = $true
        }}
    }}
}}
catch {{
    Write-Output ('snapkit: failed: {{0}}' -f $_.Exception.Message)
    $snapkitFailed = $true
}}
if ($snapkitFailed) {{
    # cloudbase-init: 1002 = do not reboot, run this plugin again at the next boot.
    exit 1002
}}
exit 0
"""


def ps_quote(value):
    """A PowerShell string literal of any text, in ASCII only.

    The script has no byte order mark (cloudbase-init needs ``#ps1_sysnative`` as its first bytes), so Windows
    PowerShell reads it in the ANSI code page and would mangle non-ASCII characters: those are written as
    ``[char]0xNNNN`` joined to the quoted ASCII parts. PowerShell also ends a single-quoted string at the curly
    quotes (U+2018 to U+201B); being non-ASCII they are never left inside the quotes, and the ASCII quote is doubled.
    """
    text = str(value)
    if all(ord(char) < 128 for char in text):
        return "'" + text.replace("'", "''") + "'"
    parts, run = [], ""
    for char in text:
        if ord(char) < 128:
            run += char
            continue
        if run:
            parts.append("'" + run.replace("'", "''") + "'")
            run = ""
        if ord(char) > 0xFFFF:
            # Outside the basic plane: the UTF-16 surrogate pair PowerShell strings hold.
            code = ord(char) - 0x10000
            parts += ["[char]0x%04X" % (0xD800 + (code >> 10)), "[char]0x%04X" % (0xDC00 + (code & 0x3FF))]
        else:
            parts.append("[char]0x%04X" % ord(char))
    if run:
        parts.append("'" + run.replace("'", "''") + "'")
    if not parts[0].startswith("'"):
        # A sum takes the type of its left operand: start with a string, not a [char].
        parts.insert(0, "''")
    return "(" + " + ".join(parts) + ")"


def ps_bool(value):
    return "$true" if value else "$false"


def read_rules():
    try:
        with open(RULES_FILE, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise AnsibleLookupError("win_dhcp_userdata: cannot read the rules file %s: %s" % (RULES_FILE, exc)) from exc


def build_userdata(adapters=(), reset_dns=True, remove_default_gateway=True, renew=True):
    """The #ps1_sysnative script: header, the rules file as it is, then the invocation."""
    for item in adapters:
        if not isinstance(item, str) or not item.strip():
            raise AnsibleLookupError("win_dhcp_userdata: adapters must be non-empty strings (name, interface index or MAC), got %r" % (item,))
        if "\n" in item or "\r" in item:
            raise AnsibleLookupError("win_dhcp_userdata: adapters must not contain line breaks, got %r" % (item,))
    header = "#ps1_sysnative\r\n# Generated by the snapkit.cloud.win_dhcp_userdata lookup: static IPv4 adapters to DHCP.\r\n"
    invocation = INVOCATION.format(
        selectors="".join("        " + ps_quote(item.strip()) + "\n" for item in adapters),
        reset_dns=ps_bool(reset_dns),
        remove_default_gateway=ps_bool(remove_default_gateway),
        renew=ps_bool(renew),
    )
    # CRLF throughout: the script is saved as a .ps1 file on Windows.
    body = read_rules().replace("\r\n", "\n") + invocation
    return header + body.replace("\n", "\r\n")


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        if terms:
            raise AnsibleLookupError("win_dhcp_userdata takes no terms, only options (adapters, reset_dns, remove_default_gateway, renew)")
        self.set_options(var_options=variables, direct=kwargs)
        return [build_userdata(
            adapters=self.get_option("adapters") or [],
            reset_dns=self.get_option("reset_dns"),
            remove_default_gateway=self.get_option("remove_default_gateway"),
            renew=self.get_option("renew"),
        )]
