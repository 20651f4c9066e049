# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reliability suite: the fault matrix of the AWS modules and the EBS role.

The steps come from the journal of a clean run of each procedure, so an API call a module starts to
make is covered without editing this file. Transient faults (throttling, 5xx, the snapshot limits)
are injected at every step at once, several kinds stacked on each action: the run must retry each to
success with no second set. So must a dropped connection (no HTTP answer) at every step, a change
carried out before its answer is lost. Hard faults (an action the caller may not perform) are injected one step
at a time, one task per step in one playbook: each must fail naming the instance, report every
snapshot it made, and leave the instance in its starting power state. Set failures (``error``) and
timeouts complete the matrix.
"""

from __future__ import annotations

import collections

from _collection import STOPPED_FOR_SET_TAG
from _reliability import aws_calls
from _reliability import aws_cloud  # noqa: F401  pylint: disable=unused-import
from _reliability import aws_sim as sim  # noqa: F401  pylint: disable=unused-import
from _reliability import drop_everywhere
from _reliability import ec2_power_states
from _reliability import run_role
from _reliability import task

EC2_THROTTLING = ("RequestLimitExceeded", 503)
EC2_5XX = [("InternalError", 500), ("ServiceUnavailable", 503)]
# The snapshot limits EC2 answers to CreateSnapshots while it is busy with the volume.
EC2_SNAPSHOT_LIMITS = [("ConcurrentSnapshotLimitExceeded", 400), ("SnapshotCreationPerVolumeRateExceeded", 400)]
LIGHTSAIL_THROTTLING = ("ThrottlingException", 400)
LIGHTSAIL_5XX = [("InternalFailure", 500), ("ServiceUnavailable", 503)]
# What a caller without the IAM permission gets: not retryable, the step fails.
EC2_DENIED = ("UnauthorizedOperation", 403)
TWO_VOLUMES = [{"size": 8, "device": "/dev/xvda"}, {"size": 4, "device": "/dev/sdf"}]


def steps(journal):
    """The actions of a clean run, in the order of their first call."""
    return list(dict.fromkeys(entry["action"] for entry in journal))


def inject_everywhere(sim, service, actions, faults):  # pylint: disable=redefined-outer-name
    """``faults(step number, action)`` once each on every action (stacked: one call of the action meets them in order)."""
    injected = []
    for number, action in enumerate(actions):
        for code, status in faults(number, action):
            sim.inject_fault(service, action, code, status=status, count=1)
            injected.append((action, code))
    return injected


def transient(throttling, server_errors, snapshot_limits=()):
    """Throttling on every step, then a 5xx whose kind alternates from step to step (each retry backs off for
    seconds of real time: stacking every kind on every step would cost minutes), and the limits on CreateSnapshots."""
    def faults(number, action):
        return [throttling, server_errors[number % len(server_errors)]] + (list(snapshot_limits) if action == "CreateSnapshots" else [])
    return faults


def unmet_faults(sim, injected, service):  # pylint: disable=redefined-outer-name
    """Injected (action, code) pairs that no call met: the step they were meant for was not exercised."""
    met = collections.Counter((entry["action"], entry["error_code"]) for entry in sim.journal(service=service) if entry["error_code"])
    return [pair for pair in injected if not met[pair]]


def sets_of(sim, instance_id):  # pylint: disable=redefined-outer-name
    """{set id: [snapshot states]} of the snapshots of this instance's volumes (from the control API: not journaled)."""
    state = sim.ec2_state()
    volumes = {volume for instance in state["instances"] if instance["instance_id"] == instance_id for volume in instance["volumes"].values()}
    found = collections.defaultdict(list)
    for snapshot in state["snapshots"]:
        if snapshot["volume_id"] in volumes:
            found[snapshot["set_id"]].append(snapshot["state"])
    return dict(found)


def test_ebs_multi_snapshot_retries_every_step_through_throttling_5xx_and_limits(sim, ansible):  # pylint: disable=redefined-outer-name
    instance_id = sim.seed_instance(volumes=TWO_VOLUMES)["instance_id"]
    clean = ansible.module("ebs_multi_snapshot", instance_id=instance_id, set_name="clean", stop_instance=True)
    assert clean["changed"] is True, clean.get("msg")
    actions = steps(sim.journal(service="ec2"))
    assert {"StopInstances", "CreateSnapshots", "StartInstances"} <= set(actions)
    sim.clear_journal()

    injected = inject_everywhere(sim, "ec2", actions,
                                 transient(EC2_THROTTLING, EC2_5XX, EC2_SNAPSHOT_LIMITS))
    result = ansible.module("ebs_multi_snapshot", instance_id=instance_id, set_name="faulted", stop_instance=True)

    assert result.get("failed") is not True, result.get("msg")
    assert sim.faults() == [] and unmet_faults(sim, injected, "ec2") == [], "every fault met its step"
    created = [e for e in sim.journal(service="ec2", action="CreateSnapshots") if e["status"] == 200]
    assert len(created) == 1, "retries never make a second set"
    assert {s["state"] for s in result["snapshots"]} == {"completed"} and len(result["snapshots"]) == 2
    assert len(sets_of(sim, instance_id)) == 2, "the clean set and the faulted one, nothing else"
    assert ec2_power_states(sim, [instance_id]) == {instance_id: "running"}
    assert result["instance_stopped"] is True and result["instance_restarted"] is True


def test_ebs_fleet_snapshot_retries_every_step_through_throttling_5xx_limits_and_drops(sim, ansible):  # pylint: disable=redefined-outer-name
    """The fleet module's steps (its pool's stops, creates and starts, the grouped CreateTags, the fleet wait) meet
    throttling, a 5xx and the snapshot limits, then a dropped connection each: every set is made once, every
    instance runs again."""
    fleet = [sim.seed_instance(volumes=TWO_VOLUMES)["instance_id"] for _index in range(2)]
    clean = ansible.module("ebs_fleet_snapshot", instance_ids=fleet, set_name="clean", stop_instance=True)
    assert clean["changed"] is True and not clean.get("failed"), clean.get("msg")
    actions = steps(sim.journal(service="ec2"))
    assert {"DescribeInstances", "StopInstances", "CreateSnapshots", "StartInstances", "CreateTags"} <= set(actions)

    for name, inject in (("faulted", lambda: inject_everywhere(sim, "ec2", actions, transient(EC2_THROTTLING, EC2_5XX, EC2_SNAPSHOT_LIMITS))),
                         ("dropped", lambda: drop_everywhere(sim, "ec2", actions))):
        sim.clear_journal()
        injected = inject()
        result = ansible.module("ebs_fleet_snapshot", instance_ids=fleet, set_name=name, stop_instance=True)

        assert result.get("failed") is not True, (name, result.get("msg"))
        assert sim.faults() == [] and unmet_faults(sim, injected, "ec2") == [], f"{name}: every fault met its step"
        assert [e["status"] for e in sim.journal(service="ec2", action="CreateSnapshots")].count(200) <= 2
        assert {e["state"] for e in result["sets"]} == {"completed"} and len(result["sets"]) == 2
        assert ec2_power_states(sim, fleet) == dict.fromkeys(fleet, "running")
    for instance_id in fleet:
        assert len(sets_of(sim, instance_id)) == 3, "the clean, faulted and dropped sets, nothing else"


def test_ebs_multi_snapshot_and_lightsail_snapshot_survive_a_dropped_connection_at_every_step(sim, ansible):  # pylint: disable=redefined-outer-name
    """No HTTP answer at every step: reads dropped on the way in, changes carried out and their answer lost. Each run
    ends with one set (one snapshot), and every drop met its step."""
    instance_id = sim.seed_instance(volumes=TWO_VOLUMES)["instance_id"]
    sim.seed_lightsail_instance("web-1")
    clean = ansible.module("ebs_multi_snapshot", instance_id=instance_id, set_name="clean", stop_instance=True)
    assert clean["changed"] is True, clean.get("msg")
    assert ansible.run([task(sim, "lightsail_snapshot", "clean", instance_name="web-1", snapshot_name="web-1-clean")])["clean"]["changed"]
    ec2_actions, lightsail_actions = steps(sim.journal(service="ec2")), steps(sim.journal(service="lightsail"))
    assert {"StopInstances", "CreateSnapshots", "StartInstances"} <= set(ec2_actions) and "CreateInstanceSnapshot" in lightsail_actions
    sim.clear_journal()

    dropped = drop_everywhere(sim, "ec2", ec2_actions)
    result = ansible.module("ebs_multi_snapshot", instance_id=instance_id, set_name="dropped", stop_instance=True)
    assert result.get("failed") is not True, result.get("msg")
    assert sim.faults() == [] and unmet_faults(sim, dropped, "ec2") == [], "every drop met its step"
    assert {s["state"] for s in result["snapshots"]} == {"completed"} and len(result["snapshots"]) == 2
    assert len(sets_of(sim, instance_id)) == 2, "the clean set and the dropped one, nothing else"
    assert ec2_power_states(sim, [instance_id]) == {instance_id: "running"}

    dropped = drop_everywhere(sim, "lightsail", lightsail_actions)
    run = ansible.run([task(sim, "lightsail_snapshot", "dropped", instance_name="web-1", snapshot_name="web-1-dropped")])
    assert run["dropped"].get("failed") is not True, run["dropped"].get("msg")
    assert run["dropped"]["snapshot"]["state"] == "available"
    assert sim.faults() == [] and unmet_faults(sim, dropped, "lightsail") == []
    assert sorted(s["name"] for s in sim.lightsail_state()["instance_snapshots"]) == ["web-1-clean", "web-1-dropped"]
    assert {i["name"]: i["state"] for i in sim.lightsail_state()["instances"]} == {"web-1": "running"}


def test_ebs_multi_snapshot_hard_fault_at_each_step_fails_cleanly(sim, ansible):  # pylint: disable=redefined-outer-name
    probe = sim.seed_instance(volumes=TWO_VOLUMES)["instance_id"]
    ansible.module("ebs_multi_snapshot", instance_id=probe, set_name="clean", stop_instance=True)
    actions = steps(sim.journal(service="ec2"))
    sim.clear_journal()

    cases = {action: sim.seed_instance(volumes=TWO_VOLUMES)["instance_id"] for action in actions}
    failing = sim.seed_instance(volumes=TWO_VOLUMES)["instance_id"]
    sim.fail_snapshots(instance_id=failing, at_progress=40)
    fault_url = sim.control_url + "/faults"
    tasks = []
    for number, (action, instance_id) in enumerate(cases.items()):
        code, status = EC2_DENIED
        tasks.append({"name": f"Deny {action}", "ansible.builtin.uri": {
            "url": fault_url, "method": "POST", "body_format": "json",
            "body": {"service": "ec2", "action": action, "code": code, "status": status, "count": 1}}})
        tasks.append(task(sim, "ebs_multi_snapshot", f"case_{number}", instance_id=instance_id, set_name="denied", stop_instance=True))
    tasks.append(task(sim, "ebs_multi_snapshot", "set_error", instance_id=failing, set_name="doomed", stop_instance=True))
    run = ansible.run(tasks)

    problems = []
    for number, (action, instance_id) in enumerate(cases.items()):
        problems.extend(f"{action}: {problem}" for problem in hard_fault_problems(sim, run[f"case_{number}"], action, instance_id))
    assert not problems, "\n".join(problems)
    assert sim.faults() == []

    doomed = run["set_error"]
    assert doomed.get("failed") is True and failing in doomed["msg"] and "error" in doomed["msg"], doomed.get("msg")
    assert {s["state"] for s in doomed["snapshots"]} == {"error"} and len(doomed["snapshots"]) == 2, "the set fails as a whole"
    assert ec2_power_states(sim, [failing]) == {failing: "running"}


# Best-effort steps: refused, the module warns and goes on (the set exists and is usable).
BEST_EFFORT_STEPS = {"CreateTags", "DeleteTags"}
# Every refused call's message names the instance (and the set), and every snapshot made is reported,
# also when the restart is refused and the instance is left stopped (the message says so).
MESSAGE_NAMES_INSTANCE = {"DescribeInstances", "DescribeSnapshots", "DescribeVolumes", "StopInstances", "CreateSnapshots", "StartInstances"}
REPORTS_SNAPSHOTS_WHEN_REFUSED = MESSAGE_NAMES_INSTANCE | BEST_EFFORT_STEPS


def hard_fault_problems(sim, result, action, instance_id):  # pylint: disable=redefined-outer-name
    """What is wrong with the outcome of a refused ``action``: it fails naming the refused call and its error code
    (best-effort steps: succeeds with a warning naming each snapshot), reports the snapshots it made, and leaves the
    instance running (stopped when the refused call is the restart)."""
    made = set(_snapshot_ids(sim, instance_id))
    problems = []
    if action in BEST_EFFORT_STEPS:
        warnings = " ".join(result.get("warnings", []))
        # One CreateTags is refused (the fault counts one call). With stop_instance the first is the mark written on
        # the instance before the stop: the warning names the instance and the mark, and the set is made all the same.
        if result.get("failed") or not made or not (instance_id in warnings and STOPPED_FOR_SET_TAG in warnings):
            problems.append(f"expected success with a warning naming {instance_id} and its mark: {result.get('msg')} {warnings}")
    elif result.get("failed") is not True:
        return ["did not fail"]
    else:
        message = result["msg"]
        if action not in message or EC2_DENIED[0] not in message:
            problems.append(f"message does not name the refused call {action} and {EC2_DENIED[0]}: {message}")
        if action in MESSAGE_NAMES_INSTANCE and instance_id not in message:
            problems.append(f"message does not name {instance_id}: {message}")
        if action == "StartInstances" and "left stopped" not in message:
            problems.append(f"message does not say the instance is left stopped: {message}")
    unreported = made - {s["snapshot_id"] for s in result.get("snapshots", [])}
    if unreported and action in REPORTS_SNAPSHOTS_WHEN_REFUSED:
        problems.append(f"snapshots made but not reported: {sorted(unreported)}")
    expected = "stopped" if action == "StartInstances" else "running"
    state = ec2_power_states(sim, [instance_id])[instance_id]
    if state != expected:
        problems.append(f"instance {state}, expected {expected}")
    return problems


def _snapshot_ids(sim, instance_id):  # pylint: disable=redefined-outer-name
    state = sim.ec2_state()
    volumes = {volume for instance in state["instances"] if instance["instance_id"] == instance_id for volume in instance["volumes"].values()}
    return [snapshot["snapshot_id"] for snapshot in state["snapshots"] if snapshot["volume_id"] in volumes]


def test_ebs_multi_snapshot_timeout_restarts_the_instance_and_names_what_is_pending(sim, ansible):  # pylint: disable=redefined-outer-name
    instance_id = sim.seed_instance(volumes=TWO_VOLUMES)["instance_id"]
    sim.ec2_config(snapshot_seconds_base=10 ** 7)
    result = ansible.module("ebs_multi_snapshot", instance_id=instance_id, set_name="slow", stop_instance=True, wait_timeout=60)
    assert result.get("failed") is True
    assert instance_id in result["msg"] and "pending" in result["msg"], result["msg"]
    assert {s["snapshot_id"] for s in result["snapshots"]} == set(_snapshot_ids(sim, instance_id)), "the pending set is reported"
    assert ec2_power_states(sim, [instance_id]) == {instance_id: "running"}


def test_lightsail_snapshot_retries_every_step_and_reports_an_error_state(sim, ansible):  # pylint: disable=redefined-outer-name
    sim.seed_lightsail_instance("web-1")
    sim.seed_lightsail_instance("web-2")
    run = ansible.run([task(sim, "lightsail_snapshot", "clean", instance_name="web-1", snapshot_name="web-1-clean")])
    assert run["clean"]["changed"] is True, run["clean"].get("msg")
    actions = steps(sim.journal(service="lightsail"))
    sim.clear_journal()
    injected = inject_everywhere(sim, "lightsail", actions, transient(LIGHTSAIL_THROTTLING, LIGHTSAIL_5XX))
    sim.fail_lightsail_snapshot("web-2")
    run = ansible.run([task(sim, "lightsail_snapshot", "faulted", instance_name="web-1", snapshot_name="web-1-faulted"),
                       task(sim, "lightsail_snapshot", "doomed", instance_name="web-2", snapshot_name="web-2-doomed")])

    assert run["faulted"].get("failed") is not True, run["faulted"].get("msg")
    assert run["faulted"]["snapshot"]["state"] == "available"
    assert unmet_faults(sim, injected, "lightsail") == [] and sim.faults() == []
    assert len([e for e in sim.journal(service="lightsail", action="CreateInstanceSnapshot") if e["status"] == 200]) == 2
    doomed = run["doomed"]
    assert doomed.get("failed") is True and "web-2-doomed" in doomed["msg"] and "error" in doomed["msg"], doomed.get("msg")
    states = {i["name"]: i["state"] for i in sim.lightsail_state()["instances"]}
    assert states == {"web-1": "running", "web-2": "running"}
    names = sorted(s["name"] for s in sim.lightsail_state()["instance_snapshots"])
    assert names == ["web-1-clean", "web-1-faulted", "web-2-doomed"], "no duplicate, the failed one reported and left to inspect"


def test_ebs_role_retries_every_step_over_a_small_fleet(sim, ansible):  # pylint: disable=redefined-outer-name
    hosts = {f"web{n}": sim.seed_instance(volumes=TWO_VOLUMES)["instance_id"] for n in range(2)}
    clean = run_role(sim, ansible, {"web0": hosts["web0"]}, ebs_instance_snapshot_set_name="clean", ebs_instance_snapshot_stop_instance=True)
    assert clean.returncode == 0, clean.stdout[-3000:]
    actions = steps(aws_calls(sim.journal()))
    sim.clear_journal()
    injected = inject_everywhere(sim, "ec2", actions, transient(EC2_THROTTLING, EC2_5XX[::-1]))
    faulted = run_role(sim, ansible, hosts, ebs_instance_snapshot_set_name="faulted", ebs_instance_snapshot_stop_instance=True)

    assert faulted.returncode == 0, faulted.stdout[-3000:]
    assert unmet_faults(sim, injected, "ec2") == [] and sim.faults() == []
    for instance_id in hosts.values():
        created = [e for e in sim.journal(service="ec2", action="CreateSnapshots")
                   if e["status"] == 200 and instance_id in e["params"].values()]
        assert len(created) == 1, instance_id
    assert ec2_power_states(sim, hosts.values()) == {instance_id: "running" for instance_id in hosts.values()}
