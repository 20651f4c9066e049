# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""lightsail_snapshot's input rules, its return format and its argument spec against its documentation."""

from __future__ import annotations

import datetime

import pytest
import yaml

from ansible_collections.snapkit.cloud.plugins.module_utils._module import InputError
from ansible_collections.snapkit.cloud.plugins.modules import lightsail_snapshot as module


def params(**overrides):
    values = {name: spec.get("default") for name, spec in module.argument_spec().items()}
    values.update(instance_name="web-1", snapshot_name="web-1-snap")
    values.update(overrides)
    return values


@pytest.mark.parametrize("name", ["ab", "a1", "Web-1.before_upgrade", "9-x_y.Z0", "a" * 255])
def test_good_snapshot_names_pass(name):
    module.validate(params(snapshot_name=name))


@pytest.mark.parametrize("name", [
    "a",             # too short
    "a" * 256,       # too long
    "-abc",          # must start with a letter or digit
    "abc-",          # must end with a letter or digit
    "_abc", "abc.",
    "has space",
    "semi;colon",
    "slash/name",
    "ünïcode",
    "",
])
def test_bad_snapshot_names_are_refused(name):
    with pytest.raises(InputError) as caught:
        module.validate(params(snapshot_name=name))
    assert "snapshot_name" in str(caught.value)


@pytest.mark.parametrize("overrides, field", [
    ({"instance_name": None}, "instance_name"),
    ({"instance_name": "bad name"}, "instance_name"),
    ({"wait_timeout": 0}, "wait_timeout"),
    ({"tags": {"": "empty"}}, "tags"),
    ({"tags": {"aws:thing": "v"}}, "tags"),
    ({"tags": {"snapkit:x": "v"}}, "tags"),
])
def test_bad_input_names_the_field(overrides, field):
    with pytest.raises(InputError) as caught:
        module.validate(params(**overrides))
    assert field in str(caught.value)


def test_absent_needs_no_instance_name():
    module.validate(params(state="absent", instance_name=None))


def test_formatted_snapshot_has_every_documented_key():
    documented = yaml.safe_load(module.RETURN)["snapshot"]["contains"]
    snapshot = {
        "name": "s1", "arn": "arn:x", "state": "available", "createdAt": datetime.datetime(2026, 11, 22, tzinfo=datetime.timezone.utc),
        "fromInstanceName": "web-1", "tags": [{"key": "team", "value": "web"}], "location": {"availabilityZone": "eu-west-1a", "regionName": "eu-west-1"},
    }
    result = module.formatted(snapshot)
    assert set(result) == set(documented) == set(module.SNAPSHOT_KEYS)
    assert result["tags"] == {"team": "web"}
    assert result["created_at"] == "2026-11-22T00:00:00+00:00"
    assert result["location"] == {"availability_zone": "eu-west-1a", "region_name": "eu-west-1"}
    assert module.formatted(None) == {}
