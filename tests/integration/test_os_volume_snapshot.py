# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""snapkit.cloud.os_volume_snapshot and os_volume_snapshot_info through real playbook runs against the local OpenStack cloud."""
# pytest fixtures are parameters named like the imported fixture functions.
# pylint: disable=redefined-outer-name

from __future__ import annotations

import datetime
import time

import pytest

from _openstack import CLOUD_NAME
from _openstack import mutating_calls
from _openstack import openstack_real  # noqa: F401  pylint: disable=unused-import
from _openstack import openstack_sim  # noqa: F401  pylint: disable=unused-import
from _openstack import os_backend  # noqa: F401  pylint: disable=unused-import
from _openstack import os_conn  # noqa: F401  pylint: disable=unused-import
from _openstack import os_task
from _openstack import request_body
from _openstack import sim  # noqa: F401  pylint: disable=unused-import
from conftest import documented_return

MODULE = "os_volume_snapshot"


@pytest.fixture
def cloud(os_backend):
    """``os_backend``; on the real services, what the test made is deleted after it (Cinder's quota is 10 volumes and
    10 snapshots for the whole stage)."""
    yield os_backend
    if os_backend.backend == "real":
        os_backend.reset()


def settle(cloud, seconds=0):
    """Let what was asked for finish: ``seconds`` of simulated time, or a wait on the real services."""
    if cloud.backend == "real":
        cloud.settle()
    elif seconds:
        cloud.advance(seconds)


def test_volume_and_root_volume_snapshots_force_idempotency_and_info(cloud, ansible, os_conn):
    """On both backends; the snapshot that fails (an injected fault) on the simulator only."""
    sim = cloud
    faults = cloud.backend == "sim"
    db = sim.seed_server(boot="volume", name="db", volumes=[{"size": 2, "name": "db-data"}])
    web = sim.seed_server(boot="image", name="web", volumes=[{"size": 1, "name": "web-data"}])
    root_id, data_id = db["volumes"][0]["volume_id"], db["volumes"][1]["volume_id"]
    vol_a = os_conn.block_storage.create_volume(size=1, name="vol-a")
    vol_b = os_conn.block_storage.create_volume(size=1, name="vol-b")
    vol_c = os_conn.block_storage.create_volume(size=1, name="vol-c") if faults else None
    settle(sim, 60)
    if faults:
        sim.fail_openstack_snapshots(volume_id=vol_c.id)
    tasks = [
        dict(os_task(MODULE, "check", server="db", name="root"), check_mode=True),
        os_task(MODULE, "root", server="db", name="root", description="before upgrade", metadata={"ticket": 42}),
        os_task(MODULE, "snap_a", volume="vol-a", name="nightly"),
        os_task(MODULE, "snap_b", volume=vol_b.id, name="nightly"),
        os_task(MODULE, "snap_b_again", volume="vol-b", name="nightly"),
        # openstack.cloud's module finds snapshots by name across the project: two "nightly" snapshots confuse it.
        {"openstack.cloud.volume_snapshot": {"cloud": CLOUD_NAME, "volume": "vol-b", "name": "nightly"}, "register": "openstack_cloud"},
        os_task(MODULE, "refused", volume=root_id, name="x", force=False),
        os_task(MODULE, "broken", volume="vol-c", name="x"),
        os_task(MODULE, "image_booted", server="web", name="x"),
        os_task(MODULE, "bad_input", volume="web-data", server="web", name="x"),
        os_task("os_volume_snapshot_info", "info_server", server="db"),
        os_task("os_volume_snapshot_info", "info_b", volume="vol-b", name="nightly", status="available"),
        os_task(MODULE, "gone", volume="vol-a", name="nightly", state="absent"),
    ]
    run = ansible.run([task for task in tasks if faults or task["register"] != "broken"])
    check = run["check"]
    assert (check["changed"], check["force_sent"], check["volume_snapshot"]["id"]) == (True, True, None), check
    assert check["volume"]["id"] == root_id and check["volume"]["status"] == "in-use" and check["volume"]["bootable"] is True

    root = run["root"]
    assert root["changed"] is True and root["force_sent"] is True, root.get("msg")
    assert set(root["volume_snapshot"]) == set(documented_return(MODULE)["volume_snapshot"]["contains"])
    assert root["volume_snapshot"]["volume_id"] == root_id and root["volume_snapshot"]["status"] == "available"
    assert root["volume_snapshot"]["metadata"] == {"ticket": "42"} and root["volume_snapshot"]["description"] == "before upgrade"

    snap_a, snap_b, again = run["snap_a"], run["snap_b"], run["snap_b_again"]
    assert snap_a["changed"] is True and snap_a["force_sent"] is None and snap_a["volume_snapshot"]["volume_id"] == vol_a.id
    # Same name on another volume: a new snapshot of vol-b, not vol-a's.
    assert snap_b["changed"] is True and snap_b["volume_snapshot"]["volume_id"] == vol_b.id
    assert snap_b["volume_snapshot"]["id"] != snap_a["volume_snapshot"]["id"]
    assert again["changed"] is False and again["volume_snapshot"]["id"] == snap_b["volume_snapshot"]["id"]
    assert run["openstack_cloud"]["failed"] is True and "nightly" in run["openstack_cloud"]["msg"]

    refused = run["refused"]
    assert refused["failed"] is True and "in-use" in refused["msg"] and "force=false" in refused["msg"] and root_id in refused["msg"]
    if faults:
        broken = run["broken"]
        assert broken["failed"] is True and "error" in broken["msg"] and vol_c.id in broken["msg"], broken["msg"]
        assert broken["volume_snapshots"][0]["status"] == "error"

    assert run["image_booted"]["failed"] is True and "os_instance_snapshot" in run["image_booted"]["msg"]
    assert web["server_id"] in run["image_booted"]["msg"]
    assert run["bad_input"]["failed"] is True and "mutually exclusive" in run["bad_input"]["msg"]

    by_server = {item["volume_id"]: item for item in run["info_server"]["volume_snapshots"]}
    assert set(by_server) == {root_id} and by_server[root_id]["root_volume"] is True
    assert [item["id"] for item in run["info_b"]["volume_snapshots"]] == [snap_b["volume_snapshot"]["id"]]
    assert run["gone"]["changed"] is True and run["gone"]["volume_snapshot"]["id"] == snap_a["volume_snapshot"]["id"]
    assert data_id not in str(run["info_server"])
    remaining = {item["id"] for item in sim.openstack_state()["snapshots"]}
    assert snap_a["volume_snapshot"]["id"] not in remaining and snap_b["volume_snapshot"]["id"] in remaining

    if not sim.journaled:
        return
    creates = sim.journal(action="createSnapshot")
    bodies = [request_body(entry, "snapshot") for entry in creates]
    # force only for the attached root volume, never false; nothing for the check run, the re-run or the refused request.
    assert [body.get("force") for body in bodies] == [True, None, None, None]
    assert [body["volume_id"] for body in bodies] == [root_id, vol_a.id, vol_b.id, vol_c.id]
    assert [entry["params"]["microversion"] for entry in creates] == ["3.65"] * 4
    deletes = [entry for entry in mutating_calls(sim.journal()) if entry["action"] == "deleteSnapshot"]
    assert [entry["params"]["snapshot_id"] for entry in deletes] == [snap_a["volume_snapshot"]["id"]]


def test_deleting_a_snapshot_volumes_were_made_from_fails_at_once_naming_them(cloud, ansible, os_conn):
    """Cinder accepts the delete (202), its driver gives it up (SnapshotIsBusy) and the snapshot is available again.

    On both backends: the real one's volume driver refuses such a delete as Ceph's RBD driver does
    (tests/openstack_real/drivers), and Cinder's own volume manager puts the snapshot back."""
    sim = cloud
    source = os_conn.block_storage.create_volume(size=1, name="src")
    settle(sim, 60)
    snapshot = os_conn.block_storage.create_snapshot(volume_id=source.id, name="nightly")
    settle(sim, 3600)
    clone = os_conn.block_storage.create_volume(size=1, snapshot_id=snapshot.id, name="clone")
    settle(sim)
    started = time.monotonic()
    run = ansible.run([os_task(MODULE, "gone", volume="src", name="nightly", state="absent", timeout=90)])
    gone = run["gone"]
    assert gone["failed"] is True, gone
    assert "volumes were made from it" in gone["msg"] and clone.id in gone["msg"] and snapshot.id in gone["msg"], gone["msg"]
    assert time.monotonic() - started < 60  # not the 90 s timeout
    if sim.journaled:
        assert [entry["status"] for entry in sim.journal(action="deleteSnapshot")] == [202]


def test_cinders_rate_limit_413_with_retry_after_is_retried_a_quota_413_is_not(sim, ansible, os_conn):
    os_conn.block_storage.create_volume(size=1, name="vol")
    sim.advance(60)
    # Cinder's RateLimitingMiddleware: 413 overLimitFault with Retry-After (cinder/api/openstack/wsgi.py OverLimitFault).
    sim.inject_fault("volume", "createSnapshot", "overLimitFault", status=413, count=2, retry_after=1,
                     message="This request was rate-limited.")
    run = ansible.run([os_task(MODULE, "limited", volume="vol", name="first")])
    assert run["limited"]["changed"] is True and run["limited"]["volume_snapshot"]["status"] == "available", run["limited"].get("msg")
    assert [entry["status"] for entry in sim.journal(action="createSnapshot")] == [413, 413, 202]
    # A 413 without Retry-After is Cinder's quota answer: waiting does not lift it.
    sim.inject_fault("volume", "createSnapshot", "overLimit", status=413,
                     message="SnapshotLimitExceeded: Maximum number of snapshots allowed (10) exceeded")
    run = ansible.run([os_task(MODULE, "quota", volume="vol", name="second")])
    assert run["quota"]["failed"] is True and "quota" in run["quota"]["msg"], run["quota"]
    assert [entry["status"] for entry in sim.journal(action="createSnapshot")] == [413, 413, 202, 413]


def sim_seconds(entry):
    return datetime.datetime.fromisoformat(entry["sim_time"].replace("Z", "+00:00")).timestamp()


def test_timeout_bounds_the_whole_task_not_each_call_and_wait(sim, ansible, os_conn):
    """The create's retries and the wait for the snapshot share one timeout: after a create refused for 3 seconds the
    wait has what is left, and the task gives up about timeout after its first call (the last poll at the deadline),
    where each call and wait used to get the whole timeout."""
    os_conn.block_storage.create_volume(size=1, name="vol")
    sim.advance(60)
    sim.openstack_config(snapshot_seconds_base=100000)
    sim.set_speed(1)
    # Cinder's rate limit (413 overLimitFault with Retry-After), as in the test above.
    sim.inject_fault("volume", "createSnapshot", "overLimitFault", status=413, count=1, retry_after=3,
                     message="This request was rate-limited.")
    sim.clear_journal()
    run = ansible.run([os_task(MODULE, "bounded", volume="vol", name="slow", timeout=6)])

    result = run["bounded"]
    assert result["failed"] is True and "gave up at timeout=6 seconds" in result["msg"], result
    assert [entry["status"] for entry in sim.journal(action="createSnapshot")] == [413, 202]
    journal = sim.journal()
    # One poll interval (the wait's first, 1 s) of slack for the calls' own time; the old budgets took 3 + 6 seconds.
    assert sim_seconds(journal[-1]) - sim_seconds(journal[0]) <= 6 + 1
