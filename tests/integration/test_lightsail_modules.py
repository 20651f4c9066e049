# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The lightsail_* helper modules (state, port, password, snapshot info, instance from snapshot) in real playbook runs.

Each test is one ansible-playbook run with many tasks, asserting idempotency, check mode and errors from the
registered results and from the Lightsail simulator's journal.
"""

from __future__ import annotations

import threading
import time

import boto3
import pytest

from _collection import LIGHTSAIL_STOP_MARK_TAG
from cloudsim.client import CloudSim
from cloudsim.testing import FAST_SPEED
from conftest import documented_return
from conftest import mutating_calls


@pytest.fixture(scope="module")
def lightsail_sim():
    with CloudSim.start(speed=FAST_SPEED, services=("ec2", "lightsail")) as running:
        yield running


@pytest.fixture
def sim(lightsail_sim):  # pylint: disable=redefined-outer-name
    lightsail_sim.reset(speed=FAST_SPEED)
    return lightsail_sim


def task(sim, register, module, check=False, **params):  # pylint: disable=redefined-outer-name
    """One task of a module on the Lightsail endpoint (the runner's module_defaults point at EC2)."""
    entry = {"name": register, f"snapkit.cloud.{module}": dict(params, endpoint_url=sim.lightsail_url), "register": register}
    if check:
        entry["check_mode"] = True
    return entry


def actions(sim, since=0):  # pylint: disable=redefined-outer-name
    return [entry["action"] for entry in sim.journal(service="lightsail", since=since)]


def test_instance_state_stops_starts_reports_and_is_idempotent(sim, ansible):
    sim.seed_lightsail_instance("web-1")
    sim.seed_lightsail_instance("web-2", state="stopped")
    run = ansible.run([
        task(sim, "check_stop", "lightsail_instance_state", check=True, instance_name="web-1", state="stopped"),
        task(sim, "stop", "lightsail_instance_state", instance_name="web-1", state="stopped"),
        task(sim, "stop_again", "lightsail_instance_state", instance_name="web-1", state="stopped"),
        task(sim, "start", "lightsail_instance_state", instance_name="web-1", state="running"),
        task(sim, "wait_only", "lightsail_instance_state", instance_name="web-2", state="running", wait_only=True, wait_timeout=2),
        task(sim, "missing", "lightsail_instance_state", instance_name="ghost", state="running"),
        task(sim, "bad_name", "lightsail_instance_state", instance_name="-bad", state="running"),
    ], diff=True)
    assert run["check_stop"]["changed"] is True and run["check_stop"]["previous_state"] == "running"
    assert run["check_stop"]["diff"] == {"before": {"state": "running"}, "after": {"state": "stopped"}}
    assert (run["stop"]["changed"], run["stop"]["previous_state"], run["stop"]["state"]) == (True, "running", "stopped")
    assert run["stop"]["instance"]["public_ip_address"] is None
    assert (run["stop_again"]["changed"], run["stop_again"]["previous_state"]) == (False, "stopped")
    assert (run["start"]["changed"], run["start"]["previous_state"], run["start"]["state"]) == (True, "stopped", "running")
    assert run["start"]["instance"]["public_ip_address"], "running is reported only with a public IP"
    assert set(run["start"]["instance"]) == set(documented_return("lightsail_instance_state")["instance"]["contains"])
    # wait_only never starts anything: a stopped instance that nobody starts times out.
    assert run["wait_only"].get("failed") is True and "web-2" in run["wait_only"]["msg"] and "stopped" in run["wait_only"]["msg"]
    assert run["missing"].get("failed") is True and "ghost was not found" in run["missing"]["msg"]
    assert run["bad_name"].get("failed") is True and "instance_name" in run["bad_name"]["msg"]
    assert [entry["action"] for entry in mutating_calls(sim.journal(service="lightsail"))] == ["StopInstance", "StartInstance"]


def resume_clock_after_first(sim, action):  # pylint: disable=redefined-outer-name
    """A thread that sets the frozen clock going once ``action`` is journaled: the module saw the frozen state."""
    def watch():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not sim.journal(service="lightsail", action=action):
            time.sleep(0.1)
        sim.set_speed(FAST_SPEED)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_instance_state_waits_out_a_transition_before_acting(sim, ansible):
    sim.seed_lightsail_instance("web-1")
    sim.lightsail_guest_shutdown("web-1", delay_seconds=0, generalize=False)
    sim.set_speed(0)
    watcher = resume_clock_after_first(sim, "GetInstance")
    run = ansible.run([task(sim, "start", "lightsail_instance_state", instance_name="web-1", state="running")])
    watcher.join()
    assert (run["start"]["previous_state"], run["start"]["state"], run["start"]["changed"]) == ("stopping", "running", True)
    starts = sim.journal(service="lightsail", action="StartInstance")
    assert len(starts) == 1 and starts[0]["error_code"] is None, "the start waited until the stop had ended"


def test_instance_state_tolerates_stopped_right_after_its_own_start(sim, ansible):
    sim.seed_lightsail_instance("web-1", state="stopped")
    sim.lightsail_config(start_lag_seconds=5)
    sim.set_speed(0)

    def resume_after_a_stale_read():
        """The clock stays frozen (the state reads stopped) until the module has read the instance after its start."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            starts = sim.journal(service="lightsail", action="StartInstance")
            if starts and sim.journal(service="lightsail", action="GetInstance", since=starts[0]["seq"]):
                break
            time.sleep(0.1)
        sim.set_speed(FAST_SPEED)

    watcher = threading.Thread(target=resume_after_a_stale_read, daemon=True)
    watcher.start()
    run = ansible.run([task(sim, "start", "lightsail_instance_state", instance_name="web-1", state="running")])
    watcher.join()
    assert (bool(run["start"].get("failed")), run["start"]["previous_state"], run["start"]["state"]) == (False, "stopped", "running")
    starts = sim.journal(service="lightsail", action="StartInstance")
    reads = [entry for entry in sim.journal(service="lightsail", action="GetInstance") if entry["seq"] > starts[0]["seq"]]
    assert len(starts) == 1 and len(reads) >= 2, "the first read after the start saw stopped and the module went on waiting"


def test_instance_port_opens_for_one_cidr_closes_only_what_it_opened(sim, ansible):
    sim.seed_lightsail_instance("win-1", blueprint="windows")
    client_cidr = "198.51.100.7/32"
    run = ansible.run([
        task(sim, "check_open", "lightsail_instance_port", check=True, instance_name="win-1", port=5986, cidr=client_cidr),
        task(sim, "open", "lightsail_instance_port", instance_name="win-1", port=5986, cidr=client_cidr),
        task(sim, "open_again", "lightsail_instance_port", instance_name="win-1", port=5986, cidr=client_cidr),
        task(sim, "open_other", "lightsail_instance_port", instance_name="win-1", port=5986, cidr="192.0.2.0/24"),
        task(sim, "close", "lightsail_instance_port", instance_name="win-1", port=5986, cidr=client_cidr, state="absent"),
        task(sim, "close_again", "lightsail_instance_port", instance_name="win-1", port=5986, cidr=client_cidr, state="absent"),
        task(sim, "rdp_already_open", "lightsail_instance_port", instance_name="win-1", port=3389, cidr=client_cidr),
        task(sim, "rdp_not_ours", "lightsail_instance_port", instance_name="win-1", port=3389, cidr=client_cidr, state="absent"),
        task(sim, "bad_cidr", "lightsail_instance_port", instance_name="win-1", port=5986, cidr="198.51.100.7/24"),
        task(sim, "bad_range", "lightsail_instance_port", instance_name="win-1", port=5986, to_port=5985, cidr=client_cidr),
    ], diff=True)
    before = run["open"]["previous_rules"]
    assert run["check_open"]["changed"] is True and run["check_open"]["previous_rules"] == before
    assert [rule["from_port"] for rule in before] == [22, 3389]
    assert run["open"]["changed"] is True and run["open_again"]["changed"] is False
    assert [rule["cidrs"] for rule in run["open"]["rules"] if rule["from_port"] == 5986] == [[client_cidr]]
    assert [sorted(rule["cidrs"]) for rule in run["open_other"]["rules"] if rule["from_port"] == 5986] == [["192.0.2.0/24", client_cidr]]
    # Closing ours keeps the other CIDR of the same rule.
    assert run["close"]["changed"] is True
    assert [rule["cidrs"] for rule in run["close"]["rules"] if rule["from_port"] == 5986] == [["192.0.2.0/24"]]
    assert run["close_again"]["changed"] is False
    # 3389 is open to 0.0.0.0/0: already reachable, and not ours to close.
    assert run["rdp_already_open"]["changed"] is False and run["rdp_not_ours"]["changed"] is False
    assert run["bad_cidr"].get("failed") is True and "cidr" in run["bad_cidr"]["msg"]
    assert run["bad_range"].get("failed") is True and "to_port" in run["bad_range"]["msg"]
    ports = {rule["fromPort"]: rule["cidrs"] for rule in sim.lightsail_state()["instances"][0]["ports"]}
    assert ports == {22: ["0.0.0.0/0"], 3389: ["0.0.0.0/0"], 5986: ["192.0.2.0/24"]}


def test_instance_port_sends_no_empty_address_list_and_leaves_exactly_the_rule_asked_for(sim, ansible):
    sim.seed_lightsail_instance("win-1", blueprint="windows")
    run = ansible.run([
        task(sim, "v4", "lightsail_instance_port", instance_name="win-1", port=5986, cidr="198.51.100.7/32"),
        task(sim, "v6", "lightsail_instance_port", instance_name="win-1", port=5985, cidr="2001:db8::/64"),
        task(sim, "v6_closed", "lightsail_instance_port", instance_name="win-1", port=5985, cidr="2001:db8::/64", state="absent"),
    ])
    assert [bool(run[name].get("failed")) for name in ("v4", "v6", "v6_closed")] == [False, False, False]
    # An empty list would have read as "everyone" of the other IP version: the rule is exactly what was asked.
    ports = {rule["fromPort"]: (rule["cidrs"], rule["ipv6Cidrs"]) for rule in sim.lightsail_state()["instances"][0]["ports"]}
    assert ports[5986] == (["198.51.100.7/32"], []) and 5985 not in ports
    sent = [entry["params"]["portInfo"] for entry in sim.journal(service="lightsail") if entry["action"].endswith("InstancePublicPorts")]
    assert sent and all(value for info in sent for value in info.values()), sent


def test_password_snapshot_info_and_instance_from_snapshot(sim, ansible):
    sim.lightsail_config(windows_password_seconds=60)
    seeded = sim.seed_lightsail_instance("win-1", blueprint="windows", password="Planted-Passw0rd-h5!")
    sim.seed_lightsail_instance("web-1")
    sim.seed_lightsail_instance("win-2", blueprint="windows", key_pair="my-keys")
    run = ansible.run([
        {**task(sim, "password", "lightsail_instance_password", instance_name="win-1"), "no_log": True},
        task(sim, "linux_password", "lightsail_instance_password", instance_name="web-1"),
        task(sim, "custom_key", "lightsail_instance_password", instance_name="win-2"),
        task(sim, "snap", "lightsail_snapshot", instance_name="win-1", snapshot_name="win-1-snap",
             tags={"snapkit-purpose": "backup-before-sysprep"}),
        task(sim, "by_instance", "lightsail_snapshot_info", instance_name="win-1", states=["available"]),
        task(sim, "by_name", "lightsail_snapshot_info", snapshot_names=["win-1-snap", "gone-snap"]),
        task(sim, "pending_only", "lightsail_snapshot_info", states=["pending"]),
        task(sim, "check_copy", "lightsail_instance_from_snapshot", check=True, instance_name="win-1-verify", snapshot_name="win-1-snap"),
        task(sim, "copy", "lightsail_instance_from_snapshot", instance_name="win-1-verify", snapshot_name="win-1-snap"),
        task(sim, "copy_again", "lightsail_instance_from_snapshot", instance_name="win-1-verify", snapshot_name="win-1-snap"),
        {**task(sim, "copy_password", "lightsail_instance_password", instance_name="win-1-verify"), "no_log": True},
        task(sim, "not_ours", "lightsail_instance_from_snapshot", instance_name="win-1", state="absent"),
        task(sim, "delete", "lightsail_instance_from_snapshot", instance_name="win-1-verify", state="absent"),
        task(sim, "delete_again", "lightsail_instance_from_snapshot", instance_name="win-1-verify", state="absent"),
    ], verbosity=3)
    assert run["password"]["password"] == seeded["password"] and run["password"]["username"] == "Administrator"
    assert "Planted-Passw0rd-h5!" not in run.results["password"].get("msg", "")
    assert run["linux_password"].get("failed") is True and "not Windows" in run["linux_password"]["msg"]
    assert run["custom_key"].get("failed") is True and "my-keys" in run["custom_key"]["msg"]
    assert [snapshot["name"] for snapshot in run["by_instance"]["snapshots"]] == ["win-1-snap"]
    assert set(run["by_instance"]["snapshots"][0]) == set(documented_return("lightsail_snapshot")["snapshot"]["contains"])
    assert run["by_name"]["missing"] == ["gone-snap"] and len(run["by_name"]["snapshots"]) == 1
    assert run["pending_only"]["snapshots"] == []
    assert run["check_copy"]["changed"] is True and run["check_copy"]["instance"]["bundle_id"] == "small_win_3_0"
    assert run["copy"]["changed"] is True and run["copy"]["instance"]["state"] == "running"
    assert run["copy"]["instance"]["tags"] == {"snapkit:from-snapshot": "win-1-snap"}
    assert run["copy_again"]["changed"] is False
    # A copy of the backup taken before Sysprep keeps the original password, which Lightsail cannot give: the module
    # says so after one look instead of waiting out its 900 s.
    assert run["copy_password"].get("failed") is True and "taken before Sysprep" in run["copy_password"]["msg"]
    assert "use the one you saved" in run["copy_password"]["msg"] and "password" not in run["copy_password"]
    assert run["not_ours"].get("failed") is True and "not made by this module" in run["not_ours"]["msg"]
    assert run["delete"]["changed"] is True and run["delete_again"]["changed"] is False
    assert "Planted-Passw0rd-h5!" not in run.output
    journal = sim.journal(service="lightsail")
    assert [entry["params"]["instanceName"] for entry in journal if entry["action"] == "DeleteInstance"] == ["win-1-verify"]
    assert [entry["action"] for entry in journal if entry["action"] == "CreateInstancesFromSnapshot"] == ["CreateInstancesFromSnapshot"]
    assert [entry["params"]["instanceName"] for entry in journal if entry["action"] == "GetInstanceAccessDetails"] == [
        "win-1", "win-2", "win-1-verify"]


def test_instance_from_snapshot_uses_the_source_zone_else_the_first_zone_of_the_region(sim, ansible):
    sim.seed_lightsail_instance("web-1", zone="us-east-1c")
    sim.seed_lightsail_instance("web-2", zone="us-east-1b")
    ansible.run([task(sim, "snap_1", "lightsail_snapshot", instance_name="web-1", snapshot_name="web-1-snap"),
                 task(sim, "snap_2", "lightsail_snapshot", instance_name="web-2", snapshot_name="web-2-snap")])
    boto3.client("lightsail", **sim.aws_client_kwargs("lightsail")).delete_instance(instanceName="web-2")
    since = sim.journal()[-1]["seq"]
    run = ansible.run([
        task(sim, "all", "lightsail_instance_from_snapshot", instance_name="copy-0", snapshot_name="web-1-snap", availability_zone="all"),
        task(sim, "copy_1", "lightsail_instance_from_snapshot", instance_name="copy-1", snapshot_name="web-1-snap"),
        task(sim, "copy_2", "lightsail_instance_from_snapshot", instance_name="copy-2", snapshot_name="web-2-snap"),
    ])
    assert run["all"].get("failed") is True and "availability_zone" in run["all"]["msg"]
    # The snapshot reads zone "all": the copy goes to its source instance's zone, or (that one deleted) the region's first.
    assert run["copy_1"]["instance"]["location"] == {"availability_zone": "us-east-1c", "region_name": "us-east-1"}
    assert run["copy_2"]["instance"]["location"] == {"availability_zone": "us-east-1a", "region_name": "us-east-1"}
    creates = [entry for entry in sim.journal(service="lightsail", since=since) if entry["action"] == "CreateInstancesFromSnapshot"]
    assert [(entry["params"]["instanceNames"], entry["error_code"]) for entry in creates] == [(["copy-1"], None), (["copy-2"], None)]


def test_instance_from_snapshot_waits_for_a_new_instance_lightsail_does_not_show_yet(sim, ansible):
    sim.lightsail_config(visibility_delay_seconds=1500, visibility_seed=5)  # up to 2.5 s of real time
    sim.seed_lightsail_instance("web-1")
    run = ansible.run([task(sim, "snap", "lightsail_snapshot", instance_name="web-1", snapshot_name="web-1-snap"),
                       task(sim, "copy", "lightsail_instance_from_snapshot", instance_name="copy-1", snapshot_name="web-1-snap")])
    assert [bool(run[name].get("failed")) for name in ("snap", "copy")] == [False, False], run["copy"].get("msg")
    assert run["copy"]["instance"]["state"] == "running"
    reads = [entry for entry in sim.journal(service="lightsail", action="GetInstance") if entry["params"]["instanceName"] == "copy-1"]
    assert [entry["error_code"] for entry in reads[:2]] == ["NotFoundException", "NotFoundException"]


STOP_MARK = LIGHTSAIL_STOP_MARK_TAG


def tags_of(sim, name):  # pylint: disable=redefined-outer-name
    return next(i for i in sim.lightsail_state()["instances"] if i["name"] == name)["tags"]


def test_instance_state_stop_mark_is_written_before_the_stop_and_removed_after_the_start(sim, ansible):
    sim.seed_lightsail_instance("web-1")
    sim.seed_lightsail_instance("held-1", state="stopped", tags={STOP_MARK: "other-procedure"})
    sim.seed_lightsail_instance("stale-1", tags={STOP_MARK: "nightly"})
    sim.seed_lightsail_instance("refused-1")
    stop = task(sim, "stop", "lightsail_instance_state", instance_name="web-1", state="stopped", stop_mark="nightly")
    run = ansible.run([
        stop,
        {"name": "tags while stopped", "ansible.builtin.uri": {"url": sim.control_url + "/lightsail/state"}, "register": "stopped_view"},
        dict(task(sim, "read", "lightsail_instance_state", check=True, instance_name="web-1", state="running", stop_mark="nightly")),
        task(sim, "start", "lightsail_instance_state", instance_name="web-1", state="running", stop_mark="nightly"),
        task(sim, "held", "lightsail_instance_state", check=True, instance_name="held-1", state="running", stop_mark="nightly"),
        task(sim, "stale", "lightsail_instance_state", instance_name="stale-1", state="running", stop_mark="nightly"),
        {"name": "Refuse the tag", "ansible.builtin.uri": {
            "url": sim.control_url + "/faults", "method": "POST", "body_format": "json",
            "body": {"service": "lightsail", "action": "TagResource", "code": "AccessDeniedException", "status": 403}}},
        task(sim, "refused", "lightsail_instance_state", instance_name="refused-1", state="stopped", stop_mark="nightly"),
    ])
    marked = next(i for i in run["stopped_view"]["json"]["instances"] if i["name"] == "web-1")
    assert (marked["state"], marked["tags"]) == ("stopped", {STOP_MARK: "nightly"})
    assert run["stop"]["stop_mark_found"] is None
    assert run["read"]["stop_mark_found"] == "nightly" and run["read"]["previous_state"] == "stopped"
    assert run["start"]["state"] == "running" and STOP_MARK not in run["start"]["instance"]["tags"]
    assert STOP_MARK not in tags_of(sim, "web-1")
    # Another procedure's mark on a stopped instance: reported, warned about, left alone.
    assert run["held"]["stop_mark_found"] == "other-procedure"
    assert any("other-procedure" in warning and "held-1" in warning for warning in run["held"]["warnings"])
    assert tags_of(sim, "held-1") == {STOP_MARK: "other-procedure"}
    # Our mark left on a running instance (its removal was refused once): removed, nothing else changed.
    assert run["stale"]["changed"] is False and tags_of(sim, "stale-1") == {}
    # A refused mark: the stop goes on, with a warning naming the instance.
    assert run["refused"]["state"] == "stopped" and tags_of(sim, "refused-1") == {}
    assert any("refused-1" in warning and "AccessDeniedException" in warning for warning in run["refused"]["warnings"])
    marks = [(e["action"], e["params"].get("resourceName")) for e in sim.journal(service="lightsail") if e["action"] in ("TagResource", "UntagResource")]
    assert marks == [("TagResource", "web-1"), ("UntagResource", "web-1"), ("UntagResource", "stale-1"), ("TagResource", "refused-1")]


def test_port_and_state_modules_read_each_thing_once(sim, ansible):
    """The port module reads the rules (which answer NotFound for an unknown instance) without a GetInstance first; the
    state module's wait does not read the instance again right after its own read or its own StopInstance (a read in
    the same moment shows nothing new): one read per thing the module needs to know."""
    sim.seed_lightsail_instance("win-1", blueprint="windows")
    run = ansible.run([
        task(sim, "open", "lightsail_instance_port", instance_name="win-1", port=5986, cidr="198.51.100.7/32"),
        task(sim, "stop", "lightsail_instance_state", instance_name="win-1", state="stopped"),
        task(sim, "stopped", "lightsail_instance_state", instance_name="win-1", state="stopped", wait_only=True),
        task(sim, "missing", "lightsail_instance_port", instance_name="ghost", port=5986, cidr="198.51.100.7/32"),
    ])
    assert (run["open"]["changed"], run["stop"]["state"], run["stopped"]["state"]) == (True, "stopped", "stopped"), run
    assert run["missing"].get("failed") is True and "ghost was not found" in run["missing"]["msg"]
    assert actions(sim) == [
        "GetInstancePortStates", "OpenInstancePublicPorts", "GetInstancePortStates",  # open, then verify
        "GetInstance", "StopInstance", "GetInstance",  # the stop (30 simulated s) is over at the first read, 1 s later
        "GetInstance",  # wait_only: the module's own read is the wait's first
        "GetInstancePortStates",  # ghost: NotFound
    ]
