# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The retention rule of ebs_snapshot_set_retention, on made-up sets."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.snapkit.cloud.plugins.module_utils._module import InputError
from ansible_collections.snapkit.cloud.plugins.modules import ebs_snapshot_set_retention as module

NOW = datetime.datetime(2026, 11, 22, tzinfo=datetime.timezone.utc)


def a_set(instance_id, name, days_old, state="completed"):
    return {"instance_id": instance_id, "set_name": name, "state": state, "snapshots": [],
            "start_time": (NOW - datetime.timedelta(days=days_old)).isoformat()}


def names(found_sets):
    return sorted(f"{s['instance_id']}/{s['set_name']}" for s in found_sets)


SETS = [a_set("i-1", "d1", 1), a_set("i-1", "d5", 5), a_set("i-1", "d9", 9), a_set("i-1", "d0", 0, "pending"),
        a_set("i-2", "d20", 20), a_set("i-2", "d40", 40, "error")]


def test_keep_count_per_instance_skips_pending_sets():
    deleted, kept, pending = module.decide(SETS, NOW, 2, None)
    assert names(kept) == ["i-1/d1", "i-1/d5", "i-2/d20", "i-2/d40"]
    assert names(deleted) == ["i-1/d9"]
    assert names(pending) == ["i-1/d0"]


def test_keep_newer_than_alone():
    deleted, kept, _pending = module.decide(SETS, NOW, None, "7d")
    assert names(kept) == ["i-1/d1", "i-1/d5"]
    assert names(deleted) == ["i-1/d9", "i-2/d20", "i-2/d40"]


def test_both_rules_delete_only_what_both_let_go():
    deleted, _kept, _pending = module.decide(SETS, NOW, 1, "7d")
    assert names(deleted) == ["i-1/d9", "i-2/d40"]


@pytest.mark.parametrize("text, seconds", [("30d", 2592000), ("12h", 43200), ("90m", 5400), ("2w", 1209600), (" 45s ", 45)])
def test_ages(text, seconds):
    assert module.parse_age(text) == seconds


@pytest.mark.parametrize("text", ["", "30", "d30", "1.5d", "30 days", "-3d"])
def test_bad_ages(text):
    with pytest.raises(InputError, match="keep_newer_than"):
        module.parse_age(text)
