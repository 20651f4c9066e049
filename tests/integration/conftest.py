# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Module-level integration tests: real ``ansible-playbook`` runs against the local test clouds.

Each test writes a small playbook, runs it in a subprocess exactly as a user would (credentials in
the environment as AWX injects them, the endpoint set once through ``module_defaults`` on the
collection's action group), and reads back the registered results and the cloud's journal.
"""

from __future__ import annotations

import ast
import collections
import json
import os
import pathlib
import socket
import subprocess
import sys

import boto3
import botocore.session
import pytest
import yaml

from cloudsim.testing import cloud  # noqa: F401  pylint: disable=unused-import
from cloudsim.client import CloudSim
from cloudsim.client import CloudSimError
from cloudsim.testing import fresh  # noqa: F401  pylint: disable=unused-import
import _fault_ledger
from _return_docs import documented_returns  # noqa: F401  pylint: disable=unused-import

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
# Credentials the tests plant: none of them may ever show up in any output.
PLANTED_ACCESS_KEY = "AKIAPLANTEDKEY000001"
PLANTED_SECRET_KEY = "planted-secret-key-wJalrXUtnFEMI-K7MDENG"


def collections_path():
    configured = os.environ.get("ANSIBLE_COLLECTIONS_PATH")
    if configured:
        return configured
    return str(REPO_ROOT / ".build" / "collections")


@pytest.fixture
def sim(fresh):  # pylint: disable=redefined-outer-name
    """The local cloud, reset: no resources, no faults, an empty journal, the default speed."""
    return fresh


class PlaybookRun:
    """The outcome of one ansible-playbook run: return code, output and the registered results."""

    def __init__(self, process, results):
        self.rc = process.returncode
        self.output = process.stdout + process.stderr
        self.results = results

    def __getitem__(self, name):
        return self.results[name]


class Runner:
    def __init__(self, sim, workdir):
        self.sim = sim
        self.workdir = workdir
        self.count = 0

    def environment(self):
        env = dict(os.environ)
        env.update({
            "ANSIBLE_COLLECTIONS_PATH": collections_path(),
            "ANSIBLE_LOCALHOST_WARNING": "false",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "AWS_ACCESS_KEY_ID": PLANTED_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": PLANTED_SECRET_KEY,
            "AWS_REGION": self.sim.endpoints["region"],
        })
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE"):
            env.pop(name, None)
        return env

    def run(self, tasks, check=False, diff=False, verbosity=0, extra_args=()):
        """Run ``tasks`` (each registering its result) on localhost; return a PlaybookRun."""
        self.count += 1
        results_file = self.workdir / f"results-{self.count}.json"
        registered = [task["register"] for task in tasks if "register" in task]
        for task in tasks:
            task.setdefault("ignore_errors", True)
        play = {
            "name": "snapkit.cloud integration test",
            "hosts": "localhost",
            "connection": "local",
            "gather_facts": False,
            "vars": {"ansible_python_interpreter": sys.executable},
            "module_defaults": {"group/snapkit.cloud.aws": {"endpoint_url": self.sim.endpoints["ec2"]}},
            "tasks": tasks + [{
                "name": "Save the registered results",
                "ansible.builtin.copy": {
                    "dest": str(results_file),
                    "content": "{{ {" + ", ".join(f"'{name}': {name}" for name in registered) + "} | to_json }}",
                    "mode": "0600",
                },
                "check_mode": False,
                "diff": False,
            }],
        }
        playbook = self.workdir / f"playbook-{self.count}.yml"
        playbook.write_text(yaml.safe_dump([play], sort_keys=False))
        command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", str(playbook)]
        if check:
            command.append("--check")
        if diff:
            command.append("--diff")
        if verbosity:
            command.append("-" + "v" * verbosity)
        command.extend(extra_args)
        process = subprocess.run(command, env=self.environment(), capture_output=True, text=True, timeout=600, check=False)
        results = json.loads(results_file.read_text()) if results_file.exists() else {}
        if not results:
            raise AssertionError(f"ansible-playbook produced no results (rc={process.returncode}):\n{process.stdout}\n{process.stderr}")
        return PlaybookRun(process, results)

    def module(self, name, check=False, diff=False, verbosity=0, **params):
        """Run one module once; return its registered result (with the run on ``result['_run']``)."""
        run = self.run([{"name": f"Run {name}", f"snapkit.cloud.{name}": params, "register": "result"}],
                       check=check, diff=diff, verbosity=verbosity)
        result = run["result"]
        result["_run"] = run
        return result


@pytest.fixture(scope="module")
def listener():
    """A TCP port that answers on loopback: a new instance's SSH, RDP or WinRM port, as far as a role's port check can tell."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield server.getsockname()[1]
    server.close()


@pytest.fixture
def ansible(sim, tmp_path):
    return Runner(sim, tmp_path)


def ec2_client(sim):
    """A plain boto3 EC2 client on the local cloud, for arranging and checking what the modules did."""
    return boto3.client("ec2", **sim.aws_client_kwargs())


def mutating_calls(journal):
    """The journal entries of calls that change something in EC2."""
    readonly = ("Describe", "Get", "List")
    return [entry for entry in journal if not entry["action"].startswith(readonly)]


def documented_return(module_name):
    """The RETURN block of one of our modules, parsed."""
    tree = ast.parse((REPO_ROOT / "plugins" / "modules" / f"{module_name}.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "RETURN" for t in node.targets):
            return yaml.safe_load(ast.literal_eval(node.value))
    raise AssertionError(f"{module_name} has no RETURN")


# Least privilege ---------------------------------------------------------------------------------
#
# Over the whole session, the AWS actions our modules and roles call (as the clouds' journals record
# them) must be in the documented IAM policy, and every action of the policy must have been called.
# The journals also record the calls test code makes with boto3 to arrange and check; those are
# counted in this process (a botocore hook) and taken away, so only what ansible-playbook called is
# left. A journal is read before anything wipes it (reset, clear, stop). Under pytest-xdist each
# worker sends its figures to the controller, which decides once for the session.

IAM_POLICY = REPO_ROOT / "docs" / "iam" / "snapkit-aws-policy.json"
AWS_JOURNAL_SERVICES = ("ec2", "lightsail")
WORKER_OUTPUT_KEY = "snapkit_aws_actions"
WORKER_FAULTS_KEY = "snapkit_faults"
LEDGER_KEY = pytest.StashKey()
WORKER_FIGURES_KEY = pytest.StashKey()
WORKER_FAULTS_FIGURES_KEY = pytest.StashKey()
PATCHES_KEY = pytest.StashKey()


def policy_actions(path=IAM_POLICY):
    """The actions the IAM policy allows, as ``service:Action``."""
    document = json.loads(path.read_text())
    actions = set()
    for statement in document["Statement"]:
        listed = statement["Action"]
        actions.update([listed] if isinstance(listed, str) else listed)
    return actions


class AwsActionLedger:
    """Counts, per ``service:Action``, the calls the journals recorded and the calls this test process made."""

    def __init__(self):
        self.journaled = collections.Counter()
        self.by_tests = collections.Counter()
        self.read_up_to = {}
        self.collected_files = set()
        self.deselected = 0

    def harvest(self, sim):
        """Count the journal entries of ``sim`` not counted yet (sequence numbers grow across wipes)."""
        if "control" not in sim.endpoints:
            return  # a cloudsim that never came up: it has no journal, and its own error must not be hidden
        since = self.read_up_to.get(sim.control_url, 0)
        try:
            entries = sim.journal(since=since)
        except (CloudSimError, OSError):
            return
        for entry in entries:
            if entry["service"] in AWS_JOURNAL_SERVICES and entry["action"] != "(none)":
                self.journaled[f"{entry['service']}:{entry['action']}"] += 1
            since = max(since, entry["seq"])
        self.read_up_to[sim.control_url] = since

    def count_test_call(self, event_name=None, **_kwargs):
        """botocore ``before-send`` handler (every attempt, as the journal sees it): a call test code made."""
        _event, service, action = (event_name or "").split(".", 2)
        if service in AWS_JOURNAL_SERVICES:
            self.by_tests[f"{service}:{action}"] += 1

    def module_actions(self):
        """The actions called more often than test code called them: our modules called them."""
        return sorted(action for action, count in self.journaled.items() if count > self.by_tests[action])

    def figures(self):
        return {"module_actions": self.module_actions(), "journaled": dict(self.journaled), "by_tests": dict(self.by_tests),
                "collected_files": sorted(self.collected_files), "deselected": self.deselected}


def _harvest_first(ledger, method):
    def wrapper(self, *args, **kwargs):
        ledger.harvest(self)
        return method(self, *args, **kwargs)
    return wrapper


def _count_in_new_sessions(ledger, original_init):
    def wrapper(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self.register("before-send", ledger.count_test_call)
    return wrapper


def least_privilege_verdict(figures_list, policy, whole_suite):
    """Problems with the policy, given every process's figures; an empty list when it is right."""
    used = set()
    for figures in figures_list:
        used.update(figures["module_actions"])
    problems = []
    missing = sorted(used - policy)
    if missing:
        problems.append(f"actions our modules called that {IAM_POLICY.relative_to(REPO_ROOT)} does not allow: {', '.join(missing)}")
    unused = sorted(policy - used)
    if whole_suite and unused:
        problems.append(f"actions {IAM_POLICY.relative_to(REPO_ROOT)} allows that nothing in the suite called: {', '.join(unused)}")
    return problems, used


def pytest_configure(config):
    config.addinivalue_line("markers", "openstack_real: runs against the real OpenStack services (the integration-real stage)")
    ledger = AwsActionLedger()
    config.stash[LEDGER_KEY] = ledger
    config.stash[WORKER_FIGURES_KEY] = []
    config.stash[WORKER_FAULTS_FIGURES_KEY] = []
    _fault_ledger.LEDGER.install()
    patches = [(CloudSim, name, getattr(CloudSim, name)) for name in ("reset", "clear_journal", "stop")]
    patches.append((botocore.session.Session, "__init__", botocore.session.Session.__init__))
    for owner, name, original in patches[:-1]:
        setattr(owner, name, _harvest_first(ledger, original))
    botocore.session.Session.__init__ = _count_in_new_sessions(ledger, patches[-1][2])
    config.stash[PATCHES_KEY] = patches


def report_faults(config):
    """The reliability suite's counts (``_fault_ledger``), added up over the workers; nothing when nothing was broken."""
    figures_list = config.stash[WORKER_FAULTS_FIGURES_KEY] or [_fault_ledger.LEDGER.figures()]
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and any(any(figures.values()) for figures in figures_list):
        reporter.write_line("")  # after the progress dots
        reporter.write_line(_fault_ledger.summary(figures_list))


def pytest_unconfigure(config):
    _fault_ledger.LEDGER.uninstall()
    for owner, name, original in config.stash.get(PATCHES_KEY, []):
        setattr(owner, name, original)


def pytest_collection_modifyitems(config, items):
    config.stash[LEDGER_KEY].collected_files.update(item.path.name for item in items)


def pytest_deselected(items):
    if items:
        items[0].config.stash[LEDGER_KEY].deselected += len(items)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):  # pylint: disable=unused-argument
    figures = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT_KEY)
    if figures:
        node.config.stash[WORKER_FIGURES_KEY].append(figures)
    faults = getattr(node, "workeroutput", {}).get(WORKER_FAULTS_KEY)
    if faults:
        node.config.stash[WORKER_FAULTS_FIGURES_KEY].append(faults)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):  # pylint: disable=unused-argument
    config = session.config
    figures = config.stash[LEDGER_KEY].figures()
    if hasattr(config, "workerinput"):
        config.workeroutput[WORKER_OUTPUT_KEY] = figures
        config.workeroutput[WORKER_FAULTS_KEY] = _fault_ledger.LEDGER.figures()
        return
    report_faults(config)
    figures_list = config.stash[WORKER_FIGURES_KEY] or [figures]
    if not any(f["journaled"] for f in figures_list):
        return
    every_file = {path.name for path in pathlib.Path(__file__).parent.glob("test_*.py")}
    collected = set().union(*(set(f["collected_files"]) for f in figures_list))
    whole_suite = collected >= every_file and not any(f["deselected"] for f in figures_list) and session.testsfailed == 0
    problems, used = least_privilege_verdict(figures_list, policy_actions(), whole_suite)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if problems:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        for problem in problems:
            reporter.write_line(f"LEAST PRIVILEGE: {problem}", red=True)
    elif reporter is not None:
        scope = "the whole suite: policy exact" if whole_suite else "part of the suite: every call allowed"
        reporter.write_line(f"least privilege: {len(used)} AWS actions called by our modules checked against the IAM policy ({scope})")
