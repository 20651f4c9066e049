# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: win_dhcp_userdata
short_description: cloudbase-init user data that switches a Windows copy's static adapters to DHCP
version_added: 1.0.0
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
    failed or a selector matched nothing, so that cloudbase-init runs it again at the next boot.
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
  - OpenStack limits user data to 65535 bytes after base64 encoding; the script is about a third of that.
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

# The part after the rules. {selectors} and the {flags} are PowerShell literals made by ps_quote / ps_bool;
# doubled braces are literal braces.
INVOCATION = """
$snapkitFailed = $false
$found = Find-SnapkitAdapter -Selector @({selectors})
foreach ($selector in $found.unmatched) {{
    Write-Output "snapkit: no network adapter matches '$selector'"
    $snapkitFailed = $true
}}
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
if ($snapkitFailed) {{
    # cloudbase-init: 1002 = do not reboot, run this plugin again at the next boot.
    exit 1002
}}
exit 0
"""


def ps_quote(value):
    """A PowerShell single-quoted string literal (only the quote itself needs doubling)."""
    return "'" + str(value).replace("'", "''") + "'"


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
        selectors=", ".join(ps_quote(item.strip()) for item in adapters),
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
