# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cinder (block storage API v3) subset: volumes, snapshots, version discovery, microversions."""

from __future__ import annotations

from cloudsim.openstack.routing import Call, Reply, Route
from cloudsim.openstack.state import Snapshot, Volume
from cloudsim.openstack.wire import ApiError, Microversion, timestamp

PREFIX = "volume"
MIN_VERSION = Microversion(3, 0)
MAX_VERSION = Microversion(3, 71)
# The catalog URL carries the project id (DevStack's volumev3 endpoint); Cinder >= 3.67 also accepts URLs without it.
PROJECT = r"(?:/(?P<project_id>[0-9a-f]{32}))?"


def error_body(error: ApiError) -> dict:
    return {error.code: {"code": error.status, "message": error.message}}


def _version_document(call: Call) -> dict:
    return {
        "id": "v3.0", "status": "CURRENT", "version": str(MAX_VERSION), "min_version": str(MIN_VERSION),
        "updated": "2023-08-31T00:00:00Z", "links": [{"rel": "self", "href": f"{call.base_url}/volume/v3/"}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"}],
    }


def versions(call: Call) -> Reply:
    # Cinder answers a list of versions both at / and at /v3/.
    return Reply(300 if call.path.strip("/") == "" else 200, {"versions": [_version_document(call)]})


def _check_project(call: Call) -> None:
    project_id = call.params.get("project_id")
    if project_id and project_id != call.cloud.identity.project_id:
        raise ApiError(403, f"Malformed request url: project {project_id} does not match the token's project.", "forbidden")


# Volumes ---------------------------------------------------------------------------------------

def volume_view(call: Call, volume: Volume) -> dict:
    identity = call.cloud.identity
    view = {
        "id": volume.volume_id, "name": volume.name, "size": volume.size, "status": volume.status,
        "bootable": "true" if volume.bootable else "false", "volume_type": volume.volume_type, "description": volume.description,
        "snapshot_id": volume.snapshot_id, "source_volid": None, "metadata": dict(volume.metadata),
        "availability_zone": volume.availability_zone, "encrypted": False, "multiattach": False, "replication_status": None,
        "consistencygroup_id": None, "user_id": identity.user_id, "os-vol-tenant-attr:tenant_id": identity.project_id,
        "created_at": timestamp(volume.created, fraction=True), "updated_at": timestamp(volume.updated, fraction=True),
        "attachments": [{"id": attachment.volume_id, "attachment_id": attachment.attachment_id, "volume_id": attachment.volume_id,
                         "server_id": attachment.server_id, "host_name": None, "device": attachment.device,
                         "attached_at": timestamp(attachment.attached_at, fraction=True)} for attachment in volume.attachments],
        "links": [{"rel": "self", "href": f"{call.base_url}/volume/v3/{identity.project_id}/volumes/{volume.volume_id}"}],
    }
    if volume.image_id:
        view["volume_image_metadata"] = {"image_id": volume.image_id}
    if call.at_least(3, 48):
        view["service_uuid"] = None
        view["shared_targets"] = True
    if call.at_least(3, 63):
        view["volume_type_id"] = "7f0e8e7c-0000-4000-8000-000000000001"
    if call.at_least(3, 69):
        view["cluster_name"] = None
    return view


# Cinder's etc/cinder/resource_filters.json (as installed): the list filters a non-admin may use from microversion
# 3.31 (cinder/api/common.py, reject_invalid_filters); below it Cinder drops the others silently.
RESOURCE_FILTERS = {
    "volume": ("name", "status", "metadata", "bootable", "migration_status", "availability_zone", "group_id", "size",
               "created_at", "updated_at", "consumes_quota"),
    "snapshot": ("name", "status", "volume_id", "metadata", "availability_zone", "consumes_quota"),
}
# Query keys that are not filters: cinder/api/common.py's get_pagination_params and get_sort_params pop them, and the
# list calls pop with_count (3.45).
NOT_FILTERS = ("limit", "marker", "offset", "sort", "sort_key", "sort_dir", "with_count")
RESOURCE_FILTER_VERSION = (3, 31)


def _check_filters(call: Call, resource: str) -> None:
    """400 for a non-admin's filter outside the resource's allowed list (``all_tenants`` is ignored, as Cinder does for
    cinderclient's sake), from 3.31 on."""
    if call.is_admin or not call.at_least(*RESOURCE_FILTER_VERSION):
        return
    allowed = (*NOT_FILTERS, "all_tenants", *RESOURCE_FILTERS[resource])
    invalid = [key for key in call.query if key not in allowed]
    if invalid:
        raise ApiError(400, f"Invalid filters {','.join(invalid)} are found in query options.", "badRequest")


def _filtered(call: Call, items: list, fields: tuple) -> list:
    for field in fields:
        if call.query.get(field):
            items = [item for item in items if str(getattr(item, field)) == call.query[field]]
    return items


def list_volumes(call: Call) -> Reply:
    _check_project(call)
    _check_filters(call, "volume")
    volumes = sorted(call.cloud.volumes.values(), key=lambda volume: (-volume.created, volume.volume_id))
    volumes = _filtered(call, volumes, ("name", "status"))
    if call.path.endswith("/detail"):
        return Reply(200, {"volumes": [volume_view(call, volume) for volume in volumes]})
    return Reply(200, {"volumes": [{"id": volume.volume_id, "name": volume.name, "links": volume_view(call, volume)["links"]}
                                   for volume in volumes]})


def show_volume(call: Call) -> Reply:
    _check_project(call)
    return Reply(200, {"volume": volume_view(call, call.ops.volume(call.params["volume_id"]))})


def create_volume(call: Call) -> Reply:
    _check_project(call)
    request = call.body_object("volume")
    snapshot_id = request.get("snapshot_id")
    size = request.get("size")
    if size is None and snapshot_id:
        size = call.ops.snapshot(snapshot_id).size
    if size is None or int(size) < 1:
        raise ApiError(400, "Invalid input received: size must be an integer greater than 0")
    volume = call.ops.create_volume(int(size), name=request.get("name") or "", snapshot_id=snapshot_id,
                                    description=request.get("description"), metadata=dict(request.get("metadata") or {}),
                                    availability_zone=request.get("availability_zone"))
    return Reply(202, {"volume": volume_view(call, volume)})


def list_availability_zones(call: Call) -> Reply:
    """``GET /os-availability-zone``: Cinder's own zones, not Nova's."""
    _check_project(call)
    return Reply(200, {"availabilityZoneInfo": [{"zoneName": zone, "zoneState": {"available": True}}
                                                for zone in call.cloud.volume_zones]})


def delete_volume(call: Call) -> Reply:
    _check_project(call)
    call.ops.delete_volume(call.params["volume_id"])
    return Reply(202)


# Snapshots -------------------------------------------------------------------------------------

def snapshot_view(call: Call, snapshot: Snapshot) -> dict:
    view = {
        "id": snapshot.snapshot_id, "name": snapshot.name, "description": snapshot.description, "volume_id": snapshot.volume_id,
        "size": snapshot.size, "status": snapshot.status, "metadata": dict(snapshot.metadata),
        "created_at": timestamp(snapshot.created, fraction=True), "updated_at": timestamp(snapshot.updated, fraction=True),
        "os-extended-snapshot-attributes:progress": snapshot.progress,
        "os-extended-snapshot-attributes:project_id": snapshot.project_id,
    }
    if call.at_least(3, 14):
        view["group_snapshot_id"] = None
    if call.at_least(3, 41):
        view["user_id"] = call.cloud.identity.user_id
    if call.at_least(3, 65):
        view["consumes_quota"] = True
    return view


def list_snapshots(call: Call) -> Reply:
    _check_project(call)
    _check_filters(call, "snapshot")
    snapshots = sorted(call.cloud.snapshots.values(), key=lambda snapshot: (-snapshot.created, snapshot.snapshot_id))
    snapshots = _filtered(call, snapshots, ("name", "status", "volume_id"))
    return Reply(200, {"snapshots": [snapshot_view(call, snapshot) for snapshot in snapshots]})


def show_snapshot(call: Call) -> Reply:
    _check_project(call)
    return Reply(200, {"snapshot": snapshot_view(call, call.ops.snapshot(call.params["snapshot_id"]))})


def create_snapshot(call: Call) -> Reply:
    _check_project(call)
    request = call.body_object("snapshot")
    if not request.get("volume_id"):
        raise ApiError(400, "Invalid input for field/attribute volume_id. 'volume_id' is a required property")
    snapshot = call.ops.create_snapshot(request["volume_id"], request.get("force"), call.microversion,
                                        name=request.get("name") or request.get("display_name"),
                                        description=request.get("description"), metadata=request.get("metadata"))
    return Reply(202, {"snapshot": snapshot_view(call, snapshot)})


def delete_snapshot(call: Call) -> Reply:
    _check_project(call)
    call.ops.delete_snapshot(call.params["snapshot_id"])
    return Reply(202)


def update_snapshot(call: Call) -> Reply:
    _check_project(call)
    snapshot = call.ops.snapshot(call.params["snapshot_id"])
    request = call.body_object("snapshot")
    for field in ("name", "description"):
        if field in request:
            setattr(snapshot, field, request[field])
    snapshot.updated = call.now
    return Reply(200, {"snapshot": snapshot_view(call, snapshot)})


def snapshot_metadata(call: Call) -> Reply:
    """GET, POST (merge) and PUT (replace) of ``/snapshots/{id}/metadata``, as openstacksdk's set/delete helpers use them."""
    _check_project(call)
    snapshot = call.ops.snapshot(call.params["snapshot_id"])
    if call.method in ("POST", "PUT"):
        metadata = call.body.get("metadata") if isinstance(call.body, dict) else None
        if not isinstance(metadata, dict):
            raise ApiError(400, "Malformed request body: metadata must be an object")
        if call.method == "PUT":
            snapshot.metadata = {}
        snapshot.metadata.update({str(key): str(value) for key, value in metadata.items()})
    return Reply(200, {"metadata": dict(snapshot.metadata)})


def delete_snapshot_metadata_key(call: Call) -> Reply:
    _check_project(call)
    snapshot = call.ops.snapshot(call.params["snapshot_id"])
    if snapshot.metadata.pop(call.params["key"], None) is None:
        raise ApiError(404, f"Metadata item was not found: {call.params['key']}")
    return Reply(200)


def volume_action(call: Call) -> Reply:
    """Only os-set_bootable (openstacksdk's set_volume_bootable_status)."""
    _check_project(call)
    volume = call.ops.volume(call.params["volume_id"])
    bootable = call.body.get("os-set_bootable") if isinstance(call.body, dict) else None
    if not isinstance(bootable, dict) or "bootable" not in bootable:
        raise ApiError(400, "Invalid request body: only os-set_bootable is supported by the simulator")
    volume.bootable = str(bootable["bootable"]).lower() in ("true", "1", "yes", "on")
    return Reply(200)


def snapshot_action(call: Call) -> Reply:
    """Only os-reset_status, for tests and admins putting a stuck snapshot back."""
    _check_project(call)
    snapshot = call.ops.snapshot(call.params["snapshot_id"])
    reset = call.body.get("os-reset_status") if isinstance(call.body, dict) else None
    if not isinstance(reset, dict) or not reset.get("status"):
        raise ApiError(400, "Invalid request body")
    snapshot.status = reset["status"]
    snapshot.schedule.clear()
    return Reply(202)


ROUTES = [
    Route("GET", r"/?", "versions", versions, public=True),
    Route("GET", r"/v3/?", "versions", versions, public=True),
    Route("GET", r"/v3/[0-9a-f]{32}/?", "versions", versions, public=True),
    Route("GET", rf"/v3{PROJECT}/volumes(/detail)?", "listVolumes", list_volumes),
    Route("POST", rf"/v3{PROJECT}/volumes", "createVolume", create_volume),
    Route("GET", rf"/v3{PROJECT}/volumes/(?P<volume_id>[^/]+)", "showVolume", show_volume),
    Route("DELETE", rf"/v3{PROJECT}/volumes/(?P<volume_id>[^/]+)", "deleteVolume", delete_volume),
    Route("GET", rf"/v3{PROJECT}/snapshots(/detail)?", "listSnapshots", list_snapshots),
    Route("POST", rf"/v3{PROJECT}/snapshots", "createSnapshot", create_snapshot),
    Route("GET", rf"/v3{PROJECT}/snapshots/(?P<snapshot_id>[^/]+)", "showSnapshot", show_snapshot),
    Route("DELETE", rf"/v3{PROJECT}/snapshots/(?P<snapshot_id>[^/]+)", "deleteSnapshot", delete_snapshot),
    Route("POST", rf"/v3{PROJECT}/snapshots/(?P<snapshot_id>[^/]+)/action", "snapshotAction", snapshot_action),
    Route("PUT", rf"/v3{PROJECT}/snapshots/(?P<snapshot_id>[^/]+)", "updateSnapshot", update_snapshot),
    Route("GET", rf"/v3{PROJECT}/snapshots/(?P<snapshot_id>[^/]+)/metadata", "showSnapshotMetadata", snapshot_metadata),
    Route("POST", rf"/v3{PROJECT}/snapshots/(?P<snapshot_id>[^/]+)/metadata", "createSnapshotMetadata", snapshot_metadata),
    Route("PUT", rf"/v3{PROJECT}/snapshots/(?P<snapshot_id>[^/]+)/metadata", "updateSnapshotMetadata", snapshot_metadata),
    Route("DELETE", rf"/v3{PROJECT}/snapshots/(?P<snapshot_id>[^/]+)/metadata/(?P<key>[^/]+)", "deleteSnapshotMetadata",
          delete_snapshot_metadata_key),
    Route("POST", rf"/v3{PROJECT}/volumes/(?P<volume_id>[^/]+)/action", "volumeAction", volume_action),
    Route("GET", rf"/v3{PROJECT}/os-availability-zone", "listAvailabilityZones", list_availability_zones),
]
