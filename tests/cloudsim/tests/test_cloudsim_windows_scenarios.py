# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scenario table (cloudsim.windows.scenarios) against the emulated guests, through Ansible's winrm connection.

One Lightsail Windows instance per row, its guest put in the row's Windows state; one ansible-playbook run for the
first runs, the clock advanced by ADVANCE (the scheduled tasks run), the row's ``then`` checked on the guests, and a
second run for the rows with a ``rerun``. The same rows run on a real host in tests/integration/test_win_modules_real_host.py.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import boto3
import pytest

from cloudsim.windows import scenarios
from cloudsim.windows.testing import wait_for_guest, winrm_host_vars

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
COLLECTIONS = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or str(REPO_ROOT / ".build" / "collections")
pytestmark = pytest.mark.skipif(not (pathlib.Path(COLLECTIONS) / "ansible_collections" / "snapkit" / "cloud" / "plugins" / "modules"
                                     / "win_reset_static_ip.ps1").is_file(), reason="snapkit.cloud is not built in the collections path")
NAMES = {"adapter": "Ethernet 2", "mac": "525400123401"}
ROWS = {f"scn{number:02d}": row for number, row in enumerate(scenarios.SCENARIOS)}


def module_tasks(prefix: str) -> list[dict]:
    """One task per module; each host runs the one its row names, with its parameters and check mode."""
    return [{"name": f"{prefix} {module}", module: f"{{{{ {prefix}_params }}}}", "register": f"{prefix}_{module.rsplit('.', 1)[-1]}",
             "when": f"{prefix}_module == '{module}'", "check_mode": f"{{{{ {prefix}_check_mode }}}}", "diff": True, "ignore_errors": True}
            for module in (scenarios.SYSPREP, scenarios.RESET)]


def run(tmp_path: pathlib.Path, hosts: dict[str, dict], prefix: str, pre_tasks: list | None = None) -> dict[str, dict]:
    """One ansible-playbook run over the hosts; the result of each host's module task."""
    inventory = tmp_path / f"{prefix}-inventory.json"
    inventory.write_text(json.dumps({"all": {"hosts": hosts}}), encoding="utf-8")
    playbook = tmp_path / f"{prefix}-playbook.json"
    playbook.write_text(json.dumps([{"hosts": "all", "gather_facts": False, "tasks": (pre_tasks or []) + module_tasks(prefix)}]), encoding="utf-8")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json", ANSIBLE_NOCOLOR="true",
               ANSIBLE_FORKS="10")
    process = subprocess.run([str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(playbook)],
                             env=env, capture_output=True, text=True, timeout=300, check=False)
    try:
        tasks = json.loads(process.stdout)["plays"][0]["tasks"]
    except (ValueError, KeyError, IndexError):
        raise AssertionError(process.stdout[-6000:] + process.stderr[-3000:]) from None
    found = {}
    for task in tasks[-2:]:
        for host, result in task["hosts"].items():
            if not result.get("skipped"):
                # Ansible's own warning about this harness (templated args), not the module's.
                result["warnings"] = [text for text in result.get("warnings") or [] if not text.startswith("Using a template for task args")]
                found[host] = result
    return found


def then_problems(row: scenarios.Scenario, guest: dict, lightsail_state: str) -> list[str]:
    """The row's ``then`` (what is true ADVANCE seconds later) against the emulated guest and its instance."""
    found = []
    for key, expected in scenarios.fill(row.then, NAMES).items():
        if key == "shutdown":
            actual = lightsail_state in ("stopping", "stopped")
        elif key == "next_boot_password":
            actual = guest.get("next_boot_password")
        elif key == "phase":
            actual = ((guest.get("files") or {}).get("sysprep.json") or {}).get("phase")
        elif key == "log":
            lines = (guest.get("files") or {}).get("sysprep.log") or []
            actual = expected if any(expected in line for line in lines) else lines
        elif key == "agent_setting":
            actual = guest["password_option"]
        elif key == "scheduled":
            actual = len(guest["scheduled"])
        elif key == "nic":
            found += scenarios.subset_problems(expected, guest["nic"][:len(expected)], "then.nic")
            continue
        elif key in ("dns_v6", "dhcp_gateways"):
            adapters = guest.get("adapters") or []
            actual = adapters[1][key] if len(adapters) > 1 else None
        else:
            raise AssertionError(f"unknown then key {key}")
        if actual != expected:
            found.append(f"then.{key}: expected {expected!r}, got {actual!r}")
    return found


def test_the_scenario_table_on_the_emulated_guests(windows_frozen, tmp_path):
    cloud = windows_frozen
    cloud.lightsail_config(instance_transition_seconds=30, windows_password_seconds=0)
    guests = {}
    for name, row in ROWS.items():
        cloud.seed_lightsail_instance(name, blueprint="windows")
        wait_for_guest(cloud, "lightsail", name)
        guests[name] = cloud.seed_windows_guest("lightsail", name, state=scenarios.fill(row.guest, NAMES))
    hosts = {name: dict(winrm_host_vars(guests[name]), first_module=row.module, first_check_mode=row.check_mode,
                        first_params=scenarios.fill(row.params, NAMES)) for name, row in ROWS.items()}
    first = run(tmp_path, hosts, "first")
    report = {}
    for name, row in ROWS.items():
        report[row.id] = scenarios.problems(row, first.get(name, {"failed": True, "msg": "no result"}), NAMES)

    cloud.advance(scenarios.ADVANCE)
    lightsail = boto3.client("lightsail", **cloud.aws_client_kwargs("lightsail"))
    reruns = {}
    now = cloud.clock()["epoch"]
    for name, row in ROWS.items():
        # The watcher catches up with the clock: the scheduled tasks due by now ran.
        guest = wait_for_guest(cloud, "lightsail", name, reachable=not row.then.get("shutdown", False),
                               until=lambda found: not [work for work in found["scheduled"] if work["at_epoch"] <= now])
        state = lightsail.get_instance_state(instanceName=name)["state"]["name"]
        report[row.id] += then_problems(row, guest, state)
        if row.rerun is not None:
            reruns[name] = dict(winrm_host_vars(guest), second_module=row.module, second_check_mode=row.rerun.get("check_mode", False),
                                second_params=scenarios.fill(row.rerun["params"], NAMES))
    second = run(tmp_path, reruns, "second", pre_tasks=[{"ansible.builtin.meta": "reset_connection"}])
    for name in reruns:
        report[ROWS[name].id] += scenarios.rerun_problems(ROWS[name], second.get(name, {"failed": True, "msg": "no result"}), NAMES)
    failures = {row_id: found for row_id, found in report.items() if found}
    assert not failures, json.dumps(failures, indent=1)
    assert len(report) == len(scenarios.SCENARIOS) >= 30


def test_every_row_is_well_formed():
    ids = [row.id for row in scenarios.SCENARIOS]
    assert len(ids) == len(set(ids))
    for row in scenarios.SCENARIOS:
        assert row.module in (scenarios.SYSPREP, scenarios.RESET), row.id
        assert row.failed or row.changed is not None, f"{row.id}: say whether it changes"
        assert not (row.failed and row.changed), row.id
