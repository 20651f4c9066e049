# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The set queries behind ebs_snapshot_set_info: few calls whatever the fleet size, within EC2's filter limits."""

from __future__ import annotations

import pytest

from ansible_collections.snapkit.cloud.plugins.module_utils import _ebs_snapshot_set as sets
from ansible_collections.snapkit.cloud.plugins.module_utils._module import InputError
from ansible_collections.snapkit.cloud.plugins.modules import ebs_snapshot_set_info as module


def params(**overrides):
    values = {name: spec.get("default") for name, spec in module.argument_spec().items()}
    values.update(overrides)
    return values


def test_no_instance_filter_is_one_query_for_our_sets_only():
    queries = sets.set_queries("nightly", [], {"Team": "db"})
    assert queries == [[
        {"Name": "tag-key", "Values": ["snapkit:set-name"]},
        {"Name": "tag:snapkit:set-name", "Values": ["nightly"]},
        {"Name": "tag:Team", "Values": ["db"]},
    ]]


def test_instances_are_split_in_chunks_of_two_hundred_filter_values():
    instance_ids = [f"i-{n:017x}" for n in range(450)]
    queries = sets.set_queries(None, instance_ids + instance_ids[:10], {})
    assert [len(query[-1]["Values"]) for query in queries] == [200, 200, 50]
    assert sorted(v for query in queries for v in query[-1]["Values"]) == sorted(instance_ids)


@pytest.mark.parametrize("overrides, field", [
    ({"instance_ids": ["web-1"]}, "instance_ids"),
    ({"wait_timeout": 0}, "wait_timeout"),
])
def test_bad_input_names_the_field(overrides, field):
    with pytest.raises(InputError, match=field):
        module.validate(params(**overrides))
