# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The pure OpenStack snapshot rules: which volume is a server's root, when to send force, what a BFV image refers to."""

from __future__ import annotations

import json

import pytest

from ansible_collections.snapkit.cloud.plugins.module_utils import _os_snapshot as rules
from ansible_collections.snapkit.cloud.plugins.module_utils._module import InputError
from ansible_collections.snapkit.cloud.plugins.module_utils._module import ModuleFailure

SERVER = "4f3c2b1a-0000-4000-8000-000000000001"


def volume(volume_id, device, bootable):
    return {"id": volume_id, "device": device, "bootable": bootable}


# Root volume -------------------------------------------------------------------------------------

def test_the_only_bootable_volume_is_the_root_wherever_it_is_attached():
    volumes = [volume("data", "/dev/vda", False), volume("root", "/dev/vdb", True)]
    assert rules.find_root_volume(SERVER, volumes)["id"] == "root"


def test_scsi_and_ide_roots_are_found_without_assuming_vda():
    assert rules.find_root_volume(SERVER, [volume("data", "/dev/sdb", False), volume("root", "/dev/sda", True)])["id"] == "root"
    assert rules.find_root_volume(SERVER, [volume("root", "/dev/hda", True)])["id"] == "root"


def test_several_bootable_volumes_are_ordered_by_disk_letter():
    # A data volume created from an image is bootable too; the first disk is the root.
    volumes = [volume("from-image", "/dev/vdc", True), volume("root", "/dev/vda", True)]
    assert rules.find_root_volume(SERVER, volumes)["id"] == "root"


def test_root_device_name_wins_when_nova_shows_it():
    volumes = [volume("first", "/dev/vda", True), volume("root", "/dev/vdb", True)]
    assert rules.find_root_volume(SERVER, volumes, root_device_name="/dev/vdb")["id"] == "root"


@pytest.mark.parametrize("volumes, message", [
    ([], "no attached volumes"),
    ([volume("a", "/dev/vda", False), volume("b", "/dev/vdb", False)], "none of the volumes"),
    ([volume("a", "/dev/vda", True), volume("b", "/dev/sda", True)], "several bootable volumes"),
    ([volume("a", "auto", True), volume("b", None, True)], "several bootable volumes"),
])
def test_ambiguous_or_missing_roots_fail_naming_the_volumes(volumes, message):
    with pytest.raises(ModuleFailure, match=message) as raised:
        rules.find_root_volume(SERVER, volumes)
    assert SERVER in str(raised.value)
    for item in volumes:
        assert item["id"] in str(raised.value)


@pytest.mark.parametrize("device, index", [("/dev/vda", 0), ("/dev/sdb", 1), ("/dev/xvdc", 2), ("/dev/hdz", 25), ("/dev/vdaa", 26),
                                           ("vda", None), (None, None), ("/dev/nvme0n1", None)])
def test_device_index(device, index):
    assert rules.device_index(device) == index


def test_volume_backed_detection():
    assert rules.is_volume_backed("", []) is True
    assert rules.is_volume_backed(None, [volume("root", "/dev/vda", True)]) is True
    assert rules.is_volume_backed("image-1", [volume("data", "/dev/vdb", False)]) is False
    # imageRef plus an image-to-volume root mapping: Nova's root device names the volume.
    assert rules.is_volume_backed("image-1", [volume("root", "/dev/vda", True)], root_device_name="/dev/vda") is True


# Force -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("status, requested, microversion, expected", [
    ("in-use", None, (3, 65), True),     # openstacksdk's snapshot microversion: force is required
    ("in-use", None, None, True),        # unknown: true is right at every microversion
    ("in-use", None, (3, 66), None),     # not needed from 3.66 on
    ("available", None, (3, 65), None),  # never send false
    ("available", None, (3, 70), None),
    ("available", False, (3, 70), None),  # false is a 400 from 3.66 on: left out
    ("available", True, (3, 70), True),   # silently ignored by Cinder, sent as asked
    ("in-use", True, (3, 50), True),
])
def test_force_decision(status, requested, microversion, expected):
    assert rules.snapshot_force("vol-1", status, requested, microversion) is expected


def test_force_false_on_an_attached_volume_is_refused_before_any_change():
    with pytest.raises(ValueError, match="vol-1 is in-use.*force=false"):
        rules.snapshot_force("vol-1", "in-use", False, (3, 65))


@pytest.mark.parametrize("status", ["error", "creating", "deleting", "maintenance"])
def test_volumes_cinder_cannot_snapshot(status):
    with pytest.raises(ValueError, match=f"vol-1 is '{status}'"):
        rules.snapshot_force("vol-1", status, None, (3, 65))


@pytest.mark.parametrize("text, parsed", [("3.65", (3, 65)), ("3.100", (3, 100)), (None, None), ("latest", None), ("3", None)])
def test_parse_microversion(text, parsed):
    assert rules.parse_microversion(text) == parsed


# Volume-backed images ----------------------------------------------------------------------------

MAPPINGS = [
    {"source_type": "snapshot", "destination_type": "volume", "snapshot_id": "snap-data", "boot_index": None, "volume_size": 2},
    {"source_type": "snapshot", "destination_type": "volume", "snapshot_id": "snap-root", "boot_index": 0, "volume_size": 20},
    {"source_type": "blank", "destination_type": "local", "boot_index": -1},
]


def test_block_device_mapping_from_the_glance_json_string():
    mappings = rules.block_device_mapping({"block_device_mapping": json.dumps(MAPPINGS)})
    assert rules.bdm_snapshot_ids(mappings) == ["snap-data", "snap-root"]
    assert rules.root_mapping(mappings)["snapshot_id"] == "snap-root"


class Image:
    """openstacksdk's Image as far as the lookup reads it: known attributes, the rest in ``properties``."""

    def __init__(self, instance_uuid=None, **properties):
        self.instance_uuid = instance_uuid
        self.properties = properties


def test_the_server_of_an_image_from_nova_or_from_our_metadata():
    # Image-backed: Nova's instance_uuid; volume-backed: Nova sets none, our snapkit_server_id says it.
    assert rules.image_server_ids(Image(instance_uuid=SERVER, snapkit_server_id=SERVER)) == {SERVER}
    assert rules.image_server_ids(Image(snapkit_server_id=SERVER, root_device_name="/dev/vda")) == {SERVER}
    assert rules.image_server_ids(Image(root_device_name="/dev/vda")) == set()


def test_block_device_mapping_absent_or_broken():
    assert rules.block_device_mapping({}) == []
    assert rules.block_device_mapping({"block_device_mapping": "not json"}) == []
    assert rules.block_device_mapping({"block_device_mapping": MAPPINGS[:1]}) == MAPPINGS[:1]
    assert rules.root_mapping([]) is None


def test_windows_from_any_metadata():
    assert rules.is_windows({}, {"os_type": "Windows"}) is True
    assert rules.is_windows({"windows": "true"}) is True
    assert rules.is_windows({"os_type": "linux"}, None) is False


def test_metadata_values_become_strings_and_nested_values_are_refused():
    assert rules.string_metadata({"ticket": 42, "keep": True}) == {"ticket": "42", "keep": "True"}
    assert rules.string_metadata(None) == {}
    with pytest.raises(InputError, match="values of nested"):
        rules.string_metadata({"nested": {"a": 1}})
