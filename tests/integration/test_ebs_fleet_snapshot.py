# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""snapkit.cloud.ebs_fleet_snapshot through real playbook runs against the local EC2 cloud (visibility delay on)."""

from __future__ import annotations

import datetime

import pytest

from conftest import ec2_client
from conftest import mutating_calls
from test_ebs_multi_snapshot import assert_documented_keys
from test_ebs_multi_snapshot import instance_state

FOUR_VOLUMES = [{"size": 8, "type": "gp3", "device": "/dev/xvda"}] + [
    {"size": 4 + n, "type": "gp3", "device": f"/dev/sd{chr(ord('f') + n)}"} for n in range(3)
]


def seed_fleet(sim, count, tags=None, **extra):
    return [sim.seed_instance(volumes=FOUR_VOLUMES, tags=tags or {"Backup": "nightly"}, **extra) for _index in range(count)]


def by_instance(result):
    return {entry["instance_id"]: entry for entry in result["sets"]}


def when(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_filters_select_the_tagged_instances_and_each_gets_one_set(sim, ansible):
    fleet = seed_fleet(sim, 3)
    other = sim.seed_instance(volumes=FOUR_VOLUMES, tags={"Backup": "weekly"})
    result = ansible.module("ebs_fleet_snapshot", filters={"tag:Backup": "nightly"}, set_name="nightly", tags={"Team": "storage"})

    assert result["changed"] is True, result.get("msg")
    sets = by_instance(result)
    assert sorted(sets) == sorted(i["instance_id"] for i in fleet) and other["instance_id"] not in sets
    for seeded in fleet:
        entry = sets[seeded["instance_id"]]
        assert entry["state"] == "completed" and entry["failed"] is False and entry["set_name"] == "nightly"
        assert len(entry["snapshots"]) == 4 and len(entry["volumes"]) == 4
        assert len({s["start_time"] for s in entry["snapshots"]}) == 1
        assert all(s["tags"]["snapkit:instance-id"] == seeded["instance_id"] and s["tags"]["Team"] == "storage"
                   and s["tags"]["snapkit:device"] == s["device_name"] and s["tags"]["snapkit:volume"] == "type=gp3 iops=3000 throughput=125"
                   for s in entry["snapshots"])
    journal = sim.journal(service="ec2")
    assert [e["action"] for e in journal].count("CreateSnapshots") == 3
    assert [e["action"] for e in journal].count("DescribeInstances") == 1, "one DescribeInstances selects the fleet"
    # One CreateTags per distinct record (4 devices of identical instances), not one per snapshot (12).
    record_tags = [e for e in journal if e["action"] == "CreateTags" and e["status"] == 200]
    assert len(record_tags) == 4, [e["params"] for e in record_tags]
    assert_documented_keys(result, "ebs_fleet_snapshot")

    again = ansible.module("ebs_fleet_snapshot", filters={"tag:Backup": "nightly"}, set_name="nightly")
    assert again["changed"] is False, again.get("msg")
    assert [e["action"] for e in sim.journal(service="ec2")].count("CreateSnapshots") == 3, "a re-run creates nothing"
    assert {e["state"] for e in again["sets"]} == {"completed"}


def test_instance_ids_select_and_an_unknown_id_fails_only_its_own_set(sim, ansible):
    fleet = seed_fleet(sim, 2)
    unknown = "i-0123456789abcdef0"
    result = ansible.module("ebs_fleet_snapshot", instance_ids=[fleet[0]["instance_id"], unknown, fleet[1]["instance_id"]], set_name="ids")

    assert result["failed"] is True and unknown in result["msg"] and "1 of 3" in result["msg"]
    sets = by_instance(result)
    assert sets[unknown]["failed"] is True and "was not found" in sets[unknown]["msg"] and sets[unknown]["state"] == "absent"
    for seeded in fleet:
        assert sets[seeded["instance_id"]]["state"] == "completed" and sets[seeded["instance_id"]]["failed"] is False


def test_one_failing_set_among_good_ones_and_every_power_state_restored(sim, ansible):
    fleet = seed_fleet(sim, 3)
    stopped = sim.seed_instance(volumes=FOUR_VOLUMES, tags={"Backup": "nightly"}, state="stopped")
    hibernating = sim.seed_instance(volumes=FOUR_VOLUMES, tags={"Backup": "nightly"}, hibernation=True)
    sim.fail_snapshots(instance_id=fleet[1]["instance_id"], at_progress=40)
    result = ansible.module("ebs_fleet_snapshot", filters={"tag:Backup": "nightly"}, set_name="cold", stop_instance=True,
                            delete_on_failure=True)

    assert result["failed"] is True
    sets = by_instance(result)
    bad = sets[fleet[1]["instance_id"]]
    assert bad["failed"] is True and bad["state"] == "absent" and "were deleted" in bad["msg"], bad
    assert bad["instance_stopped"] is True and bad["instance_restarted"] is True
    assert sets[hibernating["instance_id"]]["failed"] is True and "hibernation" in sets[hibernating["instance_id"]]["msg"]
    for good in (fleet[0], fleet[2], stopped):
        assert sets[good["instance_id"]]["state"] == "completed" and sets[good["instance_id"]]["failed"] is False
    assert sets[stopped["instance_id"]]["instance_stopped"] is False, "found stopped: left as it was"
    for seeded in fleet + [hibernating]:
        assert instance_state(sim, seeded["instance_id"]) == "running"
    assert instance_state(sim, stopped["instance_id"]) == "stopped"
    assert "1 of" not in result["msg"] and "2 of 5" in result["msg"]


def test_create_snapshots_go_out_concurrently_within_max_concurrency(sim, ansible):
    fleet = seed_fleet(sim, 9)
    sim.ec2_config(create_snapshots_answer_seconds=1.0)
    result = ansible.module("ebs_fleet_snapshot", instance_ids=[i["instance_id"] for i in fleet], set_name="pool", max_concurrency=3, wait=False)

    assert result["changed"] is True and not result.get("failed"), result.get("msg")
    arrivals = sorted(when(e["real_time"]) for e in sim.journal(service="ec2", action="CreateSnapshots"))
    assert len(arrivals) == 9
    # Each call is answered 1 s after it arrives: the calls in flight when one arrives are those that arrived in the
    # second before it.
    in_flight = [sum(1 for other in arrivals if datetime.timedelta(0) <= moment - other < datetime.timedelta(seconds=1)) for moment in arrivals]
    assert max(in_flight) == 3, in_flight
    assert (arrivals[-1] - arrivals[0]).total_seconds() < 4.5, "three waves of three, not nine calls one after the other"


def test_check_mode_and_diff_change_nothing(sim, ansible):
    fleet = seed_fleet(sim, 2)
    result = ansible.module("ebs_fleet_snapshot", check=True, diff=True, filters={"tag:Backup": "nightly"}, set_name="check")

    assert result["changed"] is True
    assert result["diff"]["after"]["sets"] == sorted(i["instance_id"] for i in fleet)
    assert all(len(e["volumes"]) == 4 and e["snapshots"] == [] and e["state"] == "absent" for e in result["sets"])
    assert not mutating_calls(sim.journal(service="ec2"))


def test_absent_deletes_the_sets_of_the_fleet_and_only_those(sim, ansible):
    fleet = seed_fleet(sim, 2)
    made = ansible.module("ebs_fleet_snapshot", filters={"tag:Backup": "nightly"}, set_name="old")
    kept = ansible.module("ebs_fleet_snapshot", filters={"tag:Backup": "nightly"}, set_name="keep")
    assert made["changed"] and kept["changed"], (made.get("msg"), kept.get("msg"))

    check = ansible.module("ebs_fleet_snapshot", check=True, state="absent", filters={"tag:Backup": "nightly"}, set_name="old")
    assert check["changed"] is True and sum(len(e["snapshots"]) for e in check["sets"]) == 8
    gone = ansible.module("ebs_fleet_snapshot", state="absent", instance_ids=[i["instance_id"] for i in fleet], set_name="old")
    assert gone["changed"] is True, gone.get("msg")
    assert [e["action"] for e in sim.journal(service="ec2")].count("DeleteSnapshot") == 8
    left = ec2_client(sim).describe_snapshots(OwnerIds=["self"])["Snapshots"]
    assert {t["Value"] for s in left for t in s["Tags"] if t["Key"] == "snapkit:set-name"} == {"keep"}
    again = ansible.module("ebs_fleet_snapshot", state="absent", instance_ids=[i["instance_id"] for i in fleet], set_name="old")
    assert again["changed"] is False


@pytest.mark.parametrize("params, field", [
    ({"set_name": "x"}, "filters, instance_ids"),
    ({"filters": {"tag:Backup": "nightly"}, "instance_ids": ["i-0123456789abcdef0"]}, "filters, instance_ids"),
    ({"filters": {}}, "filters"),
    ({"instance_ids": ["bogus"]}, "instance_ids"),
    ({"instance_ids": ["i-0123456789abcdef0"], "max_concurrency": 0}, "max_concurrency"),
    ({"instance_ids": ["i-0123456789abcdef0"], "request_rate": 0}, "request_rate"),
    ({"instance_ids": ["i-0123456789abcdef0"], "set_name": "bad\nname"}, "set_name"),
    ({"instance_ids": ["i-0123456789abcdef0"], "state": "absent"}, "set_name"),
    ({"instance_ids": ["i-0123456789abcdef0"], "tags": {"snapkit:x": "y"}}, "tags"),
    ({"instance_ids": ["i-0123456789abcdef0"], "exclude_data_volume_ids": ["vol-1"]}, "exclude_data_volume_ids"),
])
def test_bad_input_is_refused_before_any_call(sim, ansible, params, field):
    result = ansible.module("ebs_fleet_snapshot", **params)

    assert result["failed"] is True and result["msg"].startswith(field + ":"), result["msg"]
    assert sim.journal(service="ec2") == []
