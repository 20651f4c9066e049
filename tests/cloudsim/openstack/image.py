# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Glance (image API v2) subset: images get/list/delete and version discovery."""

from __future__ import annotations

from cloudsim.openstack.routing import Call, Reply, Route
from cloudsim.openstack.state import Image
from cloudsim.openstack.wire import ApiError, timestamp

PREFIX = "image"


def error_body(error: ApiError) -> dict:
    # Glance's errors come from webob; clients read the status and show the message.
    return {"error": {"code": error.status, "title": error.code, "message": error.message}}


def versions(call: Call) -> Reply:
    documents = [{"id": f"v2.{minor}", "status": "CURRENT" if minor == 16 else "SUPPORTED",
                  "links": [{"rel": "self", "href": f"{call.base_url}/image/v2/"}]} for minor in range(16, -1, -1)]
    return Reply(300, {"versions": documents})


def image_view(image: Image) -> dict:
    view = {
        "id": image.image_id, "name": image.name, "status": image.status, "visibility": image.visibility, "size": image.size,
        "virtual_size": None, "disk_format": image.disk_format, "container_format": image.container_format,
        "min_disk": image.min_disk, "min_ram": 0, "owner": image.owner, "protected": False, "os_hidden": False,
        "checksum": None if image.status != "active" or not image.size else "d41d8cd98f00b204e9800998ecf8427e",
        "os_hash_algo": None, "os_hash_value": None, "tags": [],
        "created_at": timestamp(image.created), "updated_at": timestamp(image.updated),
        "self": f"/v2/images/{image.image_id}", "file": f"/v2/images/{image.image_id}/file", "schema": "/v2/schemas/image",
    }
    # Glance puts extra properties at the top level of the image (openstacksdk gathers them in Image.properties).
    for key, value in image.properties.items():
        view.setdefault(key, value)
    return view


def _find(call: Call) -> Image:
    image = call.cloud.images.get(call.params["image_id"])
    if image is None:
        raise ApiError(404, f"No image found with ID {call.params['image_id']}", "Not Found")
    return image


# Glance's ``in:`` operator ("id=in:a,b") works on these fields only; the others compare the whole value.
IN_OPERATOR_FIELDS = {"id": "image_id", "name": "name", "status": "status", "container_format": "container_format",
                      "disk_format": "disk_format"}


def _accepted_values(field: str, value: str) -> set[str]:
    if field in IN_OPERATOR_FIELDS and value.startswith("in:"):
        return set(value[3:].split(","))
    return {value}


def list_images(call: Call) -> Reply:
    images = sorted(call.cloud.images.values(), key=lambda image: (-image.created, image.image_id))
    attributes = {"visibility": "visibility", "owner": "owner", **IN_OPERATOR_FIELDS}
    for field, attribute in attributes.items():
        if call.query.get(field):
            accepted = _accepted_values(field, call.query[field])
            images = [image for image in images if str(getattr(image, attribute)) in accepted]
    for key, value in call.query.items():
        if key not in (*attributes, "limit", "marker", "sort", "sort_key", "sort_dir", "member_status"):
            images = [image for image in images if image.properties.get(key) == value]
    images = _page(call, images)
    return Reply(200, {"images": [image_view(image) for image in images], "first": "/v2/images", "schema": "/v2/schemas/images"})


def _page(call: Call, images: list[Image]) -> list[Image]:
    marker = call.query.get("marker")
    if marker:
        ids = [image.image_id for image in images]
        images = images[ids.index(marker) + 1:] if marker in ids else []
    if call.query.get("limit"):
        images = images[:int(call.query["limit"])]
    return images


def show_image(call: Call) -> Reply:
    return Reply(200, image_view(_find(call)))


def delete_image(call: Call) -> Reply:
    image = _find(call)
    del call.cloud.images[image.image_id]
    return Reply(204)


ROUTES = [
    Route("GET", r"/(versions)?", "versions", versions, public=True),
    Route("GET", r"/v2/images", "listImages", list_images),
    Route("GET", r"/v2/images/(?P<image_id>[^/]+)", "showImage", show_image),
    Route("DELETE", r"/v2/images/(?P<image_id>[^/]+)", "deleteImage", delete_image),
]
