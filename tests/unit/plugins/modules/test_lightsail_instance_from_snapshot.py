# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""lightsail_instance_from_snapshot: input rules and the guard that it keeps or deletes only instances it made."""

from __future__ import annotations

import pytest

from ansible_collections.snapkit.cloud.plugins.module_utils._module import InputError
from ansible_collections.snapkit.cloud.plugins.module_utils._module import ModuleFailure
from ansible_collections.snapkit.cloud.plugins.modules import lightsail_instance_from_snapshot as module


def params(**overrides):
    values = {name: spec.get("default") for name, spec in module.argument_spec().items()}
    values.update(instance_name="win-1-verify", snapshot_name="win-1-sysprep")
    values.update(overrides)
    return values


@pytest.mark.parametrize("overrides, field", [
    ({"snapshot_name": None}, "snapshot_name"), ({"instance_name": "x"}, "instance_name"), ({"snapshot_name": "bad name"}, "snapshot_name"),
    ({"wait_timeout": 0}, "wait_timeout"), ({"tags": {"snapkit:from-snapshot": "other"}}, "tags"),
])
def test_bad_input_names_the_field(overrides, field):
    with pytest.raises(InputError, match=f"^{field}:"):
        module.validate(params(**overrides))


def test_absent_needs_no_snapshot_name():
    module.validate(params(state="absent", snapshot_name=None))


def test_only_instances_tagged_by_the_module_are_kept_or_deleted():
    ours = {"name": "win-1-verify", "tags": [{"key": module.SOURCE_TAG, "value": "win-1-sysprep"}]}
    module.check_ours(ours, "win-1-sysprep")
    module.check_ours(ours, None)
    with pytest.raises(ModuleFailure, match="made from snapshot win-1-sysprep, not from other"):
        module.check_ours(ours, "other")
    with pytest.raises(ModuleFailure, match="not made by this module"):
        module.check_ours({"name": "win-1", "tags": []}, None)
