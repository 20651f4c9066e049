# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fidelity: openstack.cloud modules run against the OpenStack simulator, through the generated clouds.yaml."""
# pytest fixtures are parameters named like the imported fixture functions.
# pylint: disable=redefined-outer-name

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

from cloudsim.openstack.testing import clouds_yaml_file  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_cloud  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_conn  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_frozen  # noqa: F401  pylint: disable=unused-import

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
COLLECTIONS = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or str(REPO_ROOT / ".build" / "collections")
pytestmark = pytest.mark.skipif(not (pathlib.Path(COLLECTIONS) / "ansible_collections" / "openstack" / "cloud").is_dir(),
                                reason="openstack.cloud is not installed in the collections path")


def run_tasks(clouds_yaml: pathlib.Path, tmp_path: pathlib.Path, tasks: list[tuple]) -> list[dict]:
    """Run ``(module, args)`` tasks of openstack.cloud (cloud ``devstack``) in one ansible-playbook run; their results."""
    play = {"hosts": "localhost", "connection": "local", "gather_facts": False,
            "vars": {"ansible_python_interpreter": sys.executable},
            "tasks": [{f"openstack.cloud.{module}": dict(args, cloud="devstack"), "ignore_errors": True} for module, args in tasks]}
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(json.dumps([play]))  # JSON is YAML
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=str(clouds_yaml), ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json")
    command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", str(playbook)]
    process = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert process.stdout.strip().startswith("{"), process.stdout + process.stderr
    return [task["hosts"]["localhost"] for task in json.loads(process.stdout)["plays"][0]["tasks"]]


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
