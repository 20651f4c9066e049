# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The scenario table (tests/cloudsim/windows/scenarios.py) on a REAL Windows host over WinRM (docs/windows.md).

The rows that say how to arrange them on a real host (``real``) run here, with the same expectations and the same
comparison as against the emulated guest in tests/cloudsim/tests/test_cloudsim_windows_scenarios.py: the emulation
and a real host can only disagree loudly. Nothing here runs against cloudsim; this is the only test that executes
our PowerShell. Skipped, and reported as skipped, unless SNAPKIT_WINDOWS_HOST is set. Environment:

- SNAPKIT_WINDOWS_HOST: host name or address (required to run)
- SNAPKIT_WINDOWS_USER / SNAPKIT_WINDOWS_PASSWORD: an administrator (default user: Administrator)
- SNAPKIT_WINDOWS_PORT (default 5986), SNAPKIT_WINDOWS_SCHEME (default https), SNAPKIT_WINDOWS_TRANSPORT
  (default ntlm), SNAPKIT_WINDOWS_CERT_VALIDATION (default ignore)
- SNAPKIT_WINDOWS_TEST_ADAPTER: the name of an adapter the rows may make static, disable and switch to DHCP (for
  example a Microsoft KM-TEST loopback adapter, which has no DHCP server). Never the adapter of the WinRM connection.
  Without it the adapter rows are skipped.

Rows needing an EC2 launch agent are skipped on a host without one. win_ec2launch_sysprep runs in check mode or is
refused before any change: Sysprep never starts. A row's setup may create %ProgramData%\\snapkit.cloud or a pending
file rename; its teardown removes them.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest
import yaml

from cloudsim.windows import scenarios
from conftest import collections_path

HOST = os.environ.get("SNAPKIT_WINDOWS_HOST")
TEST_ADAPTER = os.environ.get("SNAPKIT_WINDOWS_TEST_ADAPTER")
ROWS = [row for row in scenarios.SCENARIOS if row.real is not None]

pytestmark = pytest.mark.skipif(not HOST, reason="no real Windows host configured (set SNAPKIT_WINDOWS_HOST, see docs/windows.md)")


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


def playbook(workdir, tasks):
    (workdir / "inventory.yml").write_text(yaml.safe_dump(inventory()))
    (workdir / "play.yml").write_text(yaml.safe_dump([{"hosts": "windows", "gather_facts": False, "tasks": tasks}], sort_keys=False))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_NOCOLOR="1")
    return subprocess.run([str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", str(workdir / "inventory.yml"),
                           str(workdir / "play.yml")], env=env, capture_output=True, text=True, timeout=1800, check=False)


def shell(script, register):
    return {"name": register, "ansible.windows.win_shell": script, "register": register, "ignore_errors": True}


def module_task(row, names, register, params, check_mode):
    return {"name": f"{row.id}: {register}", row.module: scenarios.fill(params, names), "check_mode": check_mode, "diff": True,
            "register": register, "ignore_errors": True}


@pytest.fixture(scope="module")
def names(tmp_path_factory):
    """The placeholders, and what the host offers: whether it has an EC2 launch agent, the test adapter's MAC."""
    workdir = tmp_path_factory.mktemp("real-windows-probe")
    results = workdir / "probe.json"
    tasks = [{"name": "agent", "snapkit.cloud.win_ec2launch_sysprep": {"start_sysprep": False}, "check_mode": True, "register": "agent",
              "ignore_errors": True}]
    if TEST_ADAPTER:
        tasks.append(shell("(Get-NetAdapter -Name '%s').MacAddress -replace '-', ''" % TEST_ADAPTER.replace("'", "''"), "mac"))
    tasks.append({"name": "save", "delegate_to": "localhost", "ansible.builtin.copy": {
        "dest": str(results), "mode": "0600", "content": "{{ {'agent': agent, 'mac': mac | default({})} | to_json }}"}})
    process = playbook(workdir, tasks)
    assert results.exists(), process.stdout + process.stderr
    found = json.loads(results.read_text())
    return {"adapter": TEST_ADAPTER or "", "mac": (found["mac"].get("stdout") or "").strip(),
            "has_agent": not found["agent"].get("failed")}


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_scenario_on_the_real_host(row, names, tmp_path):
    if row.real.requires == "agent" and not names["has_agent"]:
        pytest.skip("the host has no EC2 launch agent")
    if row.real.requires == "adapter" and not TEST_ADAPTER:
        pytest.skip("no SNAPKIT_WINDOWS_TEST_ADAPTER")
    fill = {"adapter": names["adapter"], "mac": names["mac"]}
    results = tmp_path / "results.json"
    body = []
    if row.real.setup:
        body.append(shell(scenarios.fill(row.real.setup, fill), "setup"))
    body.append(module_task(row, fill, "first", row.params, row.check_mode))
    registered = ["first"]
    if row.rerun is not None:
        body.append(module_task(row, fill, "second", row.rerun["params"], row.rerun.get("check_mode", False)))
        registered.append("second")
    cleanup = [shell(scenarios.fill(row.real.teardown, fill), "teardown")] if row.real.teardown else []
    save = {"name": "save", "delegate_to": "localhost", "ansible.builtin.copy": {
        "dest": str(results), "mode": "0600",
        "content": "{{ {" + ", ".join("'%s': %s | default({})" % (name, name) for name in registered) + "} | to_json }}"}}
    process = playbook(tmp_path, [{"block": body, "always": cleanup + [save]}])
    assert results.exists(), process.stdout + process.stderr
    found = json.loads(results.read_text())
    problems = scenarios.problems(row, found["first"], fill)
    if row.rerun is not None:
        problems += scenarios.rerun_problems(row, found["second"], fill)
    assert not problems, "\n".join(problems)
