# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pytest fixtures for tests against the OpenStack simulator; import them into a test module or conftest.py.

``openstack_cloud`` is one cloudsim process running only the OpenStack simulator for the session;
``openstack_frozen`` is it wiped with the clock frozen (only ``advance()`` moves time);
``clouds_yaml_file`` writes the generated clouds.yaml (cloud ``devstack``) and points
``OS_CLIENT_CONFIG_FILE`` at it; ``openstack_conn`` is an openstacksdk connection through it.
"""

from __future__ import annotations

import json

import pytest
import requests

from cloudsim.client import CloudSim


@pytest.fixture(scope="session")
def openstack_cloud():
    with CloudSim.start(speed=0, services=("openstack",)) as running:
        yield running


@pytest.fixture
def openstack_frozen(openstack_cloud):  # pylint: disable=redefined-outer-name
    openstack_cloud.reset(speed=0)
    return openstack_cloud


@pytest.fixture
def clouds_yaml_file(openstack_frozen, tmp_path, monkeypatch):  # pylint: disable=redefined-outer-name
    path = tmp_path / "clouds.yaml"
    # JSON is YAML: no YAML library needed to write it.
    path.write_text(json.dumps(openstack_frozen.clouds_yaml("devstack")), encoding="utf-8")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    for name in ("OS_CLOUD", "OS_AUTH_URL", "OS_USERNAME", "OS_PASSWORD", "OS_PROJECT_NAME", "OS_AUTH_TYPE"):
        monkeypatch.delenv(name, raising=False)
    return path


@pytest.fixture
def openstack_conn(clouds_yaml_file):  # pylint: disable=redefined-outer-name,unused-argument
    import openstack  # pylint: disable=import-outside-toplevel
    connection = openstack.connect(cloud="devstack")
    yield connection
    connection.close()


def set_zones(cloud: CloudSim, compute: list[str] | None = None, volume: list[str] | None = None) -> dict:
    """Nova's (``compute``) and Cinder's (``volume``) availability zones (``POST /openstack/zones``); the first of each is
    where servers and volumes go when no zone is asked for. A reset brings back DevStack's ``nova`` and ``nova``."""
    body = {key: value for key, value in (("compute", compute), ("volume", volume)) if value is not None}
    answer = requests.post(cloud.control_url + "/openstack/zones", json=body, timeout=30)
    answer.raise_for_status()
    return answer.json()


def seed_network(cloud: CloudSim, name: str, cidr: str, external: bool = False, shared: bool = False) -> dict:
    """A network with one subnet as an admin makes it (``POST /openstack/networks``): ``external`` is ``router:external``."""
    answer = requests.post(cloud.control_url + "/openstack/networks",
                           json={"name": name, "cidr": cidr, "external": external, "shared": shared}, timeout=30)
    answer.raise_for_status()
    return answer.json()


def set_roles(cloud: CloudSim, roles: list[str]) -> dict:
    """The user's roles on the project for the tokens issued from now on (``POST /openstack/identity``); a reset brings
    back the member's (``member``, ``reader``)."""
    answer = requests.post(cloud.control_url + "/openstack/identity", json={"roles": roles}, timeout=30)
    answer.raise_for_status()
    return answer.json()
