#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: lightsail_instance_port
short_description: Open or close one port of an Amazon Lightsail instance's firewall for one CIDR, leaving other rules alone
version_added: 0.1.0
description:
  - Makes one port (or port range) of a Lightsail instance reachable from one IPv4 or IPv6 CIDR, or takes that CIDR
    away again, and reports whether anything changed and the rules as they were before (RV(previous_rules)).
  - O(state=present) changes nothing when a rule for the port and protocol already admits the CIDR (the same CIDR or
    a wider one, such as C(0.0.0.0/0)). Otherwise the CIDR is added to the rule of that port range, keeping the CIDRs
    it already has.
  - O(state=absent) removes only this exact CIDR from the rule of that port range; other CIDRs stay, and a wider
    CIDR that also admits it is left alone (it was not ours to close). The rule is closed when nothing is left in it.
  - Unlike C(PutInstancePublicPorts) (which community.aws.lightsail uses for O(community.aws.lightsail#module:public_ports)),
    no other port is ever touched. After a change the rules are read again and the module fails if Lightsail did not
    apply it.
  - After a change, every rule on the port range must be exactly what was asked (ports, protocol, CIDRs). A rule that
    admits more (other ports or protocols, other CIDRs, C(0.0.0.0/0) or C(::/0)) is closed at once and the task fails,
    naming it and the rules as they were before. Address lists are sent only when they hold something, as Lightsail gives
    an empty list no documented meaning, and read as "no restriction" it would open the port to everyone.
  - A procedure opens a port with O(state=present), remembers C(changed), and closes it with O(state=absent) only if
    it was the one that opened it; the firewall is then exactly as it was.
author:
  - snapkit.cloud maintainers (@snapkit)
options:
  instance_name:
    description: The Lightsail instance.
    type: str
    required: true
  port:
    description: The port, or the first port of the range.
    type: int
    required: true
  to_port:
    description: The last port of the range. Defaults to O(port).
    type: int
  protocol:
    description: The IP protocol of the rule.
    type: str
    choices: [tcp, udp, all]
    default: tcp
  cidr:
    description: The IPv4 or IPv6 network to admit or to take away, in CIDR notation (C(198.51.100.7/32)).
    type: str
    required: true
  state:
    description: V(present) admits O(cidr) to the port, V(absent) takes it away.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Removing one CIDR from a rule that has others takes two calls (close, then open the rest) when Lightsail closes the
    whole rule; for that moment the other CIDRs cannot connect either.
  - Throttling and server errors are retried with jittered backoff.
  - "IAM permissions: C(lightsail:GetInstancePortStates), C(lightsail:OpenInstancePublicPorts),
    C(lightsail:CloseInstancePublicPorts)."
seealso:
  - module: community.aws.lightsail
    description: Its O(community.aws.lightsail#module:public_ports) replaces the whole firewall.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - snapkit.cloud._aws
  - snapkit.cloud._attributes
  - snapkit.cloud._attributes.ACTIONGROUP_AWS
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
"""

EXAMPLES = r"""
- name: Let the controller reach WinRM over HTTPS
  snapkit.cloud.lightsail_instance_port:
    instance_name: win-1
    port: 5986
    cidr: 198.51.100.7/32
  register: winrm_port

- name: Close it again, only if the task above opened it
  snapkit.cloud.lightsail_instance_port:
    instance_name: win-1
    port: 5986
    cidr: 198.51.100.7/32
    state: absent
  when: winrm_port is changed
"""

RETURN = r"""
previous_rules:
  description: Every firewall rule of the instance before the module ran, as C(GetInstancePortStates) lists them.
  returned: always
  type: list
  elements: dict
  contains:
    from_port:
      description: First port of the rule.
      type: int
      sample: 3389
    to_port:
      description: Last port of the rule.
      type: int
      sample: 3389
    protocol:
      description: C(tcp), C(udp), C(all), C(icmp) or C(icmpv6).
      type: str
      sample: tcp
    state:
      description: C(open) or C(closed).
      type: str
      sample: open
    cidrs:
      description: The IPv4 networks the rule admits.
      type: list
      elements: str
      sample: ["0.0.0.0/0"]
    ipv6_cidrs:
      description: The IPv6 networks the rule admits.
      type: list
      elements: str
      sample: ["::/0"]
    cidr_list_aliases:
      description: Aliases of CIDR lists the rule admits (C(lightsail-connect)).
      type: list
      elements: str
      sample: []
rules:
  description: Every firewall rule after the module ran (in check mode, as it would be), in the form of RV(previous_rules).
  returned: always
  type: list
  elements: dict
  sample: [{"from_port": 22, "to_port": 22, "protocol": "tcp", "state": "open", "cidrs": ["0.0.0.0/0"], "ipv6_cidrs": ["::/0"],
            "cidr_list_aliases": []}]
"""

import ipaddress

from ansible_collections.snapkit.cloud.plugins.module_utils import _lightsail as lightsail
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import SnapkitAWSModule
from ansible_collections.snapkit.cloud.plugins.module_utils._aws import check_pattern
from ansible_collections.snapkit.cloud.plugins.module_utils._module import ModuleFailure
from ansible_collections.snapkit.cloud.plugins.module_utils._module import InputError
from ansible_collections.snapkit.cloud.plugins.module_utils._module import run_module


def argument_spec():
    return dict(
        instance_name=dict(type="str", required=True),
        port=dict(type="int", required=True),
        to_port=dict(type="int"),
        protocol=dict(type="str", choices=["tcp", "udp", "all"], default="tcp"),
        cidr=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )


def validate(params):
    """Reject bad input before any API call; returns the network and the port range."""
    check_pattern("instance_name", params["instance_name"], lightsail.RESOURCE_NAME_PATTERN, lightsail.RESOURCE_NAME_RULE)
    to_port = params["port"] if params["to_port"] is None else params["to_port"]
    for field, value in (("port", params["port"]), ("to_port", to_port)):
        if not 0 <= value <= 65535:
            raise InputError(f"{field}: {value} is not a port number (0 to 65535)")
    if to_port < params["port"]:
        raise InputError(f"to_port: {to_port} is lower than port {params['port']}")
    try:
        network = ipaddress.ip_network(params["cidr"], strict=True)
    except ValueError as error:
        raise InputError(f"cidr: {params['cidr']!r} is not a network in CIDR notation ({error})") from None
    return network, (params["port"], to_port, params["protocol"])


def cidr_key(network):
    return "cidrs" if network.version == 4 else "ipv6Cidrs"


def rule_key(rule):
    return (rule.get("fromPort"), rule.get("toPort"), rule.get("protocol"))


def admits(rule, network, key):
    """The rule lets ``network`` reach every port of ``key`` (same or wider range, same protocol or all)."""
    from_port, to_port, protocol = key
    if rule.get("state", "open") != "open" or rule.get("protocol") not in (protocol, "all"):
        return False
    if not (rule.get("fromPort", 0) <= from_port and to_port <= rule.get("toPort", -1)):
        return False
    for cidr in rule.get(cidr_key(network)) or []:
        try:
            if network.subnet_of(ipaddress.ip_network(cidr, strict=False)):
                return True
        except (TypeError, ValueError):
            continue
    return False


def exact_rule(rules, key):
    return next((rule for rule in rules if rule_key(rule) == key), None)


ADDRESS_LISTS = ("cidrs", "ipv6Cidrs", "cidrListAliases")


def port_info(key, rule=None, cidrs=None, ipv6_cidrs=None):
    """A PortInfo for this range: the rule's other lists kept, the given ones replaced.

    Empty lists are left out: Lightsail documents no meaning for one, and one that it read as "no restriction" would
    open the port to everyone of that IP version.
    """
    rule = rule or {}
    lists = {"cidrs": list(rule.get("cidrs") or []) if cidrs is None else cidrs,
             "ipv6Cidrs": list(rule.get("ipv6Cidrs") or []) if ipv6_cidrs is None else ipv6_cidrs,
             "cidrListAliases": list(rule.get("cidrListAliases") or [])}
    return dict({"fromPort": key[0], "toPort": key[1], "protocol": key[2]}, **{field: value for field, value in lists.items() if value})


def with_network(rule, network, key, add):
    """The rule's PortInfo with ``network`` added or removed from its list of that IP version."""
    field = cidr_key(network)
    current = [cidr for cidr in (rule or {}).get(field) or [] if cidr != str(network)]
    listed = current + [str(network)] if add else current
    return port_info(key, rule, **{"cidrs" if field == "cidrs" else "ipv6_cidrs": listed})


def is_empty(info):
    return not any(info.get(field) for field in ADDRESS_LISTS)


def shape(rule):
    """What a rule admits, comparable: ports, protocol and each address list as a set."""
    return (rule_key(rule),) + tuple(frozenset(rule.get(field) or []) for field in ADDRESS_LISTS)


def overlaps(rule, key):
    """The rule covers some port of ``key`` for its protocol."""
    protocols = (key[2], "all") if key[2] != "all" else ("tcp", "udp", "all", "icmp", "icmpv6")
    return rule.get("protocol") in protocols and rule.get("fromPort", 0) <= key[1] and key[0] <= rule.get("toPort", -1)


def formatted_rules(rules):
    return [{"from_port": rule.get("fromPort"), "to_port": rule.get("toPort"), "protocol": rule.get("protocol"),
             "state": rule.get("state", "open"), "cidrs": list(rule.get("cidrs") or []), "ipv6_cidrs": list(rule.get("ipv6Cidrs") or []),
             "cidr_list_aliases": list(rule.get("cidrListAliases") or [])} for rule in rules]


def predicted(rules, key, info):
    """The rules after replacing the rule of ``key`` by ``info`` (or removing it when ``info`` is empty)."""
    others = [rule for rule in rules if rule_key(rule) != key]
    return others if is_empty(info) else others + [dict(info, state="open")]


def listed(rules, network, key):
    """Our exact CIDR is in the rule of exactly this range (what state=absent takes away)."""
    return str(network) in ((exact_rule(rules, key) or {}).get(cidr_key(network)) or [])


def applied(rules, network, key, present):
    return any(admits(rule, network, key) for rule in rules) if present else not listed(rules, network, key)


def close_network(client, name, network, key, info):
    """Close our CIDR; if Lightsail closed the whole rule, open it again with what was left in it."""
    only_ours = {"fromPort": key[0], "toPort": key[1], "protocol": key[2], cidr_key(network): [str(network)]}
    lightsail.close_instance_public_ports(client, name, only_ours)
    if is_empty(info):
        return
    after = exact_rule(lightsail.get_instance_port_states(client, name) or [], key) or {}
    if shape(after) != shape(info):
        lightsail.open_instance_public_ports(client, name, info)


def close_unasked(client, name, rules, expected, key):
    """Close every rule on our ports that admits more than was asked (other ports, protocols or addresses); their list.

    Lightsail answers a port call before anyone can see what it made of it; a rule that admits more than we asked for is
    an open door, so it is closed before the task fails.
    """
    asked = {rule_key(rule): shape(rule) for rule in expected}

    def wider(rule):
        allowed = asked.get(rule_key(rule))
        return allowed is None or any(found - may for found, may in zip(shape(rule)[1:], allowed[1:]))

    unasked = [rule for rule in rules if rule.get("state", "open") == "open" and overlaps(rule, key) and wider(rule)]
    for rule in unasked:
        lightsail.close_instance_public_ports(client, name, port_info(rule_key(rule), rule))
    return unasked


def ensure(module, client, result):
    params = module.params
    network, key = validate(params)
    name = params["instance_name"]
    # The port states answer NotFound for an unknown instance: no GetInstance first.
    previous = lightsail.get_instance_port_states(client, name)
    if previous is None:
        raise InputError(f"Lightsail instance {name} was not found in region {module.region}; check instance_name and region")
    result["previous_rules"] = result["rules"] = formatted_rules(previous)
    present = params["state"] == "present"
    if applied(previous, network, key, present):
        return
    info = with_network(exact_rule(previous, key), network, key, add=present)
    result["changed"] = True
    result["rules"] = formatted_rules(predicted(previous, key, info))
    result["diff"] = {"before": {"rules": result["previous_rules"]}, "after": {"rules": result["rules"]}}
    if module.check_mode:
        return
    if present:
        lightsail.open_instance_public_ports(client, name, info)
    else:
        close_network(client, name, network, key, info)
    rules = lightsail.get_instance_port_states(client, name) or []
    result["rules"] = formatted_rules(rules)
    wider = close_unasked(client, name, rules, predicted(previous, key, info), key)
    if wider:
        result["rules"] = formatted_rules(lightsail.get_instance_port_states(client, name) or [])
        raise ModuleFailure(f"Lightsail made rules on port {key[0]}-{key[1]}/{key[2]} of instance {name} that admit more than asked "
                            f"({formatted_rules(wider)} instead of {formatted_rules(predicted([], key, info))}); they are closed now. "
                            f"The rules before the task were {result['previous_rules']}")
    if not applied(rules, network, key, present):
        raise ModuleFailure(f"Lightsail did not {'open' if present else 'close'} port {key[0]}-{key[1]}/{key[2]} of instance {name} "
                            f"for {network}; its rules are now {result['rules']}")


def run(module):
    result = dict(changed=False, previous_rules=[], rules=[])
    run_module(module, result, lambda: ensure(module, lightsail.lightsail_client(module), result))


def main():
    module = SnapkitAWSModule(argument_spec=argument_spec(), supports_check_mode=True)
    run(module)


if __name__ == "__main__":
    main()
