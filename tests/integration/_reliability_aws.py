# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Helpers of the reliability suite for the EBS set modules, the Lightsail modules and the Lightsail role
(``test_reliability_ebs_sets.py``, ``test_reliability_lightsail.py``), beside those of ``_reliability.py``."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

from _reliability import mutating
from _reliability import task
from conftest import REPO_ROOT

LIGHTSAIL_ROLE_PLAYBOOK = REPO_ROOT / "playbooks" / "lightsail_instance_snapshot.yml"

# Lightsail's error shapes (botocore lightsail/2016-11-28 service-2.json; HTTP statuses from the Lightsail API
# Reference, "Common Errors" and each action's "Errors"). Lightsail has no throttling or limit shape of its own:
# throttling is the JSON protocol's ThrottlingException, a quota reached is an OperationFailureException or an
# InvalidInputException, a server fault a ServiceException (500).
LIGHTSAIL_THROTTLING = ("ThrottlingException", 400)
LIGHTSAIL_5XX = [("ServiceException", 500), ("InternalFailure", 500), ("ServiceUnavailable", 503)]


def deny_task(sim, service, action, fault):
    """A task that plants ``fault`` (code, status[, count of calls, default 1]) for the next calls of ``action``: a case's
    own fault, planted right before the case's task in the same playbook."""
    code, status, count = (*fault, 1)[:3]
    return {"name": f"Fault {code} on {action}", "ansible.builtin.uri": {
        "url": sim.control_url + "/faults", "method": "POST", "body_format": "json",
        "body": {"service": service, "action": action, "code": code, "status": status, "count": count}}}


def run_cases(sim, ansible, cases, module, service):
    """One playbook: for each case (action, fault, params) the fault, then ``module`` with ``params``; the results in order."""
    tasks = []
    for number, (action, fault, params) in enumerate(cases):
        if fault is not None:
            tasks.append(deny_task(sim, service, action, fault))
        tasks.append(task(sim, module, f"case_{number}", **params))
    run = ansible.run(tasks)
    return [run[f"case_{number}"] for number in range(len(cases))]


def succeeded_calls(sim, service, action):
    return [entry for entry in sim.journal(service=service, action=action) if entry["status"] == 200]


def refused_before_any_change(sim, ansible, cases):
    """Run the catalogue ``cases`` [(module, params, field)] in one playbook: the cases that did not fail naming their
    field, and the mutating calls the run made."""
    run = ansible.run([task(sim, module, f"case_{number}", **dict(params)) for number, (module, params, _field) in enumerate(cases)])
    missed = []
    for number, (module, _params, field) in enumerate(cases):
        result = run[f"case_{number}"]
        if not result.get("failed") or field not in str(result.get("msg", "")):
            missed.append((number, module, field, str(result.get("msg", ""))[:300]))
    return missed, mutating(sim.journal())


def role_command(sim, ansible, **variables):  # pylint: disable=redefined-outer-name
    """The command and environment that run playbooks/lightsail_instance_snapshot.yml with extra vars only (as AWX does),
    the run's timestamp fixed so that a rerun derives the same snapshot names."""
    extra = {"lightsail_instance_snapshot_endpoint_url": sim.lightsail_url, "lightsail_instance_snapshot_timestamp": "t1",
             "ansible_python_interpreter": sys.executable, **variables}
    command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", str(LIGHTSAIL_ROLE_PLAYBOOK),
               "-e", json.dumps(extra)]
    return command, ansible.environment()


def run_lightsail_role(sim, ansible, **variables):  # pylint: disable=redefined-outer-name
    command, environment = role_command(sim, ansible, **variables)
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=900, check=False)
