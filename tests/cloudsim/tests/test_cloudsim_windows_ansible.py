# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible's own winrm connection against the emulated Windows guests: win_ping and the snapkit.cloud win_* modules.

One ansible-playbook run per cloud, many assertions on it: check mode and diff, idempotency, Sysprep
that stops the Lightsail instance (the connection drops after the module returned, the play goes on)
with a new password at the next boot, and an OpenStack copy that is reachable only once the original's
NIC was switched to DHCP before the snapshot.
"""

from __future__ import annotations

import base64
import importlib
import json
import os
import pathlib
import subprocess
import sys

import boto3
import openstack
import pytest
import winrm
from winrm.exceptions import InvalidCredentialsError

from cloudsim.windows.testing import wait_for_guest, winrm_inventory

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
COLLECTIONS = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or str(REPO_ROOT / ".build" / "collections")
pytestmark = pytest.mark.skipif(not (pathlib.Path(COLLECTIONS) / "ansible_collections" / "snapkit" / "cloud" / "plugins" / "modules"
                                     / "win_reset_static_ip.ps1").is_file(), reason="snapkit.cloud is not built in the collections path")


def run_playbook(tmp_path: pathlib.Path, inventory: pathlib.Path, plays: list[dict]) -> list[list[dict]]:
    """Run the plays in one ansible-playbook run; for each play, for each task, the results by host."""
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(json.dumps(plays), encoding="utf-8")  # JSON is YAML
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json", ANSIBLE_HOST_KEY_CHECKING="false",
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_NOCOLOR="true")
    command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(playbook)]
    process = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert process.returncode == 0, process.stdout[-6000:] + process.stderr[-3000:]
    return [[task["hosts"] for task in play["tasks"]] for play in json.loads(process.stdout)["plays"]]


def dhcp_userdata() -> str:
    """The user data of the snapkit.cloud.win_dhcp_userdata lookup, from the built collection."""
    sys.path.insert(0, COLLECTIONS)
    try:
        lookup = importlib.import_module("ansible_collections.snapkit.cloud.plugins.lookup.win_dhcp_userdata")
    finally:
        sys.path.remove(COLLECTIONS)
    return lookup.build_userdata()


def advance_clock_task(cloud, seconds: float) -> dict:
    """A localhost task that lets simulated time pass during the play (the clock is frozen otherwise)."""
    return {"ansible.builtin.uri": {"url": cloud.control_url + "/clock", "method": "POST", "body_format": "json", "body": {"advance": seconds}}}


def test_lightsail_guest_ping_check_mode_diff_and_sysprep_through_ansible(windows_frozen, tmp_path):
    cloud = windows_frozen
    cloud.lightsail_config(instance_transition_seconds=30, windows_password_seconds=0, snapshot_seconds_base=60, snapshot_seconds_per_gib=0)
    seeded = cloud.seed_lightsail_instance("win-1", blueprint="windows")
    cloud.seed_windows_guest("lightsail", "win-1", agent="ec2launch_v2", password_option="doNothing")
    guest = wait_for_guest(cloud, "lightsail", "win-1")
    assert guest["password"] == seeded["password"]
    inventory = winrm_inventory(tmp_path / "inventory.yml", {"win-1": guest}, sys.executable)
    sysprep = "snapkit.cloud.win_ec2launch_sysprep"
    plays = run_playbook(tmp_path, inventory, [
        {"hosts": "win-1", "gather_facts": False, "tasks": [
            {"ansible.builtin.wait_for_connection": {"timeout": 20}},
            {"ansible.windows.win_ping": {"data": "hello"}},
            {"ansible.builtin.raw": "hostname"},
            {sysprep: {}, "check_mode": True, "diff": True},
            {sysprep: {"start_sysprep": False}, "diff": True},
            {sysprep: {"start_sysprep": False}},
            {sysprep: {"agent": "ec2config"}, "ignore_errors": True},
            {"ansible.windows.win_whoami": {}, "ignore_errors": True},
            {sysprep: {"delay_seconds": 30}},
        ]},
        # Sysprep runs 30 s after the module returned: the guest shuts down, the connection with it.
        {"hosts": "localhost", "gather_facts": False, "tasks": [advance_clock_task(cloud, 31)]},
        {"hosts": "win-1", "gather_facts": False, "tasks": [
            {"ansible.windows.win_ping": {}, "ignore_unreachable": True},
        ]},
    ])
    waited, pinged, raw, checked, password_only, again, wrong_agent, unknown, started = (task["win-1"] for task in plays[0])
    assert waited.get("failed") is not True and pinged["ping"] == "hello"
    assert raw["rc"] == 0 and raw["stdout_lines"] == [guest["computer_name"]]
    assert checked["changed"] is True and checked["agent"] == "ec2launch_v2" and checked["sysprep_scheduled"] is True
    assert checked["password_option"] == {"before": "doNothing", "after": "random"}
    assert checked["diff"]["before"]["password"] == "doNothing" and checked["diff"]["after"]["password"] == "random"
    assert checked["config_path"].endswith("agent-config.yml") and checked["task_name"] == "snapkit.cloud-sysprep"
    assert password_only["changed"] is True and password_only["sysprep_scheduled"] is False and password_only["task_name"] is None
    assert again["changed"] is False and again["password_option"] == {"before": "random", "after": "random"}
    assert wrong_agent["failed"] is True and "agent=ec2config: not installed" in wrong_agent["msg"]
    assert unknown["failed"] is True and "ansible.windows.win_whoami is not emulated" in unknown["msg"]
    assert started["changed"] is True and started["sysprep_scheduled"] is True and started.get("failed") is not True
    assert started["sysprep_command"] == '"C:\\Program Files\\Amazon\\EC2Launch\\EC2Launch.exe" sysprep --shutdown --block'
    dropped = plays[2][0]["win-1"]
    assert dropped["unreachable"] is True and "ping" not in dropped
    runs = [(entry["action"], entry["params"]["check_mode"], entry["error_code"]) for entry in cloud.journal(service="windows")]
    assert seeded["password"] not in json.dumps(cloud.journal())
    assert runs[-6:] == [(sysprep, True, None), (sysprep, False, None), (sysprep, False, None), (sysprep, False, "ModuleFailed"),
                         ("ansible.windows.win_whoami", False, "ModuleFailed"), (sysprep, False, None)]

    # The hypervisor saw the guest's own shutdown: stopping, then stopped, with no StopInstance call.
    lightsail = boto3.client("lightsail", **cloud.aws_client_kwargs("lightsail"))
    assert lightsail.get_instance_state(instanceName="win-1")["state"]["name"] == "stopping"
    cloud.advance(30)
    assert lightsail.get_instance_state(instanceName="win-1")["state"]["name"] == "stopped"
    assert not [entry for entry in cloud.journal(service="lightsail") if entry["action"] == "StopInstance"]
    assert wait_for_guest(cloud, "lightsail", "win-1", reachable=False)["sysprep_running"] is True

    # A copy of the generalized disk boots with a new random password too, and its own guest listens with it.
    lightsail.create_instance_snapshot(instanceName="win-1", instanceSnapshotName="win-1-generalized")
    cloud.advance(60)
    lightsail.create_instances_from_snapshot(instanceNames=["win-copy"], availabilityZone="us-east-1a", instanceSnapshotName="win-1-generalized",
                                             bundleId="small_win_3_0")
    # The next boot of the generalized disk: a new random password, the one GetInstanceAccessDetails gives.
    lightsail.start_instance(instanceName="win-1")
    cloud.advance(30)
    copy_password = lightsail.get_instance_access_details(instanceName="win-copy")["accessDetails"]["password"]
    copy_guest = wait_for_guest(cloud, "lightsail", "win-copy", password=copy_password)
    assert copy_password != seeded["password"] and copy_guest["port"] != guest["port"]
    copy_session = winrm.Session(f"http://{copy_guest['host']}:{copy_guest['port']}/wsman", auth=("Administrator", copy_password), transport="basic")
    assert copy_session.run_cmd("hostname").std_out.decode().strip() == copy_guest["computer_name"]
    new_password = lightsail.get_instance_access_details(instanceName="win-1")["accessDetails"]["password"]
    assert new_password and new_password != seeded["password"]
    booted = wait_for_guest(cloud, "lightsail", "win-1", password=new_password, sysprep_running=False)
    endpoint = f"http://{booted['host']}:{booted['port']}/wsman"
    assert booted["port"] == guest["port"] and booted["password_option"] == "random"
    with pytest.raises(InvalidCredentialsError):
        winrm.Session(endpoint, auth=("Administrator", seeded["password"]), transport="basic").run_cmd("hostname")
    assert winrm.Session(endpoint, auth=("Administrator", new_password), transport="basic").run_cmd("hostname").status_code == 0


def test_openstack_copy_is_reachable_only_after_the_original_nic_went_dhcp(windows_frozen, tmp_path, monkeypatch):
    cloud = windows_frozen
    cloud.openstack_config(server_build_seconds=10, image_queued_seconds=0, image_seconds_base=10, image_seconds_per_gib=0)
    original = cloud.seed_server(name="win-db", windows=True, guest_nic="static")
    guest = wait_for_guest(cloud, "openstack", original["server_id"])
    assert guest["nic"][0]["dhcp_enabled"] is False and guest["nic"][0]["ipv4_addresses"][0]["ip_address"] == original["fixed_ip"]
    clouds_yaml = tmp_path / "clouds.yaml"
    clouds_yaml.write_text(json.dumps(cloud.clouds_yaml("devstack")), encoding="utf-8")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds_yaml))
    conn = openstack.connect(cloud="devstack")

    def copy_of(server_id: str, name: str, **extra) -> str:
        image = conn.compute.create_server_image(server_id, name=f"{name}-image")
        cloud.advance(10)
        server = conn.compute.create_server(name=name, image_id=image.id, flavor_id="2", networks=[{"uuid": original["network_id"]}], **extra)
        cloud.advance(10)
        return server.id

    static_copy = copy_of(original["server_id"], "copy-static")
    unreachable = wait_for_guest(cloud, "openstack", static_copy, reachable=False)
    assert unreachable["nic"][0]["ipv4_addresses"][0]["ip_address"] == original["fixed_ip"] and unreachable["port"] is None

    # cloudbase-init runs the lookup's user data at a copy's first boot, from the config drive: the copy is reachable at once.
    user_data = base64.b64encode(dhcp_userdata().encode()).decode()
    drive_copy = copy_of(original["server_id"], "copy-config-drive", user_data=user_data, config_drive=True)
    fixed = wait_for_guest(cloud, "openstack", drive_copy)
    assert fixed["nic"][0]["dhcp_enabled"] is True and fixed["cloudbase_init"]["user_data"] == "win_dhcp_userdata applied"
    # Without a config drive the metadata service is out of the unreachable copy's reach: it stays as it is.
    no_drive_copy = copy_of(original["server_id"], "copy-no-drive", user_data=user_data)
    assert "unreachable" in wait_for_guest(cloud, "openstack", no_drive_copy, reachable=False)["cloudbase_init"]["user_data"]

    inventory = winrm_inventory(tmp_path / "inventory.yml", {"win-db": guest}, sys.executable)
    reset = "snapkit.cloud.win_reset_static_ip"
    plays = run_playbook(tmp_path, inventory, [
        {"hosts": "win-db", "gather_facts": False, "tasks": [
            {reset: {}, "check_mode": True, "diff": True},
            {reset: {"adapters": ["nope"]}, "ignore_errors": True},
            {reset: {"adapters": [guest["nic"][0]["mac_address"].replace("-", ":")], "session_adapter_delay_seconds": 20}, "diff": True},
            {reset: {}},
        ]},
    ])
    checked, unmatched, switched, pending = (task["win-db"] for task in plays[0])
    adapter = checked["adapters"][0]
    assert checked["changed"] is True and adapter["deferred"] is True and adapter["task_name"] is None
    assert adapter["before"]["dhcp_enabled"] is False and adapter["before"]["default_gateways"] == ["10.0.0.1"]
    assert adapter["after"] == {"dhcp_enabled": True, "ipv4_addresses": [], "default_gateways": [], "dns_servers": []}
    assert set(checked["diff"]["before"]) == {"Ethernet"}
    assert unmatched["failed"] is True and "no network adapter matches 'nope'" in unmatched["msg"] and "Ethernet (index 4" in unmatched["msg"]
    assert switched["changed"] is True and switched["adapters"][0]["task_name"] == "snapkit.cloud-win_reset_static_ip-4"
    assert switched["diff"]["after"]["Ethernet"]["dhcp_enabled"] is True
    assert pending["changed"] is True and "still pending; not scheduled again" in " ".join(pending["warnings"])
    # Check mode and the runs so far changed nothing on the guest: one switch waits for its scheduled task.
    waiting = cloud.windows_guest("openstack", original["server_id"])
    assert waiting["nic"][0]["dhcp_enabled"] is False
    assert [(work["kind"], work["task_name"]) for work in waiting["scheduled"]] == [("adapter_switch", "snapkit.cloud-win_reset_static_ip-4")]

    cloud.advance(20)
    switched_guest = wait_for_guest(cloud, "openstack", original["server_id"], until=lambda found: found["nic"][0]["dhcp_enabled"])
    assert switched_guest["nic"][0]["ipv4_addresses"] == [{"ip_address": original["fixed_ip"], "prefix_length": 24, "prefix_origin": "Dhcp"}]
    assert [server for server in cloud.openstack_state()["servers"] if server["id"] == original["server_id"]][0]["guest_nic"] == {"mode": "dhcp"}

    dhcp_copy = copy_of(original["server_id"], "copy-dhcp")
    reachable = wait_for_guest(cloud, "openstack", dhcp_copy)
    port_ip = next(port["fixed_ips"][0]["ip_address"] for port in cloud.openstack_state()["ports"] if port["device_id"] == dhcp_copy)
    assert reachable["nic"][0]["ipv4_addresses"][0] == {"ip_address": port_ip, "prefix_length": 24, "prefix_origin": "Dhcp"}
    session = winrm.Session(f"http://{reachable['host']}:{reachable['port']}/wsman", auth=("Administrator", reachable["password"]), transport="basic")
    assert port_ip in session.run_cmd("ipconfig").std_out.decode()
    assert cloud.windows_guest("openstack", static_copy)["reachable"] is False
