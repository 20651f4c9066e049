# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reliability suite for the Lightsail modules and the lightsail_instance_snapshot role.

Modules: lightsail_instance_state, _port, _password, _from_snapshot and lightsail_snapshot_info. The steps of
each come from the journal of a clean run (one playbook, the journal read between the tasks). Transient faults
(ThrottlingException, and a 5xx: Lightsail's own ServiceException, InternalFailure, ServiceUnavailable) are planted
for every step of every module right before its task: each must be retried to success. So are connection drops (no
HTTP answer; a change carried out before its answer is lost). Hard faults (Lightsail's
error shapes in the botocore model: AccessDeniedException at every step, OperationFailureException at every call
that changes something) one at a time on a fresh instance: each must fail naming the instance (or snapshot) and
the error, with the instance in its starting power state and nothing made that is not reported.

Role: the Linux path with stop, through its AWX playbook: transient faults at every step retried; each step refused
in turn fails naming the step, lists what the run made and leaves the instance running; the Windows path (the
Sysprep step as the test double of ``test_lightsail_instance_snapshot_role.py``) retried through transient faults.

Kill and rerun (the Linux path with stop): the role tags the instance ``snapkit:stopped-for-snapshot=<snapshot
name>`` just before StopInstance (lightsail_instance_state ``stop_mark``) and removes the tag after the last start, so
a kill between StopInstance and StartInstance leaves a stopped instance that the rerun knows was running: every kill
point ends with the instance running, one snapshot and no tag. After every kill point and rerun (Linux and Windows)
the instance's firewall, read from the simulator's state route, equals the one it started with: the Windows rerun
closes exactly the rule the cut-off run opened (port, protocol and CIDR from its mark), whatever port or CIDR the
rerun itself uses. The mark's other cases (another procedure's mark, a
refused tag) are tested with the module in ``test_lightsail_modules.py``.
"""

from __future__ import annotations

import pytest

from _collection import LIGHTSAIL_STOP_MARK_TAG
from _reliability import aws_cloud  # noqa: F401  pylint: disable=unused-import
from _reliability import aws_sim as sim  # noqa: F401  pylint: disable=unused-import
from _reliability import DROPPED
from _reliability import drop_task
from _reliability import task
from _reliability import kill_points_in_window
from _reliability import run_and_kill
from _reliability import run_to_the_end
from _reliability import kill_rng  # noqa: F401  pylint: disable=unused-import
from _reliability import lightsail_firewall
from _reliability_aws import LIGHTSAIL_5XX
from _reliability_aws import LIGHTSAIL_THROTTLING
from _reliability_aws import deny_task
from _reliability_aws import refused_before_any_change
from _reliability_aws import role_command
from _reliability_aws import run_lightsail_role
from _reliability_aws import succeeded_calls
from test_lightsail_instance_snapshot_role import DOUBLE
from test_reliability_faults import inject_everywhere
from test_reliability_faults import steps
from test_reliability_faults import unmet_faults

CIDR = "198.51.100.7/32"
STOP_MARK = LIGHTSAIL_STOP_MARK_TAG
STOP_MARK_STEPS = ("TagResource", "UntagResource")
PASSWORD = "Planted-Admin-Passw0rd-h8-aws"
BASE = "base-snap"
DENIED = ("AccessDeniedException", 403)
FAILED_OPERATION = ("OperationFailureException", 400)
CHANGES = ("StopInstance", "StartInstance", "OpenInstancePublicPorts", "CloseInstancePublicPorts", "CreateInstancesFromSnapshot",
           "DeleteInstance")


def module_steps(name):
    """The procedure over every Lightsail module: (module, params, index of the step it needs done first, or None)."""
    copy = f"{name}-copy"
    return [
        ("lightsail_instance_state", dict(instance_name=name, state="stopped"), None),
        ("lightsail_instance_state", dict(instance_name=name, state="running"), 0),
        ("lightsail_instance_port", dict(instance_name=name, port=5986, cidr=CIDR), None),
        ("lightsail_instance_port", dict(instance_name=name, port=5986, cidr=CIDR, state="absent"), 2),
        ("lightsail_instance_password", dict(instance_name=name), None),
        ("lightsail_snapshot_info", dict(snapshot_names=[BASE, f"{name}-none"]), None),
        ("lightsail_snapshot_info", dict(snapshot_names=[BASE]), None),
        ("lightsail_instance_from_snapshot", dict(instance_name=copy, snapshot_name=BASE), None),
        ("lightsail_instance_from_snapshot", dict(instance_name=copy, snapshot_name=BASE, state="absent"), 7),
    ]


def seed_windows(sim, name, **extra):  # pylint: disable=redefined-outer-name
    return sim.seed_lightsail_instance(name, blueprint="windows", password=PASSWORD, **extra)


def make_base_snapshot(sim, ansible):  # pylint: disable=redefined-outer-name
    seed_windows(sim, "base")
    made = ansible.run([task(sim, "lightsail_snapshot", "base", instance_name="base", snapshot_name=BASE)])["base"]
    assert made.get("changed") is True, made.get("msg")


def journal_marker(sim, number):  # pylint: disable=redefined-outer-name
    """A task that reads the journal (the control API: not journaled) so that each step's calls can be told apart."""
    return {"name": f"Journal after step {number}", "ansible.builtin.uri": {"url": sim.control_url + "/journal?service=lightsail"},
            "register": f"marker_{number}"}


def actions_by_step(sim, ansible, name):  # pylint: disable=redefined-outer-name
    """Run the procedure cleanly on ``name``: the actions of each step, in the order of their first call."""
    tasks = [journal_marker(sim, "start")]
    for number, (module, params, _needs) in enumerate(module_steps(name)):
        tasks += [task(sim, module, f"step_{number}", **params), journal_marker(sim, number)]
    run = ansible.run(tasks)
    seen = {entry["seq"] for entry in run["marker_start"]["json"]["entries"]}
    found = []
    for number in range(len(module_steps(name))):
        assert run[f"step_{number}"].get("failed") is not True, (number, run[f"step_{number}"].get("msg"))
        entries = [e for e in run[f"marker_{number}"]["json"]["entries"] if e["seq"] not in seen]
        seen.update(e["seq"] for e in entries)
        found.append(steps(entries))
    return found


def lightsail_transient(number, _action):
    """Throttling on every step, then a 5xx whose kind changes from step to step (each retry backs off for seconds)."""
    return [LIGHTSAIL_THROTTLING, LIGHTSAIL_5XX[number % len(LIGHTSAIL_5XX)]]


def instance_states(sim):  # pylint: disable=redefined-outer-name
    return {i["name"]: i["state"] for i in sim.lightsail_state()["instances"]}


def instance_tags(sim, name):  # pylint: disable=redefined-outer-name
    return next(i for i in sim.lightsail_state()["instances"] if i["name"] == name)["tags"]


def ports_of(sim, name):  # pylint: disable=redefined-outer-name
    instance = next(i for i in sim.lightsail_state()["instances"] if i["name"] == name)
    return {rule["fromPort"]: sorted(rule["cidrs"]) for rule in instance["ports"]}


def run_every_module_with_faults(sim, ansible, faults_of):  # pylint: disable=redefined-outer-name
    """The procedure over every module on ``win-1``, each step's task right after the faults ``faults_of(number, action)``
    plants for each action of the step (``(task, (action, code))`` pairs; ``number`` counts the steps and the faults
    planted so far). Every step must succeed and every fault meet its step; the run and the (action, code) planted."""
    make_base_snapshot(sim, ansible)
    seed_windows(sim, "clean-1")
    seed_windows(sim, "win-1")
    by_step = actions_by_step(sim, ansible, "clean-1")
    sim.clear_journal()

    tasks, planted = [], []
    for number, ((module, params, _needs), actions) in enumerate(zip(module_steps("win-1"), by_step)):
        for action in actions:
            for fault_task, pair in faults_of(number + len(planted), action):
                tasks.append(fault_task)
                planted.append(pair)
        tasks.append(task(sim, module, f"step_{number}", **params))
    run = ansible.run(tasks)

    failed = {n: run[f"step_{n}"].get("msg") for n in range(len(by_step)) if run[f"step_{n}"].get("failed")}
    assert failed == {}
    assert unmet_faults(sim, planted, "lightsail") == [] and sim.faults() == []
    assert run["step_4"]["password"] == PASSWORD
    assert instance_states(sim) == {"base": "running", "clean-1": "running", "win-1": "running"}, "the copies are deleted"
    assert 5986 not in ports_of(sim, "win-1")
    return run, planted


def test_every_lightsail_module_retries_each_of_its_steps(sim, ansible):  # pylint: disable=redefined-outer-name
    _run, planted = run_every_module_with_faults(sim, ansible, lambda number, action: [
        (deny_task(sim, "lightsail", action, fault), (action, fault[0])) for fault in lightsail_transient(number, action)])
    assert len(planted) >= 30 and {code for _action, code in planted} >= {"ThrottlingException", "ServiceException"}
    assert len(succeeded_calls(sim, "lightsail", "CreateInstancesFromSnapshot")) == 1


def test_every_lightsail_module_survives_a_dropped_connection_at_each_of_its_steps(sim, ansible):  # pylint: disable=redefined-outer-name
    """No HTTP answer at every step of every module: reads dropped on the way in, changes carried out and their answer
    lost (a stop, a start, a create, a delete, a port). Each is sent again where that is safe, or looked up first."""
    run, planted = run_every_module_with_faults(sim, ansible, lambda _number, action: [
        (drop_task(sim, "lightsail", action), (action, DROPPED))])
    assert {action for action, _code in planted} >= {"StopInstance", "StartInstance", "CreateInstancesFromSnapshot", "DeleteInstance",
                                                     "OpenInstancePublicPorts", "CloseInstancePublicPorts", "GetInstance"}
    assert run["step_7"]["changed"] is True and run["step_7"]["instance"]["name"] == "win-1-copy", "the lost create is adopted"


def hard_cases(by_step):
    """(step number, action, fault) for every action of every step, and OperationFailureException on each change."""
    cases = []
    for number, actions in enumerate(by_step):
        for action in actions:
            cases.append((number, action, DENIED))
            if action in CHANGES:
                cases.append((number, action, FAILED_OPERATION))
    return cases


def hard_fault_problems(sim, number, code, name, result):  # pylint: disable=redefined-outer-name
    module, params, _needs = module_steps(name)[number]
    if result.get("failed") is not True:
        return [f"{module} did not fail"]
    problems = []
    named = params.get("instance_name") or params["snapshot_names"][0]
    if code not in result["msg"] or named not in result["msg"]:
        problems.append(f"{module}: message does not name {code} and {named}: {result['msg']}")
    states = instance_states(sim)
    expected = "stopped" if number == 1 else "running"
    if states.get(name) != expected:
        problems.append(f"{module}: {name} is {states.get(name)}, it started {expected}")
    copy = f"{name}-copy"
    if number == 7 and copy in states and result.get("instance", {}).get("name") != copy:
        problems.append(f"{module}: {copy} exists and is not reported")
    if number == 2 and 5986 in ports_of(sim, name):
        problems.append(f"{module}: port 5986 opened although the task failed")
    return problems


def test_every_lightsail_module_refused_at_each_step_fails_naming_the_instance(sim, ansible):  # pylint: disable=redefined-outer-name
    make_base_snapshot(sim, ansible)
    seed_windows(sim, "clean-1")
    cases = hard_cases(actions_by_step(sim, ansible, "clean-1"))
    tasks = []
    for case, (number, action, fault) in enumerate(cases):
        name = f"case-{case}"
        seed_windows(sim, name, state="stopped" if number == 1 else "running")
        module, params, needs = module_steps(name)[number]
        if needs is not None and needs != 0:
            needed_module, needed_params, _needed_rest = module_steps(name)[needs]
            tasks.append(task(sim, needed_module, f"setup_{case}", **needed_params))
        tasks += [deny_task(sim, "lightsail", action, fault), task(sim, module, f"case_{case}", **params)]
    run = ansible.run(tasks)

    problems = []
    for case, (number, action, (code, _status)) in enumerate(cases):
        problems.extend(f"step {number} {action}: {p}" for p in hard_fault_problems(sim, number, code, f"case-{case}", run[f"case_{case}"]))
    assert not problems, "\n".join(problems)
    assert sim.faults() == [] and len(cases) >= 20


def test_error_states_and_timeouts_fail_naming_the_resource_and_its_state(sim, ansible):  # pylint: disable=redefined-outer-name
    seed_windows(sim, "win-1")
    seed_windows(sim, "win-off", state="stopped")
    seed_windows(sim, "win-key", key_pair="my-own-key")
    sim.seed_lightsail_instance("web-1")
    sim.fail_lightsail_snapshot("win-1")
    run = ansible.run([
        task(sim, "lightsail_snapshot", "broken", instance_name="win-1", snapshot_name="win-1-broken"),
        task(sim, "lightsail_instance_from_snapshot", "from_broken", instance_name="copy-1", snapshot_name="win-1-broken"),
        task(sim, "lightsail_instance_state", "never_stops", instance_name="web-1", state="stopped", wait_only=True, wait_timeout=5),
        task(sim, "lightsail_instance_password", "stopped", instance_name="win-off"),
        task(sim, "lightsail_instance_password", "linux", instance_name="web-1"),
        task(sim, "lightsail_instance_password", "own_key", instance_name="win-key", wait=False),
        task(sim, "lightsail_snapshot_info", "errors", states=["error"]),
    ])
    expected = {"from_broken": ("win-1-broken", "error"), "never_stops": ("web-1", "running"), "stopped": ("win-off", "stopped"),
                "linux": ("web-1", "not Windows"), "own_key": ("win-key", "my-own-key")}
    for register, words in expected.items():
        assert run[register].get("failed") is True and all(w in run[register]["msg"] for w in words), (register, run[register].get("msg"))
    assert [s["name"] for s in run["errors"]["snapshots"]] == ["win-1-broken"]
    assert "copy-1" not in instance_states(sim) and instance_states(sim)["web-1"] == "running"


# The role ----------------------------------------------------------------------------------------

LINUX_WITH_STOP = {"lightsail_instance_snapshot_stop_instance": True}


def role_steps(sim, ansible, **variables):  # pylint: disable=redefined-outer-name
    since = sim.journal()[-1]["seq"] if sim.journal() else 0
    clean = run_lightsail_role(sim, ansible, **variables)
    assert clean.returncode == 0, clean.stdout[-3000:]
    return sim.journal(service="lightsail", since=since)


def snapshots_of(sim, name):  # pylint: disable=redefined-outer-name
    return sorted((s["name"], s["state"]) for s in sim.lightsail_state()["instance_snapshots"] if s["instance"] == name)


def windows_variables(ansible, name):
    double = ansible.workdir / "sysprep_double.yml"
    double.write_text(DOUBLE)
    return {"lightsail_instance_snapshot_instance_name": name, "lightsail_instance_snapshot_winrm_cidr": CIDR,
            "lightsail_instance_snapshot_sysprep_tasks": str(double), "lightsail_test_control_url": ansible.sim.control_url,
            "lightsail_test_marker": str(ansible.workdir / f"sysprep-{name}")}


@pytest.mark.parametrize("path", ["linux with stop", "windows"])
def test_role_retries_every_step(sim, ansible, path):  # pylint: disable=redefined-outer-name
    if path == "windows":
        seed_windows(sim, "clean-1")
        seed_windows(sim, "inst-1")
        clean_vars, faulted_vars = windows_variables(ansible, "clean-1"), windows_variables(ansible, "inst-1")
        made = [("inst-1-backup-t1", "available"), ("inst-1-sysprep-t1", "available")]  # delete_backup is off
    else:
        sim.seed_lightsail_instance("clean-1")
        sim.seed_lightsail_instance("inst-1")
        clean_vars = dict(LINUX_WITH_STOP, lightsail_instance_snapshot_instance_name="clean-1")
        faulted_vars = dict(LINUX_WITH_STOP, lightsail_instance_snapshot_instance_name="inst-1")
        made = [("inst-1-t1", "available")]
    actions = steps(role_steps(sim, ansible, **clean_vars))
    sim.clear_journal()
    injected = inject_everywhere(sim, "lightsail", actions, lightsail_transient)
    faulted = run_lightsail_role(sim, ansible, **faulted_vars)

    assert faulted.returncode == 0, faulted.stdout[-3000:]
    assert unmet_faults(sim, injected, "lightsail") == [] and sim.faults() == []
    assert snapshots_of(sim, "inst-1") == made, "one of each, no duplicate"
    assert instance_states(sim)["inst-1"] == "running"
    creates = [e for e in succeeded_calls(sim, "lightsail", "CreateInstanceSnapshot") if e["params"]["instanceName"] == "inst-1"]
    assert len(creates) == (2 if path == "windows" else 1)


def test_role_linux_with_stop_refused_at_each_step_restarts_and_reports(sim, ansible):  # pylint: disable=redefined-outer-name
    sim.seed_lightsail_instance("clean-1")
    actions = steps(role_steps(sim, ansible, **dict(LINUX_WITH_STOP, lightsail_instance_snapshot_instance_name="clean-1")))
    problems = []
    for number, action in enumerate(actions):
        name = f"case-{number}"
        sim.seed_lightsail_instance(name)
        sim.inject_fault("lightsail", action, DENIED[0], status=DENIED[1])
        run = run_lightsail_role(sim, ansible, **dict(LINUX_WITH_STOP, lightsail_instance_snapshot_instance_name=name))
        output = run.stdout + run.stderr
        if action in STOP_MARK_STEPS:  # best effort: refused, the role goes on with a warning naming the instance
            if run.returncode != 0 or f"Lightsail instance {name}" not in output or "was refused" not in output:
                problems.append(f"{action}: a refused stop mark must only warn: rc {run.returncode} {output[-1500:]}")
        elif run.returncode == 0:
            problems.append(f"{action}: the role did not fail")
        elif f"Snapshot procedure of Lightsail instance {name} failed at" not in output:
            problems.append(f"{action}: no failure report: {output[-1500:]}")
        made = snapshots_of(sim, name)
        if made and action not in STOP_MARK_STEPS and not all(f"{snapshot} is {state}" in output for snapshot, state in made):
            problems.append(f"{action}: snapshots {made} not reported")
        if len(made) > 1:
            problems.append(f"{action}: {made}")
        if instance_states(sim)[name] != "running":
            problems.append(f"{action}: {name} left {instance_states(sim)[name]}")
    assert not problems, "\n".join(problems)
    assert sim.faults() == [] and len(actions) >= 5


def test_role_linux_with_stop_killed_and_rerun(sim, ansible, kill_rng):  # pylint: disable=redefined-outer-name
    sim.seed_lightsail_instance("clean-1")
    clean_calls = role_steps(sim, ansible, **dict(LINUX_WITH_STOP, lightsail_instance_snapshot_instance_name="clean-1"))
    points = kill_points_in_window(kill_rng, clean_calls, "StopInstance", "StartInstance")
    for point in points:
        name = f"web-{point}"
        sim.seed_lightsail_instance(name)
        firewall = lightsail_firewall(sim, name)
        variables = dict(LINUX_WITH_STOP, lightsail_instance_snapshot_instance_name=name)
        seen = [e["action"] for e in run_and_kill(sim, *role_command(sim, ansible, **variables), "lightsail", point)]
        rerun = run_to_the_end(*role_command(sim, ansible, **variables))

        assert rerun.returncode == 0, (point, seen, rerun.stdout[-2000:])
        assert snapshots_of(sim, name) == [(f"{name}-t1", "available")], (point, seen)
        assert instance_states(sim)[name] == "running", (point, seen)
        assert STOP_MARK not in instance_tags(sim, name), (point, seen, instance_tags(sim, name))
        assert lightsail_firewall(sim, name) == firewall, (point, seen)
    assert len(points) >= 2


WINDOWS_STARTING_PORTS = [22, 3389]
# The cut-off runs of the Windows kill tests use HTTPS (WinRM port 5986), their reruns HTTP (5985).
HTTPS = {"lightsail_instance_snapshot_winrm_scheme": "https"}
HTTP = {"lightsail_instance_snapshot_winrm_scheme": "http"}


def sysprep_window(rng, clean_calls, backup):
    """Two kill points between the Sysprep mark on the backup snapshot (TagResource) and the last StartInstance."""
    calls = [(entry["action"], entry["params"].get("resourceName")) for entry in clean_calls]
    first = calls.index(("TagResource", backup)) + 1
    last = max(number for number, (action, _name) in enumerate(calls) if action == "StartInstance") + 1
    return rng.sample(range(first, last), 2)


def open_ports(sim, name):  # pylint: disable=redefined-outer-name
    return sorted(rule["fromPort"] for rule in next(i for i in sim.lightsail_state()["instances"] if i["name"] == name)["ports"])


def test_role_windows_killed_and_rerun(sim, ansible, kill_rng):  # pylint: disable=redefined-outer-name
    """Killed anywhere from the first stop to the last start, the rerun ends with one backup and one Sysprep snapshot (of
    the generalized disk), the instance running, no mark and the firewall as it started (the cut-off run's WinRM rule,
    on 5986, closed by a rerun that uses 5985); once Sysprep had shut the instance down, the rerun neither starts nor
    stops it before the Sysprep snapshot (booting the generalized disk would spend it)."""
    seed_windows(sim, "clean-1")
    clean_calls = role_steps(sim, ansible, **windows_variables(ansible, "clean-1"), **HTTPS)
    points = kill_points_in_window(kill_rng, clean_calls, "StopInstance", "StartInstance",
                                   besides=sysprep_window(kill_rng, clean_calls, "clean-1-backup-t1"))
    for point in points:
        name = f"win-{point}"
        seed_windows(sim, name)
        firewall = lightsail_firewall(sim, name)
        variables = windows_variables(ansible, name)
        seen = [e["action"] for e in run_and_kill(sim, *role_command(sim, ansible, **variables, **HTTPS), "lightsail", point)]
        after_kill = next(i for i in sim.lightsail_state()["instances"] if i["name"] == name)
        since = sim.journal()[-1]["seq"]
        rerun = run_to_the_end(*role_command(sim, ansible, **variables, **HTTP))
        again = [e["action"] for e in sim.journal(service="lightsail", since=since)]

        assert rerun.returncode == 0, (point, seen, rerun.stdout[-3000:])
        snapshots = {s["name"]: s for s in sim.lightsail_state()["instance_snapshots"] if s["instance"] == name}
        assert sorted((s["name"], s["state"], s["generalized"]) for s in snapshots.values()) == [
            (f"{name}-backup-t1", "available", False), (f"{name}-sysprep-t1", "available", True)], (point, seen, again)
        assert instance_states(sim)[name] == "running", (point, seen, again)
        assert STOP_MARK not in instance_tags(sim, name), (point, seen, instance_tags(sim, name))
        assert open_ports(sim, name) == WINDOWS_STARTING_PORTS, (point, seen, again, open_ports(sim, name))
        assert lightsail_firewall(sim, name) == firewall, (point, seen, again)
        if after_kill["generalized"]:  # only the last start, after the Sysprep snapshot (made now or by the cut-off run)
            starts = [number for number, action in enumerate(again) if action == "StartInstance"]
            snapshot_made = again.index("CreateInstanceSnapshot") if "CreateInstanceSnapshot" in again else -1
            assert "StopInstance" not in again and len(starts) <= 1 and all(n > snapshot_made for n in starts), (point, seen, again)
    assert len(points) >= 4


def test_role_windows_stopped_at_the_start_killed_and_rerun_ends_stopped(sim, ansible):  # pylint: disable=redefined-outer-name
    """A stopped Windows instance is started for Sysprep: a run lost then (before or after the Sysprep mark) leaves it
    running, with no stop mark; the rerun learns from the backup snapshot that it was stopped, and leaves it so."""
    seed_windows(sim, "clean-1", state="stopped")
    clean_calls = role_steps(sim, ansible, **windows_variables(ansible, "clean-1"))
    calls = [(entry["action"], entry["params"].get("resourceName")) for entry in clean_calls]
    after_start = [number + 1 for number, (action, _name) in enumerate(calls) if action == "StartInstance"]
    assert len(after_start) == 1, calls  # only the start for Sysprep: the instance is not started at the end
    for point in (after_start[0], calls.index(("TagResource", "clean-1-backup-t1")) + 1):
        name = f"win-{point}"
        seed_windows(sim, name, state="stopped")
        firewall = lightsail_firewall(sim, name)
        variables = windows_variables(ansible, name)
        seen = [e["action"] for e in run_and_kill(sim, *role_command(sim, ansible, **variables, **HTTPS), "lightsail", point)]
        rerun = run_to_the_end(*role_command(sim, ansible, **variables, **HTTP))

        assert rerun.returncode == 0, (point, seen, rerun.stdout[-3000:])
        assert snapshots_of(sim, name) == [(f"{name}-backup-t1", "available"), (f"{name}-sysprep-t1", "available")], (point, seen)
        assert instance_states(sim)[name] == "stopped", (point, seen)
        assert STOP_MARK not in instance_tags(sim, name), (point, seen, instance_tags(sim, name))
        assert open_ports(sim, name) == WINDOWS_STARTING_PORTS, (point, seen)
        assert lightsail_firewall(sim, name) == firewall, (point, seen)


@pytest.mark.parametrize("rerun_with", ["another port", "another CIDR"])
def test_role_windows_killed_with_its_winrm_rule_open_rerun_closes_exactly_that_rule(sim, ansible, rerun_with):  # pylint: disable=redefined-outer-name
    """Cut off right after it opened WinRM over HTTPS (5986) for its CIDR, the run is rerun over HTTP (5985), or from
    another network: the rerun closes the rule its mark names (protocol, port, CIDR) as well as its own."""
    seed_windows(sim, "clean-1")
    clean_calls = role_steps(sim, ansible, **windows_variables(ansible, "clean-1"), **HTTPS)
    point = [entry["action"] for entry in clean_calls].index("OpenInstancePublicPorts") + 1
    seed_windows(sim, "win-1")
    firewall = lightsail_firewall(sim, "win-1")
    variables = windows_variables(ansible, "win-1")
    seen = [e["action"] for e in run_and_kill(sim, *role_command(sim, ansible, **variables, **HTTPS), "lightsail", point)]
    assert ports_of(sim, "win-1")[5986] == [CIDR], seen
    if rerun_with == "another CIDR":
        rerun_variables = dict(variables, **HTTPS, lightsail_instance_snapshot_winrm_cidr="203.0.113.9/32")
    else:
        rerun_variables = dict(variables, **HTTP)
    rerun = run_to_the_end(*role_command(sim, ansible, **rerun_variables))

    assert rerun.returncode == 0, (seen, rerun.stdout[-3000:])
    assert lightsail_firewall(sim, "win-1") == firewall, seen
    assert snapshots_of(sim, "win-1") == [("win-1-backup-t1", "available"), ("win-1-sysprep-t1", "available")]


# Bad input ---------------------------------------------------------------------------------------

# New cases only (test_reliability_bad_input.py has others of these modules).
BAD_INPUT = [
    ("lightsail_instance_password", {"instance_name": "w"}, "instance_name"),
    ("lightsail_instance_password", {"instance_name": "win-1", "wait_timeout": 0}, "wait_timeout"),
    ("lightsail_instance_password", {"instance_name": "win-1", "wait": "perhaps"}, "wait"),
    ("lightsail_instance_port", {"instance_name": "web-1", "port": -1, "cidr": CIDR}, "port"),
    ("lightsail_instance_port", {"instance_name": "web-1", "port": 22, "cidr": "198.51.100.7/24"}, "cidr"),
    ("lightsail_instance_port", {"instance_name": "web-1", "port": 22, "cidr": CIDR, "state": "closed"}, "state"),
    ("lightsail_instance_port", {"instance_name": "web-1", "port": "ssh", "cidr": CIDR}, "port"),
    ("lightsail_instance_port", {"instance_name": "web-1", "port": 22}, "cidr"),
    ("lightsail_instance_from_snapshot", {"instance_name": "copy-1", "snapshot_name": "snap-1", "wait_timeout": 0}, "wait_timeout"),
    ("lightsail_instance_from_snapshot", {"instance_name": "copy-1", "snapshot_name": "snap 1"}, "snapshot_name"),
    ("lightsail_instance_from_snapshot", {"instance_name": "copy-1", "snapshot_name": "snap-1", "tags": {"Team": "v" * 257}}, "tags"),
    ("lightsail_instance_from_snapshot", {"instance_name": "copy-1", "snapshot_name": "snap-1", "state": "stopped"}, "state"),
    ("lightsail_instance_state", {"instance_name": "web-1", "state": "stopped", "wait_only": "yes please"}, "wait_only"),
    ("lightsail_instance_state", {"instance_name": "web_", "state": "running"}, "instance_name"),
    ("lightsail_snapshot_info", {"instance_name": "-web"}, "instance_name"),
    ("lightsail_snapshot_info", {"snapshot_names": "snap-1,snap 2"}, "snapshot_names"),
]
ROLE_BAD_INPUT = [
    ({"lightsail_instance_snapshot_verify_instance_name": "-verify"}, "lightsail_instance_snapshot_verify_instance_name"),
    ({"lightsail_instance_snapshot_winrm_cidr": "everywhere"}, "lightsail_instance_snapshot_winrm_cidr"),
    ({"lightsail_instance_snapshot_backup_snapshot_name": "same-1", "lightsail_instance_snapshot_snapshot_name": "same-1"},
     "lightsail_instance_snapshot_snapshot_name"),
]


def test_bad_input_to_the_lightsail_modules_and_role_is_refused_before_any_call(sim, ansible):  # pylint: disable=redefined-outer-name
    missed, _changes = refused_before_any_change(sim, ansible, BAD_INPUT)
    assert missed == []
    for variables, field in ROLE_BAD_INPUT:
        run = run_lightsail_role(sim, ansible, lightsail_instance_snapshot_instance_name="web-1", **variables)
        assert run.returncode != 0 and f"Refused before any API call: {field}" in run.stdout, (variables, run.stdout[-1500:])
    assert sim.journal() == [], "argument checks come before the first API call"
    assert len(BAD_INPUT) + len(ROLE_BAD_INPUT) >= 15
