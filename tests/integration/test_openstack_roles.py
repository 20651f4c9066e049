# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Roles openstack_instance_snapshot and openstack_launch_copy (and the AWX playbook) against the local OpenStack cloud.

One cloud for the module, with the emulated Windows guests: a Windows copy is reached over real WinRM.
"""
# pytest fixtures are parameters named like the imported fixture functions.
# pylint: disable=redefined-outer-name

from __future__ import annotations

import base64
import json
import os
import pathlib
import socket
import subprocess
import sys

import pytest

from _openstack import CLOUD_NAME
from _openstack import mutating_calls
from _openstack import openstack_real  # noqa: F401  pylint: disable=unused-import
from _openstack import os_backend  # noqa: F401  pylint: disable=unused-import
from _openstack import os_conn  # noqa: F401  pylint: disable=unused-import
from _openstack import sim  # noqa: F401  pylint: disable=unused-import
from cloudsim.client import CloudSim
from cloudsim.openstack.testing import set_zones
from cloudsim.testing import FAST_SPEED
from conftest import REPO_ROOT, collections_path

PLANTED_WINRM_PASSWORD = "planted-winrm-Passw0rd-7f3c"


@pytest.fixture(scope="module")
def openstack_sim():
    """Overrides _openstack's cloud for this module: EC2 (the runner's module_defaults name it), OpenStack and Windows guests."""
    with CloudSim.start(speed=FAST_SPEED, services=("ec2", "openstack", "windows")) as running:
        yield running


def role_task(role, register, **variables):
    """Include a role; ``register`` names a set_fact task after it that keeps the role's result fact."""
    fact = {"openstack_instance_snapshot": "openstack_instance_snapshot_result", "openstack_launch_copy": "openstack_launch_copy_result"}[role]
    return [
        {"name": f"Run {role}", "ansible.builtin.include_role": {"name": f"snapkit.cloud.{role}"}, "vars": dict(variables, **{f"{role}_cloud": CLOUD_NAME})},
        {"name": f"Keep {register}", "ansible.builtin.set_fact": {register: "{{ " + fact + " }}"}, "register": register},
    ]


def snapshot_and_copy(server, copy, snapshot, prefix, **copy_vars):
    return (role_task("openstack_instance_snapshot", f"{prefix}_snap", openstack_instance_snapshot_server=server,
                      openstack_instance_snapshot_name=snapshot)
            + role_task("openstack_launch_copy", f"{prefix}_copy", openstack_launch_copy_name=copy,
                        openstack_launch_copy_launch_source="{{ openstack_instance_snapshot_launch_source }}", **copy_vars))


def fact(run, register):
    result = run[register]
    assert "ansible_facts" in result, run.output[-3000:]
    return result["ansible_facts"][register]


def by_name(items, name):
    return next(item for item in items if item["name"] == name)


def port_networks(state, server):
    ports = {port["id"]: port for port in state["ports"]}
    return [ports[port_id]["network_id"] for port_id in server["ports"]]


def test_image_and_volume_booted_servers_copied_into_their_networks_rerun_changes_nothing(os_backend, ansible, os_conn, listener):
    web = os_backend.seed_server(boot="image", name="web", flavor="m1.tiny", fixed_ip="10.0.0.40")
    # Both on the project's tenant network, as a member's servers are: Nova refuses a member's server on the external
    # network (not shared), so the copy of a server seeded there (by the admin) would end in ERROR.
    db = os_backend.seed_server(boot="volume", name="db", flavor="m1.medium", root_size=25, fixed_ip="10.0.0.50",
                                volumes=[{"size": 2, "name": "db-data"}])
    ssh = {"openstack_launch_copy_ssh_host": "127.0.0.1", "openstack_launch_copy_ssh_port": listener}
    if not os_backend.guests_reachable:  # nothing answers on a real copy's address: skip exactly the SSH wait
        ssh = {"openstack_launch_copy_wait_for_ssh": False}
    tasks = snapshot_and_copy("web", "web-copy", "web-snap", "web", **ssh) + snapshot_and_copy("db", "db-copy", "db-snap", "db", **ssh)
    run = ansible.run(tasks)
    assert run.rc == 0, run.output[-3000:]
    web_snap, web_copy, db_snap, db_copy = (fact(run, name) for name in ("web_snap", "web_copy", "db_snap", "db_copy"))
    state = os_backend.openstack_state()
    images, volumes, snapshots = ({item["id"]: item for item in state[kind]} for kind in ("images", "volumes", "snapshots"))
    web_server, db_server = by_name(state["servers"], "web-copy"), by_name(state["servers"], "db-copy")

    # Image-booted: an instance snapshot (Glance image made by createImage), the copy boots from it.
    assert (web_snap["changed"], web_snap["kind"], web_snap["launch_source"]["type"]) == (True, "image", "image")
    image = images[web_snap["launch_source"]["image_id"]]
    assert (image["status"], image["properties"]["instance_uuid"]) == ("active", web["server_id"])
    assert (web_copy["changed"], web_copy["boot_source"], web_copy["status"], web_copy["volume_id"]) == (True, "image", "ACTIVE", None)
    assert (web_server["image_id"], web_server["volumes"], web_server["status"]) == (image["id"], [], "ACTIVE")
    assert port_networks(state, web_server) == [web["network_id"]] and web_copy["address"].startswith("10.0.0.")
    assert web_copy["address"] != "10.0.0.40"
    assert os_conn.compute.get_server(web_copy["server_id"]).flavor["original_name"] == "m1.tiny"

    # Volume-booted: a Cinder snapshot of the root volume; the copy boots from a volume made from it, sized from it.
    assert (db_snap["kind"], db_snap["launch_source"]["type"], db_snap["launch_source"]["volume_size"]) == ("volume", "volume_snapshot", 25)
    snapshot = snapshots[db_snap["launch_source"]["snapshot_id"]]
    assert (snapshot["volume_id"], snapshot["status"]) == (db["volumes"][0]["volume_id"], "available")
    assert (db_copy["boot_source"], db_copy["status"]) == ("volume_snapshot", "ACTIVE")
    root = volumes[db_copy["volume_id"]]
    assert (root["name"], root["snapshot_id"], root["size"], root["bootable"]) == ("db-copy-root", snapshot["id"], 25, True)
    assert (db_server["image_id"], db_server["volumes"]) == ("", [root["id"]])
    assert root["attachments"] == [{"server_id": db_server["id"], "device": "/dev/vda"}]
    assert port_networks(state, db_server) == [db["network_id"]] and db_copy["address"].startswith("10.0.0.")
    assert db_copy["address"] not in ("10.0.0.40", "10.0.0.50", web_copy["address"])
    assert os_conn.compute.get_server(db_copy["server_id"]).flavor["original_name"] == "m1.medium"
    # No floating IP, nothing but the two copies' servers and the one volume made.
    assert len(state["servers"]) == 4 and len(state["volumes"]) == 3

    marker = len(os_backend.journal()) if os_backend.journaled else 0
    again = ansible.run(tasks)
    assert again.rc == 0, again.output[-3000:]
    assert [fact(again, name)["changed"] for name in ("web_snap", "web_copy", "db_snap", "db_copy")] == [False] * 4
    assert fact(again, "db_copy")["server_id"] == db_copy["server_id"]
    if os_backend.journaled:
        assert mutating_calls(os_backend.journal()[marker:]) == []


def test_foreign_server_of_the_copys_name_is_refused_before_any_change(os_backend, ansible):
    web = os_backend.seed_server(boot="image", name="web")
    os_backend.seed_server(boot="image", name="web-copy")
    with pytest.raises(AssertionError) as failed:  # the role fails, so the play saves no results
        ansible.run(role_task("openstack_launch_copy", "copy", openstack_launch_copy_name="web-copy",
                              openstack_launch_copy_launch_source={"type": "image", "image_id": web["image_id"], "flavor_id": "2",
                                                                   "networks": [{"network_id": web["network_id"]}]}))
    assert "Refused before any change: a server named web-copy" in str(failed.value)
    assert "Made by this run: server none, root volume none" in str(failed.value)
    if os_backend.journaled:
        assert mutating_calls(os_backend.journal()) == []


def winrm_lookup(sim, field, default):
    """Lazily templated: the emulated guest's WinRM ``field`` once the copy exists (the role templates it after the boot)."""
    control = sim.control_url
    servers = ("(lookup('ansible.builtin.url', '" + control + "/openstack/state', split_lines=false) | from_json).servers"
               " | selectattr('name', 'equalto', 'win-copy') | map(attribute='id') | list")
    guest = ("(lookup('ansible.builtin.url', '" + control + "/windows/guest?service=openstack&instance=' ~ (" + servers + " | first),"
             " split_lines=false) | from_json)")
    return "{{ (" + guest + "." + field + ") if (" + servers + ") else '" + default + "' }}"


def test_windows_copy_turns_reachable_on_its_new_ip_after_the_dhcp_step(sim, ansible, os_conn):
    win = sim.seed_server(boot="image", name="win", windows=True, fixed_ip="10.0.0.50", guest_nic="static")
    copy_vars = {"openstack_launch_copy_winrm_scheme": "http", "openstack_launch_copy_winrm_transport": "basic",
                 "openstack_launch_copy_winrm_cert_validation": "ignore", "openstack_launch_copy_winrm_host": "127.0.0.1",
                 "openstack_launch_copy_winrm_port": winrm_lookup(sim, "port", "5985"),
                 "openstack_launch_copy_winrm_password": winrm_lookup(sim, "password", PLANTED_WINRM_PASSWORD)}
    run = ansible.run(snapshot_and_copy("win", "win-copy", "win-snap", "win", **copy_vars), verbosity=2)
    assert run.rc == 0, run.output[-3000:]
    snap, copy = fact(run, "win_snap"), fact(run, "win_copy")
    assert snap["launch_source"]["windows"] is True and copy["windows"] is True
    state = sim.openstack_state()
    server = by_name(state["servers"], "win-copy")
    # Launched with a config drive and the lookup's cloudbase-init script: the copy switched to DHCP at first boot.
    assert server["config_drive"] is True and base64.b64decode(server["user_data"]).decode().startswith("#ps1_sysnative")
    assert (server["guest_nic"], server["reachable"]) == ({"mode": "dhcp"}, True)
    guest = sim.windows_guest("openstack", server["id"])
    assert guest["cloudbase_init"]["user_data"] == "win_dhcp_userdata applied"
    new_ip = copy["address"]
    assert new_ip != "10.0.0.50" and [address["ip_address"] for address in guest["nic"][0]["ipv4_addresses"]] == [new_ip]
    # win_reset_static_ip confirmed it over WinRM: no static adapter left, nothing to change.
    assert (copy["adapters"], copy["nic_changed"], guest["nic"][0]["dhcp_enabled"]) == ([], False, True)
    assert PLANTED_WINRM_PASSWORD not in run.output and guest["password"] not in run.output

    # The control: the same image launched without the DHCP step keeps the original's static IP and stays unreachable.
    plain = os_conn.compute.create_server(name="win-plain", flavor_id="2", image_id=snap["launch_source"]["image_id"],
                                          networks=[{"uuid": win["network_id"]}])
    os_conn.compute.wait_for_server(plain, interval=0.2, wait=30)
    plain_state = by_name(sim.openstack_state()["servers"], "win-plain")
    assert (plain_state["guest_nic"], plain_state["reachable"]) == ({"mode": "static", "ip": "10.0.0.50"}, False)


def test_awx_playbook_with_os_client_config_file_only(os_backend, tmp_path, listener):
    """The AWX entry point: extra vars only, the clouds.yaml from OS_CLIENT_CONFIG_FILE with the cloud named devstack."""
    os_backend.seed_server(boot="volume", name="app", root_size=12)
    extra = {"openstack_instance_snapshot_server": "app", "openstack_instance_snapshot_name": "app-snap", "openstack_launch_copy_name": "app-copy",
             "openstack_launch_copy_ssh_host": "127.0.0.1", "openstack_launch_copy_ssh_port": listener,
             "ansible_python_interpreter": sys.executable}
    if not os_backend.guests_reachable:  # nothing answers on a real copy's address: skip exactly the SSH wait
        extra["openstack_launch_copy_wait_for_ssh"] = False
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_NOCOLOR="1",
               OS_CLIENT_CONFIG_FILE=str(os_backend.clouds_yaml_path))
    command = [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), str(REPO_ROOT / "playbooks" / "openstack_snapshot_and_copy.yml"),
               "-e", json.dumps(extra)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "volume_snapshot" in done.stdout and "copy app-copy" in done.stdout
    state = os_backend.openstack_state()
    copy = by_name(state["servers"], "app-copy")
    root = next(volume for volume in state["volumes"] if volume["id"] == copy["volumes"][0])
    assert (copy["status"], copy["image_id"], root["size"], root["name"]) == ("ACTIVE", "", 12, "app-copy-root")


def closed_port():
    """A loopback port nothing listens on: the copy's SSH never answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_copy_from_a_volume_snapshot_where_cinder_zones_are_not_novas(sim, ansible, listener):
    """The volume is made in the snapshot's Cinder zone; the server's Nova zone is not a Cinder zone (a 400)."""
    set_zones(sim, compute=["az-compute-1"], volume=["az-volume-1"])
    sim.seed_server(boot="volume", name="db", root_size=3)
    ssh = {"openstack_launch_copy_ssh_host": "127.0.0.1", "openstack_launch_copy_ssh_port": listener}
    run = ansible.run(snapshot_and_copy("db", "db-copy", "db-snap", "db", **ssh))
    assert run.rc == 0, run.output[-3000:]
    snap, copy = fact(run, "db_snap"), fact(run, "db_copy")
    assert snap["launch_source"]["availability_zone"] == "az-compute-1"
    state = sim.openstack_state()
    root = next(volume for volume in state["volumes"] if volume["id"] == copy["volume_id"])
    assert (root["availability_zone"], root["snapshot_id"]) == ("az-volume-1", snap["launch_source"]["snapshot_id"])
    assert by_name(state["servers"], "db-copy")["availability_zone"] == "az-compute-1"
    assert all("availability_zone" not in entry["params"]["volume"] for entry in sim.journal(action="createVolume"))


def test_copy_from_a_volume_backed_servers_image_reports_and_cleans_up_the_volumes_nova_made(sim, ansible, listener):
    db = sim.seed_server(boot="volume", name="db", root_size=4, volumes=[{"size": 2, "name": "db-data"}])
    original_volumes = {volume["volume_id"] for volume in db["volumes"]}
    snapshot = role_task("openstack_instance_snapshot", "snap", openstack_instance_snapshot_server="db",
                         openstack_instance_snapshot_name="db-image", openstack_instance_snapshot_method="image")
    copy = role_task("openstack_launch_copy", "copy", openstack_launch_copy_name="db-copy",
                     openstack_launch_copy_launch_source="{{ openstack_instance_snapshot_launch_source }}",
                     openstack_launch_copy_ssh_host="127.0.0.1", openstack_launch_copy_ssh_port=listener)
    run = ansible.run(snapshot + copy)
    assert run.rc == 0, run.output[-3000:]
    made = fact(run, "copy")
    state = sim.openstack_state()
    server = by_name(state["servers"], "db-copy")
    assert made["boot_source"] == "image" and len(server["volumes"]) == 2
    assert sorted(item["id"] for item in made["image_volumes"]) == sorted(server["volumes"])
    assert not original_volumes & set(server["volumes"])

    # The same copy under another name whose SSH never answers: the role fails and, asked to, deletes what it made.
    failing = role_task("openstack_launch_copy", "failed_copy", openstack_launch_copy_name="db-copy-2",
                        openstack_launch_copy_launch_source=fact(run, "snap")["launch_source"],
                        openstack_launch_copy_ssh_host="127.0.0.1", openstack_launch_copy_ssh_port=closed_port(),
                        openstack_launch_copy_ssh_timeout=2, openstack_launch_copy_cleanup_on_failure=True)
    volumes_before = {volume["id"] for volume in sim.openstack_state()["volumes"]}
    with pytest.raises(AssertionError) as failed:
        ansible.run(failing)
    message = str(failed.value)
    assert "volumes Nova made from the image" in message and "deleted again" in message, message[-3000:]
    after = sim.openstack_state()
    assert "db-copy-2" not in [item["name"] for item in after["servers"]]
    assert {volume["id"] for volume in after["volumes"]} == volumes_before
    deleted = [entry["params"]["volume_id"] for entry in sim.journal(action="deleteVolume") if entry["status"] == 202]
    assert len(deleted) == 2 and all(volume_id in message for volume_id in deleted)


def test_copy_metadata_keys_nova_refuses_are_refused_before_any_call(sim, ansible):
    web = sim.seed_server(boot="image", name="web")
    with pytest.raises(AssertionError) as failed:
        ansible.run(role_task("openstack_launch_copy", "copy", openstack_launch_copy_name="web-copy",
                              openstack_launch_copy_metadata={"owner/team": "ops"},
                              openstack_launch_copy_launch_source={"type": "image", "image_id": web["image_id"], "flavor_id": "2",
                                                                   "networks": [{"network_id": web["network_id"]}]}))
    assert "Refused before any API call" in str(failed.value) and "owner/team" in str(failed.value)
    assert [entry for entry in sim.journal() if entry["service"] != "identity"] == []
