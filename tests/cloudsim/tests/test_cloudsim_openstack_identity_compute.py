# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenStack simulator: Keystone, Nova and the control routes, checked with openstacksdk and requests."""
# pytest fixtures are parameters named like the imported fixture functions.
# pylint: disable=redefined-outer-name

from __future__ import annotations

import json

import openstack
import pytest
import requests
from openstack import exceptions

from cloudsim.openstack.testing import clouds_yaml_file  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_cloud  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_conn  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_frozen  # noqa: F401  pylint: disable=unused-import


def password_auth(cloud, **overrides) -> dict:
    auth = cloud.clouds_yaml()["clouds"]["devstack"]["auth"]
    user = {"name": auth["username"], "domain": {"name": "Default"}, "password": auth["password"]}
    user.update(overrides)
    return {"auth": {"identity": {"methods": ["password"], "password": {"user": user}},
                     "scope": {"project": {"name": "demo", "domain": {"name": "Default"}}}}}


def test_keystone_discovery_token_and_catalog(openstack_frozen):
    auth_url = openstack_frozen.openstack_auth_url
    versions = requests.get(auth_url, timeout=10)
    assert versions.status_code == 300
    assert versions.json()["versions"]["values"][0]["id"].startswith("v3")
    created = requests.post(auth_url + "/v3/auth/tokens", json=password_auth(openstack_frozen), timeout=10)
    assert created.status_code == 201
    assert created.headers["X-Subject-Token"]
    catalog = {entry["type"]: entry["endpoints"] for entry in created.json()["token"]["catalog"]}
    assert {"compute", "volumev3", "image", "network", "identity"} <= set(catalog)
    assert {endpoint["region"] for endpoint in catalog["compute"]} == {"RegionOne"}
    wrong = requests.post(auth_url + "/v3/auth/tokens", json=password_auth(openstack_frozen, password="nope"), timeout=10)
    assert wrong.status_code == 401


def test_requests_without_a_valid_token_get_401(openstack_frozen):
    compute_url = openstack_frozen.openstack_auth_url.replace("/identity", "/compute/v2.1")
    assert requests.get(compute_url + "/", timeout=10).status_code == 200  # version document: public
    assert requests.get(compute_url + "/servers", timeout=10).status_code == 401
    assert requests.get(compute_url + "/servers", headers={"X-Auth-Token": "forged"}, timeout=10).status_code == 401


def test_password_auth_by_ids_and_application_credential(openstack_frozen, tmp_path, monkeypatch):
    state = openstack_frozen.openstack_state()["identity"]
    by_ids = openstack.connect(auth_url=openstack_frozen.openstack_auth_url, user_id=state["user_id"], project_id=state["project_id"],
                               password=openstack_frozen.clouds_yaml()["clouds"]["devstack"]["auth"]["password"],
                               region_name="RegionOne", load_yaml_config=False, load_envvars=False)
    assert [flavor.name for flavor in by_ids.compute.flavors()][:1] == ["m1.tiny"]
    config = openstack_frozen.clouds_yaml("appcred", auth_type="v3applicationcredential")
    path = tmp_path / "clouds.yaml"
    path.write_text(json.dumps(config), encoding="utf-8")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    app = openstack.connect(cloud="appcred")
    assert {network.name for network in app.network.networks()} == {"private", "public"}


def test_server_views_image_backed_and_volume_backed(openstack_frozen, openstack_conn):
    image_backed = openstack_frozen.seed_server(boot="image", name="web", fixed_ip="10.0.0.50")
    volume_backed = openstack_frozen.seed_server(boot="volume", name="db", volumes=[{"size": 3}])
    servers = {server.name: server for server in openstack_conn.compute.servers()}
    assert servers["web"].image["id"] == image_backed["image_id"]
    assert not servers["db"].image  # "" on the wire: boot from volume
    assert servers["web"].addresses["private"][0]["addr"] == "10.0.0.50"
    attachments = sorted(openstack_conn.compute.volume_attachments(volume_backed["server_id"]), key=lambda item: item.device)
    assert [item.device for item in attachments] == ["/dev/vda", "/dev/vdb"]
    root = openstack_conn.block_storage.get_volume(attachments[0].volume_id)
    assert (root.is_bootable, root.status) == (True, "in-use")


def test_stop_and_start_take_time_and_conflict_meanwhile(openstack_frozen, openstack_conn):
    openstack_frozen.openstack_config(server_transition_seconds=10)
    server_id = openstack_frozen.seed_server(name="vm")["server_id"]
    openstack_conn.compute.stop_server(server_id)
    server = openstack_conn.compute.get_server(server_id)
    assert (server.status, server.task_state) == ("ACTIVE", "powering-off")
    with pytest.raises(exceptions.ConflictException) as excinfo:
        openstack_conn.compute.start_server(server_id)
    assert "task_state powering-off" in str(excinfo.value)
    openstack_frozen.advance(10)
    server = openstack_conn.compute.get_server(server_id)
    assert (server.status, server.task_state, server.power_state) == ("SHUTOFF", None, 4)
    openstack_conn.compute.start_server(server_id)
    assert openstack_conn.compute.get_server(server_id).task_state == "powering-on"
    openstack_frozen.advance(10)
    assert openstack_conn.compute.get_server(server_id).status == "ACTIVE"


def test_create_image_of_image_backed_server_goes_queued_saving_active(openstack_frozen, openstack_conn):
    openstack_frozen.openstack_config(image_queued_seconds=10, image_seconds_base=30, image_seconds_per_gib=0)
    server_id = openstack_frozen.seed_server(name="web")["server_id"]
    image = openstack_conn.compute.create_server_image(server_id, "web-snap", metadata={"snapshot_of": server_id})
    assert image.status == "queued"
    assert (image.properties["image_type"], image.properties["snapshot_of"]) == ("snapshot", server_id)
    assert openstack_conn.compute.get_server(server_id).task_state == "image_snapshot"
    with pytest.raises(exceptions.ConflictException):
        openstack_conn.compute.create_server_image(server_id, "second")
    openstack_frozen.advance(10)
    assert openstack_conn.image.get_image(image.id).status == "saving"
    openstack_frozen.advance(30)
    assert openstack_conn.image.get_image(image.id).status == "active"
    assert openstack_conn.compute.get_server(server_id).task_state is None


def test_failed_upload_of_an_image_backed_server_deletes_the_image(openstack_frozen, openstack_conn):
    openstack_frozen.openstack_config(image_queued_seconds=10, image_seconds_base=30, image_seconds_per_gib=0)
    server_id = openstack_frozen.seed_server(name="web")["server_id"]
    openstack_frozen.fail_openstack_snapshots(server_id=server_id)
    image = openstack_conn.compute.create_server_image(server_id, "web-snap")
    openstack_frozen.advance(10)
    assert openstack_conn.image.get_image(image.id).status == "saving"
    openstack_frozen.advance(15)
    # Nova deletes the image of a failed snapshot and the server is free again.
    with pytest.raises(exceptions.NotFoundException):
        openstack_conn.image.get_image(image.id)
    assert openstack_conn.compute.get_server(server_id).task_state is None
    assert openstack_frozen.openstack_state()["snapshot_failures"] == []
    second = openstack_conn.compute.create_server_image(server_id, "web-snap-2")
    openstack_frozen.advance(40)
    assert openstack_conn.image.get_image(second.id).status == "active"


def test_create_image_of_volume_backed_server_is_active_before_its_snapshots(openstack_frozen, openstack_conn):
    openstack_frozen.openstack_config(snapshot_seconds_base=100, snapshot_seconds_per_gib=0)
    seeded = openstack_frozen.seed_server(boot="volume", name="db", volumes=[{"size": 4}])
    image = openstack_conn.compute.create_server_image(seeded["server_id"], "db-snap")
    assert (image.status, image.size) == ("active", 0)
    mappings = json.loads(image.properties["block_device_mapping"])
    assert [mapping["device_name"] for mapping in mappings] == ["/dev/vda", "/dev/vdb"]
    assert [mapping["boot_index"] for mapping in mappings] == [0, None]
    snapshots = [openstack_conn.block_storage.get_snapshot(mapping["snapshot_id"]) for mapping in mappings]
    assert [snapshot.status for snapshot in snapshots] == ["creating", "creating"]
    assert [snapshot.volume_id for snapshot in snapshots] == [volume["volume_id"] for volume in seeded["volumes"]]
    openstack_frozen.advance(100)
    assert {openstack_conn.block_storage.get_snapshot(snapshot.id).status for snapshot in snapshots} == {"available"}


def test_create_image_location_header_before_2_45_and_body_after(openstack_frozen, openstack_conn):
    server_id = openstack_frozen.seed_server()["server_id"]
    old = openstack_conn.compute.post(f"/servers/{server_id}/action", json={"createImage": {"name": "a"}}, microversion="2.1")
    assert old.status_code == 202
    assert old.headers["Location"].rsplit("/", 1)[-1] in {image.id for image in openstack_conn.image.images()}
    openstack_frozen.advance(3600)
    new = openstack_conn.compute.post(f"/servers/{server_id}/action", json={"createImage": {"name": "b"}}, microversion="2.45")
    assert new.headers["OpenStack-API-Version"] == "compute 2.45"
    assert "image_id" in new.json()
    too_new = openstack_conn.compute.get("/servers", microversion="2.200")
    assert too_new.status_code == 406


def test_create_image_refused_while_building(openstack_frozen, openstack_conn):
    network = openstack_conn.network.find_network("private")
    flavor = openstack_conn.compute.find_flavor("m1.small")
    image = openstack_conn.image.find_image("cirros-0.6.3-x86_64-disk")
    server = openstack_conn.compute.create_server(name="new", image_id=image.id, flavor_id=flavor.id,
                                                  networks=[{"uuid": network.id, "fixed_ip": "10.0.0.77"}])
    assert openstack_conn.compute.get_server(server.id).status == "BUILD"
    with pytest.raises(exceptions.ConflictException):
        openstack_conn.compute.create_server_image(server.id, "too-early")
    openstack_frozen.advance(30)
    ready = openstack_conn.compute.wait_for_server(openstack_conn.compute.get_server(server.id), wait=1, interval=0.01)
    assert ready.addresses["private"][0]["addr"] == "10.0.0.77"


def test_injected_faults_have_the_nova_body_and_are_journaled(openstack_frozen, openstack_conn):
    server_id = openstack_frozen.seed_server()["server_id"]
    openstack_frozen.inject_fault("compute", "createImage", "overLimit", status=413, message="Maximum number of snapshots exceeded")
    response = openstack_conn.compute.post(f"/servers/{server_id}/action", json={"createImage": {"name": "x"}}, microversion="2.45")
    assert response.status_code == 413
    assert response.json() == {"overLimit": {"code": 413, "message": "Maximum number of snapshots exceeded"}}
    openstack_frozen.inject_fault("compute", "listServersDetail", "serviceUnavailable", status=503)
    with pytest.raises(exceptions.HttpException) as excinfo:
        list(openstack_conn.compute.servers())
    assert excinfo.value.status_code == 503
    entries = openstack_frozen.journal(service="compute")
    assert [(entry["action"], entry["status"], entry["error_code"]) for entry in entries if entry["status"] >= 400] == [
        ("createImage", 413, "overLimit"), ("listServersDetail", 503, "serviceUnavailable")]


def test_reset_wipes_servers_and_keeps_the_identity(openstack_frozen, openstack_conn):
    openstack_frozen.seed_server(name="gone")
    project_id = openstack_frozen.openstack_state()["identity"]["project_id"]
    openstack_frozen.reset()
    state = openstack_frozen.openstack_state()
    assert state["servers"] == [] and state["identity"]["project_id"] == project_id
    assert not list(openstack_conn.compute.servers())  # the old token is gone: the client authenticates again


def server_state(cloud, server_id: str) -> dict:
    return next(server for server in cloud.openstack_state()["servers"] if server["id"] == server_id)


def test_windows_copy_from_a_volume_snapshot_keeps_the_static_ip_until_dhcp(openstack_frozen, openstack_conn):
    original = openstack_frozen.seed_server(boot="volume", windows=True, guest_nic="static", fixed_ip="10.0.0.40")
    assert server_state(openstack_frozen, original["server_id"])["reachable"] is True
    snapshot = openstack_conn.block_storage.create_snapshot(volume_id=original["volumes"][0]["volume_id"], force=True)
    openstack_frozen.advance(3600)
    volume = openstack_conn.block_storage.create_volume(snapshot_id=snapshot.id, size=snapshot.size)
    openstack_frozen.advance(3600)
    network = openstack_conn.network.find_network("private")
    copy = openstack_conn.compute.create_server(
        name="win-copy", flavor_id="2", networks=[{"uuid": network.id}], config_drive=True,
        block_device_mapping=[{"boot_index": 0, "uuid": volume.id, "source_type": "volume", "destination_type": "volume"}])
    openstack_frozen.advance(60)
    state = server_state(openstack_frozen, copy.id)
    assert (state["windows"], state["guest_nic"], state["reachable"]) == (True, {"mode": "static", "ip": "10.0.0.40"}, False)
    assert state["config_drive"] is True
    assert openstack_frozen.set_guest_nic(copy.id, "dhcp")["reachable"] is True


def test_windows_copy_from_an_instance_snapshot_image_is_unreachable_too(openstack_frozen, openstack_conn):
    original = openstack_frozen.seed_server(windows=True, guest_nic="static", fixed_ip="10.0.0.41")
    image = openstack_conn.compute.create_server_image(original["server_id"], "win-image")
    openstack_frozen.advance(7200)
    network = openstack_conn.network.find_network("private")
    copy = openstack_conn.compute.create_server(name="win-copy", flavor_id="2", image_id=image.id, networks=[{"uuid": network.id}])
    openstack_frozen.advance(60)
    state = server_state(openstack_frozen, copy.id)
    assert (state["guest_nic"], state["reachable"]) == ({"mode": "static", "ip": "10.0.0.41"}, False)
    fresh = openstack_frozen.seed_server(windows=True, guest_nic="dhcp")
    assert server_state(openstack_frozen, fresh["server_id"])["reachable"] is True


def test_legacy_nova_microversion_header_and_version_documents(openstack_frozen, openstack_conn):
    legacy = openstack_conn.compute.get("/servers", headers={"X-OpenStack-Nova-API-Version": "2.50"})
    assert (legacy.headers["X-OpenStack-Nova-API-Version"], legacy.headers["OpenStack-API-Version"]) == ("2.50", "compute 2.50")
    root = openstack_frozen.openstack_auth_url.replace("/identity", "")
    compute = requests.get(root + "/compute/", timeout=10).json()["versions"][0]
    assert (compute["id"], compute["version"], compute["min_version"]) == ("v2.1", "2.103", "2.1")
    volume = requests.get(root + "/volume/", timeout=10).json()["versions"][0]
    assert (volume["version"], volume["min_version"]) == ("3.71", "3.0")
