# -*- coding: utf-8 -*-

# Copyright: Contributors to the snapkit.cloud project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""snapkit.cloud.os_instance_snapshot through real playbook runs against the local OpenStack cloud."""
# pytest fixtures are parameters named like the imported fixture functions.
# pylint: disable=redefined-outer-name

from __future__ import annotations

import datetime

from _openstack import APP_CREDENTIAL_CLOUD
from _openstack import calls_by_action
from _openstack import mutating_calls
from _openstack import openstack_real  # noqa: F401  pylint: disable=unused-import
from _openstack import openstack_sim  # noqa: F401  pylint: disable=unused-import
from _openstack import os_backend  # noqa: F401  pylint: disable=unused-import
from _openstack import os_conn  # noqa: F401  pylint: disable=unused-import
from _openstack import os_module
from _openstack import os_task
from _openstack import request_body
from _openstack import sim  # noqa: F401  pylint: disable=unused-import
from conftest import documented_return

MODULE = "os_instance_snapshot"


def sim_time(entry):
    return datetime.datetime.fromisoformat(entry["sim_time"].replace("Z", "+00:00"))


def assert_documented(result):
    documented = documented_return(MODULE)
    assert set(documented) - {"image"} <= set(result), result
    assert set(result["launch_source"]) == set(documented["launch_source"]["contains"]), result["launch_source"]
    if result["image"]:
        assert set(result["image"]) - {"block_device_mapping"} == set(documented["image"]["contains"]) - {"block_device_mapping"}


def test_image_and_volume_booted_servers_the_seeds_way_check_mode_and_rerun(os_backend, ansible):
    web = os_backend.seed_server(boot="image", name="web", windows=True)
    db = os_backend.seed_server(boot="volume", name="db", volumes=[{"size": 2, "name": "db-data"}], flavor="m1.medium")
    root_id = db["volumes"][0]["volume_id"]
    run = ansible.run([
        dict(os_task(MODULE, "web_check", server="web", name="web-snap"), check_mode=True),
        dict(os_task(MODULE, "db_check", server=db["server_id"], name="db-snap"), check_mode=True),
        os_task(MODULE, "web_snap", server="web", name="web-snap", metadata={"purpose": "copy"}),
        os_task(MODULE, "db_snap", server="db", name="db-snap"),
        os_task(MODULE, "web_again", server="web", name="web-snap"),
        os_task(MODULE, "db_again", server=db["server_id"], name="db-snap"),
    ])
    web_check, db_check = run["web_check"], run["db_check"]
    assert (web_check["changed"], web_check["kind"], web_check["image"]) == (True, "image", None), web_check
    assert (db_check["changed"], db_check["kind"], db_check["volume_snapshots"]) == (True, "volume", []), db_check
    assert db_check["launch_source"]["type"] == "volume_snapshot" and db_check["launch_source"]["snapshot_id"] is None

    web_snap = run["web_snap"]
    assert web_snap["changed"] is True, web_snap.get("msg")
    assert_documented(web_snap)
    assert web_snap["kind"] == "image" and web_snap["image"]["status"] == "active"
    assert web_snap["image"]["instance_uuid"] == web["server_id"] and web_snap["image"]["properties"]["purpose"] == "copy"
    assert web_snap["volume_snapshots"] == [] and web_snap["server"]["volume_backed"] is False
    source = web_snap["launch_source"]
    assert source["type"] == "image" and source["image_id"] == web_snap["image"]["id"]
    assert (source["snapshot_id"], source["volume_size"]) == (None, None)
    assert (source["flavor_id"], source["flavor_name"]) == ("2", "m1.small")
    assert source["networks"] == [{"network_id": web["network_id"], "network_name": "private"}]
    assert source["security_groups"] == ["default"] and source["availability_zone"] == "nova"
    assert source["windows"] is True  # from the base image's os_type

    db_snap = run["db_snap"]
    assert db_snap["changed"] is True, db_snap.get("msg")
    assert_documented(db_snap)
    assert db_snap["kind"] == "volume" and db_snap["image"] is None and db_snap["server"]["volume_backed"] is True
    [snapshot] = db_snap["volume_snapshots"]
    assert (snapshot["volume_id"], snapshot["status"], snapshot["name"], snapshot["size"]) == (root_id, "available", "db-snap", 40)
    source = db_snap["launch_source"]
    assert (source["type"], source["snapshot_id"], source["volume_size"], source["image_id"]) == ("volume_snapshot", snapshot["id"], 40, None)
    assert (source["flavor_id"], source["flavor_name"], source["windows"]) == ("3", "m1.medium", False)

    # Re-runs find what the first runs made: same ids, nothing changed.
    assert run["web_again"]["changed"] is False and run["web_again"]["image"]["id"] == web_snap["image"]["id"]
    assert run["db_again"]["changed"] is False and run["db_again"]["volume_snapshots"][0]["id"] == snapshot["id"]
    assert run["db_again"]["launch_source"] == db_snap["launch_source"]

    if not os_backend.journaled:
        return
    sim = os_backend
    # Check mode and the re-runs made nothing: one createImage, one createSnapshot in the whole run.
    changes = [f"{entry['service']} {entry['action']}" for entry in mutating_calls(sim.journal())]
    assert changes == ["compute createImage", "volume createSnapshot"], changes
    [create_image] = sim.journal(action="createImage")
    assert create_image["params"]["microversion"] == "2.45"  # the image id comes back in the body
    [create_snapshot] = sim.journal(action="createSnapshot")
    # The attached root volume was snapshotted without the user passing force: force=true at 3.65.
    assert request_body(create_snapshot, "snapshot")["force"] is True and create_snapshot["params"]["microversion"] == "3.65"
    assert request_body(create_snapshot, "snapshot")["metadata"] == {"snapkit_server_id": db["server_id"]}
    assert not sim.journal(action="unsupported")


def test_volume_backed_create_image_waits_for_slow_cinder_snapshots(sim, ansible):
    db = sim.seed_server(boot="volume", name="db", volumes=[{"size": 2, "name": "db-data"}])
    # Each Cinder snapshot takes over an hour of simulated time (several real seconds); the image is active at once.
    slow = 4000.0
    sim.openstack_config(snapshot_seconds_base=slow)
    result = os_module(ansible, MODULE, server="db", name="db-image", method="image")
    assert result["changed"] is True, result.get("msg")
    assert_documented(result)
    assert result["kind"] == "image" and result["image"]["size"] == 0 and result["image"]["status"] == "active"
    mapping = result["image"]["block_device_mapping"]
    assert sorted(entry["snapshot_id"] for entry in mapping) == sorted(item["id"] for item in result["volume_snapshots"])
    assert [item["status"] for item in result["volume_snapshots"]] == ["available", "available"]
    assert {item["volume_id"] for item in result["volume_snapshots"]} == {volume["volume_id"] for volume in db["volumes"]}
    source = result["launch_source"]
    root_entry = next(entry for entry in mapping if entry["boot_index"] == 0)
    assert (source["type"], source["image_id"], source["snapshot_id"], source["volume_size"]) == (
        "image", result["image"]["id"], root_entry["snapshot_id"], 20)

    # The journal proves the module did not return when the image turned active.
    [create_image] = sim.journal(action="createImage")
    image_reads = [entry for entry in sim.journal(action="showImage") if entry["params"]["image_id"] == result["image"]["id"]]
    snapshot_reads = sim.journal(action="showSnapshot")
    assert image_reads and all(sim_time(entry) < sim_time(create_image) + datetime.timedelta(seconds=slow) for entry in image_reads)
    assert snapshot_reads[-1]["seq"] > image_reads[-1]["seq"]
    assert sim_time(snapshot_reads[-1]) >= sim_time(create_image) + datetime.timedelta(seconds=slow)
    # ... and that it stopped reading once they were done: the module's last call is that snapshot read.
    assert sim.journal()[-1]["action"] in ("showSnapshot", "showNetwork", "listPorts", "showFlavor", "listFlavors", "showImage")


def test_failures_are_clear_and_transient_errors_are_retried(sim, ansible):
    web = sim.seed_server(boot="image", name="web")
    db = sim.seed_server(boot="volume", name="db")
    bad = sim.seed_server(boot="volume", name="bad")
    upload = sim.seed_server(boot="image", name="upload")
    sim.inject_fault("volume", "createSnapshot", "OverLimit", status=413, count=1,
                     message="SnapshotLimitExceeded: Maximum number of snapshots allowed (10) exceeded")
    sim.inject_fault("volume", "createSnapshot", "serviceUnavailable", status=503, count=2, message="Service Unavailable")
    sim.inject_fault("compute", "createImage", "conflictingRequest", status=409, count=1,
                     message=f"Cannot 'createImage' instance {web['server_id']} while it is in task_state image_snapshot")
    sim.fail_openstack_snapshots(server_id=bad["server_id"])
    sim.fail_openstack_snapshots(server_id=upload["server_id"])  # the image upload fails; Nova deletes the image
    run = ansible.run([
        os_task(MODULE, "over_quota", server="db", name="db-snap"),
        os_task(MODULE, "retried", server="db", name="db-snap"),
        os_task(MODULE, "busy", server="web", name="web-snap"),
        os_task(MODULE, "broken", server="bad", name="bad-snap"),
        os_task(MODULE, "upload_failed", server="upload", name="upload-snap"),
        os_task(MODULE, "wrong_method", server="web", name="web-vol", method="volume"),
        os_task(MODULE, "missing", server="nope", name="x"),
    ])
    over_quota = run["over_quota"]
    assert over_quota["failed"] is True and "413" in over_quota["msg"] and "quota" in over_quota["msg"], over_quota["msg"]
    assert db["volumes"][0]["volume_id"] in over_quota["msg"]

    retried = run["retried"]
    assert retried["changed"] is True and retried["volume_snapshots"][0]["status"] == "available", retried.get("msg")
    creates = sim.journal(action="createSnapshot")
    assert [entry["status"] for entry in creates[:4]] == [413, 503, 503, 202]
    assert run["busy"]["changed"] is True and run["busy"]["image"]["status"] == "active", run["busy"].get("msg")
    assert [entry["status"] for entry in sim.journal(action="createImage") if entry["params"]["server_id"] == web["server_id"]] == [409, 202]

    broken = run["broken"]
    assert broken["failed"] is True
    assert "error" in broken["msg"] and bad["volumes"][0]["volume_id"] in broken["msg"], broken["msg"]
    assert broken["volume_snapshots"][0]["status"] == "error"  # what was made is reported

    upload_failed = run["upload_failed"]
    assert upload_failed["failed"] is True, upload_failed
    assert "deleted" in upload_failed["msg"] and upload["server_id"] in upload_failed["msg"], upload_failed["msg"]
    assert upload_failed["image"]["name"] == "upload-snap"  # what was made is reported

    wrong = run["wrong_method"]
    assert wrong["failed"] is True and "method=volume" in wrong["msg"] and web["server_id"] in wrong["msg"]
    assert run["missing"]["failed"] is True and "'nope' not found" in run["missing"]["msg"]
    # Exactly one snapshot per successful or failing create; nothing for the refused requests.
    assert sorted(item["name"] for item in sim.openstack_state()["snapshots"]) == ["bad-snap", "db-snap"]


def test_absent_deletes_the_image_and_its_cinder_snapshots(os_backend, ansible, os_conn):
    db = os_backend.seed_server(boot="volume", name="db", volumes=[{"size": 1}])
    run = ansible.run([
        os_task(MODULE, "made", server="db", name="db-image", method="image"),
        # Found again though Nova sets no instance_uuid on the image of a volume-backed server.
        os_task(MODULE, "rerun", server="db", name="db-image", method="image"),
        dict(os_task(MODULE, "check", server="db", name="db-image", method="image", state="absent"), check_mode=True),
        os_task(MODULE, "gone", server="db", name="db-image", method="image", state="absent"),
        os_task(MODULE, "again", server="db", name="db-image", method="image", state="absent"),
    ])
    assert run["made"]["changed"] is True and len(run["made"]["volume_snapshots"]) == 2
    assert run["made"]["image"]["instance_uuid"] is None
    assert run["made"]["image"]["properties"]["snapkit_server_id"] == db["server_id"]
    assert run["rerun"]["changed"] is False and run["rerun"]["image"]["id"] == run["made"]["image"]["id"]
    assert run["check"]["changed"] is True and run["check"]["image"]["id"] == run["made"]["image"]["id"]
    assert run["gone"]["changed"] is True and run["again"]["changed"] is False
    state = os_backend.openstack_state()
    assert run["made"]["image"]["id"] not in {image["id"] for image in state["images"]}
    assert state["snapshots"] == []
    assert os_conn.image.find_image("db-image") is None


def test_secrets_never_reach_verbose_output(sim, ansible):
    sim.seed_server(boot="volume", name="db")
    clouds = sim.clouds_yaml("x")["clouds"]["x"]
    password = clouds["auth"]["password"]
    app_secret = sim.clouds_yaml("y", auth_type="v3applicationcredential")["clouds"]["y"]["auth"]["application_credential_secret"]
    auth = dict(clouds["auth"])
    run = ansible.run([
        # Credentials as task options (no clouds.yaml entry), as a user without AWX would pass them.
        dict(os_task(MODULE, "with_auth", cloud=None, server="db", name="db-snap", auth=auth, auth_type="password",
                     region_name=clouds["region_name"])),
        # An application credential from the clouds.yaml, in a failing task whose output must not carry it either.
        os_task(MODULE, "failing", cloud=APP_CREDENTIAL_CLOUD, server="no-such-server", name="x"),
        # Bad input is refused before any API call.
        os_task(MODULE, "bad_metadata", server="db", name="x", metadata={"a": {"b": 1}}),
    ], verbosity=3)
    assert run["with_auth"]["changed"] is True, run["with_auth"].get("msg")
    assert run["failing"]["failed"] is True and "'no-such-server' not found" in run["failing"]["msg"]
    assert run["bad_metadata"]["failed"] is True and "metadata" in run["bad_metadata"]["msg"] and "a" in run["bad_metadata"]["msg"]
    for secret in (password, app_secret):
        assert secret not in run.output
        assert secret not in str(run.results)
    assert [entry["params"]["auth_methods"] for entry in sim.journal(action="createToken")] == [["password"], ["application_credential"]]


def test_metadata_keys_nova_refuses_are_refused_before_any_change(sim, ansible):
    sim.seed_server(boot="image", name="web")
    db = sim.seed_server(boot="volume", name="db")
    run = ansible.run([
        os_task(MODULE, "explicit", server="web", name="s", method="image", metadata={"owner/team": "ops"}),
        os_task(MODULE, "auto", server="web", name="s", metadata={"bad key!": "x"}),
        # A Cinder snapshot's metadata is Cinder's: free-form keys are fine there.
        os_task(MODULE, "cinder", server="db", name="s", metadata={"owner/team": "ops"}),
    ])
    for name, key in (("explicit", "owner/team"), ("auto", "bad key!")):
        assert run[name]["failed"] is True, run[name]
        assert repr(key) in run[name]["msg"] and "^[a-zA-Z0-9-_:. ]{1,255}$" in run[name]["msg"], run[name]["msg"]
    assert run["cinder"]["changed"] is True, run["cinder"].get("msg")
    assert [entry["action"] for entry in mutating_calls(sim.journal())] == ["createSnapshot"]
    assert sim.journal(action="createSnapshot")[0]["params"]["snapshot"]["volume_id"] == db["volumes"][0]["volume_id"]


def test_image_booted_server_costs_one_read_of_each_kind(sim, ansible):
    """An instance snapshot of an image-booted server with a data volume (the benchmark's case): the server detail says
    how it boots, which flavor and networks it has and its image's os_type, so nothing is read twice and no volume,
    attachment, network or base image is read; the flavor id costs one list, the networks' ids one list of ports."""
    web = sim.seed_server(boot="image", name="web", volumes=[{"size": 10, "name": "web-data"}], windows=True)
    result = os_module(ansible, MODULE, server="web", name="web-snap")
    assert result["changed"] is True and result["kind"] == "image", result.get("msg")
    source = result["launch_source"]
    assert (source["flavor_id"], source["flavor_name"], source["windows"]) == ("2", "m1.small", True)
    assert source["networks"] == [{"network_id": web["network_id"], "network_name": "private"}]
    assert result["server"]["volume_backed"] is False

    calls = calls_by_action(sim.journal())
    image_reads = calls.pop("image showImage")
    assert calls == {"identity versions": 1, "identity createToken": 1, "compute showVersion": 1, "compute listServersDetail": 1,
                     "image versions": 1, "image listImages": 1, "compute createImage": 1, "compute listFlavors": 1,
                     "network listPorts": 1}, calls
    # Every image read is of the new image: the read after createImage and the wait's polls.
    assert {entry["params"]["image_id"] for entry in sim.journal(action="showImage")} == {result["image"]["id"]}
    assert sum(calls.values()) + image_reads <= 14, (calls, image_reads)
