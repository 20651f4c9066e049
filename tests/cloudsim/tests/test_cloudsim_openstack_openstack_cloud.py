# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fidelity: openstack.cloud modules run against the OpenStack simulator, through the generated clouds.yaml."""
# pytest fixtures are parameters named like the imported fixture functions.
# pylint: disable=redefined-outer-name

from __future__ import annotations

import pathlib

from cloudsim.openstack.testing import clouds_yaml_file  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_cloud  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_conn  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_frozen  # noqa: F401  pylint: disable=unused-import
from cloudsim.testing import needs_collection, run_collection_tasks

pytestmark = needs_collection("openstack.cloud")


def run_tasks(clouds_yaml: pathlib.Path, tmp_path: pathlib.Path, tasks: list[tuple]) -> list[dict]:
    """Run ``(module, args)`` tasks of openstack.cloud (cloud ``devstack``) in one ansible-playbook run; their results."""
    return run_collection_tasks("openstack.cloud", tmp_path, tasks, env={"OS_CLIENT_CONFIG_FILE": str(clouds_yaml)},
                                module_args={"cloud": "devstack"}, ignore_errors=True)


def test_openstack_cloud_info_and_volume_snapshot_modules(openstack_frozen, openstack_conn, clouds_yaml_file, tmp_path):
    seeded = openstack_frozen.seed_server(boot="volume", name="db")
    root_id = seeded["volumes"][0]["volume_id"]
    spare = openstack_conn.block_storage.create_volume(size=1, name="spare")
    openstack_frozen.advance(3600)
    servers, spare_snap, again, unforced, forced, infos, created, stopped = run_tasks(clouds_yaml_file, tmp_path, [
        ("server_info", {}),
        ("volume_snapshot", {"volume": spare.id, "name": "spare-snap", "wait": False}),
        ("volume_snapshot", {"volume": spare.id, "name": "spare-snap", "wait": False}),
        # openstack.cloud always sends force (default false): an attached root volume is refused.
        ("volume_snapshot", {"volume": root_id, "name": "root-snap", "wait": False}),
        ("volume_snapshot", {"volume": root_id, "name": "root-snap", "force": True, "wait": False}),
        ("volume_snapshot_info", {}),
        ("server", {"name": "web", "image": "cirros-0.6.3-x86_64-disk", "flavor": "m1.small", "auto_ip": False, "wait": False,
                    "nics": [{"net-name": "private", "v4-fixed-ip": "10.0.0.88"}]}),
        ("server_action", {"server": "db", "action": "stop", "wait": False}),
    ])
    assert [server["name"] for server in servers["servers"]] == ["db"]
    assert servers["servers"][0]["image"] == {}
    assert spare_snap["changed"] is True and again["changed"] is False
    assert unforced.get("failed") is True and "in-use" in unforced["msg"]
    assert forced["changed"] is True and forced["volume_snapshot"]["status"] == "creating"
    assert sorted(snapshot["name"] for snapshot in infos["volume_snapshots"]) == ["root-snap", "spare-snap"]
    assert created["changed"] is True and created["server"]["status"] == "BUILD"
    assert stopped["changed"] is True
    openstack_frozen.advance(60)
    web = openstack_conn.compute.find_server("web")
    assert (web.status, web.addresses["private"][0]["addr"]) == ("ACTIVE", "10.0.0.88")
    assert openstack_conn.compute.get_server(seeded["server_id"]).status == "SHUTOFF"
    assert not openstack_frozen.journal(action="unsupported")
