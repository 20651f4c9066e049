# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fidelity: community.aws's lightsail, lightsail_snapshot and lightsail_static_ip modules run against the Lightsail simulator."""

from __future__ import annotations

import pathlib

from cloudsim.testing import needs_collection, run_collection_tasks

pytestmark = needs_collection("community.aws")


def run_tasks(cloud, tmp_path: pathlib.Path, tasks: list[tuple]) -> list[dict]:
    """Run ``(module, args)`` tasks of community.aws in one ansible-playbook run (one start-up); their results."""
    return run_collection_tasks("community.aws", tmp_path, tasks, env=cloud.aws_env(), module_args={"endpoint_url": cloud.lightsail_url})


def test_community_aws_modules_snapshot_and_stop_an_instance(lightsail_frozen, lightsail, tmp_path):
    lightsail_frozen.lightsail_config(instance_transition_seconds=30, snapshot_seconds_base=60, snapshot_seconds_per_gib=0)
    lightsail_frozen.seed_lightsail_instance("web-1")
    created, again, stopped = run_tasks(lightsail_frozen, tmp_path, [
        ("lightsail_snapshot", {"snapshot_name": "web-1-snap", "instance_name": "web-1", "wait": False}),
        ("lightsail_snapshot", {"snapshot_name": "web-1-snap", "instance_name": "web-1", "wait": False}),
        ("lightsail", {"name": "web-1", "state": "stopped", "wait": False}),
    ])
    assert created["changed"] is True and again["changed"] is False
    assert stopped["changed"] is True and stopped["instance"]["state"]["name"] == "stopping"
    lightsail_frozen.advance(60)
    assert lightsail.get_instance_snapshot(instanceSnapshotName="web-1-snap")["instanceSnapshot"]["state"] == "available"
    assert lightsail.get_instance_state(instanceName="web-1")["state"]["name"] == "stopped"
    actions = [(entry["action"], entry["error_code"]) for entry in lightsail_frozen.journal(service="lightsail")]
    assert actions[:3] == [("GetInstanceSnapshot", "NotFoundException"), ("CreateInstanceSnapshot", None), ("GetInstanceSnapshot", None)]
    assert ("StopInstance", None) in actions


def test_community_aws_modules_create_stop_start_reboot_and_delete_an_instance_and_a_static_ip(lightsail_frozen, lightsail, tmp_path):
    lightsail_frozen.lightsail_config(instance_transition_seconds=30)
    created, ip, again = run_tasks(lightsail_frozen, tmp_path, [
        ("lightsail", {"name": "web-2", "zone": "us-east-1b", "blueprint_id": "amazon_linux_2023", "bundle_id": "micro_3_0",
                       "wait": False}),
        ("lightsail_static_ip", {"name": "web-2-ip"}),
        ("lightsail_static_ip", {"name": "web-2-ip"}),
    ])
    assert created["changed"] is True and created["instance"]["state"]["name"] == "pending"
    assert created["instance"]["location"] == {"availability_zone": "us-east-1b", "region_name": "us-east-1"}
    assert ip["changed"] is True and ip["static_ip"]["is_attached"] is False and again["changed"] is False
    lightsail_frozen.advance(30)
    lightsail.attach_static_ip(staticIpName="web-2-ip", instanceName="web-2")
    stopped, = run_tasks(lightsail_frozen, tmp_path, [("lightsail", {"name": "web-2", "state": "stopped", "wait": False})])
    assert stopped["changed"] is True and stopped["instance"]["state"]["name"] == "stopping"
    lightsail_frozen.advance(30)
    started, = run_tasks(lightsail_frozen, tmp_path, [("lightsail", {"name": "web-2", "state": "running", "wait": False})])
    assert started["changed"] is True
    lightsail_frozen.advance(30)
    rebooted, deleted, released, gone = run_tasks(lightsail_frozen, tmp_path, [
        ("lightsail", {"name": "web-2", "state": "rebooted"}),
        ("lightsail", {"name": "web-2", "state": "absent"}),
        ("lightsail_static_ip", {"name": "web-2-ip", "state": "absent"}),
        ("lightsail", {"name": "web-2", "state": "absent"}),
    ])
    assert rebooted["changed"] is True and rebooted["instance"]["public_ip_address"] == ip["static_ip"]["ip_address"]
    assert deleted["changed"] is True and released["changed"] is True and gone["changed"] is False
    state = lightsail_frozen.lightsail_state()
    assert state["instances"] == [] and state["static_ips"] == []
    actions = [entry["action"] for entry in lightsail_frozen.journal(service="lightsail") if not entry["action"].startswith("Get")]
    assert actions == ["CreateInstances", "AllocateStaticIp", "AttachStaticIp", "StopInstance", "StartInstance", "RebootInstance",
                       "DeleteInstance", "ReleaseStaticIp"]
    assert all(entry["error_code"] is None for entry in lightsail_frozen.journal(service="lightsail") if not entry["action"].startswith("Get"))
