# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Running our playbooks the way AWX runs a job template: through ansible-runner, with the survey
answers (defaults from awx/job_templates/, plus what a user types) as extra vars, credentials as
AWX's credential types inject them, and the inventory as AWX writes it. ``Job`` holds what AWX
shows of a job: status, job events and artifacts.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys

import ansible_runner
import yaml

from conftest import PLANTED_ACCESS_KEY, PLANTED_SECRET_KEY, REPO_ROOT, collections_path

PLANTED_SESSION_TOKEN = "planted-session-token-FwoGZXIvYXdzEJr"


def job_template(playbook):
    for path in (REPO_ROOT / "awx" / "job_templates").glob("*.yml"):
        definition = yaml.safe_load(path.read_text())
        if definition["playbook"] == f"playbooks/{playbook}":
            return definition
    raise AssertionError(f"no job template definition for playbooks/{playbook}")


def survey_answers(definition, **typed):
    """The extra vars AWX sends: the template's extra vars, each question's default, then what the user typed."""
    answers = dict(definition.get("extra_vars", {}))
    for question in definition["survey"]["spec"]:
        if "default" in question:
            answers[question["variable"]] = question["default"]
    unknown = set(typed) - {question["variable"] for question in definition["survey"]["spec"]}
    assert not unknown, f"not survey questions: {unknown}"
    answers.update(typed)
    return answers


def aws_credential_env(sim):
    """What AWX's "Amazon Web Services" credential type injects into the job's environment."""
    return {"AWS_ACCESS_KEY_ID": PLANTED_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": PLANTED_SECRET_KEY,
            "AWS_SECURITY_TOKEN": PLANTED_SESSION_TOKEN, "AWS_SESSION_TOKEN": PLANTED_SESSION_TOKEN,
            "AWS_REGION": sim.endpoints["region"]}


def awx_slices(hosts, count):
    ordered = sorted(hosts)
    return [{name: hosts[name] for name in ordered[number::count]} for number in range(count)]


class Job:
    """One ansible-runner job: its status, events and every artifact file's text."""

    def __init__(self, runner):
        self.status, self.rc = runner.status, runner.rc
        self.events = list(runner.events)
        artifacts = pathlib.Path(runner.config.artifact_dir)
        self.artifacts = {str(path.relative_to(artifacts)): path.read_text(errors="replace") for path in artifacts.rglob("*") if path.is_file()}
        self.stdout = runner.stdout.read()

    def host_stats(self):
        stats = next(event for event in self.events if event["event"] == "playbook_on_stats")["event_data"]
        return {key: stats.get(key) or {} for key in ("ok", "failures", "dark", "changed")}

    def ok_events(self, host):
        return [event for event in self.events if event["event"] == "runner_on_ok" and event["event_data"].get("host") == host]


def run_job(tmp_path, name, playbook, hosts, extravars, envvars, verbosity=0):
    """Run playbooks/<playbook> as an AWX job over an inventory of ``hosts`` (name -> host vars)."""
    private = tmp_path / name
    inventory = {"all": {"hosts": hosts, "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}}}
    (private / "inventory").mkdir(parents=True)
    (private / "inventory" / "hosts.yml").write_text(yaml.safe_dump(inventory))
    # The execution environment's PATH: our venv's ansible-playbook first.
    path = os.pathsep.join([str(pathlib.Path(sys.executable).parent), os.environ.get("PATH", "")])
    envvars = dict(envvars, PATH=path, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_NOCOLOR="1")
    runner = ansible_runner.run(private_data_dir=str(private), playbook=str(REPO_ROOT / "playbooks" / playbook),
                                extravars=extravars, envvars=envvars, verbosity=verbosity, quiet=True, timeout=600)
    return Job(runner)


def assert_no_planted_secret(job, *secrets):
    for secret in (PLANTED_SECRET_KEY, PLANTED_SESSION_TOKEN, *secrets):
        # ansible-runner itself records the job's environment (credentials included) in its
        # `command` artifact, as AWX stores the job's env; everything else comes from the play.
        leaked = [name for name, text in job.artifacts.items() if secret in text and name != "command"]
        assert not leaked, f"a planted secret is in the job's artifacts: {leaked}"
        assert secret not in json.dumps(job.events)
