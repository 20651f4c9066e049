# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenStack simulator: Cinder, Glance, Neutron and python-openstackclient, checked with third-party clients only."""
# pytest fixtures are parameters named like the imported fixture functions.
# pylint: disable=redefined-outer-name

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from openstack import exceptions

from cloudsim.openstack.testing import clouds_yaml_file  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_cloud  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_conn  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_frozen  # noqa: F401  pylint: disable=unused-import

OPENSTACK_CLI = os.path.join(os.path.dirname(sys.executable), "openstack")


def post_snapshot(conn, body: dict, microversion: str):
    """Raw Cinder create through openstacksdk's adapter, to choose the microversion and the exact body."""
    return conn.block_storage.post("/snapshots", json={"snapshot": body}, microversion=microversion)


def test_snapshot_of_in_use_volume_needs_force_below_3_66(openstack_frozen, openstack_conn):
    root_id = openstack_frozen.seed_server(boot="volume")["volumes"][0]["volume_id"]
    with pytest.raises(exceptions.BadRequestException) as excinfo:
        openstack_conn.block_storage.create_snapshot(volume_id=root_id, name="no-force")
    assert "status must be available, but current status is: in-use" in str(excinfo.value)
    snapshot = openstack_conn.block_storage.create_snapshot(volume_id=root_id, name="forced", force=True)
    assert snapshot.status == "creating"
    entry = openstack_frozen.journal(service="volume", action="createSnapshot")[-1]
    assert entry["params"]["snapshot"]["force"] is True


def test_force_rules_from_3_66_on(openstack_frozen, openstack_conn):
    root_id = openstack_frozen.seed_server(boot="volume")["volumes"][0]["volume_id"]
    omitted = post_snapshot(openstack_conn, {"volume_id": root_id}, "3.66")
    assert omitted.status_code == 202
    assert omitted.headers["OpenStack-API-Version"] == "volume 3.66"
    assert post_snapshot(openstack_conn, {"volume_id": root_id, "force": True}, "3.66").status_code == 202
    explicit_false = post_snapshot(openstack_conn, {"volume_id": root_id, "force": False}, "3.66")
    assert explicit_false.status_code == 400
    assert "badRequest" in explicit_false.json()
    assert post_snapshot(openstack_conn, {"volume_id": root_id, "force": False}, "3.65").status_code == 400


def test_snapshot_duration_grows_with_size_and_failures_end_in_error(openstack_frozen, openstack_conn):
    openstack_frozen.openstack_config(snapshot_seconds_base=10, snapshot_seconds_per_gib=10)
    seeded = openstack_frozen.seed_server(volumes=[{"size": 1}, {"size": 9}, {"size": 2}])
    small, big, failing = (volume["volume_id"] for volume in seeded["volumes"])
    openstack_frozen.fail_openstack_snapshots(volume_id=failing)
    snapshots = {volume_id: openstack_conn.block_storage.create_snapshot(volume_id=volume_id, force=True)
                 for volume_id in (small, big, failing)}
    openstack_frozen.advance(20)
    status = {volume_id: openstack_conn.block_storage.get_snapshot(snapshot.id).status for volume_id, snapshot in snapshots.items()}
    assert status == {small: "available", big: "creating", failing: "error"}
    with pytest.raises(exceptions.ResourceFailure):
        openstack_conn.block_storage.wait_for_status(snapshots[failing], status="available", failures=["error"], interval=0.01, wait=1)
    openstack_frozen.advance(80)
    assert openstack_conn.block_storage.get_snapshot(snapshots[big].id).status == "available"


def test_snapshot_list_filters_and_delete(openstack_frozen, openstack_conn):
    seeded = openstack_frozen.seed_server(volumes=[{"size": 1}, {"size": 1}])
    first, second = (volume["volume_id"] for volume in seeded["volumes"])
    for volume_id in (first, second):
        openstack_conn.block_storage.create_snapshot(volume_id=volume_id, name="daily", force=True)
    named = list(openstack_conn.block_storage.snapshots(name="daily", volume_id=second))
    assert [snapshot.volume_id for snapshot in named] == [second]
    with pytest.raises(exceptions.BadRequestException):
        openstack_conn.block_storage.delete_snapshot(named[0])  # still creating
    openstack_frozen.advance(3600)
    openstack_conn.block_storage.delete_snapshot(named[0])
    assert [snapshot.volume_id for snapshot in openstack_conn.block_storage.snapshots(name="daily")] == [first]


def test_volume_from_snapshot_is_bootable_and_boots_a_server(openstack_frozen, openstack_conn):
    openstack_frozen.openstack_config(volume_seconds_base=5, volume_seconds_per_gib=0)
    original = openstack_frozen.seed_server(boot="volume", root_size=10)
    root_id = original["volumes"][0]["volume_id"]
    snapshot = openstack_conn.block_storage.create_snapshot(volume_id=root_id, force=True)
    with pytest.raises(exceptions.BadRequestException):
        openstack_conn.block_storage.create_volume(snapshot_id=snapshot.id, size=10)  # snapshot not available yet
    openstack_frozen.advance(3600)
    with pytest.raises(exceptions.BadRequestException):
        openstack_conn.block_storage.create_volume(snapshot_id=snapshot.id, size=5)
    volume = openstack_conn.block_storage.create_volume(snapshot_id=snapshot.id, size=10, name="copy-root")
    assert volume.status == "creating"
    openstack_frozen.advance(5)
    volume = openstack_conn.block_storage.get_volume(volume.id)
    assert (volume.status, volume.is_bootable, volume.snapshot_id) == ("available", True, snapshot.id)
    network = openstack_conn.network.find_network("private")
    server = openstack_conn.compute.create_server(
        name="copy", flavor_id="2", networks=[{"uuid": network.id}],
        block_device_mapping=[{"boot_index": 0, "uuid": volume.id, "source_type": "volume", "destination_type": "volume",
                               "delete_on_termination": False}])
    openstack_frozen.advance(60)
    server = openstack_conn.compute.get_server(server.id)
    assert (server.status, server.image) == ("ACTIVE", {})
    assert server.addresses["private"][0]["addr"] != original["fixed_ip"]
    assert openstack_conn.block_storage.get_volume(volume.id).status == "in-use"


def test_glance_lists_gets_and_deletes_images(openstack_frozen, openstack_conn):
    server_id = openstack_frozen.seed_server(boot="volume")["server_id"]
    image = openstack_conn.compute.create_server_image(server_id, "bfv-image", metadata={"made_from": server_id})
    listed = {item.name: item for item in openstack_conn.image.images()}
    assert {"cirros-0.6.3-x86_64-disk", "windows-server-2022", "bfv-image"} <= set(listed)
    by_property = openstack_conn.image.get(f"/images?made_from={server_id}").json()["images"]
    assert [item["name"] for item in by_property] == ["bfv-image"]
    openstack_conn.image.delete_image(image)
    with pytest.raises(exceptions.NotFoundException):
        openstack_conn.image.get_image(image.id)
    assert len(openstack_frozen.openstack_state()["snapshots"]) == 1  # Glance does not delete Nova's Cinder snapshots


def test_neutron_ports_and_duplicate_fixed_ip(openstack_frozen, openstack_conn):
    seeded = openstack_frozen.seed_server(fixed_ip="10.0.0.20")
    network = openstack_conn.network.find_network("private")
    subnet = openstack_conn.network.get_subnet(network.subnet_ids[0])
    assert (subnet.cidr, subnet.is_dhcp_enabled) == ("10.0.0.0/24", True)
    ports = list(openstack_conn.network.ports(device_id=seeded["server_id"]))
    assert [port.fixed_ips[0]["ip_address"] for port in ports] == ["10.0.0.20"]
    with pytest.raises(exceptions.ConflictException):
        openstack_conn.network.create_port(network_id=network.id, fixed_ips=[{"ip_address": "10.0.0.20"}])
    free = openstack_conn.network.create_port(network_id=network.id, fixed_ips=[{"ip_address": "10.0.0.21"}])
    assert free.fixed_ips[0]["subnet_id"] == subnet.id


def run_openstack_cli(env: dict, commands: list[str]) -> tuple[list, str]:
    """Run commands in one interactive ``openstack`` session (its start-up costs seconds); their JSON outputs and stderr."""
    script = "".join(f"{command} -f json\n" for command in commands)
    done = subprocess.run([OPENSTACK_CLI], input=script, env=env, capture_output=True, text=True, timeout=300, check=False)
    decoder, outputs, position = json.JSONDecoder(), [], 0
    while done.stdout[position:].strip():
        position += len(done.stdout[position:]) - len(done.stdout[position:].lstrip())
        document, position = decoder.raw_decode(done.stdout, position)
        outputs.append(document)
    return outputs, done.stderr


def test_openstackclient_server_list_and_volume_snapshot_list(openstack_frozen, openstack_conn, clouds_yaml_file):
    seeded = openstack_frozen.seed_server(boot="volume", name="db", fixed_ip="10.0.0.30")
    openstack_frozen.seed_server(name="web")
    detached = openstack_conn.block_storage.create_volume(size=1, name="spare")
    openstack_frozen.advance(3600)
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=str(clouds_yaml_file), OS_CLOUD="devstack")
    outputs, stderr = run_openstack_cli(env, [
        "server list", f"volume snapshot create --volume {detached.id} spare-snap", "volume snapshot list",
        # openstackclient drops --force when the cloud supports 3.66, but openstacksdk then sends 3.65 without
        # force: a real Cinder refuses the in-use volume the same way.
        f"volume snapshot create --volume {seeded['volumes'][0]['volume_id']} --force root-snap",
    ])
    assert len(outputs) == 3, stderr
    servers = {server["Name"]: server for server in outputs[0]}
    snapshot, listed = outputs[1], outputs[2]
    assert set(servers) == {"db", "web"}
    assert servers["db"]["Status"] == "ACTIVE"
    assert servers["db"]["Networks"] == {"private": ["10.0.0.30"]}
    assert snapshot["status"] == "creating"
    assert [(item["Name"], item["Status"]) for item in listed] == [("spare-snap", "creating")]
    assert "current status is: in-use" in stderr


def test_cinder_faults_have_the_cinder_body(openstack_frozen, openstack_conn):
    volume_id = openstack_frozen.seed_server(volumes=[{"size": 1}])["volumes"][0]["volume_id"]
    openstack_frozen.inject_fault("volume", "createSnapshot", "overLimit", status=429, message="Too many requests")
    openstack_frozen.inject_fault("volume", "createSnapshot", "conflictingRequest", status=409, message="busy")
    throttled = post_snapshot(openstack_conn, {"volume_id": volume_id, "force": True}, "3.65")
    # Cinder's RateLimitFault: the wait in the header and in the body (1 s unless the fault gives retry_after).
    assert (throttled.status_code, throttled.json()) == (429, {"overLimit": {"code": 429, "message": "Too many requests", "retryAfter": "1"}})
    assert throttled.headers["Retry-After"] == "1"
    with pytest.raises(exceptions.ConflictException):
        openstack_conn.block_storage.create_snapshot(volume_id=volume_id, force=True)
    assert openstack_conn.block_storage.create_snapshot(volume_id=volume_id, force=True).status == "creating"
    codes = [(entry["status"], entry["error_code"], entry["params"]["microversion"])
             for entry in openstack_frozen.journal(service="volume", action="createSnapshot")]
    assert codes == [(429, "overLimit", "3.65"), (409, "conflictingRequest", "3.65"), (202, None, "3.65")]


def test_failure_plan_for_a_server_hits_create_image_snapshots(openstack_frozen, openstack_conn):
    seeded = openstack_frozen.seed_server(boot="volume", volumes=[{"size": 1}])
    openstack_frozen.fail_openstack_snapshots(server_id=seeded["server_id"])
    image = openstack_conn.compute.create_server_image(seeded["server_id"], "bfv")
    assert image.status == "active"
    openstack_frozen.advance(3600)
    statuses = [snapshot["status"] for snapshot in openstack_frozen.openstack_state()["snapshots"]]
    assert sorted(statuses) == ["available", "error"]  # one plan: the first volume's snapshot fails


def test_delete_on_termination_removes_the_volume_nova_made(openstack_frozen, openstack_conn):
    image = openstack_conn.image.find_image("cirros-0.6.3-x86_64-disk")
    server = openstack_conn.compute.create_server(
        name="bfv", flavor_id="1", networks="auto",
        block_device_mapping=[{"boot_index": 0, "uuid": image.id, "source_type": "image", "destination_type": "volume",
                               "volume_size": 2, "delete_on_termination": True}])
    openstack_frozen.advance(60)
    server = openstack_conn.compute.get_server(server.id)
    assert [(volume.delete_on_termination, server.image) for volume in server.attached_volumes] == [(True, {})]
    volume_id = server.attached_volumes[0].id
    openstack_conn.compute.delete_server(server)
    with pytest.raises(exceptions.NotFoundException):
        openstack_conn.block_storage.get_volume(volume_id)


def test_deleting_a_server_frees_its_volumes_and_ports(openstack_frozen, openstack_conn):
    seeded = openstack_frozen.seed_server(boot="volume", fixed_ip="10.0.0.60")
    server = openstack_conn.compute.get_server(seeded["server_id"])
    openstack_conn.compute.delete_server(server)
    openstack_conn.compute.wait_for_delete(server, interval=0.01, wait=1)
    assert openstack_conn.block_storage.get_volume(seeded["volumes"][0]["volume_id"]).status == "available"
    assert not list(openstack_conn.network.ports(device_id=seeded["server_id"]))


def test_snapshot_update_metadata_and_volume_bootable_flag(openstack_frozen, openstack_conn):
    volume_id = openstack_frozen.seed_server(volumes=[{"size": 1}])["volumes"][0]["volume_id"]
    snapshot = openstack_conn.block_storage.create_snapshot(volume_id=volume_id, force=True, name="a", metadata={"k1": "v1"})
    openstack_conn.block_storage.update_snapshot(snapshot, name="b", description="renamed")
    openstack_conn.block_storage.set_snapshot_metadata(snapshot, k2="v2")
    # A fresh copy: openstacksdk pops the key from its local metadata too (KeyError if it is not there).
    openstack_conn.block_storage.delete_snapshot_metadata(openstack_conn.block_storage.get_snapshot(snapshot.id), keys=["k1"])
    updated = openstack_conn.block_storage.get_snapshot(snapshot.id)
    assert (updated.name, updated.description, updated.metadata) == ("b", "renamed", {"k2": "v2"})
    assert openstack_conn.block_storage.get_volume(volume_id).is_bootable is False
    openstack_conn.block_storage.set_volume_bootable_status(volume_id, True)
    assert openstack_conn.block_storage.get_volume(volume_id).is_bootable is True
    assert not openstack_frozen.journal(action="unsupported")


def test_the_image_of_a_volume_backed_server_has_no_instance_uuid(openstack_frozen, openstack_conn):
    """Nova's snapshot_volume_backed builds the image from the server's image metadata and the request's metadata only;
    instance_uuid, user_id and image_type are set by compute_utils.create_image, the image-backed path (where the
    request's metadata wins over them)."""
    bfv = openstack_frozen.seed_server(boot="volume", name="bfv")["server_id"]
    web = openstack_frozen.seed_server(name="web")["server_id"]
    volume_backed = openstack_conn.compute.create_server_image(bfv, "bfv-image", metadata={"made_from": bfv})
    image_backed = openstack_conn.compute.create_server_image(web, "web-image", metadata={"image_type": "golden"})
    properties = openstack_conn.image.get_image(volume_backed.id).properties
    assert not {"instance_uuid", "user_id", "image_type"} & set(properties)
    assert properties["made_from"] == bfv and properties["root_device_name"] == "/dev/vda"
    assert openstack_conn.image.get_image(volume_backed.id).instance_uuid is None
    assert list(openstack_conn.image.images(instance_uuid=bfv)) == []
    shown = openstack_conn.image.get_image(image_backed.id)
    assert (shown.instance_uuid, shown.properties["image_type"]) == (web, "golden")
