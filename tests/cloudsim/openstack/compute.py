# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova (compute API v2.1) subset: servers, actions, flavors, volume attachments, version discovery."""

from __future__ import annotations

from cloudsim.openstack.routing import Call, Reply, Route
from cloudsim.openstack.state import Flavor, OpenStackCloud, Server
from cloudsim.openstack.wire import ApiError, Microversion, check_metadata_keys, new_id, timestamp

PREFIX = "compute"
MIN_VERSION = Microversion(2, 1)
# nova/api/openstack/api_version_request.py, _MAX_API_VERSION of stable/2026.1 (master is at 2.104).
MAX_VERSION = Microversion(2, 103)
ID = r"(?P<server_id>[^/]+)"


def error_body(error: ApiError) -> dict:
    return {error.code: {"code": error.status, "message": error.message}}


# Version discovery -----------------------------------------------------------------------------

def _version_document(call: Call) -> dict:
    return {
        "id": "v2.1", "status": "CURRENT", "version": str(MAX_VERSION), "min_version": str(MIN_VERSION),
        "updated": "2013-07-23T11:33:21Z", "links": [{"rel": "self", "href": f"{call.base_url}/compute/v2.1/"}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}],
    }


def versions(call: Call) -> Reply:
    return Reply(200, {"versions": [_version_document(call)]})


def version(call: Call) -> Reply:
    return Reply(200, {"version": _version_document(call)})


# Views -----------------------------------------------------------------------------------------

def _links(call: Call, kind: str, resource_id: str) -> list[dict]:
    return [{"rel": "self", "href": f"{call.base_url}/compute/v2.1/{kind}/{resource_id}"},
            {"rel": "bookmark", "href": f"{call.base_url}/compute/{kind}/{resource_id}"}]


def _flavor_view(call: Call, flavor: Flavor) -> dict:
    view = {"id": flavor.flavor_id, "name": flavor.name, "vcpus": flavor.vcpus, "ram": flavor.ram, "disk": flavor.disk,
            "OS-FLV-EXT-DATA:ephemeral": 0, "OS-FLV-DISABLED:disabled": False, "swap": "", "rxtx_factor": 1.0,
            "os-flavor-access:is_public": True, "links": _links(call, "flavors", flavor.flavor_id)}
    if call.at_least(2, 102):
        # 2.102 removed these two fields (nova/api/openstack/compute/views/flavors.py).
        del view["OS-FLV-DISABLED:disabled"], view["rxtx_factor"]
    if call.at_least(2, 55):
        view["description"] = None
    if call.at_least(2, 61):
        view["extra_specs"] = {}
    return view


def _embedded_flavor(call: Call, flavor_id: str) -> dict:
    flavor = call.cloud.flavors.get(flavor_id)
    if not call.at_least(2, 47) or flavor is None:
        return {"id": flavor_id, "links": [_links(call, "flavors", flavor_id)[1]]}
    return {"vcpus": flavor.vcpus, "ram": flavor.ram, "disk": flavor.disk, "ephemeral": 0, "swap": 0,
            "original_name": flavor.name, "extra_specs": {}}


def _addresses(cloud: OpenStackCloud, server: Server) -> dict:
    addresses: dict = {}
    for port_id in server.port_ids:
        port = cloud.ports.get(port_id)
        if port is None:
            continue
        network = cloud.networks[port.network_id]
        for fixed in port.fixed_ips:
            addresses.setdefault(network.name, []).append({
                "version": 4, "addr": fixed["ip_address"], "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": port.mac_address})
    return addresses


def server_view(call: Call, server: Server) -> dict:
    cloud = call.cloud
    # Nova's views/servers.py: "" for a server booted from a volume.
    image = {"id": server.image_id, "links": [{"rel": "bookmark", "href": f"{call.base_url}/compute/images/{server.image_id}"}]} \
        if server.image_id else ""
    if image and call.at_least(2, 98):
        # The image's standard properties Nova kept in the instance's system metadata (os_type, hw_*...).
        source = cloud.images.get(server.image_id)
        image["properties"] = {key: value for key, value in (source.properties if source else {}).items()
                               if key == "os_type" or key.startswith(("hw_", "os_", "img_"))}
    view = {
        "id": server.server_id, "name": server.name, "status": server.status, "tenant_id": cloud.identity.project_id,
        "user_id": cloud.identity.user_id, "metadata": dict(server.metadata), "hostId": "5f0ab0e0d2a3c4b5" * 3 + "9c1e0a2b",
        "image": image, "flavor": _embedded_flavor(call, server.flavor_id), "created": timestamp(server.created),
        "updated": timestamp(server.updated), "addresses": _addresses(cloud, server), "accessIPv4": "", "accessIPv6": "",
        "links": _links(call, "servers", server.server_id), "OS-DCF:diskConfig": "MANUAL", "progress": 0,
        "OS-EXT-AZ:availability_zone": server.availability_zone, "config_drive": server.config_drive, "key_name": server.key_name,
        "OS-SRV-USG:launched_at": timestamp(server.launched_at, fraction=True) if server.launched_at else None,
        "OS-SRV-USG:terminated_at": None, "security_groups": [{"name": "default"}],
        "OS-EXT-STS:task_state": server.task_state, "OS-EXT-STS:vm_state": server.vm_state,
        "OS-EXT-STS:power_state": server.power_state,
        "os-extended-volumes:volumes_attached": [
            {"id": volume_id, "delete_on_termination": cloud.attachment_of(server.server_id, volume_id).delete_on_termination}
            for volume_id in cloud.server_volume_ids(server.server_id)],
    }
    if server.status == "ERROR":
        view["fault"] = {"code": 500, "message": server.fault_message, "created": timestamp(server.updated)}
    _add_versioned_server_fields(call, view)
    if call.at_least(2, 100):
        view["scheduler_hints"] = dict(server.scheduler_hints)
    return view


def _add_versioned_server_fields(call: Call, view: dict) -> None:
    for (major, minor), field, value in (((2, 9), "locked", False), ((2, 19), "description", None), ((2, 26), "tags", []),
                                         ((2, 63), "trusted_image_certificates", None), ((2, 71), "server_groups", []),
                                         ((2, 73), "locked_reason", None), ((2, 96), "pinned_availability_zone", None)):
        if call.at_least(major, minor):
            view[field] = value


def _find_server(call: Call) -> Server:
    return call.ops.server(call.params["server_id"])


# Servers ---------------------------------------------------------------------------------------

def _listed_servers(call: Call) -> list[Server]:
    servers = sorted(call.cloud.servers.values(), key=lambda server: (-server.created, server.server_id))
    if call.query.get("name"):
        # Nova treats the name filter as a regular expression; a substring match is what it amounts to for plain names.
        servers = [server for server in servers if call.query["name"] in server.name]
    if call.query.get("status"):
        servers = [server for server in servers if server.status == call.query["status"].upper()]
    return servers


def list_servers(call: Call) -> Reply:
    return Reply(200, {"servers": [{"id": server.server_id, "name": server.name, "links": _links(call, "servers", server.server_id)}
                                   for server in _listed_servers(call)]})


def list_servers_detail(call: Call) -> Reply:
    return Reply(200, {"servers": [server_view(call, server) for server in _listed_servers(call)]})


def show_server(call: Call) -> Reply:
    return Reply(200, {"server": server_view(call, _find_server(call))})


def create_server(call: Call) -> Reply:
    from cloudsim.openstack.fixtures import create_server_from_request  # pylint: disable=import-outside-toplevel
    server = create_server_from_request(call.ops, call.body_object("server"), call.body.get("os:scheduler_hints"), call.roles)
    return Reply(202, {"server": {"id": server.server_id, "links": _links(call, "servers", server.server_id),
                                  "OS-DCF:diskConfig": "MANUAL", "security_groups": [{"name": "default"}], "adminPass": "cloudsim"}})


def delete_server(call: Call) -> Reply:
    server = _find_server(call)
    for volume_id in call.cloud.server_volume_ids(server.server_id):
        volume = call.cloud.volumes[volume_id]
        delete_volume = call.cloud.attachment_of(server.server_id, volume_id).delete_on_termination
        volume.attachments = [item for item in volume.attachments if item.server_id != server.server_id]
        volume.status = "in-use" if volume.attachments else "available"
        if delete_volume and not volume.attachments:
            _delete_volume_on_termination(call, volume_id)
    for port_id in server.port_ids:
        port = call.cloud.ports.get(port_id)
        if port is not None and port.device_owner == "compute:nova":
            del call.cloud.ports[port_id]
    del call.cloud.servers[server.server_id]
    return Reply(204)


def _delete_volume_on_termination(call: Call, volume_id: str) -> None:
    try:
        call.ops.delete_volume(volume_id)
    except ApiError:
        # Nova logs and keeps going when Cinder refuses (a volume with snapshots stays behind).
        pass


def server_action(call: Call) -> Reply:
    server = _find_server(call)
    if not isinstance(call.body, dict) or len(call.body) != 1:
        raise ApiError(400, "There is no such action: None")
    name, arguments = next(iter(call.body.items()))
    handler = SERVER_ACTIONS.get(name)
    if handler is None:
        raise ApiError(400, f"There is no such action: {name}")
    return handler(call, server, arguments or {})


def _stop(call: Call, server: Server, _arguments: dict) -> Reply:
    call.ops.stop_server(server)
    return Reply(202)


def _start(call: Call, server: Server, _arguments: dict) -> Reply:
    call.ops.start_server(server)
    return Reply(202)


def _create_image(call: Call, server: Server, arguments: dict) -> Reply:
    if not isinstance(arguments, dict) or not arguments.get("name"):
        raise ApiError(400, "Invalid input for field/attribute createImage. Value: {}. 'name' is a required property")
    check_metadata_keys(arguments.get("metadata") or {}, "metadata")
    image = call.ops.create_server_image(server, arguments["name"], arguments.get("metadata") or {})
    location = f"{call.base_url}/image/v2/images/{image.image_id}"
    if call.at_least(2, 45):
        return Reply(202, {"image_id": image.image_id})
    return Reply(202, None, {"Location": location})


SERVER_ACTIONS = {"os-stop": _stop, "os-start": _start, "createImage": _create_image}


def server_action_name(call: Call) -> str:
    """Journal/fault action of ``POST /servers/{id}/action``: the action's own name (``createImage``, ``os-stop``)."""
    if isinstance(call.body, dict) and len(call.body) == 1:
        return next(iter(call.body))
    return "action"


# Flavors and attachments ----------------------------------------------------------------------

def list_flavors(call: Call) -> Reply:
    flavors = sorted(call.cloud.flavors.values(), key=lambda flavor: flavor.flavor_id)
    if call.path.endswith("/detail"):
        return Reply(200, {"flavors": [_flavor_view(call, flavor) for flavor in flavors]})
    return Reply(200, {"flavors": [{"id": flavor.flavor_id, "name": flavor.name, "links": _links(call, "flavors", flavor.flavor_id)}
                                   for flavor in flavors]})


def show_flavor(call: Call) -> Reply:
    flavor = call.cloud.flavors.get(call.params["flavor_id"])
    if flavor is None:
        raise ApiError(404, f"Flavor {call.params['flavor_id']} could not be found.")
    return Reply(200, {"flavor": _flavor_view(call, flavor)})


def flavor_extra_specs(call: Call) -> Reply:
    if call.params["flavor_id"] not in call.cloud.flavors:
        raise ApiError(404, f"Flavor {call.params['flavor_id']} could not be found.")
    return Reply(200, {"extra_specs": {}})


def _attachment_view(call: Call, server: Server, volume_id: str) -> dict:
    attachment = call.cloud.attachment_of(server.server_id, volume_id)
    view = {"serverId": server.server_id, "volumeId": volume_id, "device": attachment.device}
    if not call.at_least(2, 89):
        view["id"] = volume_id
    if call.at_least(2, 70):
        view["tag"] = None
    if call.at_least(2, 79):
        view["delete_on_termination"] = attachment.delete_on_termination
    if call.at_least(2, 89):
        view.update({"attachment_id": attachment.attachment_id, "bdm_id": new_id()})
    return view


def list_attachments(call: Call) -> Reply:
    server = _find_server(call)
    return Reply(200, {"volumeAttachments": [_attachment_view(call, server, volume_id)
                                             for volume_id in call.cloud.server_volume_ids(server.server_id)]})


def show_attachment(call: Call) -> Reply:
    server = _find_server(call)
    if call.params["volume_id"] not in call.cloud.server_volume_ids(server.server_id):
        raise ApiError(404, f"Volume {call.params['volume_id']} is not attached to {server.server_id}")
    return Reply(200, {"volumeAttachment": _attachment_view(call, server, call.params["volume_id"])})


def list_availability_zones(call: Call) -> Reply:
    """``GET /os-availability-zone``: Nova's zones (host aggregates), not Cinder's."""
    return Reply(200, {"availabilityZoneInfo": [{"zoneName": zone, "zoneState": {"available": True}, "hosts": None}
                                                for zone in call.cloud.compute_zones]})


def server_security_groups(call: Call) -> Reply:
    _find_server(call)  # 404 for an unknown server; every port is in the default group
    return Reply(200, {"security_groups": [{"id": "5b0a1c3e-0000-4000-8000-00000000d3fa", "name": "default", "description": "Default security group",
                                            "tenant_id": call.cloud.identity.project_id, "rules": []}]})


# Server metadata (Compute API reference, "Server Metadata"; nova/api/openstack/compute/server_metadata.py) -------------
METADATA_ITEMS_LIMIT = 128  # Nova's default metadata_items quota
METADATA_KEY = r"(?P<key>[^/]+)"


def _checked_metadata(call: Call, wrapper: str) -> dict:
    """The body's metadata, checked as Nova's JSON schema does: keys matching wire.METADATA_KEY_PATTERN, string values up to 255."""
    items = call.body_object(wrapper)
    check_metadata_keys(items, wrapper)
    for value in items.values():
        if not isinstance(value, str) or len(value) > 255:
            raise ApiError(400, f"Invalid input for field/attribute {wrapper}. Value: {items}. "
                                "Values are strings of at most 255 characters.")
    return items


def _within_quota(metadata: dict) -> dict:
    if len(metadata) > METADATA_ITEMS_LIMIT:
        raise ApiError(403, f"Quota exceeded for metadata items: Maximum number of metadata items exceeds {METADATA_ITEMS_LIMIT}")
    return metadata


def list_server_metadata(call: Call) -> Reply:
    return Reply(200, {"metadata": dict(_find_server(call).metadata)})


def update_server_metadata(call: Call) -> Reply:
    """POST: the items given are added or changed, the others kept."""
    server = _find_server(call)
    server.metadata = _within_quota(dict(server.metadata, **_checked_metadata(call, "metadata")))
    return Reply(200, {"metadata": dict(server.metadata)})


def replace_server_metadata(call: Call) -> Reply:
    """PUT: the items given replace all of them."""
    server = _find_server(call)
    server.metadata = _within_quota(dict(_checked_metadata(call, "metadata")))
    return Reply(200, {"metadata": dict(server.metadata)})


def show_server_metadata_item(call: Call) -> Reply:
    server, key = _find_server(call), call.params["key"]
    if key not in server.metadata:
        raise ApiError(404, "Metadata item was not found")
    return Reply(200, {"meta": {key: server.metadata[key]}})


def set_server_metadata_item(call: Call) -> Reply:
    server, key = _find_server(call), call.params["key"]
    item = _checked_metadata(call, "meta")
    if len(item) > 1:
        raise ApiError(400, "Request body contains too many items")
    if key not in item:
        raise ApiError(400, "Request body and URI mismatch")
    server.metadata = _within_quota(dict(server.metadata, **item))
    return Reply(200, {"meta": item})


def delete_server_metadata_item(call: Call) -> Reply:
    server, key = _find_server(call), call.params["key"]
    if key not in server.metadata:
        raise ApiError(404, "Metadata item was not found")
    server.metadata = {name: value for name, value in server.metadata.items() if name != key}
    return Reply(204)


ROUTES = [
    Route("GET", r"/?", "versions", versions, public=True),
    Route("GET", r"/v2\.1/?", "showVersion", version, public=True),
    Route("GET", r"/v2\.1/servers", "listServers", list_servers),
    Route("GET", r"/v2\.1/servers/detail", "listServersDetail", list_servers_detail),
    Route("POST", r"/v2\.1/servers", "createServer", create_server),
    Route("GET", rf"/v2\.1/servers/{ID}", "showServer", show_server),
    Route("DELETE", rf"/v2\.1/servers/{ID}", "deleteServer", delete_server),
    Route("POST", rf"/v2\.1/servers/{ID}/action", "action", server_action, namer=server_action_name),
    Route("GET", rf"/v2\.1/servers/{ID}/os-volume_attachments", "listVolumeAttachments", list_attachments),
    Route("GET", rf"/v2\.1/servers/{ID}/os-volume_attachments/(?P<volume_id>[^/]+)", "showVolumeAttachment", show_attachment),
    Route("GET", rf"/v2\.1/servers/{ID}/os-security-groups", "listServerSecurityGroups", server_security_groups),
    Route("GET", rf"/v2\.1/servers/{ID}/metadata", "listServerMetadata", list_server_metadata),
    Route("POST", rf"/v2\.1/servers/{ID}/metadata", "updateServerMetadata", update_server_metadata),
    Route("PUT", rf"/v2\.1/servers/{ID}/metadata", "replaceServerMetadata", replace_server_metadata),
    Route("GET", rf"/v2\.1/servers/{ID}/metadata/{METADATA_KEY}", "showServerMetadataItem", show_server_metadata_item),
    Route("PUT", rf"/v2\.1/servers/{ID}/metadata/{METADATA_KEY}", "setServerMetadataItem", set_server_metadata_item),
    Route("DELETE", rf"/v2\.1/servers/{ID}/metadata/{METADATA_KEY}", "deleteServerMetadataItem", delete_server_metadata_item),
    Route("GET", r"/v2\.1/os-availability-zone", "listAvailabilityZones", list_availability_zones),
    Route("GET", r"/v2\.1/flavors(/detail)?", "listFlavors", list_flavors),
    Route("GET", r"/v2\.1/flavors/(?P<flavor_id>[^/]+)", "showFlavor", show_flavor),
    Route("GET", r"/v2\.1/flavors/(?P<flavor_id>[^/]+)/os-extra_specs", "listFlavorExtraSpecs", flavor_extra_specs),
]
