# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Shared fixtures and helpers for integration tests against the local OpenStack cloud.

Credentials reach the modules as AWX injects them: a ``clouds.yaml`` whose cloud is named
``devstack``, found through ``OS_CLIENT_CONFIG_FILE``; ``module_defaults`` on the action group
``group/snapkit.cloud.openstack`` names the cloud once. Import what you need into a test module::

    from _openstack import openstack_sim, sim, os_conn  # noqa: F401

``os_backend`` is the same cloud on both backends: the simulator (``sim``), and the real services when the
``integration-real`` stage started them (tests/openstack_real; ``SNAPKIT_OPENSTACK_REAL_CLOUDS`` names their clouds.yaml).
A test that takes ``os_backend`` runs once per backend; ``os_backend.journaled`` says whether calls can be read back.
"""

from __future__ import annotations

import collections
import json
import os

import pytest

from cloudsim.client import CloudSim
from cloudsim.testing import FAST_SPEED
from openstack_real import testing as real_testing

CLOUD_NAME = "devstack"
# A second cloud in the same clouds.yaml, authenticating with an application credential.
APP_CREDENTIAL_CLOUD = "devstack-appcred"
OPENSTACK_GROUP = "group/snapkit.cloud.openstack"
READONLY_PREFIXES = ("list", "show", "versions", "get")


@pytest.fixture(scope="session")
def openstack_sim():
    """One cloudsim per test session with EC2 (the conftest runner's module_defaults name its endpoint) and OpenStack."""
    with CloudSim.start(speed=FAST_SPEED, services=("ec2", "openstack")) as running:
        yield running


@pytest.fixture
def sim(openstack_sim, tmp_path, monkeypatch):  # pylint: disable=redefined-outer-name
    """Overrides conftest's ``sim``: the OpenStack cloud wiped, running fast, with its clouds.yaml in the environment."""
    openstack_sim.reset(speed=FAST_SPEED)
    document = openstack_sim.clouds_yaml(CLOUD_NAME)
    appcred = openstack_sim.clouds_yaml(APP_CREDENTIAL_CLOUD, auth_type="v3applicationcredential")
    document["clouds"].update(appcred["clouds"])
    path = tmp_path / "clouds.yaml"
    path.write_text(json.dumps(document), encoding="utf-8")  # JSON is YAML
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    for name in ("OS_CLOUD", "OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD", "OS_PROJECT_NAME", "OS_AUTH_TYPE"):
        monkeypatch.delenv(name, raising=False)
    openstack_sim.clouds_yaml_path = path
    return openstack_sim


# The real backend joins only when its stage started the services: its params are not made (not skipped) otherwise.
BACKENDS = [pytest.param("sim", id="sim")] + (
    [pytest.param("real", id="real", marks=pytest.mark.openstack_real)] if real_testing.enabled() else [])


@pytest.fixture(scope="session")
def openstack_real():
    """The running real services (started by the integration-real stage), seeded through their admin cloud entry."""
    cloud = real_testing.RealCloud(os.environ[real_testing.CLOUDS_ENV])
    yield cloud
    cloud.close()


@pytest.fixture(params=BACKENDS)
def os_backend(request, sim, tmp_path, monkeypatch):  # pylint: disable=redefined-outer-name
    """``sim``, or the real services wiped of earlier tests' servers, volumes and snapshots, with the member's clouds.yaml."""
    if request.param == "sim":
        sim.journaled = sim.guests_reachable = True
        sim.backend = "sim"
        return sim
    real = request.getfixturevalue("openstack_real")
    real.reset()
    real.endpoints = sim.endpoints  # the runner's AWS module_defaults; no OpenStack test calls AWS
    path = tmp_path / "clouds-real.yaml"
    path.write_text(json.dumps(real.clouds_yaml(CLOUD_NAME)), encoding="utf-8")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    real.clouds_yaml_path = path
    return real


@pytest.fixture
def os_conn(request, sim):  # pylint: disable=redefined-outer-name,unused-argument
    """An openstacksdk connection through the same clouds.yaml, to arrange and check what the modules did."""
    if "os_backend" in request.fixturenames:
        request.getfixturevalue("os_backend")  # its clouds.yaml first
    import openstack  # pylint: disable=import-outside-toplevel
    connection = openstack.connect(cloud=CLOUD_NAME)
    yield connection
    connection.close()


def os_task(module, register, cloud=CLOUD_NAME, **params):
    """A task running ``snapkit.cloud.<module>`` (or a fully qualified name) with the cloud set through the action group."""
    name = module if "." in module else f"snapkit.cloud.{module}"
    task = {"name": f"Run {name}", name: params, "register": register}
    if cloud is not None:
        task["module_defaults"] = {OPENSTACK_GROUP: {"cloud": cloud}}
    return task


def os_module(ansible, module, check=False, verbosity=0, **params):
    """Run one module once; its registered result, with the run on ``result['_run']``."""
    run = ansible.run([os_task(module, "result", **params)], check=check, verbosity=verbosity)
    result = run["result"]
    result["_run"] = run
    return result


def mutating_calls(journal):
    """Journal entries of calls that change something (POST/PUT/DELETE actions, token creation aside)."""
    return [entry for entry in journal if entry["service"] != "identity" and not entry["action"].startswith(READONLY_PREFIXES)]


def calls_by_action(journal):
    """``{"service action": count}`` of a journal: the API-call figures of a path."""
    return dict(collections.Counter(f"{entry['service']} {entry['action']}" for entry in journal))


def request_body(entry, key):
    """The request object ``key`` (``snapshot``, ``createImage``...) as journaled."""
    return entry["params"].get(key) or {}
