# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""pytest plugin (``pytest_plugins`` of conftest.py): the least-privilege ledger of the integration session.

Over the whole session, the AWS actions our modules and roles call (as the clouds' journals record them) must be in
the documented IAM policy, and every action of the policy must have been called. The journals also record the calls
test code makes with boto3 to arrange and check; those are counted in this process (a botocore hook) and taken away,
so only what ansible-playbook called is left. A journal is read before anything wipes it (reset, clear, stop). Under
pytest-xdist each worker sends its figures to the controller, which decides once for the session.
"""

from __future__ import annotations

import collections
import json
import pathlib

import botocore.session
import pytest

from cloudsim.client import CloudSim
from cloudsim.client import CloudSimError

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
IAM_POLICY = REPO_ROOT / "docs" / "iam" / "snapkit-aws-policy.json"
AWS_JOURNAL_SERVICES = ("ec2", "lightsail")
WORKER_OUTPUT_KEY = "snapkit_aws_actions"
LEDGER_KEY = pytest.StashKey()
WORKER_FIGURES_KEY = pytest.StashKey()
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
    ledger = AwsActionLedger()
    config.stash[LEDGER_KEY] = ledger
    config.stash[WORKER_FIGURES_KEY] = []
    patches = [(CloudSim, name, getattr(CloudSim, name)) for name in ("reset", "clear_journal", "stop")]
    patches.append((botocore.session.Session, "__init__", botocore.session.Session.__init__))
    for owner, name, original in patches[:-1]:
        setattr(owner, name, _harvest_first(ledger, original))
    botocore.session.Session.__init__ = _count_in_new_sessions(ledger, patches[-1][2])
    config.stash[PATCHES_KEY] = patches


def pytest_unconfigure(config):
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


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):  # pylint: disable=unused-argument
    config = session.config
    figures = config.stash[LEDGER_KEY].figures()
    if hasattr(config, "workerinput"):
        config.workeroutput[WORKER_OUTPUT_KEY] = figures
        return
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
