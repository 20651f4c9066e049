# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulated guests' WinRM endpoints through pywinrm: shells, commands, output in chunks, faults, authentication, life cycle."""

from __future__ import annotations

import base64
import json

import boto3
import pytest
import requests
import winrm
from winrm.exceptions import InvalidCredentialsError, WinRMOperationTimeoutError, WSManFaultError

from cloudsim.client import CloudSimError
from cloudsim.windows.testing import wait_for_guest


def session(guest: dict, password: str | None = None, user: str | None = None) -> winrm.Session:
    return winrm.Session(f"http://{guest['host']}:{guest['port']}/wsman", auth=(user or guest["username"], password or guest["password"]),
                         transport="basic", operation_timeout_sec=2, read_timeout_sec=5)


@pytest.fixture
def lightsail_guest(windows_frozen):
    windows_frozen.seed_lightsail_instance("win-a", blueprint="windows_server_2019")
    return wait_for_guest(windows_frozen, "lightsail", "win-a")


def test_run_cmd_and_run_ps_answer_from_the_guest_state(lightsail_guest):
    guest = lightsail_guest
    assert guest["agent"] == "ec2launch_v1" and guest["password_option"] == "DoNothing"
    client = session(guest)
    hostname = client.run_cmd("hostname")
    assert hostname.status_code == 0 and hostname.std_out.decode().strip() == guest["computer_name"]
    assert client.run_cmd("whoami").std_out.decode().strip() == f"{guest['computer_name'].lower()}\\administrator"
    ipconfig = client.run_cmd("ipconfig").std_out.decode()
    assert guest["nic"][0]["ipv4_addresses"][0]["ip_address"] in ipconfig and "255.255.240.0" in ipconfig
    assert client.run_cmd("exit /b 3").status_code == 3
    unknown = client.run_cmd("format", ["c:"])
    assert unknown.status_code == 1 and b"'format' is not recognized" in unknown.std_err
    shell = client.run_ps("Write-Output 'it''s'; $env:COMPUTERNAME\nWrite-Error 'broken'")
    assert shell.status_code == 1 and shell.std_out.decode().split("\r\n")[:2] == ["it's", guest["computer_name"]]
    assert shell.std_err.decode().startswith("broken")
    missing = client.run_ps("Get-Thing")
    assert missing.status_code == 1 and b"The term 'Get-Thing' is not recognized" in missing.std_err


def test_output_comes_in_several_receive_answers_and_stdin_ends_the_command(windows_frozen, lightsail_guest):
    windows_frozen.windows_config(receive_chunk_bytes=7)
    protocol = session(lightsail_guest).protocol
    shell_id = protocol.open_shell()
    command_id = protocol.run_command(shell_id, "ipconfig")
    pieces = []
    while True:
        stdout, _stderr, exit_code, done = protocol.get_command_output_raw(shell_id, command_id)
        pieces.append(stdout)
        if done:
            break
    assert len(pieces) > 10 and all(len(piece) <= 7 for piece in pieces) and exit_code == 0
    assert b"".join(pieces).decode().startswith("\r\nWindows IP Configuration")
    protocol.cleanup_command(shell_id, command_id)

    # Ansible's exec wrapper reads stdin up to its end: until then a Receive times out as WinRM's does.
    bootstrap = base64.b64encode("$codeJson | ConvertFrom-Json # `0`0`0`0".encode("utf-16-le")).decode()
    waiting = protocol.run_command(shell_id, f"powershell -NoProfile -EncodedCommand {bootstrap}", console_mode_stdin=False)
    with pytest.raises(WinRMOperationTimeoutError):
        protocol.get_command_output_raw(shell_id, waiting)
    manifest = {"scripts": {}, "actions": [{"name": "module_wrapper.ps1", "params": {
        "Script": "ansible_collections.ansible.windows.plugins.modules.win_ping.ps1",
        "Variables": [{"Name": "complex_args", "Value": {"data": "chunks", "_ansible_check_mode": False}, "Scope": "Global"}]}}]}
    payload = json.dumps({"name": "exec_wrapper", "script": "", "params": {}}) + "\n\0\0\0\0\n" + json.dumps(manifest)
    protocol.send_command_input(shell_id, waiting, payload.encode(), end=True)
    stdout, _stderr, exit_code = protocol.get_command_output(shell_id, waiting)
    result = json.loads(stdout)
    assert exit_code == 0 and result["ping"] == "chunks" and result["invocation"]["module_args"] == {"data": "chunks"}
    protocol.close_shell(shell_id)


def test_faults_and_credentials(lightsail_guest):
    guest = lightsail_guest
    with pytest.raises(InvalidCredentialsError):
        session(guest, password="wrong").run_cmd("hostname")
    with pytest.raises(InvalidCredentialsError):
        session(guest, user="Guest").run_cmd("hostname")
    assert session(guest, user=".\\administrator").run_cmd("hostname").status_code == 0
    anonymous = requests.post(f"http://{guest['host']}:{guest['port']}/wsman", data=b"<x/>", timeout=5)
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"] == 'Basic realm="WSMAN"'
    protocol = session(guest).protocol
    with pytest.raises(WSManFaultError) as fault:
        protocol.run_command("00000000-0000-0000-0000-000000000000", "hostname")
    assert fault.value.wsman_fault_code == 2150858843 and "shell was not found" in fault.value.reason
    shell_id = protocol.open_shell()
    protocol.close_shell(shell_id)
    with pytest.raises(WSManFaultError):
        session(guest).protocol.run_command(shell_id, "hostname")


def test_guests_follow_their_instances(windows_frozen, lightsail_guest):
    cloud = windows_frozen
    cloud.lightsail_config(instance_transition_seconds=10)
    cloud.seed_lightsail_instance("linux-a")
    assert [guest["instance"] for guest in cloud.windows_guests()] == ["win-a"]
    client = session(lightsail_guest)
    protocol = client.protocol
    shell_id = protocol.open_shell()
    lightsail = boto3.client("lightsail", **cloud.aws_client_kwargs("lightsail"))
    lightsail.stop_instance(instanceName="win-a")
    stopped = wait_for_guest(cloud, "lightsail", "win-a", reachable=False)
    assert stopped["port"] == lightsail_guest["port"]
    # The shell died with the guest, and nothing listens on its port while the instance is not running.
    with pytest.raises(requests.exceptions.ConnectionError):
        protocol.run_command(shell_id, "hostname")
    cloud.advance(10)
    lightsail.start_instance(instanceName="win-a")
    cloud.advance(10)
    restarted = wait_for_guest(cloud, "lightsail", "win-a")
    assert restarted["port"] == lightsail_guest["port"] and restarted["password"] == lightsail_guest["password"]
    with pytest.raises(WSManFaultError):
        session(restarted).protocol.run_command(shell_id, "hostname")
    lightsail.delete_instance(instanceName="win-a")
    with pytest.raises(CloudSimError, match="no Windows guest"):
        cloud.windows_guest("lightsail", "win-a")
    with pytest.raises(requests.exceptions.ConnectionError):
        session(restarted).run_cmd("hostname")


def test_a_static_address_that_is_not_the_instance_s_cuts_the_guest_off(windows_frozen, lightsail_guest):
    cloud = windows_frozen
    own = lightsail_guest["nic"][0]["ipv4_addresses"][0]["ip_address"]
    static = cloud.seed_windows_guest("lightsail", "win-a", nic="static", ip=own)
    assert static["reachable"] is True and static["nic"][0]["ipv4_addresses"][0]["prefix_origin"] == "Manual"
    assert cloud.seed_windows_guest("lightsail", "win-a", nic="static", ip="172.26.9.9")["reachable"] is False
    with pytest.raises(requests.exceptions.ConnectionError):
        session(lightsail_guest).run_cmd("hostname")
    back = cloud.seed_windows_guest("lightsail", "win-a", nic="dhcp")
    assert back["reachable"] is True and back["nic"][0]["ipv4_addresses"] == [{"ip_address": own, "prefix_length": 20, "prefix_origin": "Dhcp"}]
    assert session(back).run_cmd("hostname").status_code == 0


def test_a_silent_drop_leaves_clients_waiting_for_their_read_timeout(windows_frozen, lightsail_guest):
    cloud = windows_frozen
    cloud.lightsail_config(instance_transition_seconds=10)
    cloud.windows_config(silent_drop=1)
    lightsail = boto3.client("lightsail", **cloud.aws_client_kwargs("lightsail"))
    lightsail.stop_instance(instanceName="win-a")
    wait_for_guest(cloud, "lightsail", "win-a", reachable=False)
    quiet = winrm.Session(f"http://{lightsail_guest['host']}:{lightsail_guest['port']}/wsman", auth=("Administrator", lightsail_guest["password"]),
                          transport="basic", operation_timeout_sec=1, read_timeout_sec=2)
    # The port still takes the connection (nothing resets it) but never answers, as a host that went away.
    with pytest.raises(requests.exceptions.ReadTimeout):
        quiet.run_cmd("hostname")
    cloud.advance(10)
    lightsail.start_instance(instanceName="win-a")
    cloud.advance(10)
    back = wait_for_guest(cloud, "lightsail", "win-a")
    assert back["port"] == lightsail_guest["port"] and session(back).run_cmd("hostname").status_code == 0


def test_a_stock_guest_listens_on_http_only_and_https_once_a_listener_is_set_up(windows_frozen, lightsail_guest, tmp_path):
    """As a stock Windows image: WinRM over HTTP (5985), nothing on 5986; seeded with an HTTPS listener, 5986 answers
    with a self-signed certificate that a client validates once it trusts it, and refuses a client that does not."""
    guest = lightsail_guest
    assert guest["listeners"] == {"5985": {"transport": "HTTP", "port": guest["port"]}}
    with pytest.raises(requests.exceptions.SSLError):
        # HTTPS spoken to the HTTP listener: no TLS handshake, as from a real HTTP-only guest.
        winrm.Session(f"https://{guest['host']}:{guest['port']}/wsman", auth=(guest["username"], guest["password"]), transport="basic",
                      server_cert_validation="ignore", operation_timeout_sec=2, read_timeout_sec=5).run_cmd("hostname")

    seeded = windows_frozen.seed_windows_guest("lightsail", "win-a", winrm_https=True)
    https = seeded["listeners"]["5986"]
    assert https["transport"] == "HTTPS" and https["port"] not in (None, guest["port"]) and "BEGIN CERTIFICATE" in https["certificate"]
    trust = tmp_path / "listener.pem"
    trust.write_text(https["certificate"])
    url = f"https://{guest['host']}:{https['port']}/wsman"
    validated = winrm.Session(url, auth=(guest["username"], guest["password"]), transport="basic", ca_trust_path=str(trust),
                              operation_timeout_sec=2, read_timeout_sec=5)
    assert validated.run_cmd("hostname").std_out.decode().strip() == guest["computer_name"]
    with pytest.raises(requests.exceptions.SSLError):
        # The certificate is self-signed: a client that validates against its default trust store refuses it.
        winrm.Session(url, auth=(guest["username"], guest["password"]), transport="basic", operation_timeout_sec=2,
                      read_timeout_sec=5).run_cmd("hostname")
    assert session(guest).run_cmd("hostname").status_code == 0, "HTTP still answers beside HTTPS"

    removed = windows_frozen.seed_windows_guest("lightsail", "win-a", winrm_https=False)
    assert set(removed["listeners"]) == {"5985"}
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(url, verify=False, timeout=5)
