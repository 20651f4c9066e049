# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The lightsail_instance_snapshot role through its AWX playbook, against the local Lightsail cloud.

The Windows step runs through a test double of the task file (``lightsail_instance_snapshot_sysprep_tasks``):
it makes the guest shut itself down after a delay, as Sysprep does, through the simulator's guest-shutdown hook,
which is not an API call. What the role did is read back from the journal and the simulator's state.
"""

from __future__ import annotations

import datetime
import json
import os
import pathlib
import subprocess
import sys

import pytest

from cloudsim.client import CloudSim
from cloudsim.testing import FAST_SPEED
from cloudsim.windows.testing import wait_for_guest
from cloudsim.windows.testing import winrm_nat
from conftest import PLANTED_ACCESS_KEY
from conftest import PLANTED_SECRET_KEY
from conftest import REPO_ROOT
from conftest import collections_path

PLANTED_PASSWORD = "Planted-Admin-Passw0rd-h5-7b3e"
CIDR = "198.51.100.7/32"
WINRM_PORT = 5986
STARTING_PORTS = {22: ["0.0.0.0/0"], 3389: ["0.0.0.0/0"]}

# The Windows step as a test double: the guest shuts itself down (generalized) after a delay, like
# win_ec2launch_sysprep's scheduled Sysprep; it leaves a marker, and can plant a fault for a later step.
DOUBLE = """---
- name: Leave a marker that the Windows step ran, with the password it was given (as WinRM would need it)
  ansible.builtin.copy:
    content: "{{ lightsail_instance_snapshot_access.password }}"
    dest: "{{ lightsail_test_marker }}"
    mode: "0600"
  no_log: true

- name: Plant a fault for a later step
  ansible.builtin.uri:
    url: "{{ lightsail_test_control_url }}{{ item.path }}"
    method: POST
    body_format: json
    body: "{{ item.body }}"
  loop: "{{ lightsail_test_after_sysprep | default([]) }}"

- name: Fail like a broken Windows step
  ansible.builtin.fail:
    msg: "the Windows step failed (test double)"
  when: lightsail_test_windows_step_fails | default(false)

- name: The guest shuts itself down, as Sysprep does
  ansible.builtin.uri:
    url: "{{ lightsail_test_control_url }}/lightsail/guest-shutdown"
    method: POST
    body_format: json
    body:
      instance_name: "{{ lightsail_instance_snapshot_instance_name }}"
      delay_seconds: 120
"""


@pytest.fixture(scope="module")
def lightsail_sim():
    with CloudSim.start(speed=FAST_SPEED, services=("lightsail",)) as running:
        yield running


@pytest.fixture
def sim(lightsail_sim):  # pylint: disable=redefined-outer-name
    lightsail_sim.reset(speed=FAST_SPEED)
    return lightsail_sim


class RoleRun:
    def __init__(self, process, marker):
        self.rc = process.returncode
        self.output = process.stdout + process.stderr
        self.sysprep_ran = marker.exists()
        self.password_given = marker.read_text() if self.sysprep_ran else None


def run_role(sim, workdir, verbosity=0, check=False, timeout=600, **variables):  # pylint: disable=redefined-outer-name
    """Run playbooks/lightsail_instance_snapshot.yml with extra vars only, credentials in the environment (as AWX does)."""
    double = workdir / "sysprep_double.yml"
    double.write_text(DOUBLE)
    marker = workdir / "sysprep-ran"
    marker.unlink(missing_ok=True)
    extra = {
        "lightsail_instance_snapshot_endpoint_url": sim.lightsail_url, "lightsail_instance_snapshot_sysprep_tasks": str(double),
        "lightsail_test_control_url": sim.control_url, "lightsail_test_marker": str(marker), "lightsail_instance_snapshot_timestamp": "t1",
        "ansible_python_interpreter": sys.executable, **variables,
    }
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_NOCOLOR="1",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false", AWS_ACCESS_KEY_ID=PLANTED_ACCESS_KEY, AWS_SECRET_ACCESS_KEY=PLANTED_SECRET_KEY,
               AWS_REGION=sim.region)
    command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,",
               str(REPO_ROOT / "playbooks" / "lightsail_instance_snapshot.yml"), "-e", json.dumps(extra)]
    if verbosity:
        command.append("-" + "v" * verbosity)
    if check:
        command.append("--check")
    process = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    return RoleRun(process, marker)


def journal(sim):  # pylint: disable=redefined-outer-name
    return sim.journal(service="lightsail")


def mutations(entries):
    return [(entry["action"], entry["params"].get("instanceSnapshotName") or entry["params"].get("instanceName") or entry["params"].get("resourceName"))
            for entry in entries if not entry["action"].startswith("Get") and entry["error_code"] is None]


def instance_state(sim, name="win-1"):  # pylint: disable=redefined-outer-name
    return next(entry for entry in sim.lightsail_state()["instances"] if entry["name"] == name)


def ports_of(sim, name="win-1"):  # pylint: disable=redefined-outer-name
    return {rule["fromPort"]: rule["cidrs"] for rule in instance_state(sim, name)["ports"]}


def sim_seconds(entry):
    return datetime.datetime.fromisoformat(entry["sim_time"].replace("Z", "+00:00")).timestamp()


def test_windows_procedure_follows_the_seed_and_leaves_no_trace(sim, tmp_path, listener):  # pylint: disable=redefined-outer-name
    sim.seed_lightsail_instance("win-1", blueprint="windows", password=PLANTED_PASSWORD)
    password_file = tmp_path / "original-password"
    run = run_role(sim, tmp_path, verbosity=3, lightsail_instance_snapshot_instance_name="win-1", lightsail_instance_snapshot_winrm_cidr=CIDR,
                   lightsail_instance_snapshot_password_file=str(password_file), lightsail_instance_snapshot_verify=True,
                   lightsail_instance_snapshot_verify_host="127.0.0.1", lightsail_instance_snapshot_verify_port=listener,
                   lightsail_instance_snapshot_delete_backup=True)
    assert run.rc == 0, run.output[-3000:]
    assert run.sysprep_ran and run.password_given == PLANTED_PASSWORD
    entries = journal(sim)
    # The seed's order: stop, backup, start, (port), Sysprep shuts the guest down, Sysprep snapshot, start; then verify.
    # The stop mark (a tag) is on the instance from just before the first stop to just after the last start; the backup
    # is tagged with the Sysprep about to start and the port about to be opened (for a rerun after a cut-off run).
    assert mutations(entries) == [
        ("TagResource", "win-1"), ("StopInstance", "win-1"), ("CreateInstanceSnapshot", "win-1-backup-t1"), ("StartInstance", "win-1"),
        ("TagResource", "win-1-backup-t1"), ("OpenInstancePublicPorts", "win-1"), ("CloseInstancePublicPorts", "win-1"),
        ("CreateInstanceSnapshot", "win-1-sysprep-t1"), ("StartInstance", "win-1"), ("UntagResource", "win-1"),
        ("CreateInstancesFromSnapshot", "win-1-sysprep-t1"), ("DeleteInstance", "win-1-verify-t1"), ("DeleteInstanceSnapshot", "win-1-backup-t1"),
    ]
    # No StopInstance for the Sysprep shutdown: the instance stopped by itself, seen on GetInstance polls.
    seq = {action: [entry["seq"] for entry in entries if entry["action"] == action] for action in {entry["action"] for entry in entries}}
    opened, closed = seq["OpenInstancePublicPorts"][0], seq["CloseInstancePublicPorts"][0]
    gate = [entry for entry in entries if entry["action"] == "GetInstanceSnapshot" and entry["seq"] < opened]
    assert gate[-1]["params"] == {"instanceSnapshotName": "win-1-backup-t1"}, "the backup is read again right before Sysprep"
    assert [entry["params"]["portInfo"] for entry in entries if entry["seq"] in (opened, closed)][0]["cidrs"] == [CIDR]
    assert ports_of(sim) == STARTING_PORTS, "the WinRM port is closed again"
    assert instance_state(sim)["state"] == "running" and [entry["name"] for entry in sim.lightsail_state()["instances"]] == ["win-1"]
    snapshots = {entry["name"]: entry["state"] for entry in sim.lightsail_state()["instance_snapshots"]}
    assert snapshots == {"win-1-sysprep-t1": "available"}
    # The original password: saved with mode 0600, never printed, not even at -vvv.
    assert password_file.read_text() == PLANTED_PASSWORD and oct(password_file.stat().st_mode & 0o777) == "0o600"
    for secret in (PLANTED_PASSWORD, PLANTED_SECRET_KEY):
        assert secret not in run.output
    assert "win-1-sysprep-t1 available" in run.output and "verified on win-1-verify-t1" in run.output
    # Downtime: from the first StopInstance to the end of the last start, in simulated time.
    stop = next(entry for entry in entries if entry["action"] == "StopInstance")
    assert sim_seconds(entries[-1]) > sim_seconds(stop)


def test_linux_snapshot_with_optional_stop_and_power_state_kept(sim, tmp_path):  # pylint: disable=redefined-outer-name
    sim.seed_lightsail_instance("web-1")
    sim.seed_lightsail_instance("web-2", state="stopped")
    first = run_role(sim, tmp_path, lightsail_instance_snapshot_instance_name="web-1", lightsail_instance_snapshot_stop_instance=True)
    assert first.rc == 0, first.output[-3000:]
    assert mutations(journal(sim)) == [("TagResource", "web-1"), ("StopInstance", "web-1"), ("CreateInstanceSnapshot", "web-1-t1"),
                                       ("StartInstance", "web-1"), ("UntagResource", "web-1")]
    sim.clear_journal()
    second = run_role(sim, tmp_path, lightsail_instance_snapshot_instance_name="web-2", lightsail_instance_snapshot_stop_instance=True)
    assert second.rc == 0, second.output[-3000:]
    assert mutations(journal(sim)) == [("CreateInstanceSnapshot", "web-2-t1")], "a stopped instance stays stopped"
    assert not first.sysprep_ran and instance_state(sim, "web-2")["state"] == "stopped"


# A bad instance name, and a good one whose derived snapshot name would be too long.
def test_check_mode_reads_only(sim, tmp_path):  # pylint: disable=redefined-outer-name
    sim.seed_lightsail_instance("win-1", blueprint="windows", password=PLANTED_PASSWORD)
    run = run_role(sim, tmp_path, check=True, lightsail_instance_snapshot_instance_name="win-1", lightsail_instance_snapshot_winrm_cidr=CIDR,
                   lightsail_instance_snapshot_verify=True)
    assert run.rc == 0, run.output[-3000:]
    assert mutations(journal(sim)) == [] and not run.sysprep_ran
    assert "Sysprep snapshot win-1-sysprep-t1 to be made (check mode)" in run.output


@pytest.mark.parametrize("name", ["-web", "a" * 250])
def test_bad_names_are_rejected_with_zero_api_calls(sim, tmp_path, name):  # pylint: disable=redefined-outer-name
    run = run_role(sim, tmp_path, lightsail_instance_snapshot_instance_name=name)
    assert run.rc != 0 and "Refused before any API call" in run.output
    assert journal(sim) == []


FAILURES = {
    # step: (how to make it fail, words of the failed task in the message)
    "stop": ({"fault": ("StopInstance", "OperationFailureException")}, "Stop the instance for the backup snapshot"),
    "backup snapshot in error": ({"fail_snapshot": True}, "Backup snapshot"),
    "windows step": ({"vars": {"lightsail_test_windows_step_fails": True}}, "Fail like a broken Windows step"),
    "sysprep snapshot in error": ({"after_sysprep": [{"path": "/lightsail/snapshot-failures", "body": {"instance_name": "win-1"}}]},
                                  "Sysprep snapshot"),
    "final start": ({"after_sysprep": [{"path": "/faults", "body": {"service": "lightsail", "action": "StartInstance",
                                                                    "code": "OperationFailureException", "status": 400}}]},
                    "Start the instance again"),
}


@pytest.mark.parametrize("step", sorted(FAILURES))
def test_failure_at_each_step_restores_power_state_and_ports(sim, tmp_path, step):  # pylint: disable=redefined-outer-name
    how, failed_task = FAILURES[step]
    sim.seed_lightsail_instance("win-1", blueprint="windows", password=PLANTED_PASSWORD)
    if "fault" in how:
        sim.inject_fault("lightsail", how["fault"][0], how["fault"][1])
    if how.get("fail_snapshot"):
        sim.fail_lightsail_snapshot("win-1")
    run = run_role(sim, tmp_path, lightsail_instance_snapshot_instance_name="win-1", lightsail_instance_snapshot_winrm_cidr=CIDR,
                   lightsail_test_after_sysprep=how.get("after_sysprep", []), **how.get("vars", {}))
    assert run.rc != 0
    assert f'failed at "{failed_task}' in run.output, run.output[-3000:]
    assert instance_state(sim)["state"] == "running", "power state restored"
    assert ports_of(sim) == STARTING_PORTS, "firewall restored"
    assert PLANTED_PASSWORD not in run.output
    snapshot_creates = [entry for entry in journal(sim) if entry["action"] == "CreateInstanceSnapshot"]
    if step in ("stop", "backup snapshot in error"):
        assert not run.sysprep_ran, "Sysprep never starts without an available backup"
        assert len(snapshot_creates) <= 1
    if step == "backup snapshot in error":
        assert "win-1-backup-t1 failed: snapshot win-1-backup-t1 is error" in run.output
        assert "win-1-backup-t1 is error" in run.output, "the report lists what the run made"
    if step == "sysprep snapshot in error":
        assert "win-1-sysprep-t1 failed: snapshot win-1-sysprep-t1 is error" in run.output and run.sysprep_ran
    # The new Administrator password is reported only when Sysprep really started (the guest shut itself down).
    assert ("Sysprep ran" in run.output) is (step in ("sysprep snapshot in error", "final start")), run.output[-3000:]


@pytest.fixture(scope="module")
def guest_cloud():
    """Lightsail with the emulated Windows guests (WinRM on loopback), for the end-to-end run."""
    with CloudSim.start(speed=FAST_SPEED, services=("lightsail", "windows")) as running:
        yield running


def test_windows_procedure_end_to_end_through_winrm_and_the_emulated_guest(guest_cloud, tmp_path):  # pylint: disable=redefined-outer-name
    sim = guest_cloud
    sim.reset(speed=FAST_SPEED)
    sim.seed_lightsail_instance("win-1", blueprint="windows", password=PLANTED_PASSWORD)
    guest = wait_for_guest(sim, "lightsail", "win-1")
    run = run_role(sim, tmp_path, verbosity=3, lightsail_instance_snapshot_instance_name="win-1", lightsail_instance_snapshot_winrm_cidr=CIDR,
                   lightsail_instance_snapshot_sysprep_tasks=str(REPO_ROOT / "roles" / "lightsail_instance_snapshot" / "tasks" / "windows_sysprep.yml"),
                   lightsail_instance_snapshot_winrm_host=guest["host"], lightsail_instance_snapshot_winrm_port=guest["port"],
                   lightsail_instance_snapshot_winrm_scheme="http", lightsail_instance_snapshot_winrm_transport="basic",
                   lightsail_instance_snapshot_winrm_cert_validation="ignore")
    assert run.rc == 0, run.output[-3000:]
    sysprep = "snapkit.cloud.win_ec2launch_sysprep"
    assert [(entry["action"], entry["error_code"]) for entry in sim.journal(service="windows", action=sysprep)] == [(sysprep, None)]
    assert [action for action, _name in mutations(journal(sim))] == [
        "TagResource", "StopInstance", "CreateInstanceSnapshot", "StartInstance", "TagResource", "OpenInstancePublicPorts", "CloseInstancePublicPorts",
        "CreateInstanceSnapshot", "StartInstance", "UntagResource"]
    assert ports_of(sim) == STARTING_PORTS and instance_state(sim)["state"] == "running"
    # Sysprep generalized the disk: the instance came back with a new Administrator password, the backup keeps the old one.
    booted = wait_for_guest(sim, "lightsail", "win-1", until=lambda found: found["password"] != PLANTED_PASSWORD)
    assert booted["password"] and booted["password"] not in run.output
    assert PLANTED_PASSWORD not in run.output


def through_nat(guest, forwarded):
    """The role's WinRM address and port for an emulated guest: the port the role picks on the instance (5985 or 5986)
    forwarded as ``forwarded`` (winrm_nat) says, to the guest's listener for it or to a closed port where it has none."""
    return {"lightsail_instance_snapshot_winrm_host": guest["host"],
            "lightsail_instance_snapshot_winrm_port": "{{ %s[lightsail_instance_snapshot_winrm_instance_port | string] }}" % json.dumps(forwarded),
            # The emulated guest speaks basic authentication only (a stock Windows guest refuses it and takes NTLM).
            "lightsail_instance_snapshot_winrm_transport": "basic"}


def sysprep_through_winrm(sim, tmp_path, guest, forwarded=None, timeout=600, **variables):  # pylint: disable=redefined-outer-name
    """The role with its default Windows step, over WinRM to the emulated guest."""
    return run_role(sim, tmp_path, timeout=timeout, lightsail_instance_snapshot_instance_name="win-1", lightsail_instance_snapshot_winrm_cidr=CIDR,
                    lightsail_instance_snapshot_sysprep_tasks=str(REPO_ROOT / "roles" / "lightsail_instance_snapshot" / "tasks" / "windows_sysprep.yml"),
                    **through_nat(guest, forwarded or winrm_nat(guest)), **variables)


def opened_ports(sim):  # pylint: disable=redefined-outer-name
    """(fromPort, toPort, protocol, cidrs) of each rule the run opened."""
    return [tuple(entry["params"]["portInfo"].get(key) for key in ("fromPort", "toPort", "protocol", "cidrs"))
            for entry in journal(sim) if entry["action"] == "OpenInstancePublicPorts" and entry["error_code"] is None]


@pytest.mark.parametrize("listener", ["stock", "https set up"])
def test_winrm_defaults_reach_a_stock_guest_and_the_documented_https_setup_validates(guest_cloud, tmp_path, listener):
    """Out of the box (no WinRM option but the address) the role reaches a stock guest, which listens on HTTP 5985 only;
    with the HTTPS listener set up as docs/lightsail_instance_snapshot.md says, HTTPS on 5986 with the certificate
    validated against the listener's own certificate."""
    sim = guest_cloud
    sim.reset(speed=FAST_SPEED)
    sim.seed_lightsail_instance("win-1", blueprint="windows", password=PLANTED_PASSWORD)
    guest = wait_for_guest(sim, "lightsail", "win-1")
    variables, port = {}, 5985
    if listener == "https set up":
        guest = sim.seed_windows_guest("lightsail", "win-1", winrm_https=True)
        trust = tmp_path / "winrm-listener.pem"
        trust.write_text(guest["listeners"]["5986"]["certificate"])
        variables, port = {"lightsail_instance_snapshot_winrm_scheme": "https", "lightsail_instance_snapshot_winrm_ca_trust_path": str(trust)}, 5986
    run = sysprep_through_winrm(sim, tmp_path, guest, timeout=300, **variables)

    assert run.rc == 0, run.output[-3000:]
    assert opened_ports(sim) == [(port, port, "tcp", [CIDR])]
    sysprep = "snapkit.cloud.win_ec2launch_sysprep"
    assert [entry["error_code"] for entry in sim.journal(service="windows", action=sysprep)] == [None]
    assert ports_of(sim) == STARTING_PORTS and instance_state(sim)["state"] == "running"


def test_winrm_that_never_answers_fails_after_its_own_timeout_and_sysprep_is_not_reported(guest_cloud, tmp_path):
    """HTTPS asked of a stock guest (nothing listens on 5986): the WinRM wait gives up after
    lightsail_instance_snapshot_winrm_timeout, not power_timeout, names where it knocked, and the report does not
    claim that Sysprep ran; the port is closed and the instance running again."""
    sim = guest_cloud
    sim.reset(speed=FAST_SPEED)
    sim.seed_lightsail_instance("win-1", blueprint="windows", password=PLANTED_PASSWORD)
    guest = wait_for_guest(sim, "lightsail", "win-1")
    forwarded = winrm_nat(guest)
    run = sysprep_through_winrm(sim, tmp_path, guest, forwarded, timeout=300, lightsail_instance_snapshot_winrm_scheme="https",
                                lightsail_instance_snapshot_winrm_timeout=5)

    assert run.rc != 0
    closed = forwarded["5986"]
    assert f'failed at "WinRM did not answer": WinRM did not answer on 127.0.0.1:{closed} (HTTPS, basic) within' in run.output, run.output[-3000:]
    assert "lightsail_instance_snapshot_winrm_timeout (5 s)" in run.output and "Sysprep was not started" in run.output
    assert "Sysprep ran" not in run.output
    assert sim.journal(service="windows", action="snapkit.cloud.win_ec2launch_sysprep") == []
    assert opened_ports(sim) == [(5986, 5986, "tcp", [CIDR])] and ports_of(sim) == STARTING_PORTS
    assert instance_state(sim)["state"] == "running" and PLANTED_PASSWORD not in run.output
