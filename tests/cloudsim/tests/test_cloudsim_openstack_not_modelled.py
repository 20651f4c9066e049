# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Calls the OpenStack simulator does not model answer 501 naming the method and the route, never a 404 or a 405 that
clients read as "does not exist" or "not allowed"; a modelled route whose resource is missing still answers 404."""
# pytest fixtures are parameters named like the imported fixture functions.
# pylint: disable=redefined-outer-name

from __future__ import annotations

import pytest
import requests
from openstack import exceptions

from cloudsim.openstack.testing import clouds_yaml_file  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_cloud  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_conn  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_frozen  # noqa: F401  pylint: disable=unused-import

MISSING = "00000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize("method, path", [
    ("GET", "/compute/v2.1/os-hypervisors"),  # a Nova API the simulator lacks
    ("PUT", "/compute/v2.1/servers/{server}"),  # a modelled path, a method the simulator lacks (Nova serves it)
    ("POST", "/volume/v3/{project}/backups"),
    ("GET", "/object-store/v1/AUTH_demo"),  # no service modelled under the prefix
])
def test_a_call_not_modelled_answers_501_with_the_route(openstack_frozen, openstack_conn, method, path):
    server_id = openstack_frozen.seed_server()["server_id"]
    path = path.format(server=server_id, project=openstack_frozen.openstack_state()["identity"]["project_id"])
    url = openstack_frozen.openstack_auth_url.replace("/identity", "") + path
    answer = requests.request(method, url, headers={"X-Auth-Token": openstack_conn.auth_token}, json={}, timeout=10)
    assert answer.status_code == 501
    assert f"{method} {path}" in answer.text
    if not path.startswith("/object-store"):
        assert openstack_frozen.journal(action="unsupported")[-1]["status"] == 501


def test_a_missing_resource_of_a_modelled_route_is_still_404(openstack_frozen, openstack_conn):
    with pytest.raises(exceptions.NotFoundException):
        openstack_conn.compute.get_server(MISSING)
    with pytest.raises(exceptions.NotFoundException):
        openstack_conn.block_storage.get_volume(MISSING)
    assert [entry["status"] for entry in openstack_frozen.journal(service="compute", action="showServer")] == [404]
    assert not openstack_frozen.journal(action="unsupported")
