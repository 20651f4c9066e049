# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""win_ec2launch_sysprep and win_reset_static_ip on a REAL Windows host over WinRM (docs/windows.md).

Skipped, and reported as skipped, unless SNAPKIT_WINDOWS_HOST is set. Nothing here runs against cloudsim: this is
the only test that executes our PowerShell. Environment:

- SNAPKIT_WINDOWS_HOST: host name or address (required to run)
- SNAPKIT_WINDOWS_USER / SNAPKIT_WINDOWS_PASSWORD: an administrator (default user: Administrator)
- SNAPKIT_WINDOWS_PORT (default 5986), SNAPKIT_WINDOWS_SCHEME (default https), SNAPKIT_WINDOWS_TRANSPORT
  (default ntlm), SNAPKIT_WINDOWS_CERT_VALIDATION (default ignore)
- SNAPKIT_WINDOWS_TEST_ADAPTER: the name of an adapter the test may put a static address on and switch to DHCP
  (for example a Microsoft KM-TEST loopback adapter). Never the adapter of the WinRM connection. Without it,
  win_reset_static_ip runs in check mode only.

win_ec2launch_sysprep runs with start_sysprep=false (no Sysprep, no shutdown), but it does set the launch agent's
password option to random on the host.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest
import yaml

from conftest import collections_path

HOST = os.environ.get("SNAPKIT_WINDOWS_HOST")
TEST_ADAPTER = os.environ.get("SNAPKIT_WINDOWS_TEST_ADAPTER")

pytestmark = pytest.mark.skipif(not HOST, reason="no real Windows host configured (set SNAPKIT_WINDOWS_HOST, see docs/windows.md)")

STATIC = {"ip": "192.0.2.10", "prefix": 24, "gateway": "192.0.2.1", "dns": "192.0.2.53"}


def inventory():
    env = os.environ.get
    return {"all": {"hosts": {"windows": {
        "ansible_host": HOST,
        "ansible_connection": "winrm",
        "ansible_user": env("SNAPKIT_WINDOWS_USER", "Administrator"),
        "ansible_password": env("SNAPKIT_WINDOWS_PASSWORD", ""),
        "ansible_port": int(env("SNAPKIT_WINDOWS_PORT", "5986")),
        "ansible_winrm_scheme": env("SNAPKIT_WINDOWS_SCHEME", "https"),
        "ansible_winrm_transport": env("SNAPKIT_WINDOWS_TRANSPORT", "ntlm"),
        "ansible_winrm_server_cert_validation": env("SNAPKIT_WINDOWS_CERT_VALIDATION", "ignore"),
    }}}}


def task(name, module, params, register, **extra):
    return dict({"name": name, module: params, "register": register, "ignore_errors": True}, **extra)


def adapter_tasks():
    if not TEST_ADAPTER:
        return [task("All static adapters, check mode", "snapkit.cloud.win_reset_static_ip", {}, "nic_check", check_mode=True, diff=True)]
    adapter = TEST_ADAPTER.replace("'", "''")
    put_static = (
        "$i = (Get-NetAdapter -Name '{a}').InterfaceIndex; Set-NetIPInterface -InterfaceIndex $i -Dhcp Disabled; "
        "Get-NetIPAddress -InterfaceIndex $i -AddressFamily IPv4 -ErrorAction SilentlyContinue | Remove-NetIPAddress -Confirm:$false; "
        "New-NetIPAddress -InterfaceIndex $i -IPAddress {ip} -PrefixLength {prefix} -DefaultGateway {gateway} | Out-Null; "
        "Set-DnsClientServerAddress -InterfaceIndex $i -ServerAddresses {dns}"
    ).format(a=adapter, **STATIC)
    read_state = ("$i = (Get-NetAdapter -Name '%s').InterfaceIndex; "
                  "@{ dhcp = [string](Get-NetIPInterface -InterfaceIndex $i -AddressFamily IPv4).Dhcp; "
                  "manual = @(Get-NetIPAddress -InterfaceIndex $i -AddressFamily IPv4 -PrefixOrigin Manual -ErrorAction SilentlyContinue).Count; "
                  "routes = @(Get-NetRoute -InterfaceIndex $i -DestinationPrefix '0.0.0.0/0' -ErrorAction SilentlyContinue).Count } "
                  "| ConvertTo-Json -Compress") % adapter
    switch = {"adapters": [TEST_ADAPTER]}
    return [
        task("Put a static configuration on the test adapter", "ansible.windows.win_shell", put_static, "setup"),
        task("Switch, check mode", "snapkit.cloud.win_reset_static_ip", switch, "nic_check", check_mode=True, diff=True),
        task("Read the adapter after check mode", "ansible.windows.win_shell", read_state, "state_after_check"),
        task("Switch", "snapkit.cloud.win_reset_static_ip", switch, "nic_real", diff=True),
        task("Read the adapter after the switch", "ansible.windows.win_shell", read_state, "state_after_switch"),
        task("Switch again", "snapkit.cloud.win_reset_static_ip", switch, "nic_again"),
    ]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("real-windows")
    tasks = [
        task("Sysprep, check mode", "snapkit.cloud.win_ec2launch_sysprep", {}, "sysprep_check", check_mode=True, diff=True),
        task("Password option only", "snapkit.cloud.win_ec2launch_sysprep", {"start_sysprep": False}, "sysprep_real", diff=True),
        task("Password option again", "snapkit.cloud.win_ec2launch_sysprep", {"start_sysprep": False}, "sysprep_again"),
    ] + adapter_tasks()
    registered = [t["register"] for t in tasks]
    results_file = workdir / "results.json"
    tasks.append({"name": "Save", "delegate_to": "localhost", "ansible.builtin.copy": {
        "dest": str(results_file), "mode": "0600",
        "content": "{{ {" + ", ".join("'%s': %s" % (name, name) for name in registered) + "} | to_json }}"}})
    (workdir / "inventory.yml").write_text(yaml.safe_dump(inventory()))
    (workdir / "play.yml").write_text(yaml.safe_dump([{"hosts": "windows", "gather_facts": False, "tasks": tasks}], sort_keys=False))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_NOCOLOR="1")
    process = subprocess.run([str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", str(workdir / "inventory.yml"),
                              str(workdir / "play.yml")], env=env, capture_output=True, text=True, timeout=900, check=False)
    assert results_file.exists(), process.stdout + process.stderr
    return json.loads(results_file.read_text())


def test_sysprep_agent_detection_and_password_option(results):
    check, real, again = results["sysprep_check"], results["sysprep_real"], results["sysprep_again"]
    if check.get("failed"):
        # A host without an EC2 launch agent: the failure must name every path looked at.
        for marker in ("EC2Launch.exe", "InitializeInstance.ps1", "Ec2Config.exe"):
            assert marker in check["msg"]
        assert real.get("failed") and again.get("failed")
        return
    assert check["agent"] in ("ec2launch_v2", "ec2launch_v1", "ec2config")
    assert check["sysprep_scheduled"] is True and check["changed"] is True
    assert not real.get("failed"), real
    assert real["sysprep_scheduled"] is False and real["task_name"] is None
    assert real["password_option"]["after"] == {"ec2launch_v2": "random", "ec2launch_v1": "Random", "ec2config": "Enabled"}[real["agent"]]
    assert again["changed"] is False and again["password_option"]["before"] == again["password_option"]["after"]


def test_reset_static_ip(results):
    check = results["nic_check"]
    assert not check.get("failed"), check
    if not TEST_ADAPTER:
        assert all(a["deferred"] in (True, False) and "before" in a for a in check["adapters"])
        return
    (entry,) = check["adapters"]
    assert check["changed"] is True and entry["changed"] is True and entry["deferred"] is False
    assert entry["before"]["dhcp_enabled"] is False and entry["before"]["default_gateways"] == [STATIC["gateway"]]
    assert entry["before"]["dns_servers"] == [STATIC["dns"]]
    assert json.loads(results["state_after_check"]["stdout"]) == {"dhcp": "Disabled", "manual": 1, "routes": 1}

    real = results["nic_real"]
    assert not real.get("failed"), real
    (entry,) = real["adapters"]
    assert entry["changed"] is True and entry["after"]["dhcp_enabled"] is True
    assert entry["after"]["default_gateways"] == [] and entry["after"]["dns_servers"] == []
    assert [a for a in entry["after"]["ipv4_addresses"] if a["prefix_origin"] == "Manual"] == []
    assert json.loads(results["state_after_switch"]["stdout"])["dhcp"] == "Enabled"
    assert json.loads(results["state_after_switch"]["stdout"])["manual"] == 0
    assert results["nic_again"]["changed"] is False
