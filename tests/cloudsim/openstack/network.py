# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Neutron (networking API v2.0) subset: networks, subnets and ports with fixed IPs."""

from __future__ import annotations

from cloudsim.openstack.routing import Call, Reply, Route
from cloudsim.openstack.state import Network, Port, Subnet
from cloudsim.openstack.wire import ApiError

PREFIX = "network"
CREATED = "2026-01-01T00:00:00Z"


def error_body(error: ApiError) -> dict:
    return {"NeutronError": {"type": error.code, "message": error.message, "detail": ""}}


def versions(call: Call) -> Reply:
    return Reply(200, {"versions": [{"id": "v2.0", "status": "CURRENT",
                                     "links": [{"rel": "self", "href": f"{call.base_url}/network/v2.0/"}]}]})


def network_view(network: Network) -> dict:
    return {"id": network.network_id, "name": network.name, "status": "ACTIVE", "admin_state_up": True, "shared": network.shared,
            "subnets": list(network.subnet_ids), "tenant_id": network.project_id, "project_id": network.project_id,
            "router:external": network.external, "mtu": 1442, "port_security_enabled": True, "availability_zones": ["nova"],
            "description": "", "tags": [], "created_at": CREATED, "updated_at": CREATED, "revision_number": 1}


def subnet_view(subnet: Subnet) -> dict:
    return {"id": subnet.subnet_id, "name": subnet.name, "network_id": subnet.network_id, "cidr": subnet.cidr, "ip_version": 4,
            "gateway_ip": subnet.gateway_ip, "enable_dhcp": subnet.enable_dhcp, "tenant_id": subnet.project_id,
            "project_id": subnet.project_id, "dns_nameservers": [], "host_routes": [], "allocation_pools": [],
            "description": "", "tags": [], "created_at": CREATED, "updated_at": CREATED, "revision_number": 0}


def port_view(port: Port) -> dict:
    return {"id": port.port_id, "name": port.name, "network_id": port.network_id, "mac_address": port.mac_address,
            "fixed_ips": [dict(fixed) for fixed in port.fixed_ips], "device_id": port.device_id, "device_owner": port.device_owner,
            "status": port.status, "admin_state_up": True, "tenant_id": port.project_id, "project_id": port.project_id,
            "port_security_enabled": True, "security_groups": [], "allowed_address_pairs": [], "binding:vnic_type": "normal",
            "description": "", "tags": [], "created_at": CREATED, "updated_at": CREATED, "revision_number": 1}


def _filtered(call: Call, views: list[dict]) -> list[dict]:
    for key, value in call.query.items():
        if key in ("fields", "limit", "marker", "sort_key", "sort_dir"):
            continue
        views = [view for view in views if str(view.get(key)).lower() == value.lower()]
    return views


def list_networks(call: Call) -> Reply:
    return Reply(200, {"networks": _filtered(call, [network_view(network) for network in call.cloud.networks.values()])})


def show_network(call: Call) -> Reply:
    network = call.cloud.networks.get(call.params["network_id"])
    if network is None:
        raise ApiError(404, f"Network {call.params['network_id']} could not be found.", "NetworkNotFound")
    return Reply(200, {"network": network_view(network)})


def list_subnets(call: Call) -> Reply:
    return Reply(200, {"subnets": _filtered(call, [subnet_view(subnet) for subnet in call.cloud.subnets.values()])})


def show_subnet(call: Call) -> Reply:
    subnet = call.cloud.subnets.get(call.params["subnet_id"])
    if subnet is None:
        raise ApiError(404, f"Subnet {call.params['subnet_id']} could not be found.", "SubnetNotFound")
    return Reply(200, {"subnet": subnet_view(subnet)})


def list_ports(call: Call) -> Reply:
    return Reply(200, {"ports": _filtered(call, [port_view(port) for port in call.cloud.ports.values()])})


def show_port(call: Call) -> Reply:
    port = call.cloud.ports.get(call.params["port_id"])
    if port is None:
        raise ApiError(404, f"Port {call.params['port_id']} could not be found.", "PortNotFound")
    return Reply(200, {"port": port_view(port)})


def create_port(call: Call) -> Reply:
    request = call.body_object("port")
    fixed_ip = next((item.get("ip_address") for item in request.get("fixed_ips") or [] if item.get("ip_address")), None)
    port = call.ops.create_port(request.get("network_id", ""), fixed_ip)
    port.name = request.get("name") or ""
    return Reply(201, {"port": port_view(port)})


def delete_port(call: Call) -> Reply:
    if call.cloud.ports.pop(call.params["port_id"], None) is None:
        raise ApiError(404, f"Port {call.params['port_id']} could not be found.", "PortNotFound")
    return Reply(204)


def list_floating_ips(_call: Call) -> Reply:
    # No floating IPs are modelled; openstack.cloud's server module lists them for every server.
    return Reply(200, {"floatingips": []})


def default_security_group(project_id: str) -> dict:
    return {"id": "5b0a1c3e-0000-4000-8000-00000000d3fa", "name": "default", "description": "Default security group",
            "tenant_id": project_id, "project_id": project_id, "security_group_rules": [], "stateful": True, "tags": [],
            "created_at": CREATED, "updated_at": CREATED, "revision_number": 1}


def list_security_groups(call: Call) -> Reply:
    return Reply(200, {"security_groups": _filtered(call, [default_security_group(call.cloud.identity.project_id)])})


def show_security_group(call: Call) -> Reply:
    group = default_security_group(call.cloud.identity.project_id)
    if call.params["group_id"] != group["id"]:
        raise ApiError(404, f"Security group {call.params['group_id']} does not exist", "SecurityGroupNotFound")
    return Reply(200, {"security_group": group})


ROUTES = [
    Route("GET", r"/?", "versions", versions, public=True),
    Route("GET", r"/v2\.0/networks", "listNetworks", list_networks),
    Route("GET", r"/v2\.0/networks/(?P<network_id>[^/]+)", "showNetwork", show_network),
    Route("GET", r"/v2\.0/subnets", "listSubnets", list_subnets),
    Route("GET", r"/v2\.0/subnets/(?P<subnet_id>[^/]+)", "showSubnet", show_subnet),
    Route("GET", r"/v2\.0/ports", "listPorts", list_ports),
    Route("POST", r"/v2\.0/ports", "createPort", create_port),
    Route("GET", r"/v2\.0/ports/(?P<port_id>[^/]+)", "showPort", show_port),
    Route("DELETE", r"/v2\.0/ports/(?P<port_id>[^/]+)", "deletePort", delete_port),
    Route("GET", r"/v2\.0/floatingips", "listFloatingIps", list_floating_ips),
    Route("GET", r"/v2\.0/security-groups", "listSecurityGroups", list_security_groups),
    Route("GET", r"/v2\.0/security-groups/(?P<group_id>[^/]+)", "showSecurityGroup", show_security_group),
]
