# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenStack simulator: what the services refuse a project member (not an admin), checked with openstacksdk.

Each rule was found by running our tests on the real 2026.1 services as a member (docs/cloudsim.md, "Disagreements
with the real services, found and fixed").
"""
# pytest fixtures are parameters named like the imported fixture functions.
# pylint: disable=redefined-outer-name

from __future__ import annotations

import openstack

from cloudsim.openstack.testing import clouds_yaml_file  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_cloud  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_conn  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_frozen  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import seed_network, set_roles

BUILD_ABORTED = "aborted: Failed to allocate the network(s), not rescheduling."


def boot(conn, name, network_id):
    server = conn.compute.create_server(name=name, flavor_id="1", image_id=conn.image.find_image("cirros-0.6.3-x86_64-disk").id,
                                        networks=[{"uuid": network_id}])
    return server.id


def test_member_boot_on_unshared_external_network_aborts_in_error(openstack_frozen, openstack_conn):
    """Nova's _check_external_network_attach: a non-admin's build on a router:external, not shared network is aborted
    (the API answers 202, the server ends ERROR with BuildAbortException's fault, no port is made)."""
    public = openstack_conn.network.find_network("public")
    assert (public.is_router_external, public.is_shared) == (True, False)
    shared = seed_network(openstack_frozen, "ext-shared", "172.25.0.0/24", external=True, shared=True)
    private = openstack_conn.network.find_network("private")
    refused = boot(openstack_conn, "on-public", public.id)
    on_shared = boot(openstack_conn, "on-ext-shared", shared["network_id"])
    on_private = boot(openstack_conn, "on-private", private.id)
    openstack_frozen.advance(60)
    server = openstack_conn.compute.get_server(refused)
    assert server.status == "ERROR"
    assert server.fault["code"] == 500
    assert server.fault["message"] == f"Build of instance {refused} {BUILD_ABORTED}"
    assert list(openstack_conn.network.ports(device_id=refused)) == []
    assert [openstack_conn.compute.get_server(server_id).status for server_id in (on_shared, on_private)] == ["ACTIVE", "ACTIVE"]


def test_admin_token_may_boot_on_external_network(openstack_frozen, clouds_yaml_file):
    """The policy ``network:attach_external_network`` is admin-only: the roles come from the caller's token."""
    set_roles(openstack_frozen, ["admin", "member", "reader"])
    conn = openstack.connect(cloud="devstack")
    try:
        assert "admin" in conn.session.auth.get_access(conn.session).role_names
        server_id = boot(conn, "admin-on-public", conn.network.find_network("public").id)
        openstack_frozen.advance(60)
        assert conn.compute.get_server(server_id).status == "ACTIVE"
    finally:
        conn.close()
    openstack_frozen.reset(speed=0)  # a reset gives the user back the member's roles
    member = openstack.connect(cloud="devstack")
    try:
        assert member.session.auth.get_access(member.session).role_names == ["member", "reader"]
    finally:
        member.close()


def cinder_list(conn, path, microversion):
    return conn.block_storage.get(path, microversion=microversion)


def test_member_list_filters_outside_cinders_resource_filters_are_refused(openstack_frozen, openstack_conn):
    """cinder/api/common.py reject_invalid_filters with etc/cinder/resource_filters.json, from microversion 3.31."""
    root_id = openstack_frozen.seed_server(boot="volume")["volumes"][0]["volume_id"]
    refused = cinder_list(openstack_conn, "/volumes/detail?host=node1&name=x&server_id=y", "3.60")
    assert refused.status_code == 400
    assert refused.json() == {"badRequest": {"code": 400, "message": "Invalid filters host,server_id are found in query options."}}
    refused = cinder_list(openstack_conn, f"/snapshots/detail?volume_id={root_id}&project_id=p", "3.60")
    assert refused.json()["badRequest"]["message"] == "Invalid filters project_id are found in query options."
    # Allowed: the listed filters, paging and sorting, and cinderclient's all_tenants (ignored for a member).
    allowed = (f"/snapshots/detail?volume_id={root_id}&name=n&status=available&limit=5&sort=created_at:desc&all_tenants=1",
               "/volumes/detail?name=x&bootable=true&marker=&offset=0&with_count=true")
    assert [cinder_list(openstack_conn, path, "3.60").status_code for path in allowed] == [200, 200]
    # Before 3.31 Cinder drops a member's unknown filters silently.
    assert cinder_list(openstack_conn, "/volumes/detail?host=node1", "3.30").status_code == 200


def test_admin_may_use_any_cinder_list_filter(openstack_frozen, clouds_yaml_file):
    set_roles(openstack_frozen, ["admin", "member", "reader"])
    conn = openstack.connect(cloud="devstack")
    try:
        assert cinder_list(conn, "/volumes/detail?host=node1&project_id=p", "3.60").status_code == 200
    finally:
        conn.close()
