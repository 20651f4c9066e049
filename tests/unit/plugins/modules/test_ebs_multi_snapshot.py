# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ebs_multi_snapshot's input rules and its argument spec against its documentation."""

from __future__ import annotations

import pytest

from ansible_collections.snapkit.cloud.plugins.module_utils._module import InputError
from ansible_collections.snapkit.cloud.plugins.modules import ebs_multi_snapshot as module


def params(**overrides):
    values = {name: spec.get("default") for name, spec in module.argument_spec().items()}
    values.update(instance_id="i-0123456789abcdef0")
    values.update(overrides)
    return values


def test_valid_input_passes():
    module.validate(params(set_name="nightly 2026-11-22", tags={"Team": "x"}, exclude_data_volume_ids=["vol-0123456789abcdef0"]))


@pytest.mark.parametrize("overrides, field", [
    ({"instance_id": None}, "instance_id"),
    ({"instance_id": "i-123"}, "instance_id"),
    ({"instance_id": "I-0123456789ABCDEF0"}, "instance_id"),
    ({"set_name": ""}, "set_name"),
    ({"set_name": "semi;colon"}, "set_name"),
    ({"exclude_data_volume_ids": ["vol-xyz"]}, "exclude_data_volume_ids"),
    ({"snapshot_ids": ["snap-0123456789abcdef0"]}, "snapshot_ids"),
    ({"state": "absent", "instance_id": None}, "state=absent"),
    ({"state": "absent", "snapshot_ids": ["snap-1"]}, "snapshot_ids"),
    ({"description": "x" * 256}, "description"),
    ({"wait_timeout": -5}, "wait_timeout"),
    ({"tags": {"": "empty"}}, "tags"),
    ({"tags": {"k" * 129: "v"}}, "tags"),
    ({"tags": {"key": "v" * 257}}, "tags"),
    ({"tags": {"AWS:thing": "v"}}, "tags"),
    ({"tags": {f"k{n}": "v" for n in range(47)}}, "tags"),
])
def test_bad_input_names_the_field(overrides, field):
    with pytest.raises(InputError) as caught:
        module.validate(params(**overrides))
    assert field in str(caught.value)


def test_forty_six_user_tags_fit_beside_our_four():
    module.validate(params(tags={f"k{n}": "v" for n in range(46)}))


def test_copied_tags_over_fifty_are_refused_naming_the_volume():
    volume = {"volume_id": "vol-1", "tags": [{"Key": f"v{n}", "Value": "x"} for n in range(49)]}
    with pytest.raises(InputError, match="vol-1"):
        module.check_copied_tag_count([volume], {"snapkit:set-name": "a", "snapkit:instance-id": "b"})
    # 46 copied + 2 set tags + the recorded device and volume attributes = 50.
    module.check_copied_tag_count([dict(volume, tags=volume["tags"][:46])], {"snapkit:set-name": "a", "snapkit:instance-id": "b"})
    with pytest.raises(InputError, match="vol-1"):
        module.check_copied_tag_count([dict(volume, tags=volume["tags"][:47])], {"snapkit:set-name": "a", "snapkit:instance-id": "b"})


def test_volume_record_round_trips():
    volume = {"device_name": "/dev/sdf", "volume_type": "gp3", "iops": 4000, "throughput": 250}
    tags = module.sets.volume_record(volume)
    assert tags == {"snapkit:device": "/dev/sdf", "snapkit:volume": "type=gp3 iops=4000 throughput=250"}
    assert module.sets.read_volume_record(tags) == ("/dev/sdf", {"volume_type": "gp3", "iops": 4000, "throughput": 250})
    st1 = module.sets.volume_record({"device_name": "/dev/sdg", "volume_type": "st1", "iops": None, "throughput": None})
    assert module.sets.read_volume_record(st1) == ("/dev/sdg", {"volume_type": "st1", "iops": None, "throughput": None})
    assert module.sets.read_volume_record({"snapkit:device": "/dev/sdf"}) is None
