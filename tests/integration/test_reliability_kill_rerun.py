# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reliability suite: kill ``ansible-playbook`` (SIGKILL, the whole process group) and run it again.

For each procedure a clean run gives the number of API calls it makes; kill points are drawn from
that range with a seeded random (so a failure can be replayed), and each killed run is started on
a fresh instance. After the kill the procedure is run again, and the cloud's state (read through
the control API, not journaled) must show it finished: one set or snapshot, complete, no duplicate,
and the instance in the power state it started in.

The kill takes the whole process tree, as when the machine running the job dies (ansible's workers
call setsid, so killing the process group would let the module finish its work). A kill between
StopInstances and StartInstances leaves the instance stopped; ebs_multi_snapshot tags the instance
``snapkit:stopped-for-snapshot`` before it stops it, so the rerun knows the instance was running and starts
it again. Every kill point must therefore end running, with one complete set and the tag gone. The kill
points inside that window are drawn apart from the others (``kill_points_in_window``), so that the
window is always tried.
"""

from __future__ import annotations

from _collection import STOPPED_FOR_SET_TAG
from _reliability import aws_cloud  # noqa: F401  pylint: disable=unused-import
from _reliability import aws_sim as sim  # noqa: F401  pylint: disable=unused-import
from _reliability import ec2_power_states
from _reliability import kill_points
from _reliability import kill_points_in_window
from _reliability import kill_rng  # noqa: F401  pylint: disable=unused-import
from _reliability import lightsail_firewall
from _reliability import module_command
from _reliability import role_command
from _reliability import run_and_kill
from _reliability import run_to_the_end
from _reliability import task

STOP_MARK = STOPPED_FOR_SET_TAG
TWO_VOLUMES = [{"size": 8, "device": "/dev/xvda"}, {"size": 4, "device": "/dev/sdf"}]


def assert_unmarked(sim, instance_id):  # pylint: disable=redefined-outer-name
    """The rerun removed the mark ebs_multi_snapshot puts on an instance it stops."""
    for instance in sim.ec2_state()["instances"]:
        if instance["instance_id"] == instance_id:
            assert STOP_MARK not in (instance.get("tags") or {}), (instance_id, instance.get("tags"))


def ec2_sets(sim, instance_id):  # pylint: disable=redefined-outer-name
    """{set id: {snapshot states}} of this instance's volumes."""
    state = sim.ec2_state()
    volumes = {v for instance in state["instances"] if instance["instance_id"] == instance_id for v in instance["volumes"].values()}
    found = {}
    for snapshot in state["snapshots"]:
        if snapshot["volume_id"] in volumes:
            found.setdefault(snapshot["set_id"], set()).add(snapshot["state"])
    return found


def test_ebs_multi_snapshot_with_stop_instance_killed_and_rerun(sim, ansible, kill_rng):  # pylint: disable=redefined-outer-name
    def procedure(instance_id, name):
        return module_command(sim, ansible, [task(sim, "ebs_multi_snapshot", "made", instance_id=instance_id, set_name="killed",
                                                  stop_instance=True)], name)

    clean_instance = sim.seed_instance(volumes=TWO_VOLUMES)["instance_id"]
    since = sim.journal()[-1]["seq"] if sim.journal() else 0
    assert run_to_the_end(*procedure(clean_instance, "clean")).returncode == 0
    clean_calls = sim.journal(service="ec2", since=since)
    for point in kill_points_in_window(kill_rng, clean_calls, "StopInstances", "StartInstances"):
        instance_id = sim.seed_instance(volumes=TWO_VOLUMES)["instance_id"]
        seen = run_and_kill(sim, *procedure(instance_id, f"killed-{point}"), "ec2", point)
        rerun = run_to_the_end(*procedure(instance_id, f"rerun-{point}"))

        assert rerun.returncode == 0, (point, rerun.stdout[-2000:])
        sets = ec2_sets(sim, instance_id)
        assert list(sets.values()) == [{"completed"}], f"killed after call {point} ({seen[-1]['action']}): {sets}"
        assert ec2_power_states(sim, [instance_id])[instance_id] == "running", (point, [e["action"] for e in seen])
        assert_unmarked(sim, instance_id)


def test_ebs_fleet_snapshot_with_stop_instance_killed_and_rerun(sim, ansible, kill_rng):  # pylint: disable=redefined-outer-name
    def procedure(instance_ids, name):
        return module_command(sim, ansible, [task(sim, "ebs_fleet_snapshot", "made", instance_ids=instance_ids, set_name="killed",
                                                  stop_instance=True)], name)

    clean_fleet = [sim.seed_instance(volumes=TWO_VOLUMES)["instance_id"] for _index in range(2)]
    since = sim.journal()[-1]["seq"] if sim.journal() else 0
    assert run_to_the_end(*procedure(clean_fleet, "clean")).returncode == 0
    clean_calls = sim.journal(service="ec2", since=since)
    for point in kill_points_in_window(kill_rng, clean_calls, "StopInstances", "StartInstances"):
        fleet = [sim.seed_instance(volumes=TWO_VOLUMES)["instance_id"] for _index in range(2)]
        seen = run_and_kill(sim, *procedure(fleet, f"killed-{point}"), "ec2", point)
        rerun = run_to_the_end(*procedure(fleet, f"rerun-{point}"))

        assert rerun.returncode == 0, (point, rerun.stdout[-2000:])
        for instance_id in fleet:
            sets = ec2_sets(sim, instance_id)
            assert list(sets.values()) == [{"completed"}], f"killed after call {point} ({seen[-1]['action']}): {instance_id} {sets}"
            assert ec2_power_states(sim, [instance_id])[instance_id] == "running", (point, instance_id, [e["action"] for e in seen])
            assert_unmarked(sim, instance_id)


def test_ebs_role_over_a_small_fleet_killed_and_rerun(sim, ansible, kill_rng):  # pylint: disable=redefined-outer-name
    variables = {"ebs_instance_snapshot_set_name": "killed", "ebs_instance_snapshot_stop_instance": True}
    clean_hosts = {"web0": sim.seed_instance(volumes=TWO_VOLUMES)["instance_id"]}
    since = sim.journal()[-1]["seq"] if sim.journal() else 0
    clean = run_to_the_end(*role_command(sim, ansible, clean_hosts, **variables))
    assert clean.returncode == 0, clean.stdout[-2000:]
    clean_calls = sim.journal(service="ec2", since=since)
    for point in kill_points_in_window(kill_rng, clean_calls, "StopInstances", "StartInstances"):
        hosts = {f"web{n}": sim.seed_instance(volumes=TWO_VOLUMES)["instance_id"] for n in range(2)}
        seen = run_and_kill(sim, *role_command(sim, ansible, hosts, **variables), "ec2", point)
        rerun = run_to_the_end(*role_command(sim, ansible, hosts, **variables))

        assert rerun.returncode == 0, (point, rerun.stdout[-2000:])
        for instance_id in hosts.values():
            sets = ec2_sets(sim, instance_id)
            assert list(sets.values()) == [{"completed"}], f"killed after call {point} ({seen[-1]['action']}): {instance_id} {sets}"
            touched = [e["action"] for e in seen if instance_id in e["params"].values()]
            assert ec2_power_states(sim, [instance_id])[instance_id] == "running", (point, instance_id, touched)
            assert_unmarked(sim, instance_id)


def test_lightsail_snapshot_killed_and_rerun(sim, ansible, kill_rng):  # pylint: disable=redefined-outer-name
    def procedure(instance_name, name):
        return module_command(sim, ansible, [task(sim, "lightsail_snapshot", "made", instance_name=instance_name,
                                                  snapshot_name=f"{instance_name}-snap")], name)

    sim.seed_lightsail_instance("clean-1")
    since = sim.journal()[-1]["seq"] if sim.journal() else 0
    assert run_to_the_end(*procedure("clean-1", "clean")).returncode == 0
    clean_calls = sim.journal(service="lightsail", since=since)
    for point in kill_points(kill_rng, clean_calls):
        name = f"web-{point}"
        sim.seed_lightsail_instance(name)
        firewall = lightsail_firewall(sim, name)
        seen = run_and_kill(sim, *procedure(name, f"killed-{point}"), "lightsail", point)
        rerun = run_to_the_end(*procedure(name, f"rerun-{point}"))

        assert rerun.returncode == 0, (point, rerun.stdout[-2000:])
        state = sim.lightsail_state()
        snapshots = [s for s in state["instance_snapshots"] if s["instance"] == name]
        assert [(s["name"], s["state"]) for s in snapshots] == [(f"{name}-snap", "available")], (point, [e["action"] for e in seen])
        assert {i["name"]: i["state"] for i in state["instances"]}[name] == "running"
        assert lightsail_firewall(sim, name) == firewall, (point, [e["action"] for e in seen])
