# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Module-level integration tests: real ``ansible-playbook`` runs against the local test clouds.

Each test writes a small playbook, runs it in a subprocess exactly as a user would (credentials in
the environment as AWX injects them, the endpoint set once through ``module_defaults`` on the
collection's action group), and reads back the registered results and the cloud's journal.
"""

from __future__ import annotations

import json
import os
import pathlib
import socket
import subprocess
import sys

import boto3
import pytest
import yaml

from cloudsim.testing import cloud  # noqa: F401  pylint: disable=unused-import
from cloudsim.testing import fresh  # noqa: F401  pylint: disable=unused-import
import _return_docs
from _return_docs import documented_returns  # noqa: F401  pylint: disable=unused-import

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
# Credentials the tests plant: none of them may ever show up in any output.
PLANTED_ACCESS_KEY = "AKIAPLANTEDKEY000001"
PLANTED_SECRET_KEY = "planted-secret-key-wJalrXUtnFEMI-K7MDENG"
# The session's ledgers, each its own plugin module: the IAM policy against the calls our modules made, and the
# reliability suite's count of what it broke (registered in this order, so the faults are reported first).
pytest_plugins = ["_least_privilege", "_fault_ledger"]


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
            # Start-up: only the collections under test (not the ~100 of the `ansible` package in the venv).
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
            "ANSIBLE_FILTER_PLUGINS": str(pathlib.Path(__file__).parent / "ansible_filters"),
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
                # A filter on the controller (ansible_filters/): a copy task would cost two module runs.
                "ansible.builtin.set_fact": {
                    "snapkit_test_results_file": "{{ {" + ", ".join(f"'{name}': {name}" for name in registered) + "} | to_json"
                                                 f" | snapkit_test_save('{results_file}') }}}}",
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
        return self.modules([(name, params)], check=check, diff=diff, verbosity=verbosity)[0]

    def modules(self, calls, check=False, diff=False, verbosity=0):
        """Run ``(name, params)`` module calls one after the other in ONE playbook run (one start of ansible-playbook
        for cases that need nothing done between them); their registered results, in order, each with ``_run``."""
        run = self.run([{"name": f"Run {name}", f"snapkit.cloud.{name}": params, "register": f"result_{index}"}
                        for index, (name, params) in enumerate(calls)], check=check, diff=diff, verbosity=verbosity)
        results = [run[f"result_{index}"] for index in range(len(calls))]
        for result in results:
            result["_run"] = run
        return results


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
    """The RETURN block of one of our modules, parsed (the cached copy the RETURN check uses: read it, never change it)."""
    documented = _return_docs.documented(module_name)
    if not documented:
        raise AssertionError(f"{module_name} has no RETURN")
    return documented


def pytest_configure(config):
    config.addinivalue_line("markers", "openstack_real: runs against the real OpenStack services (the integration-real stage)")
