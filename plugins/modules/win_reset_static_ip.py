#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

# This file holds the documentation only; the module is win_reset_static_ip.ps1 (as in ansible.windows).

from __future__ import annotations

DOCUMENTATION = r"""
module: win_reset_static_ip
short_description: Switch Windows network adapters from a static IPv4 configuration to DHCP
version_added: 0.1.0
description:
  - Switches network adapters that carry a manual IPv4 configuration to DHCP, for example on a copy of a server
    restored from a snapshot into a network where the original's static address is wrong.
  - "For each adapter, in this order, so that it is never left with neither a static address nor DHCP: enables DHCP
    for IPv4; removes its static IPv4 default routes (persistent store, and active routes of origin C(NetMgmt); a
    route DHCP gave stays) when O(remove_default_gateway=true); removes its manual IPv4 addresses from the active and
    the persistent store; resets its IPv4 DNS servers to those given by DHCP when O(reset_dns=true); asks for a lease
    when O(renew=true) and the adapter is connected, waiting up to 15 seconds for one; reads the adapter again and
    fails if DHCP is still off."
  - An adapter that gets no lease (no address, or an APIPA address C(169.254.0.0/16)) is reported with a warning, not
    a failure. A disconnected adapter is switched and gets its lease when it connects.
  - "Refused before any change: a DHCP Client service (C(Dhcp)) that is not running with start type Automatic, and
    a selected adapter that is disabled (it has no active IPv4 interface, and C(Set-NetIPInterface -Dhcp) acts on
    the active store only). Without O(adapters), disabled static adapters are left out with a warning."
  - IPv6 is left alone, its DNS servers included.
  - "The adapter that carries the Ansible connection (an established TCP connection to one of its addresses on a WinRM
    listener port, or the server address of C(SSH_CONNECTION)) is not switched by the module itself: removing its
    address would cut the connection in the middle of the task, and the WinRM shell would kill the module with it,
    possibly half way. Instead, once the other adapters are switched, the module writes the switch, made of the same
    rules, to a script under
    C(%ProgramData%\\snapkit.cloud), registers a one-shot scheduled task that runs it as C(SYSTEM) (outside the WinRM
    shell), starts it, and returns at once: the task waits O(session_adapter_delay_seconds), switches the adapter,
    waits up to 60 seconds for a lease and, without one, puts the saved static configuration back so that the host
    stays reachable; it writes the result to C(%ProgramData%\\snapkit.cloud\\win_reset_static_ip-<interface
    index>.json) (reported by the next run in RV(deferred_results)) and removes itself and its script. Such an adapter
    is returned with RV(adapters[].deferred=true) and its expected state in RV(adapters[].after). After a successful
    switch the host is reachable only on its new DHCP address: take it from the cloud (for example the Neutron port's
    C(fixed_ips)), set C(ansible_host) to it and use C(meta: reset_connection)."
  - "The session's adapter is found by the local addresses of established connections on a WinRM listener port:
    5985, 5986, the configured listeners, and 80 and 443 when WinRM's compatibility listeners are enabled."
  - "The folder C(%ProgramData%\\snapkit.cloud) is created with a protected ACL (owner Administrators, access for
    C(SYSTEM) and Administrators only); when it exists with another owner, inherited or additional access rules, or as
    a junction, the module fails before any change instead of scheduling the switch."
  - Every selector in O(adapters) is matched before anything changes; one that matches no adapter fails the task and
    lists the adapters found.
  - The rules are in the module util C(_SnapkitNetAdapter.psm1); the lookup P(snapkit.cloud.win_dhcp_userdata#lookup)
    builds a cloudbase-init user-data script from the same file for copies that have no network at all.
author:
  - snapkit.cloud maintainers (@snapkit)
options:
  adapters:
    description:
      - The adapters to switch. Each item matches an adapter's name (C(Get-NetAdapter) C(Name), case-insensitive),
        its interface index, or its MAC address (C(00-15-5D-01-02-03), C(00:15:5d:01:02:03) or C(00155D010203)).
      - Twelve hex digits are always read as a MAC address (C(525400123456) is a MAC, not an interface index).
      - Default, when omitted or empty, every adapter whose IPv4 configuration is static, that is with DHCP disabled
        or with a manual IPv4 address in the active or the persistent store.
      - A listed adapter that is already on DHCP (no manual address, no static gateway, no static DNS server) is
        reported unchanged.
    type: list
    elements: str
  reset_dns:
    description:
      - Reset the adapter's IPv4 DNS servers so that those from DHCP are used
        (C(Win32_NetworkAdapterConfiguration.SetDNSServerSearchOrder) without a list). IPv6 servers are kept.
    type: bool
    default: true
  remove_default_gateway:
    description:
      - Remove the adapter's static IPv4 default routes (C(0.0.0.0/0)), in the persistent and the active store.
      - V(false) keeps them; Windows then uses the static gateway beside the DHCP lease.
    type: bool
    default: true
  renew:
    description:
      - Ask for a DHCP lease after the switch and wait up to 15 seconds for it.
      - With V(false) Windows still gets a lease once DHCP is on; the module only does not wait for it, so
        RV(adapters[].after) may show no address yet.
    type: bool
    default: true
  session_adapter_delay_seconds:
    description:
      - How many seconds the scheduled task that switches the adapter carrying the Ansible connection waits after it
        starts. The module returns as soon as the task has started, so this is the time the result has to reach the
        controller.
      - 0 to 3600. With V(0) the connection may drop before the result arrives.
    type: int
    default: 5
notes:
  - Needs administrative rights and the C(NetTCPIP), C(NetAdapter) and C(DnsClient) modules (Windows Server 2012 and
    later).
  - Adapters are handled by interface index, never by name alone, because a restored copy may have renamed or ghost
    adapters.
seealso:
  - module: ansible.windows.win_dns_client
    description: Sets DNS servers; an empty list means those from DHCP.
  - module: snapkit.cloud.win_ec2launch_sysprep
  - plugin: snapkit.cloud.win_dhcp_userdata
    plugin_type: lookup
extends_documentation_fragment:
  - snapkit.cloud._attributes
attributes:
  check_mode:
    support: full
    details:
      - Reports each adapter's expected state in RV(adapters[].after); changes nothing and schedules nothing.
  diff_mode:
    support: full
    details:
      - Each changed adapter's configuration before and after, by adapter name.
  idempotent:
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms:
      - windows
"""

EXAMPLES = r"""
- name: Switch every adapter with a static IPv4 configuration to DHCP
  snapkit.cloud.win_reset_static_ip:
  register: nic

- name: Use the copy's new address (the adapter of the session is switched after a delay), from the cloud
  ansible.builtin.set_fact:
    ansible_host: "{{ new_address }}"
  when: nic.adapters | selectattr('deferred') | list | length > 0

- name: Reconnect to it
  ansible.builtin.meta: reset_connection

- name: Switch one adapter, by MAC address, keeping its DNS servers
  snapkit.cloud.win_reset_static_ip:
    adapters:
      - 0A:1B:2C:3D:4E:5F
    reset_dns: false

- name: Show what would change
  snapkit.cloud.win_reset_static_ip:
    adapters:
      - Ethernet
      - "12"
  check_mode: true
  diff: true
"""

RETURN = r"""
deferred_results:
  description:
    - The result files of the deferred switches of earlier runs for the selected adapters, read once and then removed
      (kept in check mode). A failed one is also a warning.
  returned: always
  type: list
  elements: dict
  contains:
    interface_index:
      description: The adapter's interface index.
      type: int
    failed:
      description: Whether the switch failed.
      type: bool
    restored:
      description: Whether the saved static configuration was put back (no lease, or an error).
      type: bool
    msg:
      description: Why it failed.
      type: str
    finished:
      description: When the task ended (UTC, ISO 8601).
      type: str
adapters:
  description:
    - The adapters selected, in interface index order, each with its configuration before and after.
    - "The configuration describes what is statically configured plus the addresses: an empty
      RV(adapters[].before.dns_servers) (and the same in RV(adapters[].after)) means the DNS servers come from DHCP, an
      empty RV(adapters[].before.default_gateways) means no static default gateway (a gateway from DHCP is not listed)."
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The adapter's name.
      type: str
      sample: Ethernet
    interface_index:
      description: The adapter's interface index.
      type: int
      sample: 12
    mac_address:
      description: The adapter's MAC address, as Windows writes it.
      type: str
      sample: 0A-1B-2C-3D-4E-5F
    deferred:
      description:
        - V(true) when the adapter carries the Ansible connection and is switched by a scheduled task
          O(session_adapter_delay_seconds) after the module returns; RV(adapters[].after) is then the expected state.
      type: bool
      sample: false
    changed:
      description: Whether this adapter was (or, in check mode or when deferred, will be) changed.
      type: bool
      sample: true
    before:
      description: The adapter's IPv4 configuration before the module.
      type: dict
      contains:
        dhcp_enabled:
          description: Whether DHCP is enabled for IPv4.
          type: bool
          sample: false
        ipv4_addresses:
          description: The IPv4 addresses, active and persistent, sorted.
          type: list
          elements: dict
          contains:
            ip_address:
              description: The address.
              type: str
              sample: 10.0.0.15
            prefix_length:
              description: The prefix length.
              type: int
              sample: 24
            prefix_origin:
              description: Where the address comes from (C(Manual), C(Dhcp), C(WellKnown) for APIPA, ...).
              type: str
              sample: Manual
        default_gateways:
          description: The next hops of the static IPv4 default routes.
          type: list
          elements: str
          sample: [10.0.0.1]
        dns_servers:
          description: The statically configured DNS servers (empty when they come from DHCP).
          type: list
          elements: str
          sample: [10.0.0.2]
    after:
      description:
        - The adapter's IPv4 configuration after the module, in the same form as RV(adapters[].before).
        - In check mode, and for a deferred adapter, the expected configuration (without the DHCP lease).
      type: dict
      sample:
        dhcp_enabled: true
        ipv4_addresses:
          - ip_address: 192.168.10.23
            prefix_length: 24
            prefix_origin: Dhcp
        default_gateways: []
        dns_servers: []
    task_name:
      description: The scheduled task that switches a deferred adapter (null when not deferred).
      type: str
      sample: snapkit.cloud-win_reset_static_ip-12
"""
