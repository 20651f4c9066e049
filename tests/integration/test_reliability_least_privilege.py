# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reliability suite: the IAM policy, read statically.

The dynamic half (what the journals recorded over the whole session against the policy) is the
plugin ``_least_privilege.py``; these tests check the policy document itself and the plugin's
verdict on made-up figures, so a broken check cannot pass silently.
"""

from __future__ import annotations

import json
import re

import botocore.session

from _least_privilege import IAM_POLICY
from _least_privilege import least_privilege_verdict
from _least_privilege import policy_actions
from conftest import REPO_ROOT

SERVICES = {"ec2": "ec2", "lightsail": "lightsail"}


def operations_called_in_plugins():
    """Snake-case names of client methods and amazon.aws wrappers our plugin code calls or imports."""
    text = "\n".join(path.read_text() for path in (REPO_ROOT / "plugins").rglob("*.py"))
    called = set(re.findall(r"client\.([a-z_]+)\(", text))
    called.update(re.findall(r"module_utils\.ec2 import ([a-z_]+)", text))
    return called


def test_policy_is_a_plain_allow_list_of_real_operations():
    document = json.loads(IAM_POLICY.read_text())
    assert document["Version"] == "2012-10-17"
    session = botocore.session.get_session()
    listed = []
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow" and statement["Resource"] == "*", statement["Sid"]
        assert statement["Action"] == sorted(statement["Action"]), f"{statement['Sid']}: keep the actions sorted"
        listed.extend(statement["Action"])
    assert len(listed) == len(set(listed)), "an action is listed twice"
    for action in listed:
        service, operation = action.split(":")
        assert operation in session.get_service_model(SERVICES[service]).operation_names, action


def test_every_policy_action_is_called_by_our_code():
    called = operations_called_in_plugins()
    session = botocore.session.get_session()
    for action in policy_actions():
        service, operation = action.split(":")
        snake = session.get_service_model(SERVICES[service]).operation_model(operation).name
        assert re.sub(r"(?<!^)(?=[A-Z])", "_", snake).lower() in called, f"{action}: no call in plugins/"


def test_the_session_verdict_names_what_is_wrong():
    policy = {"ec2:DescribeInstances", "ec2:CreateSnapshots"}
    worker = {"module_actions": ["ec2:CreateSnapshots", "ec2:DeleteVolume"]}
    problems, used = least_privilege_verdict([worker, {"module_actions": []}], policy, whole_suite=True)
    assert used == {"ec2:CreateSnapshots", "ec2:DeleteVolume"}
    assert len(problems) == 2
    assert "does not allow: ec2:DeleteVolume" in problems[0]
    assert "nothing in the suite called: ec2:DescribeInstances" in problems[1]
    problems, _used = least_privilege_verdict([worker], policy, whole_suite=False)
    assert len(problems) == 1, "unused actions are only known when the whole suite ran"
