# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenStack simulator: rules of the real services that the first version missed (issue 16, items 9-14).

Cinder's zones apart from Nova's, volumes Nova makes when it boots a volume-backed server's image, a snapshot
delete the driver gives up, Nova's metadata key pattern, and Nova's 2026.1 microversion range. Checked with
openstacksdk and raw requests only.
"""
# pytest fixtures are parameters named like the imported fixture functions.
# pylint: disable=redefined-outer-name

from __future__ import annotations

import json

import pytest
import requests
from openstack import exceptions

from cloudsim.openstack.testing import clouds_yaml_file  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_cloud  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_conn  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import openstack_frozen  # noqa: F401  pylint: disable=unused-import
from cloudsim.openstack.testing import set_zones


def volume_of(cloud, volume_id):
    return next(item for item in cloud.openstack_state()["volumes"] if item["id"] == volume_id)


# Item 9: Cinder zones are not Nova zones ---------------------------------------------------------

def test_cinder_and_nova_have_their_own_zones(openstack_frozen, openstack_conn):
    set_zones(openstack_frozen, compute=["az-compute-1"], volume=["az-volume-1", "az-volume-2"])
    seeded = openstack_frozen.seed_server(boot="volume", name="db")
    server = openstack_conn.compute.get_server(seeded["server_id"])
    assert server.availability_zone == "az-compute-1"
    assert openstack_conn.block_storage.get_volume(seeded["volumes"][0]["volume_id"]).availability_zone == "az-volume-1"
    nova = openstack_conn.compute.get("/os-availability-zone").json()["availabilityZoneInfo"]
    cinder = openstack_conn.block_storage.get("/os-availability-zone").json()["availabilityZoneInfo"]
    assert [zone["zoneName"] for zone in nova] == ["az-compute-1"]
    assert [zone["zoneName"] for zone in cinder] == ["az-volume-1", "az-volume-2"]


def test_a_volume_in_a_nova_zone_is_refused_as_cinder_does(openstack_frozen, openstack_conn):
    set_zones(openstack_frozen, compute=["az-compute-1"], volume=["az-volume-1"])
    with pytest.raises(exceptions.BadRequestException) as refused:
        openstack_conn.block_storage.create_volume(size=1, availability_zone="az-compute-1")
    # cinder/exception.py InvalidAvailabilityZone, raised by the create flow (allow_availability_zone_fallback is off).
    assert "Availability zone 'az-compute-1' is invalid." in str(refused.value)
    assert openstack_conn.block_storage.create_volume(size=1, availability_zone="az-volume-1").availability_zone == "az-volume-1"


def test_a_volume_from_a_snapshot_stays_in_the_snapshots_zone(openstack_frozen, openstack_conn):
    set_zones(openstack_frozen, volume=["az-volume-1", "az-volume-2"])
    volume_id = openstack_frozen.seed_server(volumes=[{"size": 1}])["volumes"][0]["volume_id"]
    snapshot = openstack_conn.block_storage.create_snapshot(volume_id=volume_id, force=True)
    openstack_frozen.advance(3600)
    with pytest.raises(exceptions.BadRequestException) as refused:
        openstack_conn.block_storage.create_volume(size=1, snapshot_id=snapshot.id, availability_zone="az-volume-2")
    # cloned_volume_same_az (on by default): cinder/volume/flows/api/create_volume.py.
    assert "Volume must be in the same availability zone as the snapshot" in str(refused.value)
    made = openstack_conn.block_storage.create_volume(size=1, snapshot_id=snapshot.id)
    assert made.availability_zone == "az-volume-1"


def test_nova_refuses_a_zone_it_does_not_have(openstack_frozen, openstack_conn):
    set_zones(openstack_frozen, compute=["az-compute-1"], volume=["az-volume-1"])
    image = openstack_conn.image.find_image("cirros-0.6.3-x86_64-disk")
    with pytest.raises(exceptions.BadRequestException) as refused:
        openstack_conn.compute.create_server(name="x", flavor_id="1", image_id=image.id, networks="auto", availability_zone="az-volume-1")
    assert "The requested availability zone is not available" in str(refused.value)


# Item 10: booting the image of a volume-backed server ----------------------------------------------

def test_booting_a_volume_backed_servers_image_makes_volumes_from_its_snapshots(openstack_frozen, openstack_conn):
    set_zones(openstack_frozen, compute=["az-compute-1"], volume=["az-volume-1"])
    seeded = openstack_frozen.seed_server(boot="volume", name="db", root_size=5, volumes=[{"size": 2, "name": "data"}])
    image = openstack_conn.compute.create_server_image(seeded["server_id"], "db-image")
    openstack_frozen.advance(3600)
    mappings = json.loads(openstack_conn.image.get_image(image.id).properties["block_device_mapping"])
    snapshot_ids = {mapping["snapshot_id"] for mapping in mappings}
    network = openstack_conn.network.find_network("private")
    copy = openstack_conn.compute.create_server(name="db-copy", flavor_id="2", image_id=image.id, networks=[{"uuid": network.id}])
    openstack_frozen.advance(60)
    server = openstack_conn.compute.get_server(copy.id)
    # Nova keeps the image as the server's image; its disks are new volumes made from the image's snapshots.
    assert server.image.id == image.id
    attachments = sorted(openstack_conn.compute.volume_attachments(copy.id), key=lambda item: item.device)
    volumes = [openstack_conn.block_storage.get_volume(item.volume_id) for item in attachments]
    assert [item.device for item in attachments] == ["/dev/vda", "/dev/vdb"]
    assert {volume.snapshot_id for volume in volumes} == snapshot_ids
    assert [(volume.size, volume.is_bootable, volume.availability_zone) for volume in volumes] == [
        (5, True, "az-volume-1"), (2, False, "az-volume-1")]
    assert not set(seeded_id["volume_id"] for seeded_id in seeded["volumes"]) & {volume.id for volume in volumes}
    # Its own snapshot is a volume-backed one too: Cinder snapshots again, not an upload.
    again = openstack_conn.compute.create_server_image(copy.id, "db-copy-image")
    assert openstack_conn.image.get_image(again.id).size == 0


# Item 11: deleting a snapshot with dependent volumes --------------------------------------------

def test_deleting_a_snapshot_with_dependent_volumes_is_accepted_then_given_up(openstack_frozen, openstack_conn):
    volume_id = openstack_frozen.seed_server(volumes=[{"size": 1}])["volumes"][0]["volume_id"]
    snapshot = openstack_conn.block_storage.create_snapshot(volume_id=volume_id, force=True)
    openstack_frozen.advance(3600)
    openstack_conn.block_storage.create_volume(size=1, snapshot_id=snapshot.id)
    answer = openstack_conn.block_storage.delete(f"/snapshots/{snapshot.id}")
    assert answer.status_code == 202
    assert openstack_conn.block_storage.get_snapshot(snapshot.id).status == "deleting"
    openstack_frozen.advance(openstack_frozen.openstack_config()["snapshot_delete_seconds"])
    # cinder/volume/manager.py: SnapshotIsBusy from the driver puts the snapshot back to available.
    assert openstack_conn.block_storage.get_snapshot(snapshot.id).status == "available"


# Item 13: Nova's metadata keys --------------------------------------------------------------------

@pytest.mark.parametrize("key", ["bad/key", "", "k" * 256, "ä"])
def test_nova_refuses_metadata_keys_outside_its_pattern(openstack_frozen, openstack_conn, key):
    server_id = openstack_frozen.seed_server()["server_id"]
    image = openstack_conn.image.find_image("cirros-0.6.3-x86_64-disk")
    attempts = [
        lambda: openstack_conn.compute.post(f"/servers/{server_id}/metadata", json={"metadata": {key: "v"}}),
        lambda: openstack_conn.compute.post(f"/servers/{server_id}/action", json={"createImage": {"name": "i", "metadata": {key: "v"}}},
                                            microversion="2.45"),
        lambda: openstack_conn.compute.post("/servers", json={"server": {"name": "s", "flavorRef": "1", "imageRef": image.id,
                                                                         "networks": "auto", "metadata": {key: "v"}}},
                                            microversion="2.37"),
    ]
    for attempt in attempts:
        answer = attempt()
        assert answer.status_code == 400, answer.text
        assert "does not match any of the regexes: '^[a-zA-Z0-9-_:. ]{1,255}$'" in answer.json()["badRequest"]["message"]
    assert openstack_conn.compute.post(f"/servers/{server_id}/metadata", json={"metadata": {"Good key-1_:.": "v"}}).status_code == 200


# Item 14: microversions as Nova 2026.1 negotiates them ---------------------------------------------

def test_nova_2026_1_microversion_range(openstack_frozen, openstack_conn):
    root = openstack_frozen.openstack_auth_url.replace("/identity", "")
    document = requests.get(root + "/compute/v2.1/", timeout=10).json()["version"]
    assert (document["min_version"], document["version"]) == ("2.1", "2.103")
    seeded = openstack_frozen.seed_server()
    # openstacksdk asks up to 2.100 for servers: the real 2026.1 Nova takes it.
    server = openstack_conn.compute.get_server(seeded["server_id"])
    assert server.id == seeded["server_id"]
    assert openstack_frozen.journal(service="compute", action="showServer")[-1]["params"]["microversion"] == "2.100"
    shown = openstack_conn.compute.get(f"/servers/{seeded['server_id']}", microversion="2.100").json()["server"]
    assert shown["scheduler_hints"] == {} and shown["image"]["properties"] == {}
    older = openstack_conn.compute.get(f"/servers/{seeded['server_id']}", microversion="2.97").json()["server"]
    assert "scheduler_hints" not in older and "properties" not in older["image"]
    flavor = openstack_conn.compute.get("/flavors/1", microversion="2.102").json()["flavor"]
    assert "rxtx_factor" not in flavor and "OS-FLV-DISABLED:disabled" not in flavor
    assert "rxtx_factor" in openstack_conn.compute.get("/flavors/1", microversion="2.101").json()["flavor"]
    refused = openstack_conn.compute.get("/servers", microversion="2.104")
    assert refused.status_code == 406
    assert "Version 2.104 is not supported by the API. Minimum is 2.1 and maximum is 2.103." in refused.text
