# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenStack simulator seen through python-openstackclient: the seed's procedure done by hand at the CLI.

Each test runs one interactive ``openstack`` session per step (its start-up costs seconds) with
``OS_CLIENT_CONFIG_FILE`` pointing at the cloud's clouds.yaml and the cloud named ``devstack``, as
AWX injects it, and checks what the CLI shows against the cloud's own state. Each runs on both backends: the
simulator (time frozen, moved on by ``advance``) and, in the integration-real stage, the real services (as the member
user; where the simulator jumps in time they wait until nothing is on its way, and there is no journal to read).
"""
# pytest fixtures are parameters named like the imported fixture functions.
# pylint: disable=redefined-outer-name

from __future__ import annotations

import json
import os

import pytest
from test_cloudsim_openstack_storage_network import run_openstack_cli  # pylint: disable=import-error

from cloudsim.openstack.testing import openstack_cloud  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_frozen  # noqa: F401  pylint: disable=unused-import
from openstack_real import testing as real_testing

real_cloud = real_testing.real_cloud_fixture()

# What openstackclient prints in the image columns of a boot-from-volume server.
BFV_IMAGE = "N/A (booted from volume)"


@pytest.fixture(params=real_testing.backend_params())
def os_cloud(request, tmp_path, monkeypatch):
    """The simulator with frozen time, or the real services wiped of earlier tests' servers, volumes and images."""
    if request.param == "sim":
        cloud = request.getfixturevalue("openstack_frozen")
    else:
        cloud = request.getfixturevalue("real_cloud")
        cloud.reset()
    path = tmp_path / "clouds.yaml"
    path.write_text(json.dumps(cloud.clouds_yaml("devstack")), encoding="utf-8")  # JSON is YAML
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    for name in ("OS_CLOUD", "OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD", "OS_PROJECT_NAME", "OS_AUTH_TYPE"):
        monkeypatch.delenv(name, raising=False)
    cloud.clouds_yaml_path = path
    return cloud


@pytest.fixture
def clouds_yaml_file(os_cloud):  # pylint: disable=redefined-outer-name
    return os_cloud.clouds_yaml_path


@pytest.fixture
def openstack_conn(clouds_yaml_file):  # pylint: disable=redefined-outer-name,unused-argument
    import openstack  # pylint: disable=import-outside-toplevel
    connection = openstack.connect(cloud="devstack")
    yield connection
    connection.close()


def settle(cloud) -> None:
    """Let what was asked for finish: an hour of simulated time, or a wait on the real services."""
    if isinstance(cloud, real_testing.RealCloud):
        cloud.settle()
    else:
        cloud.advance(3600)


def run_session(clouds_yaml_file, commands: list[str], **env) -> list:
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=str(clouds_yaml_file), OS_CLOUD="devstack", **env)
    outputs, stderr = run_openstack_cli(env, commands)
    assert len(outputs) == len(commands), stderr
    return outputs


def by_name(rows: list[dict], key: str = "Name") -> dict:
    return {row[key]: row for row in rows}


def unsupported_calls(cloud) -> list[dict]:
    """Calls the simulator answered as not modelled (the real services keep no journal: none to read there)."""
    if isinstance(cloud, real_testing.RealCloud):
        return []
    return [entry["params"] for entry in cloud.journal() if entry["action"] == "unsupported"]


def test_listings_and_details_match_the_cloud(os_cloud, openstack_conn, clouds_yaml_file):
    db = os_cloud.seed_server(boot="volume", name="db", fixed_ip="10.0.0.30", root_size=30, volumes=[{"size": 2, "name": "data"}])
    web = os_cloud.seed_server(name="web", flavor="m1.tiny", fixed_ip="10.0.0.40")
    image = openstack_conn.compute.create_server_image(web["server_id"], "web-snap")
    data_id = db["volumes"][1]["volume_id"]
    openstack_conn.block_storage.create_snapshot(volume_id=data_id, name="data-snap", force=True)
    group_id = openstack_conn.network.find_security_group("default", ignore_missing=False).id
    settle(os_cloud)
    (servers, db_shown, images, image_shown, flavor, networks, subnets, ports, volumes, root_shown, snapshots,
     attachments, groups, group) = run_session(clouds_yaml_file, [
         "server list --long", "server show db", "image list", "image show web-snap", "flavor show m1.tiny", "network list",
         "subnet list", f"port list --server {web['server_id']}", "volume list --long", f"volume show {db['volumes'][0]['volume_id']}",
         "volume snapshot list --long", "server volume list db", "security group list", f"security group show {group_id}"])
    servers = by_name(servers)
    # The seed tells the two boot kinds apart by the "Image" column: an image name, or nothing for a volume.
    assert (servers["web"]["Image Name"], servers["web"]["Image ID"]) == ("cirros-0.6.3-x86_64-disk", web["image_id"])
    assert (servers["db"]["Image Name"], servers["db"]["Image ID"]) == (BFV_IMAGE, BFV_IMAGE)
    assert (servers["web"]["Flavor"], servers["db"]["Flavor"]) == ("m1.tiny", "m1.small")
    assert servers["web"]["Networks"] == {"private": ["10.0.0.40"]}
    assert (db_shown["status"], db_shown["image"], db_shown["addresses"]) == ("ACTIVE", BFV_IMAGE, {"private": ["10.0.0.30"]})
    assert sorted(item["id"] for item in db_shown["volumes_attached"]) == sorted(volume["volume_id"] for volume in db["volumes"])
    assert by_name(images)["web-snap"]["Status"] == "active"
    assert (image_shown["id"], image_shown["status"]) == (image.id, "active")
    assert (image_shown["properties"]["image_type"], image_shown["properties"]["instance_uuid"]) == ("snapshot", web["server_id"])
    assert (flavor["id"], flavor["disk"], flavor["vcpus"], flavor["ram"]) == ("1", 1, 1, 512)
    private = by_name(networks)["private"]
    assert private["ID"] == web["network_id"] and private["Subnets"] == [by_name(subnets)["private-subnet"]["ID"]]
    assert [(port["ID"], port["Fixed IP Addresses"][0]["ip_address"]) for port in ports] == [(web["port_id"], "10.0.0.40")]
    volumes = by_name(volumes)
    assert (volumes["db-root"]["Status"], volumes["db-root"]["Size"], volumes["db-root"]["Bootable"]) == ("in-use", 30, True)
    assert (volumes["data"]["Size"], volumes["data"]["Bootable"]) == (2, False)
    assert (root_shown["bootable"], root_shown["status"], root_shown["size"]) == (True, "in-use", 30)
    assert [(item["server_id"], item["device"]) for item in root_shown["attachments"]] == [(db["server_id"], "/dev/vda")]
    assert [(row["Name"], row["Status"], row["Volume"], row["Size"]) for row in snapshots] == [("data-snap", "available", data_id, 2)]
    assert sorted((row["Device"], row["Volume ID"]) for row in attachments) == [
        ("/dev/vda", db["volumes"][0]["volume_id"]), ("/dev/vdb", data_id)]
    assert [row["Name"] for row in groups] == ["default"] and (group["id"], group["name"]) == (groups[0]["ID"], "default")
    assert unsupported_calls(os_cloud) == []


def test_seed_procedure_by_hand_both_snapshot_kinds_to_running_copies(os_cloud, openstack_conn, clouds_yaml_file):
    """The seed at the CLI: instance snapshot of the image-booted server, volume snapshot of the volume-booted one's root,
    then each copy launched from its snapshot ("Instance Snapshot" / "Volume Snapshot" sources) in the original's network."""
    db = os_cloud.seed_server(boot="volume", name="db", fixed_ip="10.0.0.30", root_size=25, state="SHUTOFF")
    web = os_cloud.seed_server(name="web", flavor="m1.tiny")
    root_id = db["volumes"][0]["volume_id"]
    # The root volume stays attached (in-use) while the server is stopped. openstackclient drops --force when the cloud
    # offers 3.66 but openstacksdk sends 3.65; pinning 3.65 makes it send force=true, which Cinder needs below 3.66.
    snapshot, image = run_session(clouds_yaml_file, [f"volume snapshot create --volume {root_id} --force db-root-snap",
                                                     "server image create --name web-snap web"], OS_VOLUME_API_VERSION="3.65")
    assert (snapshot["status"], snapshot["size"], snapshot["volume_id"]) == ("creating", 25, root_id)
    assert image["status"] in ("queued", "saving") and image["properties"]["instance_uuid"] == web["server_id"]
    settle(os_cloud)
    db_created, web_created = run_session(clouds_yaml_file, [
        f"server create --flavor m1.small --snapshot db-root-snap --network {db['network_id']} db-copy",
        f"server create --flavor {web['flavor_id']} --image web-snap --network private web-copy"])
    assert (db_created["OS-EXT-STS:vm_state"], web_created["OS-EXT-STS:vm_state"]) == ("building", "building")
    settle(os_cloud)
    db_copy, web_copy, images = run_session(clouds_yaml_file, ["server show db-copy", "server show web-copy", "image list --private"])
    assert (db_copy["status"], db_copy["image"], db_copy["flavor"]["original_name"]) == ("ACTIVE", BFV_IMAGE, "m1.small")
    assert (web_copy["status"], web_copy["image"], web_copy["flavor"]["original_name"]) == ("ACTIVE", f"web-snap ({image['id']})", "m1.tiny")
    assert list(db_copy["addresses"]) == list(web_copy["addresses"]) == ["private"]
    assert db_copy["addresses"]["private"] != ["10.0.0.30"]
    assert [(row["Name"], row["Status"]) for row in images] == [("web-snap", "active")]
    state = os_cloud.openstack_state()
    copy = next(server for server in state["servers"] if server["name"] == "db-copy")
    root = next(volume for volume in state["volumes"] if volume["id"] == copy["volumes"][0])
    assert (copy["image_id"], [item["id"] for item in db_copy["volumes_attached"]]) == ("", copy["volumes"])
    assert (root["snapshot_id"], root["size"], root["attachments"][0]["device"]) == (snapshot["id"], 25, "/dev/vda")
    assert unsupported_calls(os_cloud) == []
