# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reliability suite: a create whose answer is lost.

The cloud carries the create out, then the client gets a 500 (``processed`` faults, docs/cloudsim.md): a server error
after the commit, or a connection dropped on the way back. The module cannot tell that from a create that did nothing,
and a retry that sends the create again must not make a second snapshot, set, copy, volume or image. Every module that
creates something is run once with the answer of its create lost, and the cloud must hold exactly one of what it makes.
"""
# pytest fixtures are parameters named like the imported fixture functions.
# pylint: disable=redefined-outer-name

from __future__ import annotations

from _openstack import os_task
from _reliability import openstack_sim  # noqa: F401  pylint: disable=unused-import
from _reliability import sim  # noqa: F401  pylint: disable=unused-import
from test_reliability_ebs_sets import DESTINATION
from test_reliability_ebs_sets import copies_in
from test_reliability_ebs_sets import make_sets
from test_reliability_ebs_sets import restored_volumes
from test_reliability_ebs_sets import set_snapshot_ids
from test_reliability_ebs_sets import stopped_target
from test_reliability_faults import TWO_VOLUMES
from test_reliability_faults import sets_of
from test_reliability_openstack import made_by

EC2_LOST = ("InternalError", 500)
LIGHTSAIL_LOST = ("ServiceException", 500)
OPENSTACK_LOST = ("computeFault", 500)


def lose_the_answer(sim, service, action, fault):
    code, status = fault
    sim.inject_fault(service, action, code, status=status, processed=True)


def carried_out(sim, service, action):
    """The faulted call was journaled and the fault is spent: the step was exercised."""
    assert sim.faults() == [], sim.faults()
    assert any(e["action"] == action and e["status"] >= 500 for e in sim.journal(service=service)), action


def test_ebs_multi_snapshot_makes_one_set(sim, ansible):
    instance_id = sim.seed_instance(volumes=TWO_VOLUMES)["instance_id"]
    lose_the_answer(sim, "ec2", "CreateSnapshots", EC2_LOST)
    result = ansible.module("ebs_multi_snapshot", instance_id=instance_id, set_name="lost")
    carried_out(sim, "ec2", "CreateSnapshots")
    assert result.get("failed") is not True, result.get("msg")
    assert list(sets_of(sim, instance_id).values()) == [["completed", "completed"]]


def test_ebs_fleet_snapshot_makes_one_set_per_instance(sim, ansible):
    fleet = [sim.seed_instance(volumes=TWO_VOLUMES)["instance_id"] for _index in range(3)]
    lose_the_answer(sim, "ec2", "CreateSnapshots", EC2_LOST)
    result = ansible.module("ebs_fleet_snapshot", instance_ids=fleet, set_name="lost")
    carried_out(sim, "ec2", "CreateSnapshots")
    assert result.get("failed") is not True, result.get("msg")
    for instance_id in fleet:
        assert list(sets_of(sim, instance_id).values()) == [["completed", "completed"]], instance_id


def test_ebs_snapshot_set_copy_makes_one_copy_per_snapshot(sim, ansible):
    source = make_sets(sim, ansible, ["nightly"])
    lose_the_answer(sim, "ec2", "CopySnapshot", EC2_LOST)
    result = ansible.module("ebs_snapshot_set_copy", source_region=sim.region, region=DESTINATION,
                            instance_id=source["instance_id"], set_name="nightly")
    carried_out(sim, "ec2", "CopySnapshot")
    assert result.get("failed") is not True, result.get("msg")
    copies = copies_in(sim, DESTINATION, set_snapshot_ids(sim, source["instance_id"], "nightly"))
    assert sorted(len(ids) for ids in copies.values()) == [1, 1], copies


def test_ebs_snapshot_set_restore_makes_one_volume_per_snapshot(sim, ansible):
    source = make_sets(sim, ansible, ["nightly"])
    target = stopped_target(sim)
    lose_the_answer(sim, "ec2", "CreateVolume", EC2_LOST)
    result = ansible.module("ebs_snapshot_set_restore", instance_id=source["instance_id"], set_name="nightly",
                            target_instance_id=target["instance_id"], replace_root_volume=True)
    carried_out(sim, "ec2", "CreateVolume")
    assert result.get("failed") is not True, result.get("msg")
    volumes = restored_volumes(sim, target["instance_id"])
    assert sorted(v["VolumeId"] for v in volumes) == sorted(v["volume_id"] for v in result["volumes"]) and len(volumes) == 2


def test_lightsail_snapshot_and_instance_from_snapshot_make_one_each(sim, ansible):
    sim.seed_lightsail_instance("web-1")
    lose_the_answer(sim, "lightsail", "CreateInstanceSnapshot", LIGHTSAIL_LOST)
    snapshot = ansible.module("lightsail_snapshot", endpoint_url=sim.lightsail_url, instance_name="web-1", snapshot_name="web-1-lost")
    carried_out(sim, "lightsail", "CreateInstanceSnapshot")
    assert snapshot.get("failed") is not True, snapshot.get("msg")
    assert snapshot["changed"] is True and snapshot["snapshot"]["state"] == "available"

    lose_the_answer(sim, "lightsail", "CreateInstancesFromSnapshot", LIGHTSAIL_LOST)
    copy = ansible.module("lightsail_instance_from_snapshot", endpoint_url=sim.lightsail_url, instance_name="web-2",
                          snapshot_name="web-1-lost")
    carried_out(sim, "lightsail", "CreateInstancesFromSnapshot")
    assert copy.get("failed") is not True, copy.get("msg")
    assert copy["changed"] is True and copy["instance"]["state"] == "running"

    state = sim.lightsail_state()
    assert [(s["name"], s["state"]) for s in state["instance_snapshots"]] == [("web-1-lost", "available")]
    assert sorted(i["name"] for i in state["instances"]) == ["web-1", "web-2"]


def test_openstack_snapshots_and_images_are_made_once(sim, ansible):
    sim.seed_server(boot="image", name="vol-srv", volumes=[{"size": 1, "name": "vol-data"}])
    sim.seed_server(boot="image", name="image-srv")
    sim.seed_server(boot="volume", name="bfv-srv")
    lose_the_answer(sim, "volume", "createSnapshot", OPENSTACK_LOST)
    lose_the_answer(sim, "compute", "createImage", OPENSTACK_LOST)
    lose_the_answer(sim, "volume", "createSnapshot", OPENSTACK_LOST)
    run = ansible.run([os_task("os_volume_snapshot", "volume", volume="vol-data", name="volume-snap"),
                       os_task("os_instance_snapshot", "image", server="image-srv", name="image-snap"),
                       os_task("os_instance_snapshot", "bfv", server="bfv-srv", name="bfv-snap")])
    for name in ("volume", "image", "bfv"):
        assert run[name].get("failed") is not True, (name, run[name].get("msg"))
    assert sim.faults() == []
    assert made_by(sim, "volume") == {"images": [], "snapshots": ["available"]}
    assert made_by(sim, "image") == {"images": ["active"], "snapshots": []}
    assert made_by(sim, "bfv") == {"images": [], "snapshots": ["available"]}
