# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ebs_snapshot_set_copy: input rules, the tags and the request of each copy."""

from __future__ import annotations

import pytest

from ansible_collections.snapkit.cloud.plugins.module_utils._module import InputError
from ansible_collections.snapkit.cloud.plugins.modules import ebs_snapshot_set_copy as module

SOURCE = {"SnapshotId": "snap-0123456789abcdef0", "Description": "Nightly set", "VolumeSize": 20, "Tags": [
    {"Key": "snapkit:set-name", "Value": "nightly"}, {"Key": "snapkit:instance-id", "Value": "i-0123456789abcdef0"},
    {"Key": "snapkit:device", "Value": "/dev/sdf"}, {"Key": "aws:backup:source", "Value": "x"}, {"Key": "Team", "Value": "ops"},
]}


def params(**overrides):
    values = {name: spec.get("default") for name, spec in module.argument_spec().items()}
    values.update(source_region="eu-north-1", instance_id="i-0123456789abcdef0", set_name="nightly")
    values.update(overrides)
    return values


@pytest.mark.parametrize("overrides, field", [
    ({"source_region": "Europe"}, "source_region"),
    ({"set_name": None}, "set_name"),
    ({"snapshot_ids": ["snap-0123456789abcdef0"]}, "mutually exclusive"),
    ({"set_name": None, "instance_id": None, "snapshot_ids": ["snap-1"]}, "snapshot_ids"),
    ({"description": "d" * 256}, "description"),
    ({"wait_timeout": 0}, "wait_timeout"),
    ({"tags": {"snapkit:copied-from": "x"}}, "tags"),
    ({"tags": {f"k{n}": "v" for n in range(49)}}, "tags"),
])
def test_bad_input_names_the_field(overrides, field):
    with pytest.raises(InputError, match=field):
        module.validate(params(**overrides))


def test_copies_keep_the_set_tags_and_name_their_source():
    tags = module.copy_tags(SOURCE, "eu-north-1", {"Copy": "dr"})
    assert tags == {"snapkit:set-name": "nightly", "snapkit:instance-id": "i-0123456789abcdef0", "snapkit:device": "/dev/sdf",
                    "Team": "ops", "Copy": "dr", "snapkit:copied-from": "snap-0123456789abcdef0", "snapkit:source-region": "eu-north-1"}
    crowded = dict(SOURCE, Tags=[{"Key": f"k{n}", "Value": "v"} for n in range(49)])
    with pytest.raises(InputError, match="snap-0123456789abcdef0"):
        module.copy_tags(crowded, "eu-north-1", {})


def test_request_encrypts_only_when_asked_and_a_key_implies_encryption():
    tags = module.copy_tags(SOURCE, "eu-north-1", {})
    plain = module.copy_request(params(), SOURCE, tags)
    assert "Encrypted" not in plain and "KmsKeyId" not in plain and plain["Description"] == "Nightly set"
    assert plain["TagSpecifications"][0]["ResourceType"] == "snapshot"
    assert module.copy_request(params(encrypted=True), SOURCE, tags)["Encrypted"] is True
    keyed = module.copy_request(params(kms_key_id="alias/dr", description="DR"), SOURCE, tags)
    assert (keyed["Encrypted"], keyed["KmsKeyId"], keyed["Description"]) == (True, "alias/dr", "DR")
