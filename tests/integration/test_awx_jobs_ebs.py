# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Our playbooks run the way AWX runs a job template: through ansible-runner, with the survey
answers (defaults from awx/job_templates/, plus what a user types) as extra vars, the cloud
credentials injected as AWX's credential types inject them, and the inventory as AWX writes it
(one host per instance). Success is read from the runner's job events and artifacts, which is
what AWX shows; no planted secret may appear in any artifact.

Job slicing is run as AWX runs it: the same job over disjoint parts of the inventory (hosts in
name order, slice k of n takes every n-th host from the k-th), each part a separate runner job.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys

import ansible_runner
import pytest
import yaml

from conftest import PLANTED_ACCESS_KEY, PLANTED_SECRET_KEY, REPO_ROOT, collections_path

PLANTED_SESSION_TOKEN = "planted-session-token-FwoGZXIvYXdzEJr"
VOLUMES = [{"size": 8, "type": "gp3", "device": "/dev/xvda"}, {"size": 16, "type": "gp3", "device": "/dev/sdf"}]


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


def assert_no_planted_secret(job):
    for secret in (PLANTED_SECRET_KEY, PLANTED_SESSION_TOKEN):
        # ansible-runner itself records the job's environment (credentials included) in its
        # `command` artifact, as AWX stores the job's env; everything else comes from the play.
        leaked = [name for name, text in job.artifacts.items() if secret in text and name != "command"]
        assert not leaked, f"a planted secret is in the job's artifacts: {leaked}"
        assert secret not in json.dumps(job.events)


def created_sets(sim, set_name):
    created = {}
    for entry in sim.journal(service="ec2", action="CreateSnapshots"):
        if entry["status"] == 200 and any(value == set_name for value in entry["params"].values()):
            instance_id = entry["params"]["InstanceSpecification.InstanceId"]
            created[instance_id] = created.get(instance_id, 0) + 1
    return created


@pytest.fixture
def fleet(sim):
    sim.ec2_config(snapshot_seconds_base=60, snapshot_seconds_per_gib=0)  # one simulated minute per snapshot
    instances = {f"db-{number:02d}": sim.seed_instance(volumes=VOLUMES)["instance_id"] for number in range(5)}
    sim.clear_journal()
    return {name: {"instance_id": instance_id} for name, instance_id in instances.items()}


def test_ebs_job_template_runs_as_an_awx_job(sim, fleet, tmp_path):
    definition = job_template("ebs_instance_snapshot.yml")
    extravars = survey_answers(definition, ebs_instance_snapshot_set_name="awx-job-1")
    extravars["ebs_instance_snapshot_endpoint_url"] = sim.endpoints["ec2"]  # where AWS would be
    job = run_job(tmp_path, "job", "ebs_instance_snapshot.yml", fleet, extravars, aws_credential_env(sim), verbosity=3)

    assert (job.status, job.rc) == ("successful", 0), job.stdout[-3000:]
    stats = job.host_stats()
    assert set(stats["ok"]) == set(fleet) and not stats["failures"] and not stats["dark"]
    for host, variables in fleet.items():
        # What AWX shows per host: an event that names the instance and its set.
        shown = json.dumps([event["event_data"].get("res", {}) for event in job.ok_events(host)])
        assert variables["instance_id"] in shown and "awx-job-1" in shown
    assert created_sets(sim, "awx-job-1") == {variables["instance_id"]: 1 for variables in fleet.values()}
    assert_no_planted_secret(job)


def test_sliced_job_covers_every_host_once(sim, fleet, tmp_path):
    definition = job_template("ebs_instance_snapshot.yml")
    extravars = survey_answers(definition, ebs_instance_snapshot_set_name="awx-sliced")
    extravars["ebs_instance_snapshot_endpoint_url"] = sim.endpoints["ec2"]
    slices = awx_slices(fleet, 3)
    assert sorted(name for part in slices for name in part) == sorted(fleet)
    jobs = [run_job(tmp_path, f"slice-{number}", "ebs_instance_snapshot.yml", part, extravars, aws_credential_env(sim))
            for number, part in enumerate(slices, start=1)]

    for job, part in zip(jobs, slices):
        assert (job.status, job.rc) == ("successful", 0), job.stdout[-3000:]
        assert set(job.host_stats()["ok"]) == set(part)
    # Every instance snapshotted exactly once over all slices: nothing missed, nothing twice.
    assert created_sets(sim, "awx-sliced") == {variables["instance_id"]: 1 for variables in fleet.values()}
