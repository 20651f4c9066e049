# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pytest fixtures and helpers for tests that reach emulated Windows guests over WinRM.

``windows_cloud`` is one cloudsim process running Lightsail, OpenStack and the Windows guests for the
session; ``windows_frozen`` is it wiped with the clock frozen. :func:`winrm_inventory` writes an Ansible
inventory for a guest (``ansible_connection: winrm`` over HTTP with basic authentication).
"""

from __future__ import annotations

import json
import pathlib
import socket
import time

import pytest

from cloudsim.client import CloudSim

SERVICES = ("lightsail", "openstack", "windows")


@pytest.fixture(scope="session")
def windows_cloud():
    with CloudSim.start(speed=0, services=SERVICES) as running:
        yield running


@pytest.fixture
def windows_frozen(windows_cloud):  # pylint: disable=redefined-outer-name
    windows_cloud.reset(speed=0)
    return windows_cloud


def wait_for_guest(cloud: CloudSim, service: str, instance: str, reachable: bool = True, timeout: float = 10.0, until=None, **expected) -> dict:
    """The guest once its watcher has caught up with the cloud (it follows every 50 ms): ``reachable``, the ``expected``
    fields and ``until(guest)`` if given."""
    deadline = time.monotonic() + timeout
    while True:
        guest = cloud.windows_guest(service, instance)
        if guest["reachable"] is reachable and all(guest.get(key) == value for key, value in expected.items()) and (until is None or until(guest)):
            return guest
        if time.monotonic() > deadline:
            raise AssertionError(f"guest {service}/{instance} did not reach reachable={reachable} {expected}: {guest}")
        time.sleep(0.05)


def winrm_nat(guest: dict) -> dict[str, int]:
    """Where a NAT in front of the guest forwards each WinRM port of the instance ("5985", "5986"): the loopback port
    of the guest's listener for it, or a closed port where the guest has none (connection refused, as from a stock
    image on 5986)."""
    forwarded = {}
    for instance_port in ("5985", "5986"):
        listener = (guest.get("listeners") or {}).get(instance_port) or {}
        forwarded[instance_port] = listener.get("port") or _closed_port(guest["host"])
    return forwarded


def _closed_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def winrm_host_vars(guest: dict) -> dict:
    """Host variables for Ansible's winrm connection to an emulated guest."""
    return {
        "ansible_host": guest["host"], "ansible_port": guest["port"], "ansible_user": guest["username"],
        "ansible_password": guest["password"], "ansible_connection": "winrm", "ansible_winrm_scheme": "http",
        "ansible_winrm_transport": "basic", "ansible_winrm_server_cert_validation": "ignore",
        # Short timeouts: a guest that went away must not hold a test for pywinrm's default 30 s.
        "ansible_winrm_operation_timeout_sec": 5, "ansible_winrm_read_timeout_sec": 10,
    }


def winrm_inventory(path: pathlib.Path, hosts: dict[str, dict], python: str) -> pathlib.Path:
    """An inventory (JSON is YAML) with the guests as ``windows`` hosts and a local ``localhost``."""
    inventory = {"all": {"children": {"windows": {"hosts": {name: winrm_host_vars(guest) for name, guest in hosts.items()}}},
                         "hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": python}}}}
    path.write_text(json.dumps(inventory), encoding="utf-8")
    return path
