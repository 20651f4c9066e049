# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The EBS playbook runs the way AWX runs a job template: through ansible-runner, with the survey
answers (defaults from awx/job_templates/, plus what a user types) as extra vars, the cloud
credentials injected as AWX's credential types inject them, and the inventory as AWX writes it
(one host per instance). Success is read from the runner's job events and artifacts, which is
what AWX shows; no planted secret may appear in any artifact.

Job slicing is run as AWX runs it: the same job over disjoint parts of the inventory (hosts in
name order, slice k of n takes every n-th host from the k-th), each part a separate runner job.
"""

from __future__ import annotations

import json

import pytest

from _awx import assert_no_planted_secret, aws_credential_env, awx_slices, job_template, run_job, survey_answers

VOLUMES = [{"size": 8, "type": "gp3", "device": "/dev/xvda"}, {"size": 16, "type": "gp3", "device": "/dev/sdf"}]


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


def test_ebs_job_template_in_fleet_mode_makes_every_set_in_one_task(sim, fleet, tmp_path):
    definition = job_template("ebs_instance_snapshot.yml")
    extravars = survey_answers(definition, ebs_instance_snapshot_set_name="awx-fleet", ebs_instance_snapshot_fleet_mode="true",
                               ebs_instance_snapshot_stop_instance="true")
    extravars["ebs_instance_snapshot_endpoint_url"] = sim.endpoints["ec2"]
    job = run_job(tmp_path, "fleet-job", "ebs_instance_snapshot.yml", fleet, extravars, aws_credential_env(sim))

    assert (job.status, job.rc) == ("successful", 0), job.stdout[-3000:]
    assert set(job.host_stats()["ok"]) == set(fleet)
    assert created_sets(sim, "awx-fleet") == {variables["instance_id"]: 1 for variables in fleet.values()}
    # One DescribeInstances selected the whole fleet (one task), not one per host.
    selections = [e for e in sim.journal(service="ec2", action="DescribeInstances")
                  if sum(value in {v["instance_id"] for v in fleet.values()} for value in e["params"].values()) == len(fleet)]
    assert len(selections) == 1, [e["params"] for e in sim.journal(service="ec2", action="DescribeInstances")][:3]
    for host in fleet:
        shown = json.dumps([event["event_data"].get("res", {}) for event in job.ok_events(host)])
        assert fleet[host]["instance_id"] in shown and "awx-fleet" in shown
    assert_no_planted_secret(job)
