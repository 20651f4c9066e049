# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reliability suite: the bad input catalogue.

Each case is one invalid input to one module; each must fail, with a message that names the field,
before anything changes in any cloud. Cases that the module can refuse from its arguments alone run
in one playbook that must leave the journals empty (not even a read); cases that need the cloud to
tell (a root volume given as a data volume...) run in a second playbook that may read, never write.
The module-specific tests already cover other inputs (``test_ebs_multi_snapshot.py`` has 14); none
of those is repeated here.
"""

from __future__ import annotations

from _reliability import SOME_INSTANCE_ID
from _reliability import mutating
from _reliability import openstack_sim  # noqa: F401  pylint: disable=unused-import
from _reliability import sim  # noqa: F401  pylint: disable=unused-import
from _reliability import task

I = SOME_INSTANCE_ID
SNAP = "snap-0123456789abcdef0"

# (module, parameters, what the message must name). Refused from the arguments: no API call at all.
REFUSED_FROM_ARGUMENTS = [
    # ebs_multi_snapshot: ids, names, tags, types, ranges, conflicts
    ("ebs_multi_snapshot", {"instance_id": "i-123"}, "instance_id"),
    ("ebs_multi_snapshot", {"instance_id": "i-0123456789ABCDEF0"}, "instance_id"),
    ("ebs_multi_snapshot", {"instance_id": I, "set_name": ""}, "set_name"),
    ("ebs_multi_snapshot", {"instance_id": I, "set_name": "na\u00efve"}, "set_name"),
    ("ebs_multi_snapshot", {"instance_id": I, "state": "gone"}, "state"),
    ("ebs_multi_snapshot", {"instance_id": I, "tags": {"": "x"}}, "tags"),
    ("ebs_multi_snapshot", {"instance_id": I, "tags": {"k" * 129: "v"}}, "tags"),
    ("ebs_multi_snapshot", {"instance_id": I, "tags": {"Team": "v" * 257}}, "tags"),
    ("ebs_multi_snapshot", {"instance_id": I, "tags": ["Team"]}, "tags"),
    ("ebs_multi_snapshot", {"instance_id": I, "wait_timeout": -5}, "wait_timeout"),
    ("ebs_multi_snapshot", {"instance_id": I, "stop_instance": "maybe"}, "stop_instance"),
    ("ebs_multi_snapshot", {"instance_id": I, "exclude_data_volume_ids": "vol-1"}, "exclude_data_volume_ids"),
    ("ebs_multi_snapshot", {"state": "absent", "snapshot_ids": [SNAP, "snap-XYZ"]}, "snapshot_ids"),
    ("ebs_multi_snapshot", {"instance_id": I, "volume_ids": ["vol-0123456789abcdef0"]}, "volume_ids"),
    # ebs_fleet_snapshot: the selection, the pool and rate, and the set options it shares with ebs_multi_snapshot
    ("ebs_fleet_snapshot", {"set_name": "nightly"}, "filters, instance_ids"),
    ("ebs_fleet_snapshot", {"filters": {"tag:Backup": "nightly"}, "instance_ids": [I]}, "filters, instance_ids"),
    ("ebs_fleet_snapshot", {"filters": {}}, "filters"),
    ("ebs_fleet_snapshot", {"instance_ids": [I, "i-xyz"]}, "instance_ids"),
    ("ebs_fleet_snapshot", {"instance_ids": [I], "max_concurrency": 0}, "max_concurrency"),
    ("ebs_fleet_snapshot", {"instance_ids": [I], "request_rate": -1}, "request_rate"),
    ("ebs_fleet_snapshot", {"instance_ids": [I], "state": "absent"}, "set_name"),
    ("ebs_fleet_snapshot", {"instance_ids": [I], "tags": {"snapkit:x": "y"}}, "tags"),
    ("ebs_fleet_snapshot", {"instance_ids": [I], "wait_timeout": 0}, "wait_timeout"),
    # ebs_snapshot_set_info
    ("ebs_snapshot_set_info", {"instance_ids": [I, "i-xyz"]}, "instance_ids"),
    ("ebs_snapshot_set_info", {"wait": True, "wait_timeout": -1}, "wait_timeout"),
    ("ebs_snapshot_set_info", {"tags": ["Team"]}, "tags"),
    ("ebs_snapshot_set_info", {"set_names": ["nightly"]}, "set_names"),
    # ebs_snapshot_set_retention
    ("ebs_snapshot_set_retention", {"keep_count": -1}, "keep_count"),
    ("ebs_snapshot_set_retention", {"keep_newer_than": "30"}, "keep_newer_than"),
    ("ebs_snapshot_set_retention", {"keep_newer_than": "30y"}, "keep_newer_than"),
    ("ebs_snapshot_set_retention", {"keep_count": 2, "instance_ids": ["I-0123456789ABCDEF0"]}, "instance_ids"),
    # lightsail_snapshot
    ("lightsail_snapshot", {"instance_name": "web-1", "snapshot_name": "-snap"}, "snapshot_name"),
    ("lightsail_snapshot", {"instance_name": "web-1", "snapshot_name": "snap_"}, "snapshot_name"),
    ("lightsail_snapshot", {"instance_name": "web 1", "snapshot_name": "snap-1"}, "instance_name"),
    ("lightsail_snapshot", {"snapshot_name": "snap-1"}, "instance_name"),
    ("lightsail_snapshot", {"instance_name": "web-1"}, "snapshot_name"),
    ("lightsail_snapshot", {"instance_name": "web-1", "snapshot_name": "snap-1", "wait_timeout": 0}, "wait_timeout"),
    ("lightsail_snapshot", {"instance_name": "web-1", "snapshot_name": "snap-1", "tags": {"aws:x": "y"}}, "tags"),
    # lightsail_instance_state
    ("lightsail_instance_state", {"instance_name": "web-1", "state": "rebooted"}, "state"),
    ("lightsail_instance_state", {"state": "stopped"}, "instance_name"),
    ("lightsail_instance_state", {"instance_name": "web-1", "state": "stopped", "wait_timeout": -1}, "wait_timeout"),
    # lightsail_instance_port
    ("lightsail_instance_port", {"instance_name": "web-1", "port": 70000, "cidr": "198.51.100.7/32"}, "port"),
    ("lightsail_instance_port", {"instance_name": "web-1", "port": 22, "to_port": 20, "cidr": "198.51.100.7/32"}, "to_port"),
    ("lightsail_instance_port", {"instance_name": "web-1", "port": 22, "cidr": "10.0.0.300/32"}, "cidr"),
    ("lightsail_instance_port", {"instance_name": "web-1", "port": 22, "cidr": "198.51.100.7/32", "protocol": "icmp"}, "protocol"),
    # lightsail_instance_from_snapshot
    ("lightsail_instance_from_snapshot", {"instance_name": "copy!", "snapshot_name": "snap-1"}, "instance_name"),
    ("lightsail_instance_from_snapshot", {"instance_name": "copy-1"}, "snapshot_name"),
    ("lightsail_instance_from_snapshot", {"instance_name": "copy-1", "snapshot_name": "snap-1", "tags": {"snapkit:x": "y"}}, "tags"),
    # lightsail_snapshot_info
    ("lightsail_snapshot_info", {"snapshot_names": ["snap-1", "bad name"]}, "snapshot_names"),
    ("lightsail_snapshot_info", {"states": ["deleted"]}, "states"),
    # os_volume_snapshot, os_instance_snapshot
    ("os_volume_snapshot", {"volume": "data", "server": "web-1", "name": "snap-1"}, "volume"),
    ("os_volume_snapshot", {"name": "snap-1"}, "server"),
    ("os_instance_snapshot", {"server": "web-1", "name": "snap-1", "method": "snapshot"}, "method"),
    ("os_instance_snapshot", {"server": "web-1"}, "name"),
]

# Refused once the cloud has been read: (module, parameters built from the seeded instance, field).
REFUSED_AFTER_READING = [
    ("ebs_multi_snapshot", lambda seeded: {"instance_id": seeded["instance_id"], "exclude_data_volume_ids": [seeded["volumes"][0]["volume_id"]]},
     "exclude_data_volume_ids"),
    ("ebs_multi_snapshot", lambda seeded: {"instance_id": seeded["instance_id"], "exclude_data_volume_ids": ["vol-0123456789abcdef0"]},
     "exclude_data_volume_ids"),
    ("ebs_multi_snapshot", lambda seeded: {"instance_id": seeded["instance_id"], "exclude_boot_volume": True,
                                           "exclude_data_volume_ids": [seeded["volumes"][1]["volume_id"]]}, "exclu"),
    ("ebs_fleet_snapshot", lambda seeded: {"instance_ids": [seeded["instance_id"]], "exclude_data_volume_ids": ["vol-0123456789abcdef0"]},
     "exclude_data_volume_ids"),
    ("ebs_fleet_snapshot", lambda seeded: {"instance_ids": [seeded["instance_id"]], "exclude_data_volume_ids": [seeded["volumes"][0]["volume_id"]]},
     "exclude_data_volume_ids"),
    ("lightsail_instance_state", lambda seeded: {"instance_name": "nowhere-1", "state": "stopped"}, "instance_name"),
    ("lightsail_instance_port", lambda seeded: {"instance_name": "nowhere-1", "port": 22, "cidr": "198.51.100.7/32"}, "instance_name"),
]


def run_catalogue(sim, ansible, cases, seeded=None):  # pylint: disable=redefined-outer-name
    """One playbook, one task per case; the list of (case, result)."""
    tasks = []
    for number, (module, params, _field) in enumerate(cases):
        params = params(seeded) if callable(params) else dict(params)
        tasks.append(task(sim, module, f"case_{number}", **params))
    run = ansible.run(tasks)
    return [(case, run[f"case_{number}"]) for number, case in enumerate(cases)]


def refusals_that_miss(outcomes):
    """The cases that did not fail, or failed without naming their field: (module, field, message)."""
    missed = []
    for (module, _params, field), result in outcomes:
        message = str(result.get("msg", ""))
        if not result.get("failed") or field not in message:
            missed.append((module, field, message[:300]))
    return missed


def test_refused_from_the_arguments_alone_with_no_api_call(sim, ansible):  # pylint: disable=redefined-outer-name
    assert len(REFUSED_FROM_ARGUMENTS) + len(REFUSED_AFTER_READING) >= 40
    outcomes = run_catalogue(sim, ansible, REFUSED_FROM_ARGUMENTS)
    assert refusals_that_miss(outcomes) == []
    assert sim.journal() == [], "argument checks come before the first API call"


def test_refused_after_reading_the_cloud_with_nothing_changed(sim, ansible):  # pylint: disable=redefined-outer-name
    seeded = sim.seed_instance(volumes=[{"size": 8}, {"size": 4}])
    outcomes = run_catalogue(sim, ansible, REFUSED_AFTER_READING, seeded)
    assert refusals_that_miss(outcomes) == []
    assert mutating(sim.journal()) == []
    assert sim.ec2_state()["snapshots"] == [] and sim.lightsail_state()["instance_snapshots"] == []
