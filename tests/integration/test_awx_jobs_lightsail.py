# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The Lightsail playbook runs the way AWX runs its job template (see _awx.py): the Windows
procedure, Sysprep over real WinRM on an emulated guest, with the survey's answers, AWS keys as
AWX injects them, and no planted secret (cloud keys, the instance's Administrator password) in any
job event or artifact.
"""

from __future__ import annotations


import pytest

from _awx import assert_no_planted_secret, aws_credential_env, job_template, run_job, survey_answers
from cloudsim.client import CloudSim
from cloudsim.testing import FAST_SPEED
from cloudsim.windows.testing import wait_for_guest
from cloudsim.windows.testing import winrm_nat
from test_lightsail_instance_snapshot_role import through_nat

PLANTED_ADMIN_PASSWORD = "Planted-Admin-Passw0rd-awx-91c2"


@pytest.fixture(scope="module")
def clouds():
    with CloudSim.start(speed=FAST_SPEED, services=("lightsail", "windows")) as running:
        yield running


def test_lightsail_windows_job_template_runs_as_an_awx_job(clouds, listener, tmp_path):
    clouds.reset(speed=FAST_SPEED)
    clouds.seed_lightsail_instance("win-1", blueprint="windows", password=PLANTED_ADMIN_PASSWORD)
    guest = wait_for_guest(clouds, "lightsail", "win-1")
    extravars = survey_answers(job_template("lightsail_instance_snapshot.yml"), lightsail_instance_snapshot_instance_name="win-1",
                               lightsail_instance_snapshot_winrm_cidr="198.51.100.7/32")
    assert extravars["lightsail_instance_snapshot_winrm_scheme"] == "http", "the survey's default reaches a stock instance"
    # Where AWS and the instance would be: the local Lightsail endpoint, and the emulated guest's WinRM behind a NAT
    # (the instance's port the role picks, forwarded to the guest's listener for it).
    extravars.update(through_nat(guest, winrm_nat(guest)), lightsail_instance_snapshot_endpoint_url=clouds.lightsail_url,
                     lightsail_instance_snapshot_verify_host="127.0.0.1", lightsail_instance_snapshot_verify_port=listener)
    envvars = dict(aws_credential_env(clouds), AWS_REGION=clouds.region)
    job = run_job(tmp_path, "job", "lightsail_instance_snapshot.yml", {"localhost": {}}, extravars, envvars, verbosity=3)

    assert (job.status, job.rc) == ("successful", 0), job.stdout[-3000:]
    assert not job.host_stats()["failures"]
    snapshots = {snapshot["name"]: snapshot for snapshot in clouds.lightsail_state()["instance_snapshots"]}
    backup = [name for name in snapshots if "backup" in name]
    sysprep = [name for name in snapshots if "sysprep" in name]
    assert len(backup) == 1 and len(sysprep) == 1, sorted(snapshots)
    assert {snapshots[name]["state"] for name in backup + sysprep} == {"available"}
    instance = next(entry for entry in clouds.lightsail_state()["instances"] if entry["name"] == "win-1")
    assert instance["state"] == "running"
    # The survey asked for verification: the temporary instance was made and is gone again.
    made = [entry["params"]["instanceNames"] for entry in clouds.journal(service="lightsail", action="CreateInstancesFromSnapshot")]
    assert len(made) == 1 and made[0][0] not in {entry["name"] for entry in clouds.lightsail_state()["instances"]}
    opened = [entry["params"]["portInfo"]["fromPort"] for entry in clouds.journal(service="lightsail", action="OpenInstancePublicPorts")]
    assert opened == [5985], "WinRM over HTTP, the port a stock instance listens on"
    assert_no_planted_secret(job, PLANTED_ADMIN_PASSWORD)
