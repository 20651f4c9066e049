# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Every key a module really returns is documented in its RETURN: checked on every result of the playbook runner.

The autouse fixture ``documented_returns`` (imported into conftest.py) wraps ``Runner.run``: each registered result of
a ``snapkit.cloud`` module task is compared with the module's RETURN, key by key, into the ``contains`` of documented
dicts and lists of dicts. A key that the module returned and RETURN does not document fails the test that ran it,
naming the module and the key's path. Ansible's own keys (``changed``, ``msg``, ``diff``...) are not the module's.
"""

from __future__ import annotations

import ast
import functools
import pathlib

import pytest
import yaml

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
PREFIX = "snapkit.cloud."
# Keys that Ansible or the module framework adds to every result, not documented in RETURN by convention.
COMMON_KEYS = frozenset({
    "changed", "failed", "msg", "invocation", "diff", "warnings", "deprecations", "exception", "skipped", "skip_reason",
    "false_condition", "ansible_facts", "attempts", "censored", "unreachable", "module_stdout", "module_stderr", "rc",
    "_run", "item", "ansible_loop_var", "ansible_index_var", "failed_when_result", "changed_when_result", "stdout", "stderr",
    "stdout_lines", "stderr_lines", "_ansible_no_log", "ansible_job_id", "finished", "started", "results_file", "retries",
    "exception_kind",
    # amazon.aws's fail_json_aws adds these to a failure (the error's code and message, the SDK versions).
    "error", "response_metadata", "boto3_version", "botocore_version",
})
# On a failure, fail_json_aws also copies the members botocore parsed from the error's own shape (Lightsail's exceptions
# carry code, docs, message and tip): the service's error, not the module's return.
AWS_ERROR_SHAPE_KEYS = frozenset({"code", "docs", "message", "tip"})


@functools.lru_cache(maxsize=None)
def documented(module):
    """The RETURN of ``plugins/modules/<module>.py``, parsed (an empty dict when the module documents none)."""
    path = REPO_ROOT / "plugins" / "modules" / f"{module}.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(target, "id", None) == "RETURN" for target in node.targets):
            return yaml.safe_load(ast.literal_eval(node.value)) or {}
    return {}


def undocumented(value, docs, path=""):
    """The paths of the keys of ``value`` (a dict) that ``docs`` (a RETURN mapping) does not document."""
    missing = []
    for key, item in value.items():
        where = f"{path}.{key}" if path else key
        if not path and (key in COMMON_KEYS or key.startswith("_ansible")):
            continue
        if key not in docs:
            missing.append(where)
            continue
        contains = (docs[key] or {}).get("contains")
        if not contains:
            continue
        if isinstance(item, dict):
            missing.extend(undocumented(item, contains, where))
        elif isinstance(item, list):
            for element in item:
                if isinstance(element, dict):
                    missing.extend(undocumented(element, contains, f"{where}[]"))
    return sorted(set(missing))


def results_of(result):
    """The module results in a registered result: each item of a loop, else the result itself."""
    items = result.get("results")
    if isinstance(items, list) and items and all(isinstance(item, dict) and "ansible_loop_var" in item for item in items):
        return items
    return [result]


def check(tasks, run):
    """The undocumented keys of the registered results of ``tasks`` in ``run``, as ``module: path`` strings."""
    problems = []
    for task in tasks:
        module = next((key[len(PREFIX):] for key in task if key.startswith(PREFIX)), None)
        register = task.get("register")
        if not module or not register or register not in run.results:
            continue
        if not (REPO_ROOT / "plugins" / "modules" / f"{module}.py").exists():
            continue
        for result in results_of(run.results[register]):
            if result.get("skipped"):
                continue
            if result.get("failed"):
                result = {key: value for key, value in result.items() if key not in AWS_ERROR_SHAPE_KEYS}
            problems.extend(f"{module}: {path}" for path in undocumented(result, documented(module)))
    return sorted(set(problems))


@pytest.fixture(autouse=True)
def documented_returns(monkeypatch):
    """Every result the playbook runner reads back is checked against its module's RETURN."""
    import conftest  # pylint: disable=import-outside-toplevel

    original = conftest.Runner.run

    def run(self, tasks, *args, **kwargs):
        outcome = original(self, tasks, *args, **kwargs)
        problems = check(tasks, outcome)
        if problems:
            raise AssertionError("returned but not documented in the module's RETURN: " + ", ".join(problems))
        return outcome

    monkeypatch.setattr(conftest.Runner, "run", run)
