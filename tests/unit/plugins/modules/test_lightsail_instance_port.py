# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""lightsail_instance_port: input rules, what counts as already open, and the rule it sends."""

from __future__ import annotations

import ipaddress

import pytest

from ansible_collections.snapkit.cloud.plugins.module_utils._module import InputError
from ansible_collections.snapkit.cloud.plugins.modules import lightsail_instance_port as module


def params(**overrides):
    values = {name: spec.get("default") for name, spec in module.argument_spec().items()}
    values.update(instance_name="win-1", port=5986, cidr="198.51.100.7/32")
    values.update(overrides)
    return values


def rule(from_port, to_port, protocol="tcp", cidrs=(), ipv6=()):
    return {"fromPort": from_port, "toPort": to_port, "protocol": protocol, "state": "open", "cidrs": list(cidrs), "ipv6Cidrs": list(ipv6)}


@pytest.mark.parametrize("overrides, field", [
    ({"cidr": "198.51.100.7/24"}, "cidr"), ({"cidr": "not-a-network"}, "cidr"), ({"port": 70000}, "port"),
    ({"port": 5986, "to_port": 5985}, "to_port"), ({"instance_name": "-win"}, "instance_name"),
])
def test_bad_input_names_the_field(overrides, field):
    with pytest.raises(InputError, match=f"^{field}:"):
        module.validate(params(**overrides))


def test_validate_returns_the_network_and_the_range():
    network, key = module.validate(params(cidr="2001:db8::/64", to_port=5987))
    assert network.version == 6 and key == (5986, 5987, "tcp")


@pytest.mark.parametrize("existing, admitted", [
    (rule(5986, 5986, cidrs=["198.51.100.7/32"]), True),
    (rule(5986, 5986, cidrs=["0.0.0.0/0"]), True),
    (rule(5000, 6000, cidrs=["198.51.100.0/24"]), True),
    (rule(0, 65535, protocol="all", cidrs=["198.51.100.0/24"]), True),
    (rule(5986, 5986, protocol="udp", cidrs=["0.0.0.0/0"]), False),
    (rule(5985, 5985, cidrs=["0.0.0.0/0"]), False),
    (rule(5986, 5986, cidrs=["192.0.2.0/24"]), False),
    (rule(5986, 5986, ipv6=["::/0"]), False),
])
def test_admits_same_or_wider_rules_only(existing, admitted):
    assert module.admits(existing, ipaddress.ip_network("198.51.100.7/32"), (5986, 5986, "tcp")) is admitted


def test_adding_and_removing_keeps_the_other_cidrs_and_aliases():
    existing = dict(rule(5986, 5986, cidrs=["192.0.2.0/24"], ipv6=["2001:db8::/64"]), cidrListAliases=["lightsail-connect"])
    network = ipaddress.ip_network("198.51.100.7/32")
    added = module.with_network(existing, network, (5986, 5986, "tcp"), add=True)
    assert added["cidrs"] == ["192.0.2.0/24", "198.51.100.7/32"] and added["ipv6Cidrs"] == ["2001:db8::/64"]
    assert added["cidrListAliases"] == ["lightsail-connect"]
    removed = module.with_network(dict(existing, cidrs=added["cidrs"]), network, (5986, 5986, "tcp"), add=False)
    assert removed["cidrs"] == ["192.0.2.0/24"] and not module.is_empty(removed)
    alone = module.with_network(rule(5986, 5986, cidrs=["198.51.100.7/32"]), network, (5986, 5986, "tcp"), add=False)
    assert module.is_empty(alone)
    assert module.predicted([rule(22, 22, cidrs=["0.0.0.0/0"]), rule(5986, 5986, cidrs=["198.51.100.7/32"])], (5986, 5986, "tcp"), alone) \
        == [rule(22, 22, cidrs=["0.0.0.0/0"])]


def test_port_info_leaves_empty_address_lists_out():
    info = module.port_info((5986, 5986, "tcp"), cidrs=["198.51.100.7/32"])
    assert info == {"fromPort": 5986, "toPort": 5986, "protocol": "tcp", "cidrs": ["198.51.100.7/32"]}


class FakeClient:
    def __init__(self):
        self.closed = []

    def close_instance_public_ports(self, instanceName, portInfo):  # pylint: disable=invalid-name
        self.closed.append(portInfo)
        return {"operation": {}}


def test_rules_wider_than_asked_on_our_ports_are_closed():
    asked = rule(5986, 5986, cidrs=["198.51.100.7/32"])
    client = FakeClient()
    found = [rule(22, 22, cidrs=["0.0.0.0/0"]), dict(asked, ipv6Cidrs=["::/0"]), rule(5980, 5990, cidrs=["198.51.100.7/32"])]
    wider = module.close_unasked(client, "win-1", found, [rule(22, 22, cidrs=["0.0.0.0/0"]), asked], (5986, 5986, "tcp"))
    assert wider == found[1:]
    assert client.closed == [{"fromPort": 5986, "toPort": 5986, "protocol": "tcp", "cidrs": ["198.51.100.7/32"], "ipv6Cidrs": ["::/0"]},
                             {"fromPort": 5980, "toPort": 5990, "protocol": "tcp", "cidrs": ["198.51.100.7/32"]}]
    # Exactly what was asked, or narrower: nothing to close.
    assert module.close_unasked(client, "win-1", [asked, rule(22, 22, cidrs=["0.0.0.0/0"])], [asked], (5986, 5986, "tcp")) == []
