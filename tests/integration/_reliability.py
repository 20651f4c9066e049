# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Shared fixtures and helpers of the reliability suite (``test_reliability_*.py``).

One cloudsim per test file runs EC2, Lightsail and OpenStack, so that one playbook can hold cases for
every module. It is offered as ``openstack_sim``: ``_openstack.sim`` then wipes it and writes its
clouds.yaml, and the conftest ``ansible`` runner uses it. Import into a test module::

    from _reliability import openstack_sim, sim  # noqa: F401

Files that need no OpenStack import ``aws_cloud`` and ``aws_sim as sim`` instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import random
import signal
import subprocess
import sys
import time

import pytest
import yaml

import _fault_ledger
from _openstack import CLOUD_NAME
from _openstack import OPENSTACK_GROUP
from _openstack import sim  # noqa: F401  pylint: disable=unused-import
from conftest import REPO_ROOT
from cloudsim.client import CloudSim
from cloudsim.testing import FAST_SPEED

AWS_SERVICES = ("ec2", "lightsail")
# cloudsim imports moto and the botocore models before it listens: on a loaded CI machine that takes
# longer than the client's default minute.
START_TIMEOUT = 240
# A valid-looking id of nothing: the format checks pass, the cloud knows no such resource.
SOME_INSTANCE_ID = "i-0123456789abcdef0"
ROLE_PLAYBOOK = REPO_ROOT / "playbooks" / "ebs_instance_snapshot.yml"
# As AWX injects temporary AWS credentials: a session token beside the conftest's planted keys.
PLANTED_SESSION_TOKEN = "planted-session-token-h8-IQoJb3JpZ2luX2VjEJr"


@pytest.fixture(scope="module")
def openstack_sim():
    """Overrides ``_openstack.openstack_sim``: one cloud with all three services for the whole test file."""
    with CloudSim.start(speed=FAST_SPEED, services=("ec2", "lightsail", "openstack"), timeout=START_TIMEOUT) as running:
        yield running


@pytest.fixture(scope="module")
def aws_cloud():
    """EC2 and Lightsail only, for test files that need no OpenStack (a lighter, quicker cloudsim)."""
    with CloudSim.start(speed=FAST_SPEED, services=AWS_SERVICES, timeout=START_TIMEOUT) as running:
        yield running


@pytest.fixture
def aws_sim(aws_cloud):  # pylint: disable=redefined-outer-name
    """``aws_cloud`` wiped; import it as ``sim`` (``from _reliability import aws_sim as sim``) for the conftest runner."""
    aws_cloud.reset(speed=FAST_SPEED)
    return aws_cloud


def task(sim, module, register, **params):  # pylint: disable=redefined-outer-name
    """A task of ``snapkit.cloud.<module>`` aimed at the right cloud: Lightsail's endpoint, or the clouds.yaml cloud."""
    entry = {"name": register, f"snapkit.cloud.{module}": params, "register": register}
    if module.startswith("lightsail_"):
        params.setdefault("endpoint_url", sim.lightsail_url)
    elif module.startswith("os_"):
        entry["module_defaults"] = {OPENSTACK_GROUP: {"cloud": CLOUD_NAME}}
    return entry


def aws_calls(journal):
    """The journal entries of AWS API calls (the OpenStack services are left out)."""
    return [entry for entry in journal if entry["service"] in AWS_SERVICES]


READONLY_PREFIXES = ("Describe", "Get", "List", "list", "show", "versions", "get")


def changes(action):
    """Whether an action (AWS or OpenStack) changes something: anything but a read."""
    return not action.startswith(READONLY_PREFIXES)


def mutating(journal):
    """Journal entries that change something: AWS actions other than reads, OpenStack writes (token creation aside)."""
    return [entry for entry in journal if entry["service"] != "identity" and changes(entry["action"])]


# Connection drops: the call gets no HTTP answer at all (docs/cloudsim.md). A call that changes something is carried out
# first (``processed``: the answer is lost on the way back, the harder case for a client); a read is dropped on the way in.
DROPPED = "ConnectionReset"


def drop_body(service, action):
    return {"service": service, "action": action, "drop": "reset", "count": 1, "processed": changes(action)}


def drop_everywhere(sim, service, actions):  # pylint: disable=redefined-outer-name
    """A dropped connection on the next call of each action; the (action, error code) pairs for ``unmet_faults``."""
    for action in actions:
        body = drop_body(service, action)
        sim.drop_connection(service, action, processed=body["processed"])
    return [(action, DROPPED) for action in actions]


def drop_task(sim, service, action):  # pylint: disable=redefined-outer-name
    """A playbook task that drops the connection of the next call of ``action`` (right before the task it is meant for)."""
    return {"name": f"Drop the connection of {action}", "ansible.builtin.uri": {
        "url": sim.control_url + "/faults", "method": "POST", "body_format": "json", "body": drop_body(service, action)}}


def ec2_power_states(sim, instance_ids):  # pylint: disable=redefined-outer-name
    """{instance id: state name} read through the control API (not journaled, so not counted as a call of ours)."""
    state = sim.ec2_state()
    found = {}
    for instance in state.get("instances", []):
        if instance.get("instance_id") in instance_ids:
            found[instance["instance_id"]] = instance.get("state")
    return found


def lightsail_firewall(sim, name):  # pylint: disable=redefined-outer-name
    """A Lightsail instance's firewall read through the control API's state route (not journaled): every rule with its
    ports, protocol and CIDRs, in a stable order, to compare with what the instance started with."""
    instance = next(i for i in sim.lightsail_state()["instances"] if i["name"] == name)
    return sorted(instance["ports"], key=lambda rule: (rule["fromPort"], rule["toPort"], rule["protocol"]))


def role_command(sim, ansible, hosts, extra_args=(), **extra_vars):  # pylint: disable=redefined-outer-name
    """The command and environment that run the EBS role's playbook over ``hosts`` ({inventory name: instance id})."""
    inventory = ansible.workdir / "fleet.yml"
    inventory.write_text(yaml.safe_dump({"all": {
        "hosts": {name: {"instance_id": instance_id} for name, instance_id in hosts.items()},
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
    }}))
    extra_vars.setdefault("ebs_instance_snapshot_endpoint_url", sim.endpoints["ec2"])
    command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(ROLE_PLAYBOOK),
               "-e", json.dumps(extra_vars), *extra_args]
    return command, dict(ansible.environment(), AWS_SESSION_TOKEN=PLANTED_SESSION_TOKEN)


def run_role(sim, ansible, hosts, extra_args=(), **extra_vars):  # pylint: disable=redefined-outer-name
    """Run the EBS role's playbook to its end; the CompletedProcess."""
    command, environment = role_command(sim, ansible, hosts, extra_args, **extra_vars)
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600, check=False)


def module_command(sim, ansible, tasks, name):  # pylint: disable=redefined-outer-name
    """The command and environment of a playbook of ``tasks`` on localhost, for runs the conftest runner cannot make
    (killed part way, or with temporary credentials: its environment drops AWS_SESSION_TOKEN)."""
    play = {"name": name, "hosts": "localhost", "connection": "local", "gather_facts": False,
            "vars": {"ansible_python_interpreter": sys.executable},
            "module_defaults": {"group/snapkit.cloud.aws": {"endpoint_url": sim.endpoints["ec2"]}}, "tasks": tasks}
    playbook = ansible.workdir / f"{name}.yml"
    playbook.write_text(yaml.safe_dump([play], sort_keys=False))
    command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", str(playbook)]
    return command, dict(ansible.environment(), AWS_SESSION_TOKEN=PLANTED_SESSION_TOKEN)


# Kill and rerun ---------------------------------------------------------------------------------------------------------
# The kill takes the whole process tree, as when the machine running the job dies (ansible's workers call setsid, so
# killing the process group would let the module finish its work). Kill points are drawn from the call count of a clean
# run with ``kill_rng``: a random of each test's own, seeded with the test's name, so that a failure replays whatever
# ran before it.
KILL_SEED = 8  # change it to explore other kill points
KILLS_PER_PROCEDURE = 2


@pytest.fixture
def kill_rng(request):
    """This test's own seeded random for ``kill_points``: the same draws on every run and in any test order."""
    return random.Random(f"{KILL_SEED}:{request.node.name}")


def descendants(pid):
    """Every process below ``pid``, from /proc (ansible's workers call setsid: a process group does not hold them)."""
    children = {}
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(pid):
    """SIGKILL ``pid`` and everything it started, as when the machine running the job dies: freeze first, so
    that nothing starts a new process between the listing and the kill."""
    frozen = set()
    while True:
        fresh = [p for p in [pid, *descendants(pid)] if p not in frozen]
        if not fresh:
            break
        for process in fresh:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process, signal.SIGSTOP)
        frozen.update(fresh)
    for process in frozen:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process, signal.SIGKILL)


def run_and_kill(sim, command, environment, service, after_calls):  # pylint: disable=redefined-outer-name
    """Start the playbook and SIGKILL its process tree once the journal shows ``after_calls`` calls; the calls seen by then."""
    _fault_ledger.LEDGER.count("kill points")
    since = sim.journal()[-1]["seq"] if sim.journal() else 0
    process = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # pylint: disable=consider-using-with
    try:
        while process.poll() is None and len(sim.journal(service=service, since=since)) < after_calls:
            time.sleep(0.02)
    finally:
        if process.poll() is None:
            kill_tree(process.pid)
        process.wait(60)
    return sim.journal(service=service, since=since)


def run_to_the_end(command, environment):
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600, check=False)


def kill_points(rng, clean_calls, besides=()):
    """Distinct call counts to kill after, drawn from the clean run (never 0: the run must have started), and the fixed
    points ``besides``: the random ones are drawn apart from them, so that a test always gets every point it counts on."""
    fixed = set(besides)
    drawn = rng.sample([point for point in range(1, len(clean_calls)) if point not in fixed], KILLS_PER_PROCEDURE)
    return sorted(fixed | set(drawn))


def kill_points_in_window(rng, clean_calls, first, last, besides=()):
    """One kill point drawn from between the first ``first`` call and the first ``last`` call of the clean run
    (after ``first`` answered, before ``last`` was sent), the fixed points ``besides``, and the usual random ones."""
    actions = [entry["action"] for entry in clean_calls]
    window = [point for point in range(actions.index(first) + 1, actions.index(last) + 1) if point not in besides]
    return kill_points(rng, clean_calls, besides=[rng.choice(window), *besides])
