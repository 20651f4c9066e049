# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The OpenStack playbook runs the way AWX runs its job template (see _awx.py): AWX's OpenStack
credential becomes a clouds.yaml whose cloud is named ``devstack``, pointed to by
``OS_CLIENT_CONFIG_FILE``; the survey's answers are the extra vars; the planted OpenStack password
appears in no job event or artifact.
"""

from __future__ import annotations

import json

import pytest

from _awx import assert_no_planted_secret, job_template, run_job, survey_answers
from _openstack import BACKENDS
from _openstack import openstack_real  # noqa: F401  pylint: disable=unused-import
from cloudsim.client import CloudSim
from cloudsim.testing import FAST_SPEED


@pytest.fixture(scope="module")
def clouds():
    with CloudSim.start(speed=FAST_SPEED, services=("openstack",)) as running:
        yield running


@pytest.fixture(params=BACKENDS)
def backend(request, clouds):  # pylint: disable=redefined-outer-name
    """The simulator, wiped; or the real services (the integration-real stage), wiped of earlier tests' resources."""
    if request.param == "sim":
        clouds.reset(speed=FAST_SPEED)
        clouds.guests_reachable = True
        return clouds
    real = request.getfixturevalue("openstack_real")
    real.reset()
    return real


def awx_openstack_credential(clouds, tmp_path):
    """What AWX's OpenStack credential type injects: a clouds.yaml with the cloud `devstack`, and its path."""
    document = clouds.clouds_yaml("devstack")
    path = tmp_path / "clouds.yaml"
    path.write_text(json.dumps(document), encoding="utf-8")
    return {"OS_CLIENT_CONFIG_FILE": str(path)}, document["clouds"]["devstack"]["auth"]["password"]


@pytest.mark.parametrize("boot", ["image", "volume"])
def test_openstack_job_template_runs_as_an_awx_job(backend, listener, tmp_path, boot):
    clouds = backend
    clouds.seed_server(boot=boot, name="app", root_size=12)
    extravars = survey_answers(job_template("openstack_snapshot_and_copy.yml"), openstack_instance_snapshot_server="app",
                               openstack_instance_snapshot_name="app-snap", openstack_launch_copy_name="app-copy")
    # Where the copy's SSH port would answer: a listener on loopback.
    extravars.update(openstack_launch_copy_ssh_host="127.0.0.1", openstack_launch_copy_ssh_port=listener)
    if not clouds.guests_reachable:  # nothing answers on a real copy's address: skip exactly the SSH wait
        extravars["openstack_launch_copy_wait_for_ssh"] = False
    envvars, password = awx_openstack_credential(clouds, tmp_path)
    job = run_job(tmp_path, "job", "openstack_snapshot_and_copy.yml", {"localhost": {}}, extravars, envvars, verbosity=3)

    assert (job.status, job.rc) == ("successful", 0), job.stdout[-3000:]
    assert not job.host_stats()["failures"]
    state = clouds.openstack_state()
    copy = next(server for server in state["servers"] if server["name"] == "app-copy")
    assert copy["status"] == "ACTIVE"
    if boot == "image":
        assert any(image["name"] == "app-snap" and image["id"] == copy["image_id"] for image in state["images"])
    else:
        assert copy["image_id"] == "" and any(snapshot["name"] == "app-snap" for snapshot in state["snapshots"])
    assert_no_planted_secret(job, password)
