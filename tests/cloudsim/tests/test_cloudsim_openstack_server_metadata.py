# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nova server metadata (Compute API reference, "Server Metadata"), through openstacksdk and openstack.cloud's calls."""
# pytest fixtures are parameters named like the imported fixture functions.
# pylint: disable=redefined-outer-name

from __future__ import annotations

import pytest
from openstack import exceptions

from cloudsim.openstack.testing import clouds_yaml_file  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_cloud  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_conn  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_frozen  # noqa: F401  pylint: disable=unused-import


def test_set_merges_delete_removes_and_the_server_shows_it(openstack_frozen, openstack_conn):
    server_id = openstack_frozen.seed_server(name="web", metadata={"role": "web"})["server_id"]
    openstack_conn.compute.set_server_metadata(server_id, mark="nightly")
    assert openstack_conn.compute.get_server(server_id).metadata == {"role": "web", "mark": "nightly"}
    openstack_conn.compute.delete_server_metadata(server_id, ["mark"])
    assert openstack_conn.compute.get_server_metadata(server_id).metadata == {"role": "web"}
    actions = [entry["action"] for entry in openstack_frozen.journal(service="compute") if "Metadata" in entry["action"]]
    assert actions == ["updateServerMetadata", "deleteServerMetadataItem", "listServerMetadata"]


def test_put_replaces_and_items_are_read_and_set_one_by_one(openstack_frozen, openstack_conn):
    server_id = openstack_frozen.seed_server(name="web", metadata={"role": "web"})["server_id"]
    compute = openstack_conn.compute
    assert compute.put(f"/servers/{server_id}/metadata", json={"metadata": {"only": "this"}}).json() == {"metadata": {"only": "this"}}
    assert compute.put(f"/servers/{server_id}/metadata/k", json={"meta": {"k": "v"}}).json() == {"meta": {"k": "v"}}
    assert compute.get(f"/servers/{server_id}/metadata/k").json() == {"meta": {"k": "v"}}
    assert compute.get_server(server_id).metadata == {"only": "this", "k": "v"}


@pytest.mark.parametrize(("method", "path", "body", "status"), [
    ("delete", "/metadata/absent", None, 404),                               # Metadata item was not found
    ("get", "/metadata/absent", None, 404),
    ("put", "/metadata/k", {"meta": {"other": "v"}}, 400),                    # Request body and URI mismatch
    ("put", "/metadata/k", {"meta": {"k": "v", "j": "w"}}, 400),              # too many items
    ("post", "/metadata", {"metadata": {"": "v"}}, 400),                      # key of 0 characters
    ("post", "/metadata", {"metadata": {"k": "v" * 256}}, 400),               # value over 255
    ("post", "/metadata", {"metadata": {f"k{n}": "v" for n in range(129)}}, 403),  # over the metadata_items quota
])
def test_refusals_as_nova_answers_them(openstack_frozen, openstack_conn, method, path, body, status):
    server_id = openstack_frozen.seed_server(name="web")["server_id"]
    kwargs = {"json": body} if body is not None else {}
    response = getattr(openstack_conn.compute, method)(f"/servers/{server_id}{path}", **kwargs)
    assert response.status_code == status, response.text
    assert openstack_conn.compute.get_server(server_id).metadata == {}


def test_an_unknown_server_is_404(openstack_frozen, openstack_conn):  # pylint: disable=unused-argument
    with pytest.raises(exceptions.NotFoundException):
        openstack_conn.compute.set_server_metadata("00000000-0000-0000-0000-000000000000", mark="x")
