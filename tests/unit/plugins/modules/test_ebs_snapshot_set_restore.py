# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ebs_snapshot_set_restore: input rules and the pure planning of a restore."""

from __future__ import annotations

import pytest

from ansible_collections.snapkit.cloud.plugins.module_utils import _ebs_restore as restore
from ansible_collections.snapkit.cloud.plugins.module_utils._module import InputError
from ansible_collections.snapkit.cloud.plugins.module_utils._module import ModuleFailure
from ansible_collections.snapkit.cloud.plugins.modules import ebs_snapshot_set_restore as module


def params(**overrides):
    values = {name: spec.get("default") for name, spec in module.argument_spec().items()}
    values.update(instance_id="i-0123456789abcdef0", set_name="nightly")
    values.update(overrides)
    return values


def snapshot(snapshot_id, device=None, attributes="type=gp3 iops=3000 throughput=125", volume_id="vol-1", size=8, **tags):
    all_tags = dict(tags)
    if device:
        all_tags.update({"snapkit:device": device, "snapkit:volume": attributes})
    return {"SnapshotId": snapshot_id, "VolumeId": volume_id, "VolumeSize": size,
            "Tags": [{"Key": k, "Value": v} for k, v in all_tags.items()]}


@pytest.mark.parametrize("overrides, field", [
    ({"set_name": None}, "set_name"),
    ({"snapshot_ids": ["snap-0123456789abcdef0"]}, "mutually exclusive"),
    ({"target_instance_id": "i-xyz"}, "target_instance_id"),
    ({"availability_zone": "nowhere"}, "availability_zone"),
    ({"replace_root_volume": True}, "replace_root_volume"),
    ({"wait_timeout": 0}, "wait_timeout"),
    ({"tags": {"snapkit:x": "y"}}, "tags"),
])
def test_bad_input_names_the_field(overrides, field):
    with pytest.raises(InputError, match=field):
        module.validate(params(**overrides))


def test_specs_come_from_recorded_tags_else_from_the_source_volume():
    recorded = snapshot("snap-a", "/dev/sdf", "type=io2 iops=5000", size=10, Name="db")
    older = snapshot("snap-b", volume_id="vol-2", size=125)
    source = {"vol-2": {"VolumeId": "vol-2", "VolumeType": "st1", "Attachments": [{"Device": "/dev/sdg"}]}}
    specs = restore.volume_specs([older, recorded], source)
    assert [(s["device_name"], s["volume_type"], s["iops"], s["size"]) for s in specs] == [
        ("/dev/sdf", "io2", 5000, 10), ("/dev/sdg", "st1", None, 125)]
    with pytest.raises(ModuleFailure, match="snap-b"):
        restore.volume_specs([older, recorded], {})


def test_create_request_keeps_the_original_attributes_and_re_keys_only_when_asked():
    spec = restore.volume_specs([snapshot("snap-a", "/dev/sdf", "type=gp3 iops=4000 throughput=250", size=20)], {})[0]
    request = restore.create_request(spec, "eu-north-1a", None, {"k": "v"})
    assert {k: request[k] for k in ("VolumeType", "Size", "Iops", "Throughput")} == {
        "VolumeType": "gp3", "Size": 20, "Iops": 4000, "Throughput": 250}
    assert "Encrypted" not in request and "KmsKeyId" not in request
    assert restore.create_request(spec, "eu-north-1a", "alias/k", {})["KmsKeyId"] == "alias/k"


def test_volume_tags_drop_our_set_tags_and_add_the_restore_tags():
    spec = restore.volume_specs([snapshot("snap-a", "/dev/sdf", **{"Name": "db", "snapkit:set-name": "nightly"})], {})[0]
    tags = restore.volume_tags(spec, "nightly", "i-0fedcba9876543210", {"Team": "ops"})
    assert tags == {"Name": "db", "Team": "ops", "snapkit:restored-from-set": "nightly",
                    "snapkit:restored-from-snapshot": "snap-a", "snapkit:restore-target": "i-0fedcba9876543210"}
    crowded = dict(spec, source_tags={f"k{n}": "v" for n in range(48)})
    with pytest.raises(InputError, match="snap-a"):
        restore.volume_tags(crowded, "nightly", "eu-north-1a", {})


def test_attachment_plan_refuses_foreign_devices_and_swaps_the_root_only_when_asked():
    specs = restore.volume_specs([snapshot("snap-r", "/dev/xvda"), snapshot("snap-d", "/dev/sdf")], {})
    target = {"InstanceId": "i-1", "RootDeviceName": "/dev/xvda",
              "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"VolumeId": "vol-root"}}]}
    to_attach, old_root, skipped = restore.attachment_plan(specs, {}, target, False)
    assert [s["device_name"] for s in to_attach] == ["/dev/sdf"] and old_root is None and skipped["snapshot_id"] == "snap-r"
    to_attach, old_root, skipped = restore.attachment_plan(specs, {}, target, True)
    assert len(to_attach) == 2 and old_root == "vol-root" and skipped is None
    busy = dict(target, BlockDeviceMappings=target["BlockDeviceMappings"] + [{"DeviceName": "/dev/sdf", "Ebs": {"VolumeId": "vol-x"}}])
    with pytest.raises(ModuleFailure, match="vol-x"):
        restore.attachment_plan(specs, {}, busy, False)
    ours = {"snap-d": {"VolumeId": "vol-x"}}
    assert restore.attachment_plan(specs, ours, busy, False)[0] == []
